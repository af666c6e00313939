using CohortSync.Host.Feed;

namespace CohortSync.Host.Destinations;

/// <summary>
/// What differs between the kinds of destination, around one machinery of forming, locking and retrying: the
/// bytes a batch of changes is, how an attempt is made, and how long a failed one waits.
/// </summary>
public interface IDestinationKind
{
    /// <summary>
    /// The body of a batch of these changes, holding as many of them, from the first, as one request may (at least one).
    /// The caller disposes of it once the batch is stored.
    /// </summary>
    (BodyBuffer Body, int Count) ChangesBody(BatchSource source, IReadOnlyList<FeedEvent> send, bool replay);

    /// <summary>Whether <see cref="ChangesBody"/> always holds every change it is given (no request-size limit).</summary>
    bool BodiesHoldEveryChange { get; }

    /// <summary>One attempt at a claimed batch.</summary>
    Task<DeliveryAnswer> AttemptAsync(ClaimedBatch batch, CancellationToken ct);

    /// <summary>The wait before trying again after failure <paramref name="step"/> (1-based); negative: stop, the destination is failing.</summary>
    TimeSpan NextWait(int step, DeliveryAnswer answer);
}

/// <summary>What forming knows when it writes a batch's body: the destination, its cohorts' names and its users' profiles.</summary>
public sealed record BatchSource(
    Guid DestinationId, string ProjectId, IReadOnlyDictionary<string, string?> CohortNames, IReadOnlyDictionary<string, DeliveredProfile> Profiles,
    MixpanelEventNames? EventNames, string? PropertiesJson);

/// <summary>
/// A batch claimed for an attempt, with what its destination's kind needs to send it: a webhook's URL and
/// signing secrets, or a mixpanel destination's region and credentials. The body is the claim's to return to the
/// pool once the attempt has ended.
/// </summary>
public sealed record ClaimedBatch(
    long batch, string kind, string webhook_id, ReadOnlyMemory<byte> body, int attempts, int schedule_step, string? url, string? secret, string? previous_secret,
    DateTime? previous_secret_until, string? mixpanel_region, string? mixpanel_username, string? mixpanel_secret, string? mixpanel_project_id)
{
    // A record would print its secrets.
    public override string ToString() => $"{kind} batch {webhook_id}";
}

/// <summary>The kinds, by the name a destination stores.</summary>
public sealed class DestinationKinds(WebhookKind webhook, MixpanelKind mixpanel)
{
    public IDestinationKind For(string kind) => kind == DestinationKind.Mixpanel ? mixpanel : webhook;
}
