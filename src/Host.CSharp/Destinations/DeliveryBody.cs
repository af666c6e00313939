using CohortSync.Host.UserProfiles;

namespace CohortSync.Host.Destinations;

/// <summary>
/// What a destination is POSTed: the changes of one batch in feed order. <c>Replay</c> is true for an operator's
/// resend. Fixed when the batch is formed: every attempt sends these same bytes.
/// </summary>
public sealed record DeliveryBody(string Type, bool Replay, IReadOnlyList<DeliveredChange> Changes)
{
    public const string ChangesType = "cohort.changes";
}

/// <summary>
/// One transition: <c>Position</c> is its feed cursor (as <c>/v1/events</c> gives it), <c>Kind</c> entered or
/// exited, <c>CommittedAt</c> when the session that made it committed. The profile is the user's latest when
/// the batch was formed (null if none was ever sent).
/// </summary>
public sealed record DeliveredChange(
    string Position, string ProjectId, DeliveredCohort Cohort, DeliveredUser User, string Kind, string SessionId, DateTime CommittedAt);

public sealed record DeliveredCohort(string Id, string? Name);

public sealed record DeliveredUser(string DistinctId, ProfileView? Profile);
