using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CohortSync.Simulate.Sink;

/// <summary>The local servers simulate plays (a destination, Mixpanel's /import): every POST to one handler, on loopback.</summary>
static class LoopbackServer
{
    /// <summary>Starts on loopback <paramref name="port"/> (0: a free one); the address is without a trailing slash.</summary>
    public static async Task<(WebApplication App, string Address)> StartAsync(Func<HttpContext, Task> handle, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        // Ctrl+C and SIGTERM end the program that runs the server (simulate), not only the server.
        builder.Services.AddSingleton<IHostLifetime, NoSignalHandling>();
        var app = builder.Build();
        app.MapPost("/{**path}", handle);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address.TrimEnd('/'));
    }
}

/// <summary>A host lifetime that leaves the process's signals alone.</summary>
sealed class NoSignalHandling : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
