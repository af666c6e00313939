using System.Diagnostics;

namespace CohortSync.Host.Tests.Package;

/// <summary>
/// The domain as another team's app gets it: packed, restored from a folder feed, and used from C#
/// by the sample in <c>tests/Sample.CSharp</c>, built apart from the repository's settings.
/// </summary>
public sealed class PackageSampleTests
{
    [Fact]
    public async Task The_sample_uses_the_packed_domain_to_parse_decide_and_fold_a_page()
    {
        var repo = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("cohortsync-sample-");
        try
        {
            CopySample(Path.Combine(repo, "tests", "Sample.CSharp"), work.FullName);
            var feed = Path.Combine(work.FullName, "packages");
            // A version of its own, restored into a packages folder of its own: never a package cached
            // by an earlier run. FSharp.Core comes from the machine's packages folder when it is there.
            var version = $"1.0.0-t{Guid.NewGuid():N}";
            var machinePackages = await MachinePackagesFolderAsync(repo);
            var isolated = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(work.FullName, "nuget-packages") };

            // The solution's restore already ran (the test project references the domain); restoring again
            // with this version would rewrite the domain's restore output under the solution's builds.
            await DotnetAsync(repo, NoEnvironment, "pack", Path.Combine(repo, "src", "Domain.FSharp"), "-c", "Release", "-o", feed,
                "--no-restore", $"-p:Version={version}");
            var project = Path.Combine(work.FullName, "Sample.CSharp.csproj");
            await DotnetAsync(work.FullName, isolated, "build", project, "-c", "Release", $"-p:CohortSyncDomainVersion={version}",
                $"-p:RestoreAdditionalProjectFallbackFolders={machinePackages}");
            var output = await DotnetAsync(work.FullName, isolated,
                Path.Combine(work.FullName, "bin", "Release", "net10.0", "CohortSync.Sample.dll"));

            Assert.True(File.Exists(Path.Combine(isolated["NUGET_PACKAGES"], "cohortsync.domain", version, $"cohortsync.domain.{version}.nupkg")),
                "the sample restored the package just packed");
            Assert.Equal(
                [
                    "page: members 1/1 of session session-1 (cohort Power users)",
                    "member: u1 email=ada@example.com properties={}",
                    """member: u2 email=(none) properties={"plan":"pro"}""",
                    "outcome: sealed (HTTP 200)",
                    "events: SessionOpened, PageStored, SessionSealed, SessionCommitted",
                    "session: session-1 is committed (full)",
                ],
                output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    static readonly Dictionary<string, string> NoEnvironment = [];

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CohortSync.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no CohortSync.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The sample's sources and settings, without anything a local build or pack left beside them.</summary>
    static void CopySample(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    static async Task<string> MachinePackagesFolderAsync(string repo)
    {
        // "global-packages: /home/me/.nuget/packages/"
        var listed = await DotnetAsync(repo, NoEnvironment, "nuget", "locals", "global-packages", "--list");
        return listed.Trim()["global-packages:".Length..].Trim();
    }

    /// <summary>Runs the dotnet CLI and returns its standard output; fails the test with its output when it fails.</summary>
    static async Task<string> DotnetAsync(string directory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        // The test runner's MSBuild settings would point the inner build at the outer one's; no build
        // server is left behind.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
        return await stdout;
    }
}
