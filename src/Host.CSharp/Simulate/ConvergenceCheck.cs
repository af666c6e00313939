using System.Text.Json;
using CohortSync.Domain;

namespace CohortSync.Host.Simulate;

/// <summary>One cohort the service holds differently from the sender's last successful snapshot. <c>Explanation</c>
/// is set when the service holds exactly what a sync the sender gave up on would have committed.</summary>
public sealed record CohortDivergence(
    string ProjectId,
    string CohortId,
    int Expected,
    int Found,
    int Missing,
    int Unexpected,
    IReadOnlyList<string> MissingExamples,
    IReadOnlyList<string> UnexpectedExamples,
    string? Explanation);

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
        catch (Exception e) when (e is ReadApiException or HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException)
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
    /// A sync whose last answers were all lost failed for the sender, yet the receiver may have all its
    /// pages and commit it: Mixpanel's protocol cannot tell the two apart. Such a divergence is named as
    /// such, so it is not mistaken for the receiver's fault.
    /// </summary>
    static async Task<string?> ExplainAsync(ServiceClient service, CohortOutcome cohort, CancellationToken ct)
    {
        if (cohort.UnseenCommits.Count == 0)
            return null;
        var held = new HashSet<string>(StringComparer.Ordinal);
        await service.ReadMemberIdsAsync(cohort.ProjectId, cohort.CohortId, id => held.Add(id), ct);
        var match = cohort.UnseenCommits.LastOrDefault(u => held.SetEquals(u.Members.Select(m => m.Value)));
        return match is null
            ? null
            : $"the service holds what sync {match.SyncNumber} ({match.SessionId}) sent: the sender gave up on it after its answers were lost, "
              + "though the service had acknowledged every page";
    }
}
