using Dapper;
using Npgsql;

namespace CohortSync.Host.Webhook;

/// <summary>The commit's place in the change feed, taken as the last step of its transaction.</summary>
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
    //
    // Every commit waits for the holder of this lock, so a host that stops between taking it and COMMIT
    // (its machine lost, or the process frozen) would stall them all. Once this statement has run, all
    // that is left of the transaction is the COMMIT the host sends at once: it never has a reason to be
    // idle here for more than a moment. So, for the rest of this transaction only, PostgreSQL ends the
    // session if it sits idle for 10 s holding the lock; the commit then rolls back (its page is
    // answered 503 if the host is still there, and Mixpanel's retry commits it). This bounds the stall to
    // 10 s without limiting anything else: the long statements of a large commit run before it, and
    // waiting for the lock is not idleness. (DeadHostDetection has the server drop a dead host's
    // connections in general, about a minute after they fall silent.)
    const string TakeFeedPosition = """
        SET LOCAL idle_in_transaction_session_timeout = '10s';
        SELECT pg_advisory_xact_lock(@lockKey);
        UPDATE sync_session SET commit_position = nextval('commit_position_seq') WHERE session_key = @session;
        """;

    public static async Task TakeFeedPositionAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long session, long transitions)
    {
        // A commit that changed nothing adds nothing to the feed, and need not wait for other commits.
        if (transitions > 0)
            await connection.ExecuteAsync(TakeFeedPosition, new { lockKey = FeedLockKey, session }, tx, commandTimeout: 0);
    }
}
