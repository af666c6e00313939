using CohortSync.Domain.Tracking;
using CohortSync.Host.Feed;

namespace CohortSync.Host.Destinations;

/// <summary>
/// A mixpanel destination: each change is an event sent to <c>/import</c>. Throttling (429, 502, 503) and other
/// transient failures back off from 2 s to 60 s and never give up; a 400 is never retried (Mixpanel ingested the
/// valid events); refused credentials, or any other 4xx, stop the destination as failing, for the operator to see.
/// </summary>
public sealed class MixpanelKind(MixpanelImportClient client) : IDestinationKind
{
    public (BodyBuffer Body, int Count) ChangesBody(BatchSource source, IReadOnlyList<FeedEvent> send, bool replay)
    {
        var (body, count) = MixpanelEvents.Body([.. send.Select(e => MixpanelEvents.ForChange(
            source.DestinationId, e, e.Position(), source.CohortNames.GetValueOrDefault(e.CohortId), source.EventNames!, source.PropertiesJson!))]);
        return (BodyBuffer.Of(body), count);
    }

    /// <summary>A request holds at most 2 MB of events: a batch ends early where the next event would not fit.</summary>
    public bool BodiesHoldEveryChange => false;

    public Task<DeliveryAnswer> AttemptAsync(ClaimedBatch c, CancellationToken ct) =>
        client.PostAsync(client.ImportUrl(c.mixpanel_region!, c.mixpanel_username, c.mixpanel_project_id), c.mixpanel_username, c.mixpanel_secret!, c.body, ct);

    public TimeSpan NextWait(int step, DeliveryAnswer answer) =>
        answer.Outcome == DeliveryAnswer.Unauthorized || answer.Status is >= 400 and < 500 and not 429
            ? TimeSpan.FromTicks(-1)
            : ImportBackoff.Next(step, Random.Shared.NextDouble(), answer.RetryAfter);
}
