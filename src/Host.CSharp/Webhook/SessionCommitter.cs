using CohortSync.Domain;
using CohortSync.Host.Database;
using CohortSync.Host.Observability;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using static CohortSync.Domain.SessionAssembly;

namespace CohortSync.Host.Webhook;

/// <summary>
/// Applies sealed sessions in the background: per cohort in the order they were sealed, on whichever host
/// takes the cohort's <see cref="CommitLock"/> first, and after any crash (a sealed session stays sealed
/// until a commit of it is durable). A page that seals a session tells it at once; it also looks every
/// <see cref="CommitOptions.PollSeconds"/>, for what a stopped host left behind.
/// </summary>
public sealed class SessionCommitter(
    NpgsqlDataSource dataSource, IOptions<CommitOptions> options, ServiceMetrics metrics, ILogger<SessionCommitter> logger)
    : BackgroundService
{
    readonly WakeUp wake = new();

    static readonly string CohortsWithSealedSessions = $"""
        SELECT cohort_key FROM sync_session WHERE state = '{StorageNames.Sealed}'
        GROUP BY cohort_key ORDER BY min(seal_position)
        """;

    static readonly string HasSealedSession =
        $"SELECT EXISTS (SELECT 1 FROM sync_session WHERE cohort_key = @cohort AND state = '{StorageNames.Sealed}')";

    /// <summary>A session was sealed and not committed: look now rather than at the next poll.</summary>
    public void Notify() => wake.Set();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.CommitterEnabled)
        {
            logger.LogInformation("The committer is off (Commit:CommitterEnabled): sealed sessions are committed by other hosts");
            return;
        }

        var poll = TimeSpan.FromSeconds(options.Value.PollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CommitAllAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // What was not committed stays sealed, and is tried again at the next look.
                logger.Log(DatabaseFaults.IsTransient(e) ? LogLevel.Warning : LogLevel.Error, e,
                    "Committing sealed sessions failed; trying again in {Seconds} s", options.Value.PollSeconds);
            }

            try
            {
                await wake.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Commits every sealed session there is now, cohort by cohort, oldest seal first.</summary>
    public async Task CommitAllAsync(CancellationToken ct)
    {
        List<long> cohorts;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
            cohorts = [.. await connection.QueryAsync<long>(CohortsWithSealedSessions)];
        foreach (var cohort in cohorts)
            while (await CommitNextAsync(cohort, ct))
            {
            }
    }

    /// <returns>True when a session was committed (there may be another).</returns>
    async Task<bool> CommitNextAsync(long cohort, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // The lock is taken only when there is something to commit: a page that seals a small session
        // commits it itself if it gets the lock, and must not find it held by a look that finds nothing.
        if (!await connection.ExecuteScalarAsync<bool>(HasSealedSession, new { cohort }))
            return false;
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (!await CommitLock.TryTakeAsync(connection, tx, cohort))
            return false;

        var sessions = await SessionRows.LoadAsync(connection, tx, cohort, sessionId: null);
        var events = Decisions.CommitNext(sessions.State);
        if (events.Length == 0)
            return false;

        var project = await connection.ExecuteScalarAsync<string>("SELECT project_id FROM cohort WHERE cohort_key = @cohort", new { cohort }, tx);
        var writes = new SessionWrites(connection, tx, cohort, ProjectId.Of(project!), sessions.Keys, upload: null);
        // Once it runs, a commit runs to its end: stopping the service must not throw away a large commit's work.
        await Effects.PerformAsync(writes, events);
        await tx.CommitAsync(CancellationToken.None);
        await writes.FinishAsync(metrics, logger);
        return true;
    }
}
