using CohortSync.Domain;
using CohortSync.Host.Database;
using CohortSync.Host.Observability;
using Dapper;
using Npgsql;

namespace CohortSync.Host.Webhook;

/// <summary>
/// A session's commit as set-based SQL, in the caller's transaction: the same rules as
/// <see cref="Membership"/> (which the tests use as the oracle), never loading a cohort into memory.
/// Its cost is the rows PostgreSQL writes (db/0005_bulk_storage.sql says which, and why so few).
/// </summary>
static class CommitSql
{
    // A session's members, unnested from its staged pages (one row per page, members as arrays).
    const string StagedIds = """
        SELECT DISTINCT u.distinct_id
        FROM session_page p
        JOIN staged_page sp ON sp.upload_id = p.upload_id
        CROSS JOIN LATERAL unnest(sp.distinct_ids) AS u(distinct_id)
        WHERE p.session_key = @session AND p.action = 
        """;

    // For this transaction only: no JIT compilation, which costs more than it saves on these plans (a diff's
    // 0.5 s budget included); and every statement planned for this commit's sizes, even when prepared (the
    // host auto-prepares what it runs often): a generic plan made for one commit would be reused for the next.
    const string Settings = "SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_custom_plan";

    // A large session's ids sort and hash in memory instead of spilling to disk (a million take ~100 MB). Not
    // more: a hash may use twice this (hash_mem_multiplier), and commits of several cohorts run at once.
    const string LargeSessionMemory = "SET LOCAL work_mem = '128MB'";

    /// <summary>The members a session's pages staged (a user on two pages counts twice).</summary>
    public static Task<long> StagedMembersAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long session) =>
        connection.ExecuteScalarAsync<long>(
            "SELECT COALESCE(sum(member_count), 0) FROM session_page WHERE session_key = @session", new { session }, tx);

    // How many profiles the planner last counted (all projects; -1 before the table was ever analyzed).
    const string ProfilesCounted = "SELECT reltuples::bigint FROM pg_class WHERE oid = 'user_profile'::regclass";

    // Plans are chosen here, not left to the planner: it cannot see how many members a session's arrays
    // hold (it guesses 10 a page), and right after a large commit its statistics still describe the cohort
    // as it was. Measured at 1M: probing an index once per member took 3 s for membership and 10 s for
    // profiles where one hash join takes a fraction; and a 10,000-change diff right after the first 1M
    // commit, planned on stale statistics, ran for minutes instead of 0.2 s.
    //   Whole: a full copy reads the whole cohort anyway (its exits); a large session's profiles are best
    //   matched by one hash join, unless the profiles stored are many times more (a large project): then
    //   one probe each costs less than reading them all.
    //   Probes: a diff is small next to its cohort, and a small session's profiles few: one index probe each.
    const string Whole = "SET LOCAL enable_nestloop = off; SET LOCAL enable_seqscan = on";
    const string Probes = "SET LOCAL enable_nestloop = on; SET LOCAL enable_seqscan = off";
    const long LargeSession = 50_000;

    // Full copy: membership becomes exactly the set of the session's `members` ids. The inserts are plain
    // (no ON CONFLICT): the ids are distinct, the cohort is locked by this transaction, and every CTE reads
    // the membership as it was before the statement, so nothing can conflict, and a speculative insert
    // costs about twice a plain one.
    static readonly string Full = $"""
        WITH incoming AS MATERIALIZED ({StagedIds} '{StorageNames.Members}'
        ), exited AS (
            DELETE FROM membership m
            WHERE m.cohort_key = @cohort
              AND NOT EXISTS (SELECT 1 FROM incoming i WHERE i.distinct_id = m.distinct_id)
            RETURNING m.distinct_id
        ), entered AS (
            INSERT INTO membership (cohort_key, distinct_id, session_key)
            SELECT @cohort, i.distinct_id, @session FROM incoming i
            WHERE NOT EXISTS (SELECT 1 FROM membership m WHERE m.cohort_key = @cohort AND m.distinct_id = i.distinct_id)
            RETURNING distinct_id
        ), counted AS (
            SELECT count(*) AS distinct_members FROM incoming
        )
        """;

    // Diff: membership becomes (current ∪ added) − removed; a user in both lists ends absent.
    static readonly string Diff = $"""
        WITH added AS MATERIALIZED ({StagedIds} '{StorageNames.AddMembers}'
        ), removed AS MATERIALIZED ({StagedIds} '{StorageNames.RemoveMembers}'
        ), exited AS (
            DELETE FROM membership m USING removed r
            WHERE m.cohort_key = @cohort AND m.distinct_id = r.distinct_id
            RETURNING m.distinct_id
        ), entered AS (
            INSERT INTO membership (cohort_key, distinct_id, session_key)
            SELECT @cohort, a.distinct_id, @session FROM added a
            WHERE NOT EXISTS (SELECT 1 FROM removed r WHERE r.distinct_id = a.distinct_id)
              AND NOT EXISTS (SELECT 1 FROM membership m WHERE m.cohort_key = @cohort AND m.distinct_id = a.distinct_id)
            RETURNING distinct_id
        ), counted AS (
            SELECT count(*) AS distinct_members FROM (SELECT distinct_id FROM added UNION SELECT distinct_id FROM removed) u
        )
        """;

    // Both end the same way: the real changes, in distinct-id order (the feed's order within a commit),
    // recorded in chunks of up to 1,000 (one row each). A user is never both entered and exited.
    static readonly string RecordTransitions = $"""
        , changed AS (
            SELECT distinct_id, '{StorageNames.Exited}' AS kind FROM exited
            UNION ALL
            SELECT distinct_id, '{StorageNames.Entered}' AS kind FROM entered
        ), chunked AS (
            SELECT distinct_id, kind, (row_number() OVER (ORDER BY distinct_id) - 1) / 1000 AS chunk FROM changed
        ), recorded AS (
            INSERT INTO transition_chunk (session_key, chunk, cohort_key, last_id, distinct_ids, kinds)
            SELECT @session, chunk, @cohort, max(distinct_id),
                   array_agg(distinct_id ORDER BY distinct_id), array_agg(kind ORDER BY distinct_id)
            FROM chunked
            GROUP BY chunk
        )
        SELECT (SELECT count(*) FROM entered) AS entered,
               (SELECT count(*) FROM exited) AS exited,
               (SELECT distinct_members FROM counted) AS distinct_members
        """;

    // Profiles: the latest the session carries wins (add before remove, later page, later position),
    // field by field: a field or property the export leaves out (another cohort may export other
    // properties) keeps what was stored. Existing profiles are updated only where something changes;
    // new ones are plain inserts, made safe by a per-project lock: two cohorts of one project committing
    // at once would otherwise both insert a user they share.
    const string LockProjectProfiles = "SELECT pg_advisory_xact_lock(@lockClass, hashtext(@project))";

    const string SessionProfiles = """
        SELECT {0} u.distinct_id, u.email, u.first_name, u.last_name, u.phone_number, u.properties
        FROM session_page p
        JOIN staged_page sp ON sp.upload_id = p.upload_id
        CROSS JOIN LATERAL unnest(sp.distinct_ids, sp.emails, sp.first_names, sp.last_names, sp.phone_numbers, sp.properties)
            WITH ORDINALITY AS u(distinct_id, email, first_name, last_name, phone_number, properties, ordinal)
        WHERE p.session_key = @session
        {1}
        """;

    // Two statements, each reading the staged profiles once (a CTE read twice would be copied whole first):
    // the update, then the insert, whose NOT EXISTS then sees every profile the update kept.
    const string UpdateProfiles = """
        WITH latest AS ({0}
        )
        UPDATE user_profile t
        SET email = COALESCE(l.email, t.email),
            first_name = COALESCE(l.first_name, t.first_name),
            last_name = COALESCE(l.last_name, t.last_name),
            phone_number = COALESCE(l.phone_number, t.phone_number),
            properties = t.properties || l.properties,
            updated_at = now()
        FROM latest l
        WHERE t.project_id = @project AND t.distinct_id = l.distinct_id
          AND (t.email, t.first_name, t.last_name, t.phone_number, t.properties)
              IS DISTINCT FROM (COALESCE(l.email, t.email), COALESCE(l.first_name, t.first_name),
                                COALESCE(l.last_name, t.last_name), COALESCE(l.phone_number, t.phone_number),
                                t.properties || l.properties)
        """;

    const string InsertProfiles = """
        WITH latest AS ({0}
        )
        INSERT INTO user_profile (project_id, distinct_id, email, first_name, last_name, phone_number, properties, updated_at)
        SELECT @project, l.distinct_id, l.email, l.first_name, l.last_name, l.phone_number, l.properties, now()
        FROM latest l
        WHERE NOT EXISTS (SELECT 1 FROM user_profile t WHERE t.project_id = @project AND t.distinct_id = l.distinct_id)
        """;

    // A project with no profiles yet (its first sync) has none to update or to check new ones against: its
    // profiles are inserted without reading any, which the per-project lock keeps true until this commit ends.
    const string ProjectHasProfiles = "SELECT EXISTS (SELECT 1 FROM user_profile WHERE project_id = @project)";

    const string InsertFirstProfiles = """
        WITH latest AS ({0}
        )
        INSERT INTO user_profile (project_id, distinct_id, email, first_name, last_name, phone_number, properties, updated_at)
        SELECT @project, l.distinct_id, l.email, l.first_name, l.last_name, l.phone_number, l.properties, now()
        FROM latest l
        """;

    // When no user appears twice in the session (the usual case) there is nothing to choose between, and
    // the sort that chooses (a million wide rows) is skipped.
    static readonly string ProfilesOfDistinctMembers = string.Format(SessionProfiles, "", "");

    static readonly string LatestProfiles = string.Format(SessionProfiles,
        "DISTINCT ON (u.distinct_id)", $"ORDER BY u.distinct_id, (p.action = '{StorageNames.RemoveMembers}'), p.page_count DESC, u.ordinal DESC");

    // Any constant, used for nothing else (the two-key advisory locks do not overlap the one-key ones).
    const int ProfileLockClass = 0x50726f66;

    static readonly string Finish = $"""
        UPDATE sync_session
        SET state = '{StorageNames.Committed}', committed_at = now(), entered_count = @entered, exited_count = @exited
        WHERE session_key = @session;
        -- The cohort row is locked by this transaction: counting changes here is exact.
        UPDATE cohort SET last_committed_at = now(), member_count = member_count + @entered - @exited WHERE cohort_key = @cohort;
        """ + StagedPage.DeleteOfSession;

    sealed record Counts(long entered, long exited, long distinct_members);

    /// <summary>
    /// After a commit that changed many memberships, and before its page is answered: the planner's statistics on
    /// membership and profiles are brought up to date. Until autovacuum gets to them (a minute or more later) they
    /// describe the tables as they were, and a diff planned on them (the 10,000-change diff right after the first
    /// 1M commit, measured) scanned the whole cohort once per change: minutes instead of 0.2 s. ANALYZE samples
    /// 300 rows per unit of statistics target whatever the size, and blocks no writer. The committer takes the next
    /// session only after this, so it is made cheap: only the columns a commit joins on (every column, the
    /// profiles' properties above all, costs twice as much), and a sample of 3,000 rows instead of 30,000 (at
    /// 10,000,000 members the full sample took 0.86 s of a diff's 1.8 s wait; the coarse one plans the diff
    /// as well). Autovacuum still analyzes every column later, with the full sample, as such a partial ANALYZE
    /// leaves the tables' change counts as they were. It gives up rather than wait (1 s for its lock, 60 s in all); then,
    /// or if it fails (or the database role does not own the tables, when PostgreSQL skips it), the commit stands
    /// and autovacuum does it later.
    /// </summary>
    /// <returns>Why it did not run to its end, or null.</returns>
    public static async Task<string?> RefreshStatisticsAsync(NpgsqlConnection connection, CommitCounts commit)
    {
        if (commit.Entered + commit.Exited < LargeSession)
            return null;
        try
        {
            await using var tx = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync(
                "SET LOCAL lock_timeout = '1s'; SET LOCAL statement_timeout = '60s'; SET LOCAL default_statistics_target = 10; "
                + "ANALYZE membership (cohort_key, distinct_id), user_profile (project_id, distinct_id)",
                transaction: tx, commandTimeout: 0);
            await tx.CommitAsync();
            return null;
        }
        catch (NpgsqlException e)
        {
            // The page is committed: answering it 5xx now would only make Mixpanel send it again.
            return e is PostgresException pg ? pg.SqlState : e.GetType().Name;
        }
    }

    /// <returns>What the commit changed, for the metrics.</returns>
    public static async Task<CommitCounts> RunAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, long cohort, long session, ProjectId project, SessionKind kind)
    {
        var staged = await StagedMembersAsync(connection, tx, session);
        var large = staged >= LargeSession;
        var settings = large ? $"{Settings}; {LargeSessionMemory}" : Settings;
        await connection.ExecuteAsync($"{settings}; {(kind.IsFull ? Whole : Probes)}", transaction: tx);
        var membership = (kind.IsFull ? Full : Diff) + RecordTransitions;
        var counts = await connection.QuerySingleAsync<Counts>(membership, new { cohort, session }, tx, commandTimeout: 0);

        await connection.ExecuteAsync(LockProjectProfiles, new { lockClass = ProfileLockClass, project = project.Value }, tx, commandTimeout: 0);
        // Probed through the index: with sequential scans allowed, the planner reads the table until the first of a
        // project's profiles, all of it when they come last.
        await connection.ExecuteAsync(Probes, transaction: tx);
        var statements = await connection.ExecuteScalarAsync<bool>(ProjectHasProfiles, new { project = project.Value }, tx)
            ? new[] { UpdateProfiles, InsertProfiles }
            : [InsertFirstProfiles];
        var profilesStored = large ? await connection.ExecuteScalarAsync<long>(ProfilesCounted, transaction: tx) : 0;
        var wholeProfiles = large && (profilesStored < 0 || profilesStored <= 4 * staged);
        await connection.ExecuteAsync(wholeProfiles ? Whole : Probes, transaction: tx);
        var profiles = counts.distinct_members == staged ? ProfilesOfDistinctMembers : LatestProfiles;
        foreach (var statement in statements)
            await connection.ExecuteAsync(string.Format(statement, profiles), new { project = project.Value, session }, tx, commandTimeout: 0);

        await connection.ExecuteAsync(
            Finish, new { cohort, session, entered = (int)counts.entered, exited = (int)counts.exited }, tx, commandTimeout: 0);

        // Last, so that the feed's lock is held only for the moment before COMMIT.
        await ReadSideCommit.TakeFeedPositionAsync(connection, tx, session, counts.entered + counts.exited);
        return new CommitCounts(counts.entered, counts.exited, staged);
    }
}
