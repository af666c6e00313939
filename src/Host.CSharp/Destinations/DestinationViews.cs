namespace CohortSync.Host.Destinations;

/// <summary>
/// A destination as the API shows it (never its secret). <c>CohortIds</c> null: every cohort of the project.
/// <c>State</c>: active, failing (its retry schedule ran out: enable it again to resume) or gone (it answered
/// 410, which also disabled it).
/// </summary>
public sealed record DestinationView(
    string Id, string ProjectId, string Url, IReadOnlyList<string>? CohortIds, IReadOnlyList<string> Kinds, int BatchSize,
    bool Enabled, string State, int? ReentryCooldownSeconds, DateTime? PreviousSecretValidUntil, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A destination just created, with its signing secret: the only time the secret is shown.</summary>
public sealed record CreatedDestination(DestinationView Destination, string Secret);

/// <summary>A new signing secret; the previous one also signs until <c>PreviousSecretValidUntil</c>.</summary>
public sealed record RotatedSecret(string Secret, DateTime PreviousSecretValidUntil);

/// <summary>Every destination of the caller's projects.</summary>
public sealed record DestinationList(IReadOnlyList<DestinationView> Destinations);

/// <summary>
/// The body of creating or changing a destination. Creating: <c>url</c> and <c>projectId</c> are required;
/// <c>cohortIds</c> left out or null means every cohort; <c>kinds</c> defaults to both, <c>batchSize</c> to
/// 100, <c>enabled</c> to true. Changing: fields left out keep their value; the project cannot change.
/// </summary>
public sealed record DestinationBody(
    string? Url, string? ProjectId, IReadOnlyList<string>? CohortIds, IReadOnlyList<string>? Kinds, int? BatchSize,
    bool? Enabled, int? ReentryCooldownSeconds);

/// <summary>The body of a replay: a cursor of the change feed (from <c>/v1/events</c> or a delivery) to resend from, just after it.</summary>
public sealed record ReplayBody(string From);

/// <summary>A replay under way: changes just after <c>From</c> up to <c>Until</c> (where forming had got to) are sent again, marked as replay.</summary>
public sealed record ReplayView(string From, string Until);

/// <summary>One attempt to deliver a batch: the HTTP status (null when none came) and what it meant.</summary>
public sealed record AttemptView(int Attempt, DateTime StartedAt, int LatencyMs, int? Status, string Outcome, string? Error);

/// <summary>
/// A batch of changes as sent to a destination. Its <c>WebhookId</c> and changes were fixed when it was
/// formed; every attempt sends them again. <c>From</c> and <c>Through</c> are feed cursors of its first and last change.
/// </summary>
public sealed record DeliveryView(
    long Batch, string WebhookId, bool Replay, int ChangeCount, string From, string Through, string State, int Attempts,
    DateTime? NextAttemptAt, DateTime FormedAt, DateTime? DeliveredAt, IReadOnlyList<AttemptView> RecentAttempts);

/// <summary>
/// A destination's deliveries, newest first, and how far behind the feed it is: <c>PendingBatches</c> formed and
/// not yet delivered, <c>LagSeconds</c> since the oldest undelivered change was committed (0 when none waits),
/// <c>FormedThrough</c> the feed cursor batch forming has reached.
/// </summary>
public sealed record DeliveriesPage(
    string DestinationId, string State, int PendingBatches, double LagSeconds, string FormedThrough,
    IReadOnlyList<DeliveryView> Deliveries, string? Next);
