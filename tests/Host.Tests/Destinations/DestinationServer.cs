using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>One POST a destination received, with its Standard Webhooks headers.</summary>
public sealed record Received(string WebhookId, long Timestamp, string[] Signatures, string Body, DateTime At, string Path)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    public IReadOnlyList<JsonElement> Changes => [.. Json.GetProperty("changes").EnumerateArray()];

    /// <summary>Whether one of its signatures is HMAC-SHA256 of <c>id.timestamp.body</c> under <paramref name="secret"/>,
    /// computed here independently of the service.</summary>
    public bool SignedWith(string secret)
    {
        Assert.StartsWith("whsec_", secret);
        var mac = HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]), Encoding.UTF8.GetBytes($"{WebhookId}.{Timestamp}.{Body}"));
        var expected = Encoding.ASCII.GetBytes("v1," + Convert.ToBase64String(mac));
        return Signatures.Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), expected));
    }
}

/// <summary>What the destination answers: a status, and optionally a Retry-After or a Location, after a delay.</summary>
public sealed record Answer(int Status, string? RetryAfter = null, string? Location = null, TimeSpan Delay = default);

/// <summary>
/// A real destination: Kestrel on a loopback port, recording every POST and answering as the test says
/// (200 by default). It also notes when two requests with one webhook-id were under way at once.
/// </summary>
public sealed class DestinationServer : IAsyncDisposable
{
    readonly WebApplication app;
    readonly ConcurrentQueue<Received> received = new();
    readonly ConcurrentDictionary<string, int> underWay = new();

    /// <summary>Chooses the answer to the n-th request (0-based).</summary>
    public Func<Received, int, Answer> Respond { get; set; } = (_, _) => new Answer(200);

    public string Url { get; private set; } = "";

    public int OverlappingDeliveries;

    DestinationServer(WebApplication app) => this.app = app;

    public IReadOnlyList<Received> All => [.. received];

    /// <summary>What reached <c>/hook</c> (redirect targets are recorded under their own path).</summary>
    public IReadOnlyList<Received> Hooks => [.. received.Where(r => r.Path == "/hook")];

    public static async Task<DestinationServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new DestinationServer(app);
        app.MapPost("/{**path}", server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = $"{address}/hook";
        return server;
    }

    async Task HandleAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync();
        var headers = http.Request.Headers;
        var r = new Received(
            headers["webhook-id"].ToString(), long.TryParse(headers["webhook-timestamp"], out var ts) ? ts : -1,
            headers["webhook-signature"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries), body, DateTime.UtcNow,
            http.Request.Path.Value ?? "");
        int index;
        lock (received)
        {
            index = received.Count;
            received.Enqueue(r);
        }
        if (underWay.AddOrUpdate(r.WebhookId, 1, (_, n) => n + 1) > 1)
            Interlocked.Increment(ref OverlappingDeliveries);
        try
        {
            var answer = Respond(r, index);
            if (answer.Delay > TimeSpan.Zero)
                await Task.Delay(answer.Delay, http.RequestAborted);
            http.Response.StatusCode = answer.Status;
            if (answer.RetryAfter is not null)
                http.Response.Headers.RetryAfter = answer.RetryAfter;
            if (answer.Location is not null)
                http.Response.Headers.Location = answer.Location;
        }
        finally
        {
            underWay.AddOrUpdate(r.WebhookId, 0, (_, n) => n - 1);
        }
    }

    /// <summary>Waits until what was received satisfies <paramref name="until"/>; fails after <paramref name="seconds"/>.</summary>
    public async Task<IReadOnlyList<Received>> WaitAsync(Func<IReadOnlyList<Received>, bool> until, double seconds = 20, string? what = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var all = All;
            if (until(all))
                return all;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"the destination did not receive {what ?? "what was expected"} within {seconds} s; it received {all.Count}: " +
                            string.Join("\n", all.Select(a => $"{a.WebhookId} {a.Body}")));
            await Task.Delay(50);
        }
    }

    /// <summary>Every change of every distinct batch (a repeat counted once), in the order the batches first arrived.</summary>
    public IReadOnlyList<JsonElement> DistinctChanges() =>
        [.. Hooks.DistinctBy(r => r.WebhookId).SelectMany(r => r.Changes)];

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
