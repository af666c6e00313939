using System.Text.Json;
using CohortSync.Domain.Targeting;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Destinations;

/// <summary>A webhook destination: signed JSON batches of changes, retried on Standard Webhooks' schedule.</summary>
public sealed class WebhookKind(DestinationClient client, IOptions<DestinationOptions> options) : IDestinationKind
{
    public (BodyBuffer Body, int Count) ChangesBody(BatchSource source, IReadOnlyList<Feed.FeedEvent> send, bool replay)
    {
        var body = BodyBuffer.Rent();
        try
        {
            using var writer = new Utf8JsonWriter(body);
            JsonSerializer.Serialize(writer,
                new DeliveryBody(DeliveryBody.ChangesType, replay, [.. send.Select(e => new DeliveredChange(
                    e.Cursor, e.ProjectId, new DeliveredCohort(e.CohortId, source.CohortNames.GetValueOrDefault(e.CohortId)),
                    new DeliveredUser(e.DistinctId, source.Profiles.GetValueOrDefault(e.DistinctId)), e.Kind, e.SessionId, e.RecordedAt))]),
                JsonSerializerOptions.Web);
            return (body, send.Count);
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    public bool BodiesHoldEveryChange => true;

    public Task<DeliveryAnswer> AttemptAsync(ClaimedBatch c, CancellationToken ct)
    {
        var secrets = c.previous_secret is { } previous && c.previous_secret_until > DateTime.UtcNow ? new[] { c.secret!, previous } : [c.secret!];
        return client.PostAsync(c.url!, c.webhook_id, c.body, secrets, ct);
    }

    public TimeSpan NextWait(int step, DeliveryAnswer answer) =>
        RetrySchedule.Next(options.Value.RetryDelays, step, Random.Shared.NextDouble(), answer.RetryAfter);
}
