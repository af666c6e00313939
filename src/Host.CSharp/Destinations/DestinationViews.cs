namespace CohortSync.Host.Destinations;

/// <summary>
/// A destination as the API shows it (never a secret). <c>Kind</c> webhook or mixpanel; a mixpanel destination's
/// <c>Url</c> is the <c>/import</c> its region sends to, and <c>Mixpanel</c> its settings. <c>CohortIds</c> null:
/// every cohort of the project. <c>State</c>: active, failing (its retry schedule ran out, or Mixpanel refused
/// its credentials: enable it again to resume) or gone (it answered 410, which also disabled it).
/// </summary>
public sealed record DestinationView(
    string Id, string Kind, string ProjectId, string Url, IReadOnlyList<string>? CohortIds, IReadOnlyList<string> Kinds, int BatchSize,
    bool Enabled, string State, int? ReentryCooldownSeconds, DateTime? PreviousSecretValidUntil, DateTime CreatedAt, DateTime UpdatedAt,
    MixpanelView? Mixpanel);

/// <summary>
/// A mixpanel destination's settings as shown: the token or the service account's secret never is.
/// <c>ImportProjectId</c> is the <c>project_id</c> a service account sends to.
/// </summary>
public sealed record MixpanelView(
    string Region, string Authentication, string? ServiceAccountUsername, string ImportProjectId, MixpanelEventNames EventNames,
    System.Text.Json.JsonElement Properties);

/// <summary>A destination just created, with its signing secret (a webhook's): the only time the secret is shown.</summary>
public sealed record CreatedDestination(DestinationView Destination, string? Secret);

/// <summary>A new signing secret; the previous one also signs until <c>PreviousSecretValidUntil</c>.</summary>
public sealed record RotatedSecret(string Secret, DateTime PreviousSecretValidUntil);

/// <summary>Every destination of the caller's projects.</summary>
public sealed record DestinationList(IReadOnlyList<DestinationView> Destinations);

/// <summary>
/// The body of creating or changing a destination. Creating: <c>projectId</c> is required, and <c>url</c> for a
/// webhook or <c>mixpanel</c> for a mixpanel destination; <c>kind</c> defaults to webhook, <c>cohortIds</c> left out
/// or null means every cohort, <c>kinds</c> defaults to both, <c>batchSize</c> to 100 (2,000 for mixpanel),
/// <c>enabled</c> to true. Changing: fields left out keep their value; the project and the kind cannot change.
/// </summary>
public sealed record DestinationBody(
    string? Kind, string? Url, string? ProjectId, IReadOnlyList<string>? CohortIds, IReadOnlyList<string>? Kinds, int? BatchSize,
    bool? Enabled, int? ReentryCooldownSeconds, MixpanelBody? Mixpanel);

/// <summary>
/// A mixpanel destination's settings as given: <c>region</c> US, EU or IN; either the project <c>token</c> or a
/// <c>serviceAccount</c> (write-only: never shown back); <c>importProjectId</c> (a service account's
/// <c>project_id</c>; defaults to the destination's project); the event name per kind; constant properties.
/// </summary>
public sealed record MixpanelBody(
    string? Region, string? Token, ServiceAccountBody? ServiceAccount, string? ImportProjectId, MixpanelEventNames? EventNames,
    System.Text.Json.JsonElement? Properties);

/// <summary>A Mixpanel service account (Owner or Admin): its username and secret.</summary>
public sealed record ServiceAccountBody(string Username, string Secret);

/// <summary>The body of a replay: a cursor of the change feed (from <c>/v1/events</c> or a delivery) to resend from, just after it.</summary>
public sealed record ReplayBody(string From);

/// <summary>A replay under way: changes just after <c>From</c> up to <c>Until</c> (where forming had got to) are sent again, marked as replay.</summary>
public sealed record ReplayView(string From, string Until);

/// <summary>
/// One attempt to deliver a batch: the HTTP status (null when none came) and what it meant; for a 400 from
/// Mixpanel, the records it refused (index, insert_id, field, message).
/// </summary>
public sealed record AttemptView(
    int Attempt, DateTime StartedAt, int LatencyMs, int? Status, string Outcome, string? Error, System.Text.Json.JsonElement? FailedRecords);

/// <summary>
/// A batch of changes as sent to a destination. Its <c>WebhookId</c> and changes were fixed when it was
/// formed; every attempt sends them again. <c>Content</c> is changes or actions (reported actions, for a mixpanel
/// destination). <c>From</c> and <c>Through</c> are feed cursors of its first and last change (null for actions).
/// </summary>
public sealed record DeliveryView(
    long Batch, string WebhookId, bool Replay, string Content, int ChangeCount, string? From, string? Through, string State, int Attempts,
    DateTime? NextAttemptAt, DateTime FormedAt, DateTime? DeliveredAt, IReadOnlyList<AttemptView> RecentAttempts);

/// <summary>
/// A destination's deliveries, newest first, and how far behind the feed it is: <c>PendingBatches</c> formed and
/// not yet delivered, <c>LagSeconds</c> since the oldest undelivered change was committed (0 when none waits),
/// <c>FormedThrough</c> the feed cursor batch forming has reached.
/// </summary>
public sealed record DeliveriesPage(
    string DestinationId, string State, int PendingBatches, double LagSeconds, string FormedThrough,
    IReadOnlyList<DeliveryView> Deliveries, string? Next);
