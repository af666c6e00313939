using Dapper;
using Npgsql;

namespace CohortSync.Host.Destinations;

/// <summary>
/// Which destinations have a batch due, and runs of attempts at them (<see cref="DeliveryRun"/>). How a call
/// is made and how long a failure waits is the destination's kind's to say.
/// </summary>
public sealed class BatchDelivery(NpgsqlDataSource dataSource, DestinationKinds kinds, DestinationMetrics metrics)
{
    /// <summary>A batch due now that is the oldest waiting one of its destination.</summary>
    public sealed record Due(Guid destination_id, long batch);

    public async Task<IReadOnlyList<Due>> DueAsync(int limit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return [.. await connection.QueryAsync<Due>(
            """
            SELECT b.destination_id, b.batch
            FROM destination d
            JOIN LATERAL (SELECT p.destination_id, p.batch, p.next_attempt_at FROM delivery_batch p
                          WHERE p.destination_id = d.destination_id AND p.state = 'pending'
                          ORDER BY p.batch LIMIT 1) b ON true
            WHERE d.enabled AND d.state = 'active' AND b.next_attempt_at <= now()
            ORDER BY b.next_attempt_at
            LIMIT @limit
            """,
            new { limit })];
    }

    /// <summary>A run of attempts at the destination's batches.</summary>
    public Task<DeliveryRun> BeginAsync(Guid destinationId, CancellationToken ct) => DeliveryRun.BeginAsync(dataSource, destinationId, kinds, metrics, ct);
}
