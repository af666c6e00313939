using System.Data;
using Dapper;
using Npgsql;

namespace CohortSync.Host.Destinations;

/// <summary>
/// Attempts at one destination's batches, oldest first, on one connection. A claimed batch's row stays locked
/// while its call is under way, so no other host attempts it at the same time. Answers are committed together,
/// every <see cref="GroupSize"/> batches or <see cref="GroupTime"/>, and whenever the run fails, waits or ends:
/// a host that dies first rolls them back, and those batches are attempted again, in order, with the same
/// webhook-ids and bodies. A commit per batch was a WAL flush per batch, on the path every batch waits for.
/// </summary>
public sealed class DeliveryRun : IAsyncDisposable
{
    public enum Outcome { NoneDue, Delivered, NotDelivered }

    const int GroupSize = 10;
    static readonly TimeSpan GroupTime = TimeSpan.FromMilliseconds(100);

    readonly NpgsqlConnection connection;
    readonly Guid destinationId;
    readonly DestinationKinds kinds;
    readonly DestinationMetrics metrics;
    NpgsqlTransaction? tx;
    int uncommitted;
    DateTime firstUncommittedAt;

    DeliveryRun(NpgsqlConnection connection, Guid destinationId, DestinationKinds kinds, DestinationMetrics metrics) =>
        (this.connection, this.destinationId, this.kinds, this.metrics) = (connection, destinationId, kinds, metrics);

    public static async Task<DeliveryRun> BeginAsync(
        NpgsqlDataSource dataSource, Guid destinationId, DestinationKinds kinds, DestinationMetrics metrics, CancellationToken ct) =>
        new(await dataSource.OpenConnectionAsync(ct), destinationId, kinds, metrics);

    /// <summary>
    /// One attempt at the destination's oldest waiting batch, if it is due and not under way on another host.
    /// Times are the clock's, not the transaction's start: a transaction spans several batches.
    /// </summary>
    public async Task<Outcome> AttemptAsync(CancellationToken ct)
    {
        tx ??= await connection.BeginTransactionAsync(ct);
        var (c, body) = await ClaimAsync(ct);
        if (c is null)
        {
            await CommitAsync(ct);
            return Outcome.NoneDue;
        }

        var kind = kinds.For(c.kind);
        var started = DateTime.UtcNow;
        DeliveryAnswer answer;
        using (body)
            answer = await kind.AttemptAsync(c, ct);
        metrics.Attempted(answer.Outcome);
        await RecordAsync(c, kind, answer, started, ct);
        if (uncommitted++ == 0)
            firstUncommittedAt = started;
        if (!answer.Done || uncommitted >= GroupSize || DateTime.UtcNow - firstUncommittedAt >= GroupTime)
            await CommitAsync(ct);
        return answer.Done ? Outcome.Delivered : Outcome.NotDelivered;
    }

    /// <summary>
    /// Locks the destination's oldest waiting batch, if it is due and not under way on another host, and reads it, its
    /// body last and streamed into a pooled buffer: read as an array, a body was allocated twice per attempt, in the
    /// row Npgsql buffers and in the array, both on the large object heap.
    /// </summary>
    async Task<(ClaimedBatch? Batch, BodyBuffer? Body)> ClaimAsync(CancellationToken ct)
    {
        // The oldest waiting batch is found without skipping locked rows, then locked skipping them: a batch under
        // way elsewhere ends this run rather than letting a younger one overtake it.
        await using var claim = new NpgsqlCommand(
            """
            SELECT b.batch, d.kind, b.webhook_id, b.attempts, b.schedule_step, d.url, d.secret, d.previous_secret, d.previous_secret_until,
                   d.mixpanel_region, d.mixpanel_username, d.mixpanel_secret, d.mixpanel_project_id, octet_length(b.body), b.body
            FROM delivery_batch b
            JOIN destination d ON d.destination_id = b.destination_id
            WHERE b.destination_id = @destinationId
              AND b.batch = (SELECT min(o.batch) FROM delivery_batch o WHERE o.destination_id = @destinationId AND o.state = 'pending')
              AND b.state = 'pending' AND b.next_attempt_at <= clock_timestamp()
              AND d.enabled AND d.state = 'active'
            FOR UPDATE OF b SKIP LOCKED
            """, connection, tx);
        claim.Parameters.AddWithValue("destinationId", destinationId);
        await using var reader = await claim.ExecuteReaderAsync(CommandBehavior.SequentialAccess | CommandBehavior.SingleRow, ct);
        if (!await reader.ReadAsync(ct))
            return (null, null);
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        var batch = reader.GetInt64(0);
        var (kind, webhookId, attempts, step) = (reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4));
        var (url, secret, previous) = (Text(5), Text(6), Text(7));
        DateTime? previousUntil = reader.IsDBNull(8) ? null : reader.GetDateTime(8);
        var (region, username, mixpanelSecret, projectId) = (Text(9), Text(10), Text(11), Text(12));
        var length = reader.GetInt32(13);
        var body = BodyBuffer.Rent(length);
        try
        {
            await using (var stream = await reader.GetStreamAsync(14, ct))
                await stream.ReadExactlyAsync(body.GetMemory(length)[..length], ct);
            body.Advance(length);
        }
        catch
        {
            body.Dispose();
            throw;
        }
        return (new ClaimedBatch(batch, kind, webhookId, body.Memory, attempts, step, url, secret, previous, previousUntil,
            region, username, mixpanelSecret, projectId), body);
    }

    /// <summary>The attempt, then what its answer means for the batch and the destination, in one round trip.</summary>
    async Task RecordAsync(ClaimedBatch c, IDestinationKind kind, DeliveryAnswer answer, DateTime started, CancellationToken ct)
    {
        const string Record =
            """
            INSERT INTO delivery_attempt (destination_id, batch, attempt, started_at, latency_ms, status, outcome, error, failed_records)
            VALUES (@destinationId, @batch, @attempt, @started, @latency, @status, @outcome, @error, @failed::jsonb);
            """;
        var wait = answer.Done || answer.Outcome == DeliveryAnswer.Gone ? TimeSpan.Zero : kind.NextWait(c.schedule_step + 1, answer);
        if (wait < TimeSpan.Zero)
            metrics.GaveUp();
        var then = answer switch
        {
            { Done: true } =>
                "UPDATE delivery_batch SET state = 'delivered', attempts = @attempt, delivered_at = clock_timestamp() WHERE destination_id = @destinationId AND batch = @batch",
            { Outcome: DeliveryAnswer.Gone } =>
                """
                UPDATE delivery_batch SET attempts = @attempt WHERE destination_id = @destinationId AND batch = @batch;
                UPDATE destination SET enabled = false, state = 'gone', updated_at = clock_timestamp() WHERE destination_id = @destinationId;
                """,
            _ when wait < TimeSpan.Zero =>
                """
                UPDATE delivery_batch SET attempts = @attempt WHERE destination_id = @destinationId AND batch = @batch;
                UPDATE destination SET state = 'failing', updated_at = clock_timestamp() WHERE destination_id = @destinationId;
                """,
            _ =>
                """
                UPDATE delivery_batch
                SET attempts = @attempt, schedule_step = schedule_step + 1, next_attempt_at = clock_timestamp() + make_interval(secs => @seconds)
                WHERE destination_id = @destinationId AND batch = @batch
                """,
        };
        await connection.ExecuteAsync(
            Record + then,
            new
            {
                destinationId, c.batch, attempt = c.attempts + 1, started, latency = (int)answer.Latency.TotalMilliseconds,
                status = answer.Status, outcome = answer.Outcome, error = answer.Error, failed = answer.FailedRecords, seconds = wait.TotalSeconds,
            }, tx);
    }

    /// <summary>Stores the answers so far; the run may go on after it.</summary>
    public async Task CommitAsync(CancellationToken ct)
    {
        if (tx is null)
            return;
        await tx.CommitAsync(ct);
        await tx.DisposeAsync();
        tx = null;
        uncommitted = 0;
    }

    /// <summary>Rolls back what was not committed: a run that ends well commits first, one that failed is attempted again.</summary>
    public async ValueTask DisposeAsync()
    {
        if (tx is not null)
            await tx.DisposeAsync();
        await connection.DisposeAsync();
    }
}
