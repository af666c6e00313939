using System.Text.Json;

namespace CohortSync.Simulate.Sink;

/// <summary>A second destination's holdings compared with what the sink was delivered.</summary>
public sealed record ElsewhereCheck(string Name, int Held, int Missing, int Unexpected);

/// <summary>
/// What a destination received, checked against the committed feed. Each count of a problem must be 0:
/// <c>Missing</c> committed changes never delivered; <c>Unexpected</c> delivered changes the feed does not hold;
/// <c>NotInFeedOrder</c> the distinct batches, concatenated, differ from the feed's order (1) or not (0);
/// <c>SignaturesFailed</c> requests no secret verifies (the sink's 401s included); <c>StaleTimestamps</c> requests
/// whose <c>webhook-timestamp</c> is more than 5 minutes from their arrival; <c>RepeatsChanged</c> batches repeated
/// with another body; <c>ResentUnderNewId</c> changes delivered under two webhook-ids; <c>TargetedTwice</c> an
/// <c>entered</c> for a user already in the cohort (a stay ends only with <c>exited</c>).
/// </summary>
public sealed record DeliveryVerification(
    int Expected, int Delivered, int Requests, int Batches, int Repeats, int Entered, int Exited,
    int Missing, int Unexpected, int NotInFeedOrder, int SignaturesVerified, int SignaturesFailed, int StaleTimestamps,
    int RepeatsChanged, int ResentUnderNewId, int TargetedTwice, IReadOnlyList<ElsewhereCheck> Elsewhere,
    IReadOnlyList<string> Examples)
{
    const int MaxExamples = 10;

    public int Violations =>
        Missing + Unexpected + NotInFeedOrder + SignaturesFailed + StaleTimestamps + RepeatsChanged + ResentUnderNewId + TargetedTwice
        + Elsewhere.Sum(e => e.Missing + e.Unexpected);

    public bool Passed => Violations == 0;

    /// <summary>
    /// Checks <paramref name="requests"/> (every request the sink kept, repeats included, in arrival order) against the
    /// <paramref name="feed"/> the destination was due, under its <paramref name="secrets"/>; <paramref name="refused"/>
    /// is how many requests the sink answered 401 for a signature that did not verify.
    /// </summary>
    public static DeliveryVerification Check(
        IReadOnlyList<ChangeKey> feed, IReadOnlyList<Received> requests, IReadOnlyList<string> secrets, int refused,
        IReadOnlyList<ReceivedElsewhere> elsewhere)
    {
        var examples = new List<string>();
        void Example(string what)
        {
            if (examples.Count < MaxExamples)
                examples.Add(what);
        }

        var signed = 0;
        var stale = 0;
        foreach (var r in requests)
        {
            if (secrets.Any(r.SignedWith))
                signed++;
            else
                Example($"{r.WebhookId}: no signature verifies");
            if (!WebhookSignature.Fresh(r.Timestamp, r.At))
            {
                stale++;
                Example($"{r.WebhookId}: webhook-timestamp {r.Timestamp} is far from its arrival at {r.At:O}");
            }
        }

        var batches = requests.GroupBy(r => r.WebhookId).ToList();
        var changed = batches.Count(b => b.Select(r => r.Body).Distinct(StringComparer.Ordinal).Count() > 1);
        foreach (var b in batches.Where(b => b.Select(r => r.Body).Distinct(StringComparer.Ordinal).Count() > 1))
            Example($"{b.Key}: repeated with another body");

        // Batches in the order they first arrived: a destination's batches go one at a time, oldest first.
        var delivered = new List<ChangeKey>();
        var batchOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var resent = 0;
        foreach (var b in batches)
            foreach (var change in Parse(b.First()))
            {
                delivered.Add(change);
                if (!batchOf.TryAdd(change.Position, b.Key))
                {
                    resent++;
                    Example($"{change}: delivered under {batchOf[change.Position]} and again under {b.Key}");
                }
            }

        var feedPositions = feed.Select(c => c.Position).ToHashSet(StringComparer.Ordinal);
        var missing = feed.Where(c => !batchOf.ContainsKey(c.Position)).ToList();
        var unexpected = delivered.Where(c => !feedPositions.Contains(c.Position)).ToList();
        missing.Take(3).ToList().ForEach(c => Example($"{c}: committed, never delivered"));
        unexpected.Take(3).ToList().ForEach(c => Example($"{c}: delivered, not in the feed"));
        var inOrder = delivered.DistinctBy(c => c.Position).Select(c => c.Position).SequenceEqual(feed.Select(c => c.Position));
        if (!inOrder && missing.Count == 0 && unexpected.Count == 0)
            Example("the batches, concatenated, are not the feed in order");

        // Over every distinct batch: a change sent again under another webhook-id targets its user again.
        var targetedTwice = 0;
        var inCohort = new HashSet<(string, string, string)>();
        foreach (var c in delivered)
        {
            var stay = (c.ProjectId, c.CohortId, c.DistinctId);
            if (c.Kind != ChangeKey.Entered)
                inCohort.Remove(stay);
            else if (!inCohort.Add(stay))
            {
                targetedTwice++;
                Example($"{c}: entered again within one stay");
            }
        }

        var checks = elsewhere.Select(e => Compare(e, delivered.DistinctBy(c => c.Position).ToList(), Example)).ToList();
        return new DeliveryVerification(
            feed.Count, delivered.Count, requests.Count + refused, batches.Count, requests.Count - batches.Count,
            delivered.Count(c => c.Kind == ChangeKey.Entered), delivered.Count(c => c.Kind != ChangeKey.Entered),
            missing.Count, unexpected.Count, inOrder ? 0 : 1, signed, requests.Count - signed + refused, stale,
            changed, resent, targetedTwice, checks, examples);
    }

    /// <summary>As multisets: a change held twice after deduplication is as wrong as one missing.</summary>
    static ElsewhereCheck Compare(ReceivedElsewhere e, IReadOnlyList<ChangeKey> delivered, Action<string> example)
    {
        var due = delivered.GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count());
        var held = e.Changes.GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count());
        var missing = due.Sum(kv => Math.Max(0, kv.Value - held.GetValueOrDefault(kv.Key)));
        var unexpected = held.Sum(kv => Math.Max(0, kv.Value - due.GetValueOrDefault(kv.Key)));
        foreach (var c in due.Keys.Where(c => !held.ContainsKey(c)).Take(3))
            example($"{e.Name}: {c} delivered, not held there");
        foreach (var c in held.Keys.Where(c => !due.ContainsKey(c)).Take(3))
            example($"{e.Name}: {c} held there, never delivered");
        return new ElsewhereCheck(e.Name, e.Changes.Count, missing, unexpected);
    }

    static IEnumerable<ChangeKey> Parse(Received r)
    {
        IReadOnlyList<JsonElement> changes;
        try
        {
            changes = r.Changes;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return [];
        }
        return changes.Select(ChangeKey.OfDelivered);
    }
}
