using System.Text.Json;
using CohortSync.Domain;
using CohortSync.Domain.Targeting;
using CohortSync.Host.Feed;
using CohortSync.Host.UserProfiles;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CohortSync.Host.Destinations;

/// <summary>
/// Turns the committed change feed into a destination's batches. Reading the feed, deciding against the
/// ledger, storing the batch and moving the destination's place happen under the destination's row lock,
/// and are stored together: a crash leaves either all of them or none, so a change is never batched twice
/// (a replay excepted) nor skipped, and a batch's id and contents exist before its first attempt.
/// </summary>
public sealed class BatchForming(NpgsqlDataSource dataSource, FeedQueries feed, DestinationKinds kinds, IOptions<DestinationOptions> options)
{
    // A class, not a positional record: Dapper matches constructors by exact type, and reads text[] as Array.
    sealed class DestinationRow
    {
        public Guid destination_id { get; init; }
        public string kind { get; init; } = "";
        public string project_id { get; init; } = "";
        public string? event_names { get; init; }
        public string? event_properties { get; init; }
        public long reports_formed_position { get; init; }
        public string[]? cohort_ids { get; init; }
        public string[] kinds { get; init; } = [];
        public int batch_size { get; init; }
        public int? reentry_cooldown_seconds { get; init; }
        public long formed_position { get; init; }
        public string formed_distinct_id { get; init; } = "";
        public long? replay_position { get; init; }
        public string? replay_distinct_id { get; init; }
        public long? replay_end_position { get; init; }
        public string? replay_end_distinct_id { get; init; }
        public long next_batch { get; init; }
        public long pending { get; init; }
    }

    sealed record LedgerRow(
        string cohort_id, string distinct_id, bool in_cohort, bool targeted, DateTime? exited_at, long last_position, string last_distinct_id);

    sealed record CohortRow(string cohort_id, string? name);

    sealed record ProfileRow(
        string distinct_id, string? email, string? first_name, string? last_name, string? phone_number, string properties, DateTime updated_at);

    static readonly string Entered = TransitionKind.Entered.ToString();

    /// <summary>Destinations that may have changes to batch (behind the feed's head, or replaying), or action reports.</summary>
    public async Task<IReadOnlyList<Guid>> BehindAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return [.. await connection.QueryAsync<Guid>(
            """
            SELECT destination_id FROM destination d
            WHERE enabled AND state = 'active'
              AND (replay_position IS NOT NULL OR formed_position <= (SELECT max(commit_position) FROM sync_session)
                   OR (kind = 'mixpanel' AND reports_formed_position < (SELECT max(r.position) FROM action_report r WHERE r.project_id = d.project_id)))
            """)];
    }

    /// <summary>
    /// Forms the destination's next batch, or moves past feed changes that are not for it. True when there may
    /// be more to form now; false when it is caught up, has enough batches waiting, or another host holds it.
    /// </summary>
    public async Task<bool> FormAsync(Guid destinationId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var d = await connection.QuerySingleOrDefaultAsync<DestinationRow>(
            """
            SELECT d.destination_id, d.kind, d.project_id, d.event_names::text AS event_names, d.event_properties::text AS event_properties,
                   d.reports_formed_position, d.cohort_ids, d.kinds, d.batch_size, d.reentry_cooldown_seconds,
                   d.formed_position, d.formed_distinct_id, d.replay_position, d.replay_distinct_id,
                   d.replay_end_position, d.replay_end_distinct_id, d.next_batch,
                   (SELECT count(*) FROM delivery_batch b WHERE b.destination_id = d.destination_id AND b.state = 'pending') AS pending
            FROM destination d
            WHERE d.destination_id = @destinationId AND d.enabled AND d.state = 'active'
            FOR UPDATE OF d SKIP LOCKED
            """,
            new { destinationId }, tx);
        if (d is null || d.pending >= options.Value.MaxPendingBatches)
            return false;
        // A mixpanel destination's batches take turns between action reports and changes, so that neither holds up the other.
        var reportsFirst = d.kind == DestinationKind.Mixpanel && d.next_batch % 2 == 0;
        if (reportsFirst && await FormReportsAsync(connection, tx, d, ct))
        {
            await tx.CommitAsync(ct);
            return true;
        }

        var replaying = d.replay_position is not null;
        var from = replaying ? new FeedCursor(d.replay_position!.Value, d.replay_distinct_id!) : new FeedCursor(d.formed_position, d.formed_distinct_id);
        // One cohort is filtered by the feed's query; several are filtered here, from the project's page.
        var filter = new FeedFilter(null, d.project_id, d.cohort_ids is [var only] ? only : null, null);
        var read = await feed.EventsAsync(filter, from, d.batch_size, ct);
        var next = FeedEndpoints.NextCursor(read, from, d.batch_size);
        var events = read.Events.Select(e => (Event: e, Position: Position(e))).ToList();
        var replayDone = false;
        if (replaying)
        {
            var end = new FeedPosition(d.replay_end_position!.Value, d.replay_end_distinct_id!);
            events.RemoveAll(e => Compare(e.Position, end) > 0);
            if (Compare(new FeedPosition(next.CommitPosition, next.DistinctId), end) >= 0)
                replayDone = true;
        }
        var cohorts = d.cohort_ids?.ToHashSet(StringComparer.Ordinal);
        var changes = events
            .Where(e => cohorts is null || cohorts.Contains(e.Event.CohortId))
            .Select(e => new Change(e.Position, e.Event.CohortId, e.Event.DistinctId,
                e.Event.Kind == Entered ? TransitionKind.Entered : TransitionKind.Exited, e.Event.RecordedAt))
            .ToList();

        var byPosition = events.ToDictionary(e => e.Position, e => e.Event);
        var policy = new Policy(d.kinds.Contains("entered"), d.kinds.Contains("exited"), TimeSpan.FromSeconds(d.reentry_cooldown_seconds ?? 0));
        LedgerEntry[] ledger = replaying ? [] : await LedgerAsync(connection, tx, d.destination_id, changes);
        var plan = replaying
            ? new Plan([.. changes.Where(c => d.kinds.Contains(c.Kind.ToString()))], [])
            : Ledger.Plan(policy, ledger, changes);

        var cutShort = false;
        if (plan.Send.Length > 0)
        {
            var (body, count) = await BodyAsync(connection, tx, d, [.. plan.Send.Select(c => byPosition[c.Position])], replaying);
            if (count < plan.Send.Length)
            {
                // One request cannot hold them all: the batch ends at its last change, and forming goes on from there.
                var cut = plan.Send[count - 1].Position;
                var kept = changes.Where(c => Compare(c.Position, cut) <= 0).ToList();
                plan = replaying ? new Plan([.. plan.Send.Take(count)], []) : Ledger.Plan(policy, ledger, kept);
                next = new FeedCursor(cut.CommitPosition, cut.DistinctId);
                replayDone = replaying && Compare(cut, new FeedPosition(d.replay_end_position!.Value, d.replay_end_distinct_id!)) >= 0;
                cutShort = true;
            }
            await InsertBatchAsync(connection, tx, d, [.. plan.Send.Select(c => byPosition[c.Position])], body, replaying);
        }
        if (!replaying)
            await StoreLedgerAsync(connection, tx, d.destination_id, plan.Ledger);
        var send = plan.Send;

        await connection.ExecuteAsync(
            replaying
                ? """
                  UPDATE destination SET next_batch = @nextBatch,
                      replay_position = CASE WHEN @replayDone THEN NULL ELSE @position END,
                      replay_distinct_id = CASE WHEN @replayDone THEN NULL ELSE @distinctId END,
                      replay_end_position = CASE WHEN @replayDone THEN NULL ELSE replay_end_position END,
                      replay_end_distinct_id = CASE WHEN @replayDone THEN NULL ELSE replay_end_distinct_id END
                  WHERE destination_id = @id
                  """
                : "UPDATE destination SET next_batch = @nextBatch, formed_position = @position, formed_distinct_id = @distinctId WHERE destination_id = @id",
            new
            {
                id = d.destination_id, nextBatch = d.next_batch + (send.Length > 0 ? 1 : 0), replayDone,
                position = next.CommitPosition, distinctId = next.DistinctId,
            }, tx);
        var reportsToo = d.kind == DestinationKind.Mixpanel && !reportsFirst && send.Length == 0 && await FormReportsAsync(connection, tx, d, ct);
        await tx.CommitAsync(ct);
        return replayDone || cutShort || reportsToo || read.Events.Count == d.batch_size;
    }

    static FeedPosition Position(FeedEvent e) =>
        FeedCursor.TryDecode(e.Cursor, out var c) ? new FeedPosition(c.CommitPosition, c.DistinctId)
        : throw new InvalidOperationException("the feed issued a cursor it cannot read");

    static int Compare(FeedPosition a, FeedPosition b) => ((IComparable)a).CompareTo(b);

    static async Task<LedgerEntry[]> LedgerAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid id, IReadOnlyList<Change> changes)
    {
        if (changes.Count == 0)
            return [];
        var rows = await connection.QueryAsync<LedgerRow>(
            """
            SELECT l.cohort_id, l.distinct_id, l.in_cohort, l.targeted, l.exited_at, l.last_position, l.last_distinct_id
            FROM unnest(@cohorts::text[], @users::text[]) AS k(cohort_id, distinct_id)
            JOIN destination_ledger l ON l.destination_id = @id AND l.cohort_id = k.cohort_id AND l.distinct_id = k.distinct_id
            """,
            new { id, cohorts = changes.Select(c => c.CohortId).ToArray(), users = changes.Select(c => c.DistinctId).ToArray() }, tx);
        return [.. rows.Select(r => new LedgerEntry(r.cohort_id, r.distinct_id, new Stay(
            r.in_cohort, r.targeted, r.exited_at ?? DateTime.MinValue, r.exited_at is not null,
            new FeedPosition(r.last_position, r.last_distinct_id))))];
    }

    static async Task StoreLedgerAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid id, IReadOnlyList<LedgerEntry> rows)
    {
        if (rows.Count == 0)
            return;
        await connection.ExecuteAsync(
            """
            INSERT INTO destination_ledger (destination_id, cohort_id, distinct_id, in_cohort, targeted, exited_at, last_position, last_distinct_id)
            SELECT @id, u.cohort_id, u.distinct_id, u.in_cohort, u.targeted, CASE WHEN u.has_exited THEN u.exited_at END, u.last_position, u.last_distinct_id
            FROM unnest(@cohorts::text[], @users::text[], @ins::boolean[], @targeted::boolean[], @hasExited::boolean[],
                        @exitedAt::timestamptz[], @positions::bigint[], @lastIds::text[])
                 AS u(cohort_id, distinct_id, in_cohort, targeted, has_exited, exited_at, last_position, last_distinct_id)
            ON CONFLICT (destination_id, cohort_id, distinct_id) DO UPDATE
            SET in_cohort = EXCLUDED.in_cohort, targeted = EXCLUDED.targeted, exited_at = EXCLUDED.exited_at,
                last_position = EXCLUDED.last_position, last_distinct_id = EXCLUDED.last_distinct_id
            """,
            new
            {
                id,
                cohorts = rows.Select(r => r.CohortId).ToArray(),
                users = rows.Select(r => r.DistinctId).ToArray(),
                ins = rows.Select(r => r.Stay.InCohort).ToArray(),
                targeted = rows.Select(r => r.Stay.Targeted).ToArray(),
                hasExited = rows.Select(r => r.Stay.HasExited).ToArray(),
                exitedAt = rows.Select(r => DateTime.SpecifyKind(r.Stay.HasExited ? r.Stay.ExitedAt : DateTime.UnixEpoch, DateTimeKind.Utc)).ToArray(),
                positions = rows.Select(r => r.Stay.Last.CommitPosition).ToArray(),
                lastIds = rows.Select(r => r.Stay.Last.DistinctId).ToArray(),
            }, tx);
    }

    /// <summary>The batch's body as the destination's kind writes it, and how many of the changes it holds.</summary>
    async Task<(string Body, int Count)> BodyAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, DestinationRow d, IReadOnlyList<FeedEvent> send, bool replay)
    {
        var cohortIds = send.Select(e => e.CohortId).Distinct().ToArray();
        var names = (await connection.QueryAsync<CohortRow>(
                "SELECT cohort_id, name FROM cohort WHERE project_id = @project AND cohort_id = ANY(@cohortIds)",
                new { project = d.project_id, cohortIds }, tx))
            .ToDictionary(r => r.cohort_id, r => r.name, StringComparer.Ordinal);
        // Only a webhook is sent profiles.
        var profiles = d.kind != DestinationKind.Webhook
            ? new Dictionary<string, ProfileView>()
            : (await connection.QueryAsync<ProfileRow>(
                    """
                    SELECT distinct_id, email, first_name, last_name, phone_number, properties::text AS properties, updated_at
                    FROM user_profile WHERE project_id = @project AND distinct_id = ANY(@userIds)
                    """,
                    new { project = d.project_id, userIds = send.Select(e => e.DistinctId).Distinct().ToArray() }, tx))
                .ToDictionary(r => r.distinct_id, r => ProfileView.From(new ProfileView.Row(
                    r.email, r.first_name, r.last_name, r.phone_number, r.properties, r.updated_at)), StringComparer.Ordinal);
        var source = new BatchSource(d.destination_id, d.project_id, names, profiles,
            d.event_names is null ? null : JsonSerializer.Deserialize<MixpanelEventNames>(d.event_names, JsonSerializerOptions.Web), d.event_properties);
        return kinds.For(d.kind).ChangesBody(source, send, replay);
    }

    static async Task InsertBatchAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, DestinationRow d, IReadOnlyList<FeedEvent> send, string body, bool replay)
    {
        var first = Position(send[0]);
        var last = Position(send[^1]);
        await connection.ExecuteAsync(
            """
            INSERT INTO delivery_batch (destination_id, batch, webhook_id, body, change_count, first_position, first_distinct_id,
                                        last_position, last_distinct_id, oldest_change_at, replay)
            VALUES (@id, @batch, @webhookId, @body, @count, @firstPosition, @firstId, @lastPosition, @lastId, @oldest, @replay)
            """,
            new
            {
                id = d.destination_id, batch = d.next_batch, webhookId = $"msg_{Guid.NewGuid():N}", body, count = send.Count,
                firstPosition = first.CommitPosition, firstId = first.DistinctId, lastPosition = last.CommitPosition, lastId = last.DistinctId,
                oldest = send.Min(e => e.RecordedAt), replay,
            }, tx);
    }

    /// <summary>
    /// Forms a batch of the project's action reports the destination has not had yet; false when there are none.
    /// Reports are forwarded as they are: the targeted-once ledger is for changes.
    /// </summary>
    async Task<bool> FormReportsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, DestinationRow d, CancellationToken ct)
    {
        var reports = (await connection.QueryAsync<ActionReport>(
            """
            SELECT project_id AS ProjectId, report_id AS ReportId, distinct_id AS DistinctId, event AS Event, occurred_at AS OccurredAt,
                   properties::text AS PropertiesJson, position AS Position, received_at AS ReceivedAt
            FROM action_report
            WHERE project_id = @project AND position > @after
            ORDER BY position
            LIMIT @take
            """,
            new { project = d.project_id, after = d.reports_formed_position, take = d.batch_size }, tx)).ToList();
        if (reports.Count == 0)
            return false;
        var (body, count) = MixpanelEvents.Body([.. reports.Select(MixpanelEvents.ForReport)]);
        var sent = reports.Take(count).ToList();
        await connection.ExecuteAsync(
            """
            INSERT INTO delivery_batch (destination_id, batch, webhook_id, body, change_count, first_report, last_report, oldest_change_at, replay)
            VALUES (@id, @batch, @webhookId, @body, @count, @first, @last, @oldest, false);
            UPDATE destination SET next_batch = @batch + 1, reports_formed_position = @last WHERE destination_id = @id;
            """,
            new
            {
                id = d.destination_id, batch = d.next_batch, webhookId = $"msg_{Guid.NewGuid():N}", body, count,
                first = sent[0].Position, last = sent[^1].Position, oldest = sent.Min(r => r.ReceivedAt),
            }, tx);
        return true;
    }
}
