using System.Diagnostics;
using CohortSync.Domain;
using CohortSync.Host.Observability;
using Dapper;
using Npgsql;
using static CohortSync.Domain.SessionAssembly;

namespace CohortSync.Host.Webhook;

/// <summary>
/// Stores a page and carries out what the domain decides, in one transaction. The page's members are
/// staged before the cohort is locked, so pages of one session stage in parallel; the decision and
/// its effects run under the cohort's row lock, so two processes never both record or commit a page.
/// </summary>
public sealed class PageStore(NpgsqlDataSource dataSource, ServiceMetrics metrics, ILogger<PageStore> logger)
{
    public async Task<PageDecision> ReceiveAsync(WebhookPage page, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);

        var uploadId = await StagedPage.InsertAsync(connection, tx, page.Members, ct);

        // From here on the request's cancellation is not passed on: once the cohort is locked the work
        // runs to its end, so that a sender who gave up (and will retry) does not throw away a commit.
        var cohortKey = await LockCohortAsync(connection, tx, page);
        var sessions = await SessionRows.LoadAsync(connection, tx, cohortKey, page.SessionId);
        var decision = Decisions.Decide(page, sessions.State);
        if (!decision.Outcome.IsAccepted)
        {
            // Nothing changes: the staged copy goes with the rollback.
            await tx.RollbackAsync(CancellationToken.None);
            return decision;
        }

        var keys = sessions.Keys;
        CommitCounts? commit = null;
        var commitStarted = 0L;
        foreach (var e in decision.Events)
        {
            switch (e)
            {
                case Event.SessionOpened opened:
                    keys[opened.SessionId] = await connection.ExecuteScalarAsync<long>(
                        """
                        INSERT INTO sync_session (cohort_key, session_id, kind, state)
                        VALUES (@cohortKey, @sessionId, @kind, 'open')
                        RETURNING session_key
                        """,
                        new { cohortKey, sessionId = opened.SessionId.Value, kind = opened.Kind.ToString() }, tx);
                    break;
                case Event.SessionSuperseded superseded:
                    await connection.ExecuteAsync(
                        "UPDATE sync_session SET state = 'superseded', superseded_by = @by WHERE session_key = @session;"
                        + StagedPage.DeleteOfSession,
                        new { session = keys[superseded.SessionId], by = keys[superseded.By] }, tx);
                    break;
                case Event.ActionRestarted restarted:
                    await connection.ExecuteAsync(
                        """
                        DELETE FROM staged_page
                        WHERE upload_id IN (SELECT upload_id FROM session_page WHERE session_key = @session AND action = @action);
                        DELETE FROM session_page WHERE session_key = @session AND action = @action;
                        UPDATE session_action SET total_pages = @total WHERE session_key = @session AND action = @action;
                        """,
                        new { session = keys[restarted.SessionId], action = restarted.Action.WireName, total = restarted.TotalPages }, tx);
                    break;
                case Event.PageStored stored:
                    await connection.ExecuteAsync(
                        """
                        INSERT INTO session_action (session_key, action, total_pages) VALUES (@session, @action, @total)
                        ON CONFLICT (session_key, action) DO NOTHING;
                        INSERT INTO session_page (session_key, action, page_count, upload_id, member_count)
                        VALUES (@session, @action, @pageCount, @uploadId, @memberCount);
                        UPDATE sync_session SET last_page_at = now() WHERE session_key = @session;
                        """,
                        new
                        {
                            session = keys[stored.SessionId],
                            action = stored.Action.WireName,
                            total = stored.PageInfo.TotalPages,
                            pageCount = stored.PageInfo.PageCount,
                            uploadId,
                            memberCount = page.Members.Length,
                        }, tx);
                    break;
                case Event.SessionCommitted committed:
                    commitStarted = Stopwatch.GetTimestamp();
                    commit = await CommitSql.RunAsync(connection, tx, cohortKey, keys[committed.SessionId], page.ProjectId, committed.Kind);
                    break;
                default:
                    throw new InvalidOperationException($"unhandled session event {e}");
            }
        }

        await tx.CommitAsync(CancellationToken.None);
        // Counted once durable: a rolled-back page changed nothing.
        metrics.SessionEventsCommitted(decision.Events, commit, commit is null ? TimeSpan.Zero : Stopwatch.GetElapsedTime(commitStarted));
        if (commit is not null && await CommitSql.RefreshStatisticsAsync(connection, commit) is { } failure)
            logger.LogWarning("Statistics not refreshed after a commit of {Changes} changes ({Failure}); autovacuum will", commit.Entered + commit.Exited, failure);
        return decision;
    }

    /// <summary>Creates the cohort if new and locks its row until the transaction ends.</summary>
    static Task<long> LockCohortAsync(NpgsqlConnection connection, NpgsqlTransaction tx, WebhookPage page) =>
        connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO cohort (project_id, cohort_id, name, description)
            VALUES (@projectId, @cohortId, @name, @description)
            ON CONFLICT (project_id, cohort_id) DO UPDATE
            SET name = COALESCE(EXCLUDED.name, cohort.name),
                description = COALESCE(EXCLUDED.description, cohort.description),
                updated_at = now()
            RETURNING cohort_key
            """,
            new
            {
                projectId = page.ProjectId.Value,
                cohortId = page.CohortId.Value,
                name = page.CohortNameOrNull,
                description = page.CohortDescriptionOrNull,
            }, tx);
}
