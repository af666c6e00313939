namespace CohortSync.Host.Retention;

/// <summary>
/// What retention deletes, each as one bounded batch (<c>@batch</c> rows, its own short transaction):
/// the caller repeats a statement until it deletes fewer than a batch.
/// </summary>
static class RetentionSql
{
    /// <summary>Cohorts with an open session that has had no page for <c>@grace</c>.</summary>
    public const string CohortsWithAbandonedSessions = """
        SELECT DISTINCT cohort_key FROM sync_session
        WHERE state = 'open' AND last_page_at < now() - @grace
        ORDER BY cohort_key
        LIMIT @batch
        """;

    /// <summary>
    /// Takes the cohort's row lock, as a page does, so that no page of the session is being decided
    /// meanwhile; a cohort busy with a page is left for the next pass (its session is not abandoned).
    /// </summary>
    public const string LockCohort = "SELECT cohort_key FROM cohort WHERE cohort_key = @cohort FOR UPDATE SKIP LOCKED";

    /// <summary>
    /// Gives the session up as a newer session would: superseded (by none), so its late pages are
    /// acknowledged and ignored, and it can never commit with members missing. Its staged members go in the
    /// same transaction, as a superseded session's do, so no finished session ever holds staged members.
    /// </summary>
    public const string AbandonSessions = """
        WITH abandoned AS (
            UPDATE sync_session SET state = 'superseded'
            WHERE cohort_key = @cohort AND state = 'open' AND last_page_at < now() - @grace
            RETURNING session_key
        ), staged AS (
            DELETE FROM staged_member
            WHERE upload_id IN (SELECT p.upload_id FROM session_page p JOIN abandoned a ON a.session_key = p.session_key)
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM abandoned) AS sessions, (SELECT count(*) FROM staged) AS staged_members
        """;

    /// <summary>
    /// Staged members no stored page claims, once <c>@grace</c> old: an upload whose page was never stored.
    /// (Pages stage and store in one transaction today, so these should not occur; the grace keeps an upload
    /// still on its way safe should staging ever be committed apart.)
    /// <para>
    /// Staged rows are the members of pages under way, up to a million for one large sync, so this must not
    /// read them. It walks the distinct upload ids instead, one probe of the staged_member (upload_id) index
    /// each (a loose index scan), checks each against session_page's unique upload_id, and reads only the
    /// rows of unclaimed uploads. Its cost follows the number of pages under way, not of their members, and
    /// it needs no index on staged_at, which would cost a write per staged member on the webhook's path.
    /// </para>
    /// </summary>
    public const string UnclaimedStagedMembers = """
        WITH RECURSIVE upload AS (
            SELECT min(upload_id) AS id FROM staged_member
            UNION ALL
            SELECT (SELECT min(sm.upload_id) FROM staged_member sm WHERE sm.upload_id > u.id)
            FROM upload u WHERE u.id IS NOT NULL
        ), unclaimed AS (
            SELECT u.id FROM upload u
            WHERE u.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM session_page p WHERE p.upload_id = u.id)
        )
        DELETE FROM staged_member WHERE ctid = ANY(ARRAY(
            SELECT sm.ctid
            FROM unclaimed u
            JOIN staged_member sm ON sm.upload_id = u.id
            WHERE sm.staged_at < now() - @grace
            LIMIT @batch))
        """;

    public const string OldTransitions = """
        DELETE FROM transition WHERE transition_id = ANY(ARRAY(
            SELECT transition_id FROM transition
            WHERE recorded_at < now() - @age
            ORDER BY recorded_at
            LIMIT @batch))
        """;

    /// <summary>
    /// Finished sessions (their actions and page records go with them), except a cohort's newest
    /// committed session, which keeps a late repeat of its pages from opening it again, sessions whose
    /// transitions are still kept, and a session that a remaining session names as its superseder. The
    /// times are taken at the start of each transaction, so a superseded session can seem to finish
    /// after the session that superseded it; the superseder then waits (checked through the
    /// sync_session_superseded_by index) until a later batch or pass has deleted the session it superseded,
    /// so the reference never dangles.
    /// </summary>
    public const string OldSessions = """
        DELETE FROM sync_session WHERE session_key = ANY(ARRAY(
            SELECT s.session_key FROM sync_session s
            WHERE s.state <> 'open'
              AND COALESCE(s.committed_at, s.last_page_at) < now() - @age
              AND NOT EXISTS (SELECT 1 FROM transition t WHERE t.session_key = s.session_key)
              AND NOT EXISTS (SELECT 1 FROM sync_session r WHERE r.superseded_by = s.session_key)
              AND (s.state <> 'committed' OR EXISTS (
                    SELECT 1 FROM sync_session n
                    WHERE n.cohort_key = s.cohort_key AND n.state = 'committed'
                      AND (n.committed_at, n.session_key) > (s.committed_at, s.session_key)))
            ORDER BY s.session_key
            LIMIT @batch))
        """;

    public const string OldRejections = """
        DELETE FROM rejected_request WHERE rejection_id = ANY(ARRAY(
            SELECT rejection_id FROM rejected_request
            WHERE received_at < now() - @age
            ORDER BY received_at
            LIMIT @batch))
        """;
}
