using System.Text.Json;
using CohortSync.Domain;
using CohortSync.Domain.Targeting;
using CohortSync.Host.Feed;
using CohortSync.Host.Webhook;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace CohortSync.Host.Destinations;

/// <summary>
/// Turns the committed change feed into a destination's batches. Reading the feed, deciding against the
/// ledger, storing the batch and moving the destination's place happen under the destination's row lock,
/// and are stored together: a crash leaves either all of them or none, so a change is never batched twice
/// (a replay excepted) nor skipped, and a batch's id and contents exist before its first attempt.
/// </summary>
public sealed class BatchForming(
    NpgsqlDataSource dataSource, FeedQueries feed, DestinationKinds kinds, PageTraffic pages, IOptions<DestinationOptions> options)
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

    /// <summary>What a step of forming did: how many batches it formed, and whether there may be more to form now.</summary>
    public readonly record struct Step(int Batches, bool More);

    /// <summary>
    /// Forms the destination's next batches, as many as it has room for (up to <see cref="BatchesAtOnce"/>), or
    /// moves past feed changes that are not for it. Not <c>More</c> when it is caught up, has enough batches
    /// waiting, or another host holds it.
    /// </summary>
    public async Task<Step> FormAsync(Guid destinationId, CancellationToken ct)
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
        if (d is null)
            return new Step(0, false);
        var room = (int)Math.Min(pages.Flowing(PagesFlowing) ? BatchesWhilePagesFlow : BatchesAtOnce, options.Value.MaxPendingBatches - d.pending);
        if (room <= 0)
            return new Step(0, false);
        // A mixpanel destination's batches take turns between action reports and changes, so that neither holds up the other.
        var reportsFirst = d.kind == DestinationKind.Mixpanel && d.next_batch % 2 == 0;
        if (reportsFirst && await FormReportsAsync(connection, tx, d, ct))
        {
            await tx.CommitAsync(ct);
            return new Step(1, true);
        }

        var replaying = d.replay_position is not null;
        var from = replaying ? new FeedCursor(d.replay_position!.Value, d.replay_distinct_id!) : new FeedCursor(d.formed_position, d.formed_distinct_id);
        // One cohort is filtered by the feed's query; several are filtered here, from the project's page.
        var filter = new FeedFilter(null, d.project_id, d.cohort_ids is [var only] ? only : null, null);
        var take = room * d.batch_size;
        var read = await feed.EventsAsync(filter, from, take, ct);
        await pages.GiveWayAsync(DeliveryWorker.GiveWay, ct);
        var next = FeedEndpoints.NextCursor(read, from, take);
        var events = read.Events.Select(e => (Event: e, Position: e.Position())).ToList();
        var replayEnd = replaying ? new FeedPosition(d.replay_end_position!.Value, d.replay_end_distinct_id!) : null;
        var replayDone = false;
        if (replayEnd is not null)
        {
            events.RemoveAll(e => Compare(e.Position, replayEnd) > 0);
            replayDone = Compare(new FeedPosition(next.CommitPosition, next.DistinctId), replayEnd) >= 0;
        }
        var cohorts = d.cohort_ids?.ToHashSet(StringComparer.Ordinal);
        var changes = events
            .Where(e => cohorts is null || cohorts.Contains(e.Event.CohortId))
            .Select(e => new Change(e.Position, e.Event.CohortId, e.Event.DistinctId,
                e.Event.Kind == Entered ? TransitionKind.Entered : TransitionKind.Exited, e.Event.RecordedAt))
            .ToList();

        var byPosition = events.ToDictionary(e => e.Position, e => e.Event);
        var policy = new Policy(d.kinds.Contains("entered"), d.kinds.Contains("exited"), TimeSpan.FromSeconds(d.reentry_cooldown_seconds ?? 0));
        // The changes of the kinds the destination wants: a replay sends them all; otherwise the ledger decides.
        var wanted = changes.Where(c => c.Kind == TransitionKind.Entered ? policy.SendsEntered : policy.SendsExited).ToList();
        // The bodies' cohort names and profiles are looked up on a connection of their own, while the ledger is read
        // and written: for every wanted change, also those the ledger will hold back (few: a stay already targeted,
        // a return within the cooldown), rather than wait for the plan.
        var sourcing = wanted.Count == 0 ? Task.FromResult<BatchSource?>(null) : SourceAsync(d, [.. wanted.Select(c => byPosition[c.Position])], ct);
        var kind = kinds.For(d.kind);
        LedgerStore.Read ledger;
        Plan plan;
        Task? writing = null;
        using var batches = new FormedBatches();
        var formed = 0;
        try
        {
            ledger = replaying ? LedgerStore.Read.Nothing : await LedgerStore.ReadAsync(connection, tx, d.destination_id, changes);
            plan = replaying ? new Plan([.. wanted], []) : Ledger.Plan(policy, ledger.Stays, changes);
            // The ledger's writes need only the plan. Where every body holds all the changes it is given, the plan
            // stands whatever the bodies are, and the stays are written while the profiles are read and the bodies
            // written, rather than after them: on forming's path, which every batch waits on.
            if (!replaying && kind.BodiesHoldEveryChange)
                writing = LedgerStore.WriteAsync(connection, tx, d.destination_id, plan.Ledger, ledger, ct);
            var source = await sourcing;
            while (formed < plan.Send.Length && batches.Count < room)
            {
                var these = plan.Send.Skip(formed).Take(d.batch_size).Select(c => byPosition[c.Position]).ToList();
                var (body, count) = kind.ChangesBody(source!, these, replaying);
                batches.Add(new FormedBatch(these.GetRange(0, count), body));
                formed += count;
            }
            if (writing is not null)
                await writing;
        }
        catch
        {
            // The connection is disposed on the way out: not while the write is still using it.
            try
            {
                await Task.WhenAll(sourcing, writing ?? Task.CompletedTask);
            }
            catch
            {
                // What failed first is what is thrown.
            }
            throw;
        }

        var cutShort = false;
        if (batches.Count > 0)
        {
            await pages.GiveWayAsync(DeliveryWorker.GiveWay, ct);
            if (formed < plan.Send.Length)
            {
                if (writing is not null)
                    throw new InvalidOperationException($"a {d.kind} body held fewer changes than it was given, after the ledger was written");
                // A request could not hold a whole batch, so there was no room for the rest: forming ends at the
                // last change batched, and goes on from there next time.
                var cut = plan.Send[formed - 1].Position;
                var kept = changes.Where(c => Compare(c.Position, cut) <= 0).ToList();
                plan = replaying ? new Plan([.. plan.Send.Take(formed)], []) : Ledger.Plan(policy, ledger.Stays, kept);
                next = new FeedCursor(cut.CommitPosition, cut.DistinctId);
                replayDone = replayEnd is not null && Compare(cut, replayEnd) >= 0;
                cutShort = true;
            }
            await InsertBatchesAsync(connection, d, batches, replaying, ct);
            await pages.GiveWayAsync(DeliveryWorker.GiveWay, ct);
        }
        if (writing is null && !replaying)
            await LedgerStore.WriteAsync(connection, tx, d.destination_id, plan.Ledger, ledger, ct);

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
                id = d.destination_id, nextBatch = d.next_batch + batches.Count, replayDone,
                position = next.CommitPosition, distinctId = next.DistinctId,
            }, tx);
        var reportsToo = d.kind == DestinationKind.Mixpanel && !reportsFirst && batches.Count == 0 && await FormReportsAsync(connection, tx, d, ct);
        await tx.CommitAsync(ct);
        return new Step(batches.Count + (reportsToo ? 1 : 0), replayDone || cutShort || reportsToo || read.Events.Count == take);
    }

    /// <summary>Changes are formed this many batches at a time: one feed read, ledger read and write, and profile lookup for them all.</summary>
    const int BatchesAtOnce = 10;

    /// <summary>
    /// While the webhook's pages come one after another (one under way, or answered within <see cref="PagesFlowing"/>),
    /// two at a time: each stage of a step is then short beside a page. One at a time did no better for pages
    /// and cost a quarter of delivery's speed (docs/performance.md).
    /// </summary>
    const int BatchesWhilePagesFlow = 2;

    static readonly TimeSpan PagesFlowing = TimeSpan.FromMilliseconds(250);

    sealed record FormedBatch(IReadOnlyList<FeedEvent> Changes, BodyBuffer Body);

    /// <summary>A step's batches, whose bodies go back to the pool once they are stored (or the step failed).</summary>
    sealed class FormedBatches : List<FormedBatch>, IDisposable
    {
        public void Dispose()
        {
            foreach (var b in this)
                b.Body.Dispose();
        }
    }

    static int Compare(FeedPosition a, FeedPosition b) => ((IComparable)a).CompareTo(b);

    /// <summary>What the bodies of these changes are written from: their cohorts' names and (for a webhook) their users' profiles.</summary>
    async Task<BatchSource?> SourceAsync(DestinationRow d, IReadOnlyList<FeedEvent> send, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var cohortIds = send.Select(e => e.CohortId).Distinct().ToArray();
        var names = (await connection.QueryAsync<CohortRow>(
                "SELECT cohort_id, name FROM cohort WHERE project_id = @project AND cohort_id = ANY(@cohortIds)",
                new { project = d.project_id, cohortIds }))
            .ToDictionary(r => r.cohort_id, r => r.name, StringComparer.Ordinal);
        // Only a webhook is sent profiles. One index probe per user: right after a large commit the statistics
        // lag behind the table, and the planner chose to scan every profile of every project instead.
        var profiles = d.kind != DestinationKind.Webhook
            ? new Dictionary<string, DeliveredProfile>()
            : (await connection.QueryAsync<ProfileRow>(
                    """
                    SELECT p.distinct_id, p.email, p.first_name, p.last_name, p.phone_number, p.properties::text AS properties, p.updated_at
                    FROM unnest(@userIds::text[]) AS u(distinct_id)
                    CROSS JOIN LATERAL (
                        SELECT * FROM user_profile p WHERE p.project_id = @project AND p.distinct_id = u.distinct_id LIMIT 1) p
                    """,
                    new { project = d.project_id, userIds = send.Select(e => e.DistinctId).Distinct().ToArray() }))
                .ToDictionary(r => r.distinct_id, r => new DeliveredProfile(
                    r.email, r.first_name, r.last_name, r.phone_number, new StoredJson(r.properties), r.updated_at), StringComparer.Ordinal);
        return new BatchSource(d.destination_id, d.project_id, names, profiles,
            d.event_names is null ? null : JsonSerializer.Deserialize<MixpanelEventNames>(d.event_names, JsonSerializerOptions.Web), d.event_properties);
    }

    /// <summary>The batches, numbered on from the destination's next, copied in: ten bodies are three megabytes.</summary>
    static async Task InsertBatchesAsync(NpgsqlConnection connection, DestinationRow d, IReadOnlyList<FormedBatch> batches, bool replay, CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            """
            COPY delivery_batch (destination_id, batch, webhook_id, body, change_count, first_position, first_distinct_id,
                                 last_position, last_distinct_id, oldest_change_at, replay) FROM STDIN (FORMAT BINARY)
            """, ct);
        var number = d.next_batch;
        foreach (var b in batches)
        {
            var (first, last) = (b.Changes[0].Position(), b.Changes[^1].Position());
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(d.destination_id, NpgsqlDbType.Uuid, ct);
            await copy.WriteAsync(number++, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync($"msg_{Guid.NewGuid():N}", NpgsqlDbType.Text, ct);
            await copy.WriteAsync(b.Body.Memory, NpgsqlDbType.Bytea, ct);
            await copy.WriteAsync(b.Changes.Count, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(first.CommitPosition, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(first.DistinctId, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(last.CommitPosition, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(last.DistinctId, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(DateTime.SpecifyKind(b.Changes.Min(e => e.RecordedAt), DateTimeKind.Utc), NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(replay, NpgsqlDbType.Boolean, ct);
        }
        await copy.CompleteAsync(ct);
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
