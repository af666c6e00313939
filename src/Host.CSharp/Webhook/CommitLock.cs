using Dapper;
using Npgsql;

namespace CohortSync.Host.Webhook;

/// <summary>
/// Who may commit a cohort's sealed sessions: one transaction at a time, the committer's or a page's. Apart
/// from the cohort's row lock, so that a page is never kept waiting while a large session is applied.
/// </summary>
static class CommitLock
{
    // Any constant, used for nothing else (the two-key advisory locks do not overlap the one-key ones).
    const int LockClass = 0x436d6974;

    /// <returns>False when another transaction is committing this cohort; it will commit what this one would.</returns>
    public static Task<bool> TryTakeAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long cohortKey) =>
        connection.ExecuteScalarAsync<bool>(
            "SELECT pg_try_advisory_xact_lock(@lockClass, (@cohort % 2147483647)::int)", new { lockClass = LockClass, cohort = cohortKey }, tx);
}
