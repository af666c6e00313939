using CohortSync.Domain;

namespace CohortSync.Simulate;

/// <summary>
/// How one cohort's syncs ended: what the sender believes the service holds (<c>Expected</c>, its last
/// successful snapshot, empty when no sync succeeded); the syncs it gave up on although the service had
/// acknowledged every page (<c>GivenUpButDelivered</c>, e.g. "sync 7 (session id)"); the pages the
/// service acknowledged, in order, to replay into the reference receiver when the cohort diverges; and
/// whether the service held the cohort before its first sync (<c>ExistedBefore</c>, null when the read
/// API did not say), state the reference receiver, which starts empty, knows nothing of.
/// </summary>
public sealed record CohortOutcome(
    ProjectId ProjectId,
    CohortId CohortId,
    bool? ExistedBefore,
    int SyncsPlayed,
    int SyncsSucceeded,
    bool Paused,
    IReadOnlyCollection<DistinctId> Expected,
    IReadOnlyList<string> GivenUpButDelivered,
    IReadOnlyList<WebhookPage> Acknowledged);
