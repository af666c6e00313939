using System.Text;
using System.Text.Json;
using CohortSync.Domain;
using CohortSync.Domain.Targeting;
using CohortSync.Domain.Tracking;
using CohortSync.Host.Feed;

namespace CohortSync.Host.Destinations;

/// <summary>
/// The events a mixpanel destination sends to <c>/import</c>: one per change or action report, each with its
/// <c>time</c> in milliseconds, <c>distinct_id</c>, a derived <c>$insert_id</c> and <c>$source</c>; and the
/// request body, a JSON array within Mixpanel's limits of 2,000 events and 2 MB.
/// </summary>
static class MixpanelEvents
{
    public const string Source = "cohortsync";
    public const int MaxEvents = 2000;
    public const int MaxBytes = 2 * 1024 * 1024;

    /// <summary>The properties CohortSync sets on every event it sends.</summary>
    public static readonly string[] Reserved = ["time", "distinct_id", "$insert_id", "token", "$source", "cohort_id", "cohort_name", "cohort_change"];

    /// <summary>The event for one change of the feed: the configured properties, then the change's own.</summary>
    public static string ForChange(Guid destinationId, FeedEvent e, FeedPosition position, string? cohortName, MixpanelEventNames names, string propertiesJson) =>
        Write(e.Kind == TransitionKind.Entered.ToString() ? names.Entered : names.Exited, propertiesJson, w =>
        {
            Common(w, e.RecordedAt, e.DistinctId, InsertId.ForChange(destinationId, position));
            w.WriteString("cohort_id", e.CohortId);
            if (cohortName is not null)
                w.WriteString("cohort_name", cohortName);
            w.WriteString("cohort_change", e.Kind);
        });

    /// <summary>The event for an action report: its own name and properties.</summary>
    public static string ForReport(ActionReport r) =>
        Write(r.Event, r.PropertiesJson, w => Common(w, r.OccurredAt, r.DistinctId, InsertId.ForReport(r.ProjectId, r.ReportId)));

    /// <summary>The request body: a JSON array of the first events that fit one request (always at least one).</summary>
    public static (byte[] Body, int Count) Body(IReadOnlyList<string> events)
    {
        var bytes = 2;
        var count = 0;
        foreach (var e in events)
        {
            var size = Encoding.UTF8.GetByteCount(e) + (count > 0 ? 1 : 0);
            if (count > 0 && (count == MaxEvents || bytes + size > MaxBytes))
                break;
            bytes += size;
            count++;
        }
        return (Encoding.UTF8.GetBytes("[" + string.Join(',', events.Take(count)) + "]"), count);
    }

    static void Common(Utf8JsonWriter w, DateTime time, string distinctId, string insertId)
    {
        w.WriteNumber("time", new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)).ToUnixTimeMilliseconds());
        w.WriteString("distinct_id", distinctId);
        w.WriteString("$insert_id", insertId);
        w.WriteString("$source", Source);
    }

    static string Write(string eventName, string propertiesJson, Action<Utf8JsonWriter> own)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("event", eventName);
            w.WriteStartObject("properties");
            using (var given = JsonDocument.Parse(propertiesJson))
                foreach (var p in given.RootElement.EnumerateObject())
                    p.WriteTo(w);
            own(w);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
