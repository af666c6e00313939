using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace CohortSync.Simulate.Sink;

/// <summary>The service could not set up or read the sink's destination (refused, unreachable, unreadable).</summary>
public sealed class DestinationApiException(string message) : Exception(message);

/// <summary>A destination as simulate made it: its id, signing secret and where in the feed its changes start.</summary>
public sealed record SinkDestination(string Id, string Secret, string StartCursor);

/// <summary>What <c>/v1/destinations/{id}/deliveries</c> says of the destination's progress; <c>FormedThrough</c> is
/// the feed cursor its batches were formed up to.</summary>
public sealed record DeliveryProgress(string State, int PendingBatches, double LagSeconds, string FormedThrough);

/// <summary><c>/v1/destinations</c> and <c>/v1/events</c>, as simulate calls them for its sink.</summary>
public sealed class DestinationApiClient : IDisposable
{
    readonly HttpClient http;
    readonly AuthenticationHeaderValue? bearer;

    public DestinationApiClient(Uri apiBase, AuthenticationHeaderValue? bearer)
    {
        this.bearer = bearer;
        http = new HttpClient { BaseAddress = apiBase, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>Creates a destination of every cohort and kind of the project; its changes start where the feed is now.</summary>
    public async Task<SinkDestination> CreateAsync(string url, string projectId, int batchSize, CancellationToken ct)
    {
        var created = await SendAsync(HttpMethod.Post, "v1/destinations", ct, new { url, projectId, batchSize });
        var id = created.GetProperty("destination").GetProperty("id").GetString()!;
        var secret = created.GetProperty("secret").GetString()!;
        var deliveries = await SendAsync(HttpMethod.Get, $"v1/destinations/{id}/deliveries?limit=1", ct);
        return new SinkDestination(id, secret, deliveries.GetProperty("formedThrough").GetString()!);
    }

    /// <summary>Creates a mixpanel destination of every cohort and kind of the project, sending to the US host under a
    /// project token; its id.</summary>
    public async Task<string> CreateMixpanelAsync(string projectId, int batchSize, string token, CancellationToken ct)
    {
        var created = await SendAsync(HttpMethod.Post, "v1/destinations", ct,
            new { kind = "mixpanel", projectId, batchSize, mixpanel = new { region = "US", token } });
        return created.GetProperty("destination").GetProperty("id").GetString()!;
    }

    public async Task<DeliveryProgress> ProgressAsync(string id, CancellationToken ct)
    {
        var page = await SendAsync(HttpMethod.Get, $"v1/destinations/{id}/deliveries?limit=1", ct);
        return new DeliveryProgress(
            page.GetProperty("state").GetString()!, page.GetProperty("pendingBatches").GetInt32(), page.GetProperty("lagSeconds").GetDouble(),
            page.GetProperty("formedThrough").GetString()!);
    }

    /// <summary>The project's feed after <paramref name="after"/> to its end, and where to continue.</summary>
    public async Task<(IReadOnlyList<ChangeKey> Changes, string Next)> FeedAsync(string projectId, string after, CancellationToken ct)
    {
        var changes = new List<ChangeKey>();
        while (true)
        {
            var page = await SendAsync(HttpMethod.Get,
                $"v1/events?projectId={Uri.EscapeDataString(projectId)}&after={Uri.EscapeDataString(after)}&limit=1000", ct);
            var events = page.GetProperty("events");
            changes.AddRange(events.EnumerateArray().Select(ChangeKey.OfFeed));
            after = page.GetProperty("next").GetString()!;
            if (events.GetArrayLength() < 1000)
                return (changes, after);
        }
    }

    public Task DeleteAsync(string id, CancellationToken ct) => SendAsync(HttpMethod.Delete, $"v1/destinations/{id}", ct);

    async Task<JsonElement> SendAsync(HttpMethod method, string path, CancellationToken ct, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = bearer;
        if (body is not null)
            request.Content = JsonContent.Create(body);
        try
        {
            using var response = await http.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
                throw new DestinationApiException(
                    $"{method} {new Uri(http.BaseAddress!, path)} answered {(int)response.StatusCode} {response.StatusCode}: {text}"
                    + (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? " (give the API key with --api-key)" : ""));
            return response.StatusCode == HttpStatusCode.NoContent ? default : JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (HttpRequestException e)
        {
            throw new DestinationApiException($"{method} {new Uri(http.BaseAddress!, path)}: no answer ({e.Message})");
        }
    }

    public void Dispose() => http.Dispose();
}
