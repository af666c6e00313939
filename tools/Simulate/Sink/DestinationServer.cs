using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CohortSync.Simulate.Sink;

/// <summary>One POST a destination received, with its Standard Webhooks headers.</summary>
public sealed record Received(string WebhookId, long Timestamp, string[] Signatures, string Body, DateTime At, string Path)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    public IReadOnlyList<JsonElement> Changes => [.. Json.GetProperty("changes").EnumerateArray()];

    /// <summary>Whether one of its signatures is HMAC-SHA256 of <c>id.timestamp.body</c> under <paramref name="secret"/>,
    /// computed here independently of the service.</summary>
    public bool SignedWith(string secret) => WebhookSignature.Verifies(secret, WebhookId, Timestamp, Body, Signatures);
}

/// <summary>
/// What the destination answers: a status, and optionally a Retry-After or a Location, after a delay.
/// <c>Drop</c> closes the connection instead, once the delay is over: the request was handled, its answer lost.
/// </summary>
public sealed record Answer(int Status, string? RetryAfter = null, string? Location = null, TimeSpan Delay = default, bool Drop = false);

/// <summary>
/// A real destination (the sink): Kestrel on a loopback port, recording every POST and answering as told (200 by
/// default, or as its seeded <see cref="SinkFaults"/> decide). With <see cref="Secrets"/> set it checks every
/// signature as a destination must, and answers 401 to one that does not verify. It also notes when two requests
/// with one webhook-id were under way at once. Without <c>keepBodies</c> it keeps only each batch's size and
/// arrival (<see cref="Arrivals"/>), so that a million changes do not fill the memory.
/// </summary>
public sealed class DestinationServer : IAsyncDisposable
{
    WebApplication app = null!;
    readonly bool keepBodies;
    readonly ConcurrentQueue<Received> received = new();
    readonly ConcurrentDictionary<string, int> underWay = new();
    readonly BatchArrivals arrivals = new();
    int requests;
    int refused;

    /// <summary>Chooses the answer to the n-th request (0-based).</summary>
    public Func<Received, int, Answer> Respond { get; set; } = (_, _) => new Answer(200);

    /// <summary>The destination's signing secrets; empty until the destination exists (nothing is checked then).</summary>
    public IReadOnlyList<string> Secrets { get; set; } = [];

    public string Url { get; private set; } = "";

    public int OverlappingDeliveries;

    DestinationServer(bool keepBodies) => this.keepBodies = keepBodies;

    public IReadOnlyList<Received> All => [.. received];

    /// <summary>What reached <c>/hook</c> (redirect targets are recorded under their own path).</summary>
    public IReadOnlyList<Received> Hooks => [.. received.Where(r => r.Path == "/hook")];

    /// <summary>Every request, also those not kept.</summary>
    public int Requests => Volatile.Read(ref requests);

    /// <summary>Requests answered 401 because no signature verified under <see cref="Secrets"/>.</summary>
    public int Refused => Volatile.Read(ref refused);

    /// <summary>Each distinct batch (by webhook-id): when it first arrived, and its size.</summary>
    public BatchArrivals Arrivals => arrivals;

    public static async Task<DestinationServer> StartAsync(bool keepBodies = true)
    {
        var server = new DestinationServer(keepBodies);
        (server.app, var address) = await LoopbackServer.StartAsync(server.HandleAsync);
        server.Url = $"{address}/hook";
        return server;
    }

    async Task HandleAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        var arrived = Stopwatch.GetTimestamp();
        var headers = http.Request.Headers;
        var webhookId = headers["webhook-id"].ToString();
        var body = buffer.ToArray();
        var r = new Received(
            webhookId, long.TryParse(headers["webhook-timestamp"], out var ts) ? ts : -1,
            headers["webhook-signature"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries),
            keepBodies ? Encoding.UTF8.GetString(body) : "", DateTime.UtcNow, http.Request.Path.Value ?? "");
        if (Secrets.Count > 0 && !Secrets.Any(s => WebhookSignature.Verifies(s, r.WebhookId, r.Timestamp, body, r.Signatures)))
        {
            Interlocked.Increment(ref refused);
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        int index;
        lock (received)
        {
            index = requests++;
            if (keepBodies)
                received.Enqueue(r);
        }
        arrivals.Add(webhookId, arrived, keepBodies ? -1 : ChangeCount.Of(body));
        if (underWay.AddOrUpdate(r.WebhookId, 1, (_, n) => n + 1) > 1)
            Interlocked.Increment(ref OverlappingDeliveries);
        try
        {
            var answer = Respond(r, index);
            if (answer.Delay > TimeSpan.Zero)
                await Task.Delay(answer.Delay, http.RequestAborted);
            if (answer.Drop)
            {
                http.Abort();
                return;
            }
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

    /// <summary>Waits until what was received satisfies <paramref name="until"/>; throws <see cref="TimeoutException"/>
    /// after <paramref name="seconds"/>, saying what it received.</summary>
    public async Task<IReadOnlyList<Received>> WaitAsync(Func<IReadOnlyList<Received>, bool> until, double seconds = 20, string? what = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var all = All;
            if (until(all))
                return all;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the destination did not receive {what ?? "what was expected"} within {seconds} s; it received {all.Count}: " +
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
