using System.Globalization;
using System.Text.Json;
using CohortSync.Host.Api;

namespace CohortSync.Host.Destinations;

/// <summary>
/// An action a downstream system reports it took for a user (a message sent, say), stored once per
/// <c>ReportId</c> and forwarded to the project's mixpanel destinations as an event of its own.
/// </summary>
public sealed record ActionReport(
    string ProjectId, string ReportId, string DistinctId, string Event, DateTime OccurredAt, string PropertiesJson, long Position = 0,
    DateTime ReceivedAt = default);

/// <summary>The body of reporting actions: up to 1,000 of them, stored together or not at all.</summary>
public sealed record ActionReportsBody(IReadOnlyList<ReportedAction> Actions);

/// <summary>
/// One action: <c>Id</c> the reporter's own idempotency id (a repeat is stored once), <c>Event</c> the event
/// name Mixpanel shows, <c>Time</c> when it happened (ISO 8601 with an offset, or Unix milliseconds), and
/// <c>Properties</c> the event's other properties.
/// </summary>
public sealed record ReportedAction(string Id, string DistinctId, string Event, JsonElement Time, JsonElement? Properties);

/// <summary>How many of the reported actions were new and how many repeated an id already stored.</summary>
public sealed record ActionReportsStored(int Stored, int Repeated);

/// <summary>Reads and checks reported actions, naming every problem with its JSON path.</summary>
static class ActionReportReader
{
    public const int MaxActions = 1000;
    const int MaxText = 255;
    static readonly DateTime Earliest = new(1971, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    static readonly string[] Reserved = ["time", "distinct_id", "$insert_id", "token", "$source"];

    public static (IReadOnlyList<ActionReport>? Reports, string? Problem) Read(string projectId, string json, DateTime now)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(json);
            root = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return (null, "the body must be a JSON object {\"actions\": [...]}");
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("actions", out var actions) || actions.ValueKind != JsonValueKind.Array)
            return (null, "the body must be a JSON object {\"actions\": [...]}");
        var count = actions.GetArrayLength();
        if (count is 0 or > MaxActions)
            return (null, $"actions must hold 1 to {MaxActions} actions");

        var problems = new List<string>();
        var reports = new List<ActionReport>();
        var index = 0;
        foreach (var a in actions.EnumerateArray())
        {
            var path = $"actions[{index++}]";
            if (a.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{path} must be an object");
                continue;
            }
            var before = problems.Count;
            var id = Text(a, "id", path, problems);
            var distinctId = Text(a, "distinctId", path, problems);
            var name = Text(a, "event", path, problems);
            var time = Time(a, path, now, problems);
            var properties = "{}";
            if (a.TryGetProperty("properties", out var p) && p.ValueKind != JsonValueKind.Null
                && MixpanelProperties.Check(p, $"{path}.properties", Reserved, problems))
                properties = p.GetRawText();
            if (problems.Count == before)
                reports.Add(new ActionReport(projectId, id!, distinctId!, name!, time!.Value, properties));
        }
        return problems.Count > 0 ? (null, string.Join("; ", problems)) : (reports, null);
    }

    static string? Text(JsonElement a, string name, string path, List<string> problems)
    {
        if (a.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            && v.GetString() is { Length: > 0 and <= MaxText } text && Cursor.IsStorable(text))
            return text;
        problems.Add($"{path}.{name} is required: a string of 1 to {MaxText} characters");
        return null;
    }

    // Mixpanel refuses events before 1971 or more than an hour ahead of its clock.
    static DateTime? Time(JsonElement a, string path, DateTime now, List<string> problems)
    {
        DateTime? time = null;
        if (a.TryGetProperty("time", out var v))
        {
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var ms) && ms is > 0 and < 100_000_000_000_000)
                time = DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
            else if (v.ValueKind == JsonValueKind.String && v.GetString() is { } text && text.Length > 10 && (text.EndsWith('Z') || text[^6] is '+' or '-')
                     && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
                time = at.UtcDateTime;
        }
        if (time is null)
        {
            problems.Add($"{path}.time is required: ISO 8601 with an offset, or Unix milliseconds");
            return null;
        }
        if (time < Earliest || time > now.AddHours(1))
        {
            problems.Add($"{path}.time must be after 1971-01-01 and at most an hour from now");
            return null;
        }
        return time;
    }
}
