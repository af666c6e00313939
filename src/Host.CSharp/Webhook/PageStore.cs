using CohortSync.Domain;
using CohortSync.Host.Observability;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using static CohortSync.Domain.SessionAssembly;

namespace CohortSync.Host.Webhook;

/// <summary>
/// Stores a page and carries out what the domain decides, in one transaction. The page's members are
/// staged before the cohort is locked, so pages of one session stage in parallel; the decision and
/// its effects run under the cohort's row lock, so two processes never both record a page. A page
/// that seals a small session commits it too (see <see cref="CommitOptions.InlineMaxMembers"/>);
/// any other sealed session is the <see cref="SessionCommitter"/>'s.
/// </summary>
public sealed class PageStore(
    NpgsqlDataSource dataSource, SessionCommitter committer, IOptions<CommitOptions> options, ServiceMetrics metrics, ILogger<PageStore> logger)
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

        var writes = new SessionWrites(connection, tx, cohortKey, page.ProjectId, sessions.Keys, new StagedUpload(uploadId, page.Members.Length));
        await Effects.PerformAsync(writes, decision.Events);
        var commitNow = Decisions.CommitSealedNow(decision, sessions.State);
        var committedHere = commitNow.Length > 0
                            && await CommitSql.StagedMembersAsync(connection, tx, sessions.Keys[page.SessionId]) <= options.Value.InlineMaxMembers
                            && await CommitLock.TryTakeAsync(connection, tx, cohortKey);
        if (committedHere)
            await Effects.PerformAsync(writes, commitNow);

        await tx.CommitAsync(CancellationToken.None);
        if (decision.Outcome.IsSealed && !committedHere)
            committer.Notify();
        await writes.FinishAsync(metrics, logger);
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
                name = page.CohortName,
                description = page.CohortDescription,
            }, tx);
}
