using CohortSync.Domain;
using CohortSync.Host.Observability;
using Dapper;
using Npgsql;

namespace CohortSync.Host.Webhook;

/// <summary>
/// A session's commit as set-based SQL, in the caller's transaction: the same rules as
/// <see cref="Membership"/> (which the tests use as the oracle), never loading a cohort into memory.
/// </summary>
static class CommitSql
{
    // Full copy: membership becomes exactly the union of the session's `members` pages.
    const string Full = """
        WITH incoming AS (
            SELECT DISTINCT distinct_id FROM session_member WHERE session_key = @session AND action = 'members'
        ), exited AS (
            DELETE FROM membership m
            WHERE m.cohort_key = @cohort
              AND NOT EXISTS (SELECT 1 FROM incoming i WHERE i.distinct_id = m.distinct_id)
            RETURNING m.distinct_id
        ), entered AS (
            INSERT INTO membership (cohort_key, distinct_id, session_key)
            SELECT @cohort, i.distinct_id, @session FROM incoming i
            ON CONFLICT (cohort_key, distinct_id) DO NOTHING
            RETURNING distinct_id
        )
        """;

    // Diff: membership becomes (current ∪ added) − removed; a user in both lists ends absent.
    const string Diff = """
        WITH added AS (
            SELECT DISTINCT distinct_id FROM session_member WHERE session_key = @session AND action = 'add_members'
        ), removed AS (
            SELECT DISTINCT distinct_id FROM session_member WHERE session_key = @session AND action = 'remove_members'
        ), exited AS (
            DELETE FROM membership m USING removed r
            WHERE m.cohort_key = @cohort AND m.distinct_id = r.distinct_id
            RETURNING m.distinct_id
        ), entered AS (
            INSERT INTO membership (cohort_key, distinct_id, session_key)
            SELECT @cohort, a.distinct_id, @session FROM added a
            WHERE NOT EXISTS (SELECT 1 FROM removed r WHERE r.distinct_id = a.distinct_id)
            ON CONFLICT (cohort_key, distinct_id) DO NOTHING
            RETURNING distinct_id
        )
        """;

    // Both end the same way: one transition per real change, exits first, each in id order.
    const string RecordTransitions = """
        , recorded AS (
            INSERT INTO transition (cohort_key, distinct_id, kind, session_key)
            SELECT @cohort, c.distinct_id, c.kind, @session
            FROM (SELECT distinct_id, 'exited' AS kind FROM exited
                  UNION ALL
                  SELECT distinct_id, 'entered' AS kind FROM entered) c
            ORDER BY c.kind DESC, c.distinct_id
            RETURNING kind
        )
        SELECT count(*) FILTER (WHERE kind = 'entered') AS entered,
               count(*) FILTER (WHERE kind = 'exited') AS exited,
               (SELECT COALESCE(sum(member_count), 0) FROM session_page WHERE session_key = @session) AS applied
        FROM recorded
        """;

    // Profiles: the latest the session carries wins (add before remove, later page, later position),
    // field by field: a field or property the export leaves out (another cohort may export other
    // properties) keeps what was stored.
    const string UpsertProfiles = """
        INSERT INTO user_profile (project_id, distinct_id, email, first_name, last_name, phone_number, properties, updated_at)
        SELECT DISTINCT ON (distinct_id)
               @project, distinct_id, email, first_name, last_name, phone_number, properties, now()
        FROM session_member
        WHERE session_key = @session
        ORDER BY distinct_id, (action = 'remove_members'), page_count DESC, ordinal DESC
        ON CONFLICT (project_id, distinct_id) DO UPDATE
        SET email = COALESCE(EXCLUDED.email, user_profile.email),
            first_name = COALESCE(EXCLUDED.first_name, user_profile.first_name),
            last_name = COALESCE(EXCLUDED.last_name, user_profile.last_name),
            phone_number = COALESCE(EXCLUDED.phone_number, user_profile.phone_number),
            properties = user_profile.properties || EXCLUDED.properties,
            updated_at = EXCLUDED.updated_at
        """;

    const string Finish = """
        UPDATE sync_session
        SET state = 'committed', committed_at = now(), entered_count = @entered, exited_count = @exited
        WHERE session_key = @session;
        -- The cohort row is locked by this transaction: counting changes here is exact.
        UPDATE cohort SET last_committed_at = now(), member_count = member_count + @entered - @exited WHERE cohort_key = @cohort;
        DELETE FROM staged_member
        WHERE upload_id IN (SELECT upload_id FROM session_page WHERE session_key = @session);
        """;

    sealed record Counts(long entered, long exited, long applied);

    /// <returns>What the commit changed, for the metrics.</returns>
    public static async Task<CommitCounts> RunAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, long cohort, long session, ProjectId project, SessionKind kind)
    {
        var membership = (kind.IsFull ? Full : Diff) + RecordTransitions;
        var counts = await connection.QuerySingleAsync<Counts>(membership, new { cohort, session }, tx, commandTimeout: 0);
        await connection.ExecuteAsync(UpsertProfiles, new { project = project.Value, session }, tx, commandTimeout: 0);
        await connection.ExecuteAsync(
            Finish, new { cohort, session, entered = (int)counts.entered, exited = (int)counts.exited }, tx, commandTimeout: 0);

        // Last, so that the feed's lock is held only for the moment before COMMIT.
        await ReadSideCommit.TakeFeedPositionAsync(connection, tx, session, counts.entered + counts.exited);
        return new CommitCounts(counts.entered, counts.exited, counts.applied);
    }
}
