using System.Text.Json;
using CohortSync.Domain;
using CohortSync.Mixpanel;

namespace CohortSync.Simulate;

/// <summary>One cohort the service holds differently from the sender's last successful snapshot. <c>Explanation</c>
/// says whether the reference receiver, given the same acknowledged pages, agrees with the service.</summary>
public sealed record CohortDivergence(
    string ProjectId,
    string CohortId,
    int Expected,
    int Found,
    int Missing,
    int Unexpected,
    IReadOnlyList<string> MissingExamples,
    IReadOnlyList<string> UnexpectedExamples,
    string Explanation);

/// <summary>The check's verdict; <see cref="Error"/> when the service could not be read (nothing is known then).</summary>
public sealed record ConvergenceResult(int CohortsChecked, IReadOnlyList<CohortDivergence> Divergent, string? Error);

/// <summary>
/// Reads every cohort back through the read API and compares its members with the sender's last
/// successful snapshot: that is what Mixpanel believes the receiver holds. A cohort none of whose
/// syncs succeeded should not exist (404 reads as empty).
/// </summary>
public static class ConvergenceCheck
{
    const int Examples = 5;

    public static async Task<ConvergenceResult> CheckAsync(ServiceClient service, IReadOnlyList<CohortOutcome> cohorts, CancellationToken ct)
    {
        var divergent = new List<CohortDivergence>();
        try
        {
            foreach (var cohort in cohorts)
                if (await CheckCohortAsync(service, cohort, ct) is { } divergence)
                    divergent.Add(divergence);
        }
        // IOException: the connection broke while a body was read (HttpIOException).
        catch (Exception e) when (e is ReadApiException or HttpRequestException or IOException or JsonException or KeyNotFoundException
                                      or InvalidOperationException)
        {
            return new ConvergenceResult(cohorts.Count, divergent, $"could not read the cohorts back: {e.Message}");
        }

        return new ConvergenceResult(cohorts.Count, divergent, null);
    }

    static async Task<CohortDivergence?> CheckCohortAsync(ServiceClient service, CohortOutcome cohort, CancellationToken ct)
    {
        // Each member read is struck off; what remains is missing. Nothing else is kept, so a million
        // members cost one set of the expected ids.
        var expected = new HashSet<string>(cohort.Expected.Select(id => id.Value), StringComparer.Ordinal);
        var expectedCount = expected.Count;
        var found = 0;
        var unexpected = 0;
        var unexpectedExamples = new List<string>();
        await service.ReadMemberIdsAsync(cohort.ProjectId, cohort.CohortId, id =>
        {
            found++;
            if (expected.Remove(id))
                return;
            unexpected++;
            if (unexpectedExamples.Count < Examples)
                unexpectedExamples.Add(id);
        }, ct);

        if (expected.Count == 0 && unexpected == 0)
            return null;

        return new CohortDivergence(
            cohort.ProjectId.Value, cohort.CohortId.Value, expectedCount, found, expected.Count, unexpected,
            expected.Order(StringComparer.Ordinal).Take(Examples).ToList(), unexpectedExamples,
            await ExplainAsync(service, cohort, ct));
    }

    /// <summary>
    /// Tells a receiver fault from the protocol's own limit. The pages the service acknowledged are replayed,
    /// in the order of its answers, into the domain's reference receiver (whole sessions, in memory): if it
    /// ends where the service is, the service did what it should, and the sender's view differs because it
    /// gave up on a sync whose answers were lost although the service had every page (Mixpanel's protocol
    /// cannot tell the two apart: the next diff, against the older snapshot, never mentions what changed).
    /// The reference starts empty, the service may not have: a cohort that existed before the run and that no
    /// sync of this run replaced (the first one committed is a full copy) still holds what it held then.
    /// </summary>
    static async Task<string> ExplainAsync(ServiceClient service, CohortOutcome cohort, CancellationToken ct)
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        await service.ReadMemberIdsAsync(cohort.ProjectId, cohort.CohortId, id => held.Add(id), ct);

        var reference = Receiver.Empty;
        foreach (var page in cohort.Acknowledged)
            reference = Receiver.Receive(page, reference).Item2;
        var referenceIds = Receiver.Membership(cohort.ProjectId, cohort.CohortId, reference).Select(id => id.Value).ToList();

        var givenUp = cohort.GivenUpButDelivered.Count == 0
            ? "no sync was given up on after the service acknowledged all its pages"
            : $"given up on though the service acknowledged every page: {string.Join(", ", cohort.GivenUpButDelivered)}";
        if (held.SetEquals(referenceIds))
            return $"the reference receiver, given the pages the service acknowledged, holds the same: not a receiver fault ({givenUp})";

        var missing = referenceIds.Where(id => !held.Contains(id)).Order(StringComparer.Ordinal).ToList();
        var unexpected = held.Except(referenceIds).Order(StringComparer.Ordinal).ToList();
        const string receiverFault = "a receiver fault, unless pages in flight together were handled in another order";
        var replaced = cohort.SyncsSucceeded > 0 || cohort.GivenUpButDelivered.Count > 0;
        var cause = cohort.ExistedBefore switch
        {
            true when !replaced =>
                "the cohort existed before this run and no sync of this run was committed to replace what it held then "
                + "(an earlier run's members, say): that, not a receiver fault, is the likely cause",
            true => $"the cohort existed before this run, but a full sync of this run was committed since, which replaces all it held: {receiverFault}",
            false => $"the cohort did not exist before this run: {receiverFault}",
            null => $"whether the cohort existed before this run could not be read: either {receiverFault}, or it held members from before "
                    + "this run that no sync of this run replaced (an earlier run's, say, whose syncs all failed this time)",
        };
        return $"the service differs from the reference receiver given the pages it acknowledged: {missing.Count} missing "
               + $"[{string.Join(", ", missing.Take(Examples))}], {unexpected.Count} unexpected [{string.Join(", ", unexpected.Take(Examples))}]; "
               + $"{cause} ({givenUp})";
    }
}
