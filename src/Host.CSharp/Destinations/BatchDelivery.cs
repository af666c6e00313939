using Dapper;
using Npgsql;

namespace CohortSync.Host.Destinations;

/// <summary>
/// One attempt at a destination's oldest waiting batch. The batch's row stays locked while the call is under
/// way, so no other host attempts it at the same time; the attempt's answer is stored with the lock released.
/// A host that dies mid-call rolls back, and the batch is attempted again, with the same webhook-id and body.
/// How the call is made and how long a failure waits is the destination's kind's to say.
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

    /// <summary>The destination's oldest waiting batch when it is due now, else null.</summary>
    public async Task<Due?> NextDueAsync(Guid destinationId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<Due>(
            """
            SELECT b.destination_id, b.batch
            FROM (SELECT p.destination_id, p.batch, p.next_attempt_at FROM delivery_batch p
                  WHERE p.destination_id = @destinationId AND p.state = 'pending'
                  ORDER BY p.batch LIMIT 1) b
            WHERE b.next_attempt_at <= now()
            """,
            new { destinationId });
    }

    /// <summary>One attempt; true when the batch was delivered (false also when another host had it or it was not due).</summary>
    public async Task<bool> AttemptAsync(Due due, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Still the oldest waiting batch, still due, and not under way on another host.
        var c = await connection.QuerySingleOrDefaultAsync<ClaimedBatch>(
            """
            SELECT d.kind, b.webhook_id, b.body, b.attempts, b.schedule_step, d.url, d.secret, d.previous_secret, d.previous_secret_until,
                   d.mixpanel_region, d.mixpanel_username, d.mixpanel_secret, d.mixpanel_project_id
            FROM delivery_batch b
            JOIN destination d ON d.destination_id = b.destination_id
            WHERE b.destination_id = @destination_id AND b.batch = @batch AND b.state = 'pending' AND b.next_attempt_at <= now()
              AND d.enabled AND d.state = 'active'
              AND NOT EXISTS (SELECT 1 FROM delivery_batch o WHERE o.destination_id = b.destination_id AND o.state = 'pending' AND o.batch < b.batch)
            FOR UPDATE OF b SKIP LOCKED
            """,
            due, tx);
        if (c is null)
            return false;

        var kind = kinds.For(c.kind);
        var started = DateTime.UtcNow;
        var answer = await kind.AttemptAsync(c, ct);
        metrics.Attempted(answer.Outcome);

        var attempt = c.attempts + 1;
        // The answer is stored in one round trip: the attempt, then what it means for the batch and the destination.
        const string Record =
            """
            INSERT INTO delivery_attempt (destination_id, batch, attempt, started_at, latency_ms, status, outcome, error, failed_records)
            VALUES (@destination_id, @batch, @attempt, @started, @latency, @status, @outcome, @error, @failed::jsonb);
            """;
        var wait = answer.Done || answer.Outcome == DeliveryAnswer.Gone ? TimeSpan.Zero : kind.NextWait(c.schedule_step + 1, answer);
        if (wait < TimeSpan.Zero)
            metrics.GaveUp();
        var then = answer switch
        {
            { Done: true } =>
                "UPDATE delivery_batch SET state = 'delivered', attempts = @attempt, delivered_at = now() WHERE destination_id = @destination_id AND batch = @batch",
            { Outcome: DeliveryAnswer.Gone } =>
                """
                UPDATE delivery_batch SET attempts = @attempt WHERE destination_id = @destination_id AND batch = @batch;
                UPDATE destination SET enabled = false, state = 'gone', updated_at = now() WHERE destination_id = @destination_id;
                """,
            _ when wait < TimeSpan.Zero =>
                """
                UPDATE delivery_batch SET attempts = @attempt WHERE destination_id = @destination_id AND batch = @batch;
                UPDATE destination SET state = 'failing', updated_at = now() WHERE destination_id = @destination_id;
                """,
            _ =>
                """
                UPDATE delivery_batch
                SET attempts = @attempt, schedule_step = schedule_step + 1, next_attempt_at = now() + make_interval(secs => @seconds)
                WHERE destination_id = @destination_id AND batch = @batch
                """,
        };
        await connection.ExecuteAsync(
            Record + then,
            new
            {
                due.destination_id, due.batch, attempt, started, latency = (int)answer.Latency.TotalMilliseconds,
                status = answer.Status, outcome = answer.Outcome, error = answer.Error, failed = answer.FailedRecords, seconds = wait.TotalSeconds,
            }, tx);
        await tx.CommitAsync(ct);
        return answer.Done;
    }
}
