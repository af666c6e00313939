using CohortSync.Domain;
using CohortSync.Host.Observability;
using CohortSync.Host.Webhook;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CohortSync.Host.Retention;

/// <summary>What one retention pass did. <c>StagedMembers</c> are those of the sessions it abandoned.</summary>
public sealed record RetentionReport(
    long AbandonedSessions, long StagedMembers, long UnclaimedStagedMembers, long Transitions, long Sessions, long Rejections,
    long ActionReports = 0)
{
    public long Total => AbandonedSessions + StagedMembers + UnclaimedStagedMembers + Transitions + Sessions + Rejections + ActionReports;
}

/// <summary>
/// One retention pass over the database (see <see cref="RetentionSql"/> for what goes). Only one
/// process runs a pass at a time, whatever the number of hosts on the database; the others skip theirs.
/// </summary>
public sealed class RetentionPass(
    NpgsqlDataSource dataSource, IOptions<RetentionOptions> options, ServiceMetrics metrics,
    ILogger<RetentionPass> logger)
{
    // Any constant other than the migrations' (Migrations.AdvisoryLockKey).
    internal const long AdvisoryLockKey = 0x436f686f72745265;

    /// <summary>Runs one pass now; null when another process is running one.</summary>
    public async Task<RetentionReport?> RunAsync(CancellationToken ct)
    {
        // A transaction's lock: it ends with the transaction, or with the connection if this process dies,
        // and so never stays behind in a pooled connection. The pass works on connections of its own.
        await using var guard = await dataSource.OpenConnectionAsync(ct);
        await using var hold = await guard.BeginTransactionAsync(ct);
        if (!await guard.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_xact_lock(@key)", new { key = AdvisoryLockKey }, hold))
        {
            metrics.RetentionPass("skipped");
            return null;
        }

        try
        {
            var report = await DeleteAsync(options.Value, ct);
            metrics.RetentionPass("completed");
            metrics.RetentionDeleted("staged_member", report.StagedMembers + report.UnclaimedStagedMembers);
            metrics.RetentionDeleted("transition", report.Transitions);
            metrics.RetentionDeleted("session", report.Sessions);
            metrics.RetentionDeleted("rejection", report.Rejections);
            metrics.RetentionDeleted("action_report", report.ActionReports);
            logger.Log(report.Total > 0 ? LogLevel.Information : LogLevel.Debug,
                "Retention: {AbandonedSessions} sessions abandoned with {StagedMembers} staged members; deleted "
                + "{UnclaimedStagedMembers} unclaimed staged members, {Transitions} transitions, {Sessions} sessions, {Rejections} rejections, "
                + "{ActionReports} action reports",
                report.AbandonedSessions, report.StagedMembers, report.UnclaimedStagedMembers, report.Transitions, report.Sessions, report.Rejections,
                report.ActionReports);
            return report;
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            metrics.RetentionPass("failed");
            throw;
        }
        finally
        {
            try
            {
                await hold.RollbackAsync(CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                // The connection is gone, and the lock with it.
            }
        }
    }

    async Task<RetentionReport> DeleteAsync(RetentionOptions o, CancellationToken ct)
    {
        var (abandoned, staged) = await AbandonSessionsAsync(TimeSpan.FromHours(o.OpenSessionGraceHours), o.BatchSize, ct);
        var unclaimed = await RepeatCountingAsync(RetentionSql.UnclaimedStagedPages,
            new { batch = o.BatchSize, grace = TimeSpan.FromMinutes(o.UploadGraceMinutes) }, o.BatchSize, ct);
        // Transitions before sessions: a session goes only once none of its transitions is kept.
        var transitions = await RepeatCountingAsync(RetentionSql.OldTransitions,
            new { batch = o.BatchSize, age = TimeSpan.FromDays(o.TransitionDays) }, o.BatchSize, ct);
        var sessions = await RepeatAsync(RetentionSql.OldSessions,
            new { batch = o.BatchSize, age = TimeSpan.FromDays(o.SessionDays) }, o.BatchSize, ct);
        var rejections = await RepeatAsync(RetentionSql.OldRejections,
            new { batch = o.BatchSize, age = TimeSpan.FromDays(o.RejectionDays) }, o.BatchSize, ct);
        var actionReports = await RepeatAsync(RetentionSql.OldActionReports,
            new { batch = o.BatchSize, age = TimeSpan.FromDays(o.ActionReportDays) }, o.BatchSize, ct);
        return new RetentionReport(abandoned, staged, unclaimed, transitions, sessions, rejections, actionReports);
    }

    /// <returns>The sessions abandoned, and their staged members (deleted with them).</returns>
    /// <remarks>The domain decides which of a cohort's stale sessions are still open and so given up; its
    /// events are carried out as a page's are, under the cohort's row lock.</remarks>
    async Task<(long Sessions, long StagedMembers)> AbandonSessionsAsync(TimeSpan grace, int batch, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var cohorts = (await connection.QueryAsync<long>(RetentionSql.CohortsWithAbandonedSessions, new { grace, batch })).ToList();
        long sessions = 0, staged = 0;
        foreach (var cohort in cohorts)
        {
            ct.ThrowIfCancellationRequested();
            await using var tx = await connection.BeginTransactionAsync(ct);
            var project = await connection.QuerySingleOrDefaultAsync<string?>(RetentionSql.LockCohort, new { cohort }, tx);
            if (project is null)
                continue;
            var stale = await connection.QueryAsync<string>(RetentionSql.StaleOpenSessions, new { cohort, grace }, tx);
            var rows = await SessionRows.LoadAsync(connection, tx, cohort, sessionId: null);
            var events = SessionAssembly.Decisions.Abandon(stale.Select(SessionId.Of), rows.State);
            var writes = new SessionWrites(connection, tx, cohort, ProjectId.Of(project), rows.Keys, upload: null);
            await SessionAssembly.Effects.PerformAsync(writes, events);
            await tx.CommitAsync(ct);
            await writes.FinishAsync(metrics, logger);
            sessions += writes.SessionsAbandoned;
            staged += writes.AbandonedStagedMembers;
        }
        return (sessions, staged);
    }

    sealed record Deleted(long rows, long items);

    /// <summary>For a table whose rows each hold many items (staged pages, transition chunks): the statement
    /// returns <see cref="Deleted"/>; the batch is in rows, the count in items.</summary>
    Task<long> RepeatCountingAsync(string sql, object args, int batch, CancellationToken ct) =>
        RepeatAsync(connection => connection.QuerySingleAsync<Deleted>(sql, args), batch, ct);

    /// <summary>For a table of one item a row: the rows the statement deleted.</summary>
    Task<long> RepeatAsync(string sql, object args, int batch, CancellationToken ct) =>
        RepeatAsync(async connection =>
        {
            var rows = await connection.ExecuteAsync(sql, args);
            return new Deleted(rows, rows);
        }, batch, ct);

    /// <summary>Runs a batch statement until it deletes less than a whole batch; each run is its own transaction.</summary>
    async Task<long> RepeatAsync(Func<NpgsqlConnection, Task<Deleted>> deleteBatch, int batch, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            var deleted = await deleteBatch(connection);
            total += deleted.items;
            if (deleted.rows < batch)
                return total;
        }
    }
}
