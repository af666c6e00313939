using System.Diagnostics;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests;

/// <summary>
/// A C# client generated with Kiota from the live OpenAPI document builds, with one type per schema: the
/// contract as a user of a generated client meets it. Kiota is a tool of the repository's manifest.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class GeneratedClientTests(HostFixture fx)
{
    static readonly string Root = FindRoot();

    [Fact]
    public async Task A_kiota_client_of_the_document_builds_with_one_type_per_set_of_words()
    {
        var work = Directory.CreateTempSubdirectory("cohortsync-client-");
        try
        {
            var document = Path.Combine(work.FullName, "v1.json");
            await File.WriteAllTextAsync(document, await fx.Client.GetStringAsync("/openapi/v1.json"));
            var source = Path.Combine(work.FullName, "src");
            await RunAsync("dotnet", "tool", "restore");
            await RunAsync("dotnet", "kiota", "generate", "--language", "CSharp", "--openapi", document, "--output", source,
                "--namespace-name", "CohortSync.Client", "--class-name", "CohortSyncClient", "--exclude-backward-compatible");

            var models = Directory.GetFiles(Path.Combine(source, "Models")).Select(f => Path.GetFileNameWithoutExtension(f)).ToHashSet();
            // An enum written out inline becomes a type named after its record and property (SessionView_state).
            Assert.DoesNotContain(models, m => m.Contains('_'));
            Assert.Superset(new HashSet<string> { "TransitionKind", "SessionKind", "SessionState", "MemberProperties" }, models);
            Assert.Contains("Models.TransitionKind? Kind", await File.ReadAllTextAsync(Path.Combine(source, "V1", "Events", "EventsRequestBuilder.cs")));
            Assert.Contains("override string Message", await File.ReadAllTextAsync(Path.Combine(source, "Models", "ProblemBody.cs")));
            Assert.DoesNotContain("BaseUrl = \"http", await File.ReadAllTextAsync(Path.Combine(source, "CohortSyncClient.cs")));

            // Restored with the tests (Host.Tests references the project); built here, outside the repository.
            await RunAsync("dotnet", "build", Path.Combine(Root, "tests", "GeneratedClient", "GeneratedClient.csproj"), "--no-restore",
                $"-p:ClientSource={source}", $"-p:OutDir={Path.Combine(work.FullName, "bin")}/",
                $"-p:IntermediateOutputPath={Path.Combine(work.FullName, "obj")}/");
            Assert.True(File.Exists(Path.Combine(work.FullName, "bin", "GeneratedClient.dll")));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    static async Task RunAsync(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command, arguments)
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Kiota would otherwise ask the internet whether it has a newer version.
        start.Environment["KIOTA_UPDATE__DISABLED"] = "true";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)}: {await output}{await errors}");
    }

    static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "CohortSync.sln")))
                return directory.FullName;
        throw new InvalidOperationException("the tests run outside the repository");
    }
}
