using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CohortSync.Simulate.Sink;

/// <summary>An event Mixpanel kept: its name, distinct id, time (Unix milliseconds), <c>$insert_id</c> and properties.</summary>
public sealed record ImportedEvent(string Event, string DistinctId, long TimeMs, string InsertId, JsonObject Properties);

/// <summary>
/// One request to <c>/import</c>, as it came and as it was answered: the path (a region's prefix and
/// <c>/import</c>), its query, the Basic credentials, whether it was gzipped, how many events it held,
/// the status of the answer, and the <c>X-Mixpanel-Integration-ID</c> the sender named itself with (null: none).
/// </summary>
public sealed record ImportRequest(
    string Path, string Query, string? BasicUser, string? BasicPassword, bool Gzipped, int EventCount, int Status, DateTime At,
    string? IntegrationId);

/// <summary>
/// A stand-in for Mixpanel's <c>/import</c>: a real HTTP server on a loopback port that takes batches the way
/// Mixpanel documents. It checks the request's limits (at most 2,000 events and 2 MB uncompressed, gzip
/// accepted, Basic credentials present) and each event (<c>event</c>, <c>time</c> after 1971 and at most an hour
/// ahead, <c>distinct_id</c> not a placeholder, <c>$insert_id</c> of at most 36 letters, digits and <c>-</c>).
/// Under <c>strict=1</c> a batch with refused events answers 400 with <c>failed_records</c>, and the valid ones
/// are kept all the same. It keeps each event once per (event, distinct_id, time, <c>$insert_id</c>), as Mixpanel
/// deduplicates, and can be told to answer 429, 502 or 503, or to keep its answer back.
/// Any path ending in <c>/import</c> is served, so one stand-in can play every region (<c>{Url}/eu/import</c>).
/// </summary>
public sealed class ImportStandIn : IAsyncDisposable
{
    public const int MaxEvents = 2000;
    public const int MaxBytes = 2 * 1024 * 1024;
    static readonly Regex InsertIdForm = new("^[A-Za-z0-9-]{1,36}$", RegexOptions.Compiled);
    static readonly long Earliest = new DateTimeOffset(1971, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>Distinct ids Mixpanel takes for an implementation mistake and refuses.</summary>
    public static readonly string[] PlaceholderDistinctIds =
        ["anon", "anonymous", "nil", "none", "null", "n/a", "na", "undefined", "unknown", "0", "-1", "00000000-0000-0000-0000-000000000000", "[]", "{}", "<nil>"];

    WebApplication app = null!;
    readonly object gate = new();
    readonly List<ImportedEvent> events = [];
    readonly HashSet<(string, string, long, string)> seen = [];
    readonly ConcurrentQueue<ImportRequest> requests = new();
    readonly Queue<(int Status, TimeSpan? RetryAfter)> faults = new();
    TimeSpan holdAnswers;
    int heldAnswers;

    /// <summary>The base URL (<c>http://127.0.0.1:port</c>); batches go to <c>{Url}/import</c> or <c>{Url}/{prefix}/import</c>.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The events kept, each once, in the order they first arrived.</summary>
    public IReadOnlyList<ImportedEvent> Events
    {
        get
        {
            lock (gate)
                return [.. events];
        }
    }

    /// <summary>Every request received, in order.</summary>
    public IReadOnlyList<ImportRequest> Requests => [.. requests];

    /// <summary>Asked for each request no queued fault answers: a status (and Retry-After) to fail it with, or null to take it.</summary>
    public Func<(int Status, TimeSpan? RetryAfter)?>? Faulty { get; set; }

    /// <summary>Starts the stand-in on loopback <paramref name="port"/>, or a free port.</summary>
    public static async Task<ImportStandIn> StartAsync(int port = 0)
    {
        var standIn = new ImportStandIn();
        (standIn.app, standIn.Url) = await LoopbackServer.StartAsync(standIn.HandleAsync, port);
        return standIn;
    }

    /// <summary>Answers the next <paramref name="times"/> requests with <paramref name="status"/> (429, 502, 503, 401...), keeping nothing.</summary>
    public void Fail(int status, int times = 1, TimeSpan? retryAfter = null)
    {
        lock (gate)
            for (var i = 0; i < times; i++)
                faults.Enqueue((status, retryAfter));
    }

    /// <summary>Keeps the next <paramref name="times"/> batches, then holds each answer back for <paramref name="delay"/> (a lost answer, to the sender).</summary>
    public void HoldAnswers(TimeSpan delay, int times = 1)
    {
        lock (gate)
        {
            holdAnswers = delay;
            heldAnswers = times;
        }
    }

    /// <summary>Waits until the events kept satisfy <paramref name="until"/>; throws after <paramref name="seconds"/>.</summary>
    public async Task<IReadOnlyList<ImportedEvent>> WaitAsync(Func<IReadOnlyList<ImportedEvent>, bool> until, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var now = Events;
            if (until(now))
                return now;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the /import stand-in kept {now.Count} events and {Requests.Count} requests in {seconds} s, not what was awaited");
            await Task.Delay(50);
        }
    }

    async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        var (user, password) = Basic(request.Headers.Authorization.ToString());
        var gzipped = request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase);
        var body = await ReadAsync(request.Body, gzipped);
        var integrationId = request.Headers.TryGetValue("X-Mixpanel-Integration-ID", out var named) ? named.ToString() : null;
        (int Status, JsonObject Answer, int Count, TimeSpan? RetryAfter, TimeSpan Hold) answered;
        // The request is recorded with the events it brought, in one step: whoever sees the events sees the request.
        lock (gate)
        {
            answered = Answer(request, user, gzipped, body);
            requests.Enqueue(new ImportRequest(
                request.Path.Value ?? "", request.QueryString.Value ?? "", user, password, gzipped, answered.Count, answered.Status,
                DateTime.UtcNow, integrationId));
        }
        var (status, answer, _, retryAfter, hold) = answered;
        if (hold > TimeSpan.Zero)
            await Task.Delay(hold, http.RequestAborted);
        http.Response.StatusCode = status;
        if (retryAfter is { } wait)
            http.Response.Headers.RetryAfter = ((int)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await http.Response.WriteAsJsonAsync(answer);
    }

    /// <summary>What Mixpanel would answer, keeping the events it would keep. Called under <c>gate</c>.</summary>
    (int Status, JsonObject Answer, int Count, TimeSpan? RetryAfter, TimeSpan Hold) Answer(HttpRequest request, string? user, bool gzipped, byte[]? body)
    {
        if (!(request.Path.Value ?? "").EndsWith("/import", StringComparison.Ordinal))
            return (404, Error(404, "not found"), 0, null, TimeSpan.Zero);
        if ((faults.TryDequeue(out var queued) ? queued : Faulty?.Invoke()) is { } fault)
            return (fault.Status, Error(fault.Status, "the stand-in was told to fail"), 0, fault.RetryAfter, TimeSpan.Zero);
        if (string.IsNullOrEmpty(user))
            return (401, Error(401, "Invalid credentials"), 0, null, TimeSpan.Zero);
        if (body is null)
            return (400, Error(400, gzipped ? "the body is not valid gzip" : "no body"), 0, null, TimeSpan.Zero);
        if (body.Length > MaxBytes)
            return (413, Error(413, $"the request is over {MaxBytes} bytes uncompressed"), 0, null, TimeSpan.Zero);
        JsonArray batch;
        try
        {
            batch = JsonNode.Parse(body) as JsonArray ?? throw new JsonException();
        }
        catch (JsonException)
        {
            return (400, Error(400, "the body must be a JSON array of events"), 0, null, TimeSpan.Zero);
        }
        if (batch.Count > MaxEvents)
            return (400, Error(400, $"a request holds at most {MaxEvents} events"), batch.Count, null, TimeSpan.Zero);

        var strict = request.Query["strict"] == "1";
        var failed = new JsonArray();
        var imported = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var (kept, field, message, insertId) = Check(batch[i]);
            if (kept is null)
            {
                failed.Add(new JsonObject { ["index"] = i, ["insert_id"] = insertId, ["field"] = field, ["message"] = message });
                continue;
            }
            imported++;
            if (seen.Add((kept.Event, kept.DistinctId, kept.TimeMs, kept.InsertId)))
                events.Add(kept);
        }
        var hold = heldAnswers > 0 ? holdAnswers : TimeSpan.Zero;
        if (heldAnswers > 0)
            heldAnswers--;
        if (strict && failed.Count > 0)
            return (400, new JsonObject
            {
                ["code"] = 400, ["error"] = "some data points in the request failed validation", ["status"] = "Bad Request",
                ["num_records_imported"] = imported, ["failed_records"] = failed,
            }, batch.Count, null, hold);
        return (200, new JsonObject { ["code"] = 200, ["num_records_imported"] = imported, ["status"] = "OK" }, batch.Count, null, hold);
    }

    /// <summary>The event as kept, or why it is refused (the field and a message).</summary>
    static (ImportedEvent? Kept, string? Field, string? Message, string? InsertId) Check(JsonNode? node)
    {
        if (node is not JsonObject e)
            return (null, "event", "an event must be an object", null);
        if (e["properties"] is not JsonObject properties)
            return (null, "properties", "'properties' is required", null);
        var insertId = properties["$insert_id"] is JsonValue iv && iv.TryGetValue<string>(out var id) ? id : null;
        if (e["event"] is not JsonValue ev || !ev.TryGetValue<string>(out var name) || name.Length == 0)
            return (null, "event", "'event' is required", insertId);
        if (properties["time"] is not JsonValue tv || !tv.TryGetValue<double>(out var time))
            return (null, "properties.time", "'properties.time' is required", insertId);
        // Seconds or milliseconds since the epoch, as Mixpanel takes either.
        var ms = time < 100_000_000_000 ? (long)(time * 1000) : (long)time;
        if (ms < Earliest || ms > DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds())
            return (null, "properties.time", "'properties.time' must be after 1971-01-01 and at most an hour ahead", insertId);
        if (properties["distinct_id"] is not JsonValue dv || !dv.TryGetValue<string>(out var distinctId))
            return (null, "properties.distinct_id", "'properties.distinct_id' is required", insertId);
        if (PlaceholderDistinctIds.Contains(distinctId.ToLowerInvariant()))
            return (null, "properties.distinct_id", $"'properties.distinct_id' is invalid: {distinctId} is a placeholder", insertId);
        if (insertId is null || !InsertIdForm.IsMatch(insertId))
            return (null, "properties.$insert_id", "'properties.$insert_id' must be at most 36 letters, digits and '-'", insertId);
        return (new ImportedEvent(name, distinctId, ms, insertId, (JsonObject)properties.DeepClone()), null, null, insertId);
    }

    static JsonObject Error(int code, string error) => new() { ["code"] = code, ["error"] = error, ["status"] = "Error" };

    static (string? User, string? Password) Basic(string header)
    {
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            return (null, null);
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = text.IndexOf(':');
            return colon < 0 ? (text, null) : (text[..colon], text[(colon + 1)..]);
        }
        catch (FormatException)
        {
            return (null, null);
        }
    }

    /// <summary>The body, uncompressed; null when it claims gzip and is not. Reads at most one byte over the limit.</summary>
    static async Task<byte[]?> ReadAsync(Stream body, bool gzipped)
    {
        using var raw = new MemoryStream();
        await body.CopyToAsync(raw);
        raw.Position = 0;
        try
        {
            await using var source = gzipped ? new GZipStream(raw, CompressionMode.Decompress) : (Stream)raw;
            using var plain = new MemoryStream();
            var buffer = new byte[81920];
            int read;
            while ((read = await source.ReadAsync(buffer)) > 0 && plain.Length <= MaxBytes)
                plain.Write(buffer, 0, read);
            return plain.ToArray();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
