using Dapper;
using Npgsql;

namespace CohortSync.Host.Webhook;

/// <summary>
/// What a commit keeps for readers, as the last step of its transaction: the cohort's member count,
/// and the commit's place in the change feed.
/// </summary>
static class ReadSideCommit
{
    // Any constant, used for nothing else (the migration lock is another).
    const long FeedLockKey = 0x436f686f72744664;

    // Why a lock and not just a sequence: nextval hands out numbers in call order, and transactions
    // become visible in commit order; a commit that took 7 can become visible after one that took 8.
    // A reader who already moved past 8 would then never see 7. The transaction-scoped advisory lock
    // makes "take the next position" and "become visible" one step that commits take in turn: the
    // lock is taken after all other work, just before COMMIT, and PostgreSQL releases a
    // transaction's locks only after the transaction is visible. So the holder of position n is
    // visible before anyone can take n + 1, and every reader sees positions appear in order.
    //
    // One position per commit (not per transition) keeps the time under this global lock constant:
    // a commit of a million transitions updates one row here. A transition's place in the feed is
    // (commit_position of its session, distinct_id), unique because a session records a user once.
    const string TakeFeedPosition = """
        SELECT pg_advisory_xact_lock(@lockKey);
        UPDATE sync_session SET commit_position = nextval('commit_position_seq') WHERE session_key = @session;
        """;

    public static async Task RunAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long cohort, long session, long entered, long exited)
    {
        // The cohort row is already locked by this transaction: counting changes here is exact.
        await connection.ExecuteAsync(
            "UPDATE cohort SET member_count = member_count + @entered - @exited WHERE cohort_key = @cohort",
            new { cohort, entered, exited }, tx);

        // A commit that changed nothing adds nothing to the feed, and need not wait for other commits.
        if (entered + exited > 0)
            await connection.ExecuteAsync(TakeFeedPosition, new { lockKey = FeedLockKey, session }, tx, commandTimeout: 0);
    }
}
