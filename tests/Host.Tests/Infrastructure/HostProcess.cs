using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>
/// The service in an operating-system process of its own (the built <c>CohortSync.Host.dll</c>, run by
/// <c>dotnet</c>) on a database of the fixture's: for claims about several host processes, which
/// in-process hosts share a runtime with the test and so cannot fully stand for.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    readonly Process process;

    public HttpClient Client { get; }

    HostProcess(Process process, Uri baseAddress)
    {
        this.process = process;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <param name="connectionString">The database the process uses.</param>
    /// <param name="settings">More command-line configuration (<c>--Section:Key=value</c>).</param>
    public static async Task<HostProcess> StartAsync(string connectionString, params string[] settings)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in (string[])
                 [
                     Path.Combine(AppContext.BaseDirectory, "CohortSync.Host.dll"),
                     $"--urls=http://127.0.0.1:{port}",
                     $"--ConnectionStrings:{CohortSyncApp.ConnectionStringName}={connectionString}",
                     "--Logging:LogLevel:Default=Warning",
                     // No environment is set, so this is Production: open is asked for, as the fixture's hosts do.
                     "--Webhook:AllowAnonymous=true",
                     "--Api:AllowAnonymous=true",
                     .. settings,
                 ])
            start.ArgumentList.Add(arg);

        var process = Process.Start(start) ?? throw new InvalidOperationException("the host process did not start");
        var output = new List<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var host = new HostProcess(process, new Uri($"http://127.0.0.1:{port}"));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if ((await host.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK)
                    return host;
            }
            catch (HttpRequestException)
            {
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await host.DisposeAsync();
                lock (output)
                    throw new InvalidOperationException($"the host process did not become ready:\n{string.Join('\n', output.TakeLast(20))}");
            }
            await Task.Delay(200);
        }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Ends the process with SIGKILL (what <see cref="Process.Kill(bool)"/> sends on Linux): no shutdown code runs.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
