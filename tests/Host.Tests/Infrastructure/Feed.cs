using System.Text.Json;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>A feed event as the API lists it.</summary>
public sealed record FeedEventJson(string Cursor, string Kind, string ProjectId, string CohortId, string DistinctId, string SessionId)
{
    public static FeedEventJson From(JsonElement e) =>
        new(e.Text("cursor"), e.Text("kind"), e.Text("projectId"), e.Text("cohortId"), e.Text("distinctId"), e.Text("sessionId"));

    /// <summary>What identifies a transition: a session records a user once.</summary>
    public string Key => $"{ProjectId}/{CohortId}/{SessionId}/{DistinctId}";

    public override string ToString() => $"{CohortId}:{SessionId}:{Kind}:{DistinctId}";
}

public static class Feed
{
    /// <summary>One page of /v1/events after <paramref name="after"/>; its events and its <c>next</c>.</summary>
    public static async Task<(List<FeedEventJson> Events, string Next)> ReadAsync(
        this HttpClient client, string query, string? after, int limit, string? key = null)
    {
        var url = $"/v1/events?limit={limit}" + (query.Length > 0 ? "&" + query : "")
                  + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");
        var body = await client.GetOkAsync(url, key);
        return (body.GetProperty("events").EnumerateArray().Select(FeedEventJson.From).ToList(), body.Text("next"));
    }

    /// <summary>Follows the feed from <paramref name="after"/> until a page comes back empty.</summary>
    public static async Task<(List<FeedEventJson> Events, string Next)> ReadToEndAsync(
        this HttpClient client, string query, string? after = null, int limit = 100, string? key = null)
    {
        var all = new List<FeedEventJson>();
        while (true)
        {
            var (events, next) = await client.ReadAsync(query, after, limit, key);
            all.AddRange(events);
            if (events.Count == 0)
                return (all, next);
            after = next;
        }
    }
}
