using System.Diagnostics;
using CohortSync.Domain;
using CohortSync.Host.Observability;
using Dapper;
using Npgsql;
using static CohortSync.Domain.SessionAssembly;
using CohortSync.Host.Database;

namespace CohortSync.Host.Webhook;

/// <summary>A page being stored: its staged members' upload, and how many members it holds.</summary>
sealed record StagedUpload(long UploadId, int MemberCount);

/// <summary>
/// The domain's session events carried out in SQL, for one cohort whose row the transaction holds locked.
/// It also tallies what it did, for the metrics to count once the transaction is durable.
/// </summary>
sealed class SessionWrites(
    NpgsqlConnection connection, NpgsqlTransaction tx, long cohortKey, ProjectId project,
    Dictionary<SessionId, long> keys, StagedUpload? upload) : ISessionEffects
{
    public long SessionsSuperseded { get; private set; }
    public long SessionsAbandoned { get; private set; }
    /// <summary>Members staged by the sessions abandoned here (deleted with them).</summary>
    public long AbandonedStagedMembers { get; private set; }
    public (SessionKind Kind, CommitCounts Counts, TimeSpan Duration)? Commit { get; private set; }

    public async Task SessionOpened(SessionId sessionId, SessionKind kind) =>
        keys[sessionId] = await connection.ExecuteScalarAsync<long>(
            $"""
            INSERT INTO sync_session (cohort_key, session_id, kind, state)
            VALUES (@cohortKey, @sessionId, @kind, '{StorageNames.Open}')
            RETURNING session_key
            """,
            new { cohortKey, sessionId = sessionId.Value, kind = kind.ToString() }, tx);

    public async Task SessionSuperseded(SessionId sessionId, SessionId by)
    {
        await connection.ExecuteAsync(
            $"UPDATE sync_session SET state = '{StorageNames.Superseded}', superseded_by = @by WHERE session_key = @session;" + StagedPage.DeleteOfSession,
            new { session = keys[sessionId], by = keys[by] }, tx);
        SessionsSuperseded++;
    }

    public async Task SessionAbandoned(SessionId sessionId)
    {
        // Given up as a newer session would give it up, by none: its late pages are then acknowledged and
        // ignored, and it can never commit with members missing.
        AbandonedStagedMembers += await connection.ExecuteScalarAsync<long>(
            $"""
            UPDATE sync_session SET state = '{StorageNames.Superseded}' WHERE session_key = @session;
            WITH staged AS (
                DELETE FROM staged_page
                WHERE upload_id IN (SELECT upload_id FROM session_page WHERE session_key = @session)
                RETURNING cardinality(distinct_ids) AS members
            )
            SELECT COALESCE(sum(members), 0) FROM staged
            """,
            new { session = keys[sessionId] }, tx, commandTimeout: 0);
        SessionsAbandoned++;
    }

    public Task ActionRestarted(SessionId sessionId, WebhookAction action, int totalPages) =>
        connection.ExecuteAsync(
            """
            DELETE FROM staged_page
            WHERE upload_id IN (SELECT upload_id FROM session_page WHERE session_key = @session AND action = @action);
            DELETE FROM session_page WHERE session_key = @session AND action = @action;
            UPDATE session_action SET total_pages = @total WHERE session_key = @session AND action = @action;
            """,
            new { session = keys[sessionId], action = action.WireName, total = totalPages }, tx);

    public Task PageStored(SessionId sessionId, WebhookAction action, PageInfo pageInfo)
    {
        // Only a page's own decision stores a page, and it comes with the members it staged.
        var staged = upload ?? throw new InvalidOperationException($"page {pageInfo.PageCount} of {sessionId} was stored with no staged members");
        return connection.ExecuteAsync(
            """
            INSERT INTO session_action (session_key, action, total_pages) VALUES (@session, @action, @total)
            ON CONFLICT (session_key, action) DO NOTHING;
            INSERT INTO session_page (session_key, action, page_count, upload_id, member_count)
            VALUES (@session, @action, @pageCount, @uploadId, @memberCount);
            UPDATE sync_session SET last_page_at = now() WHERE session_key = @session;
            """,
            new
            {
                session = keys[sessionId],
                action = action.WireName,
                total = pageInfo.TotalPages,
                pageCount = pageInfo.PageCount,
                uploadId = staged.UploadId,
                memberCount = staged.MemberCount,
            }, tx);
    }

    public Task SessionSealed(SessionId sessionId, SessionKind kind) =>
        connection.ExecuteAsync(
            $"""
            UPDATE sync_session SET state = '{StorageNames.Sealed}', sealed_at = now(), seal_position = nextval('seal_position_seq')
            WHERE session_key = @session
            """,
            new { session = keys[sessionId] }, tx);

    public async Task SessionCommitted(SessionId sessionId, SessionKind kind)
    {
        var started = Stopwatch.GetTimestamp();
        var counts = await CommitSql.RunAsync(connection, tx, cohortKey, keys[sessionId], project, kind);
        Commit = (kind, counts, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// Once the transaction is durable: counts what it did (a rolled-back transaction changed nothing), and
    /// after a large commit brings the planner's statistics up to date.
    /// </summary>
    public async Task FinishAsync(ServiceMetrics metrics, ILogger logger)
    {
        metrics.SessionsFinished(this);
        if (Commit is { Counts: var commit } && await CommitSql.RefreshStatisticsAsync(connection, commit) is { } failure)
            logger.LogWarning("Statistics not refreshed after a commit of {Changes} changes ({Failure}); autovacuum will", commit.Entered + commit.Exited, failure);
    }
}
