using CohortSync.Domain;
using Microsoft.FSharp.Collections;

namespace CohortSync.Host.Simulate;

/// <summary>A sync the sender gave up on although the receiver acknowledged every one of its pages
/// (the answers were lost): the receiver may rightly have committed it.</summary>
public sealed record UnseenCommit(int SyncNumber, string SessionId, FSharpSet<DistinctId> Members);

/// <summary>How one cohort's syncs ended, as the sender knows it: what the service should hold now
/// (<c>Expected</c>, the sender's last successful snapshot, empty when no sync succeeded), and the failed
/// syncs since that success that the receiver acknowledged in full, oldest first.</summary>
public sealed record CohortOutcome(
    ProjectId ProjectId,
    CohortId CohortId,
    int SyncsPlayed,
    bool Paused,
    FSharpSet<DistinctId> Expected,
    IReadOnlyList<UnseenCommit> UnseenCommits);
