using System.Text.Json;

namespace CohortSync.Simulate.Sink;

/// <summary>One change as the feed and a destination both name it: its feed position, where, who and which way.</summary>
public sealed record ChangeKey(string Position, string ProjectId, string CohortId, string DistinctId, string Kind)
{
    public const string Entered = "entered";

    /// <summary>A change of a delivery's body.</summary>
    public static ChangeKey OfDelivered(JsonElement change) => new(
        change.GetProperty("position").GetString()!, change.GetProperty("projectId").GetString()!,
        change.GetProperty("cohort").GetProperty("id").GetString()!, change.GetProperty("user").GetProperty("distinctId").GetString()!,
        change.GetProperty("kind").GetString()!);

    /// <summary>An event of <c>/v1/events</c>.</summary>
    public static ChangeKey OfFeed(JsonElement e) => new(
        e.GetProperty("cursor").GetString()!, e.GetProperty("projectId").GetString()!, e.GetProperty("cohortId").GetString()!,
        e.GetProperty("distinctId").GetString()!, e.GetProperty("kind").GetString()!);

    public override string ToString() => $"{Kind} {CohortId}/{DistinctId} at {Position}";
}

/// <summary>
/// A second destination fed the same changes (a stand-in for Mixpanel's <c>/import</c>, say): what it holds after
/// its own deduplication. The verification requires it to equal, change for change, what the sink was delivered.
/// </summary>
public sealed record ReceivedElsewhere(string Name, IReadOnlyList<ChangeKey> Changes);
