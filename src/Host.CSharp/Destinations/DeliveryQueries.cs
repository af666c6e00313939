using System.Text.Json;
using CohortSync.Host.Feed;
using Dapper;
using Npgsql;

namespace CohortSync.Host.Destinations;

/// <summary>A destination's batches and their attempts, newest first.</summary>
public sealed class DeliveryQueries(NpgsqlDataSource dataSource)
{
    sealed record Status(string state, bool enabled, long formed_position, string formed_distinct_id, long pending, double lag_seconds);

    sealed record BatchRow(
        long batch, string webhook_id, bool replay, int change_count, long? first_position, string? first_distinct_id,
        long? last_position, string? last_distinct_id, string state, int attempts, DateTime next_attempt_at, DateTime formed_at, DateTime? delivered_at);

    sealed record AttemptRow(long batch, int attempt, DateTime started_at, int latency_ms, int? status, string outcome, string? error, string? failed_records);

    const int AttemptsShown = 10;

    /// <summary>Null when the destination does not exist in the caller's projects.</summary>
    public async Task<DeliveriesPage?> PageAsync(Guid id, string[]? projects, long? before, int take, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var status = await connection.QuerySingleOrDefaultAsync<Status>(
            """
            SELECT d.state, d.enabled, d.formed_position, d.formed_distinct_id, count(b.batch) AS pending,
                   COALESCE(EXTRACT(EPOCH FROM now() - min(b.oldest_change_at)), 0)::float8 AS lag_seconds
            FROM destination d
            LEFT JOIN delivery_batch b ON b.destination_id = d.destination_id AND b.state = 'pending'
            WHERE d.destination_id = @id AND (@projects::text[] IS NULL OR d.project_id = ANY(@projects))
            GROUP BY d.destination_id
            """,
            new { id, projects });
        if (status is null)
            return null;

        var batches = (await connection.QueryAsync<BatchRow>(
            """
            SELECT batch, webhook_id, replay, change_count, first_position, first_distinct_id, last_position, last_distinct_id,
                   state, attempts, next_attempt_at, formed_at, delivered_at
            FROM delivery_batch
            WHERE destination_id = @id AND (@before::bigint IS NULL OR batch < @before)
            ORDER BY batch DESC
            LIMIT @take
            """,
            new { id, before, take })).ToList();
        var attempts = (await connection.QueryAsync<AttemptRow>(
                """
                SELECT a.batch, a.attempt, a.started_at, a.latency_ms, a.status, a.outcome, a.error, a.failed_records::text AS failed_records
                FROM unnest(@batches::bigint[]) AS k(batch)
                CROSS JOIN LATERAL (SELECT * FROM delivery_attempt a
                                    WHERE a.destination_id = @id AND a.batch = k.batch
                                    ORDER BY a.attempt DESC LIMIT @shown) a
                """,
                new { id, batches = batches.Select(b => b.batch).ToArray(), shown = AttemptsShown }))
            .ToLookup(a => a.batch);

        var waiting = status.enabled && status.state == "active";
        var deliveries = batches.Select(b => new DeliveryView(
            b.batch, b.webhook_id, b.replay, b.first_position is null ? "actions" : "changes", b.change_count,
            b.first_position is { } first ? new FeedCursor(first, b.first_distinct_id!).Encode() : null,
            b.last_position is { } last ? new FeedCursor(last, b.last_distinct_id!).Encode() : null,
            b.state, b.attempts, b.state == "pending" && waiting ? b.next_attempt_at : null, b.formed_at, b.delivered_at,
            [.. attempts[b.batch].Select(a => new AttemptView(a.attempt, a.started_at, a.latency_ms, a.status, a.outcome, a.error,
                a.failed_records is null ? null : JsonDocument.Parse(a.failed_records).RootElement.Clone()))])).ToList();
        var state = status.enabled ? status.state : status.state == "gone" ? "gone" : "disabled";
        return new DeliveriesPage(
            id.ToString(), state, (int)status.pending, Math.Max(0, status.lag_seconds),
            new FeedCursor(status.formed_position, status.formed_distinct_id).Encode(), deliveries,
            batches.Count == take ? Api.Cursor.Encode(batches[^1].batch) : null);
    }
}
