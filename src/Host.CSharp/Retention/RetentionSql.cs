using CohortSync.Host.Destinations;
using static CohortSync.Host.Database.StorageNames;

namespace CohortSync.Host.Retention;

/// <summary>
/// What retention deletes, each as one bounded batch (<c>@batch</c> rows, its own short transaction):
/// the caller repeats a statement until it deletes fewer than a batch.
/// </summary>
static class RetentionSql
{
    /// <summary>Cohorts with an open session that has had no page for <c>@grace</c>.</summary>
    public static readonly string CohortsWithAbandonedSessions = $"""
        SELECT DISTINCT cohort_key FROM sync_session
        WHERE state = '{Open}' AND last_page_at < now() - @grace
        ORDER BY cohort_key
        LIMIT @batch
        """;

    /// <summary>
    /// Takes the cohort's row lock, as a page does, so that no page of the session is being decided
    /// meanwhile; a cohort busy with a page is left for the next pass (its session is not abandoned).
    /// Returns the cohort's project.
    /// </summary>
    public const string LockCohort = "SELECT project_id FROM cohort WHERE cohort_key = @cohort FOR UPDATE SKIP LOCKED";

    /// <summary>The cohort's open sessions that have had no page for <c>@grace</c>.</summary>
    public static readonly string StaleOpenSessions = $"""
        SELECT session_id FROM sync_session
        WHERE cohort_key = @cohort AND state = '{Open}' AND last_page_at < now() - @grace
        """;

    /// <summary>
    /// Staged pages no stored page record claims, once <c>@grace</c> old: an upload whose page was never
    /// stored. (Pages stage and store in one transaction today, so these should not occur; the grace keeps
    /// an upload still on its way safe should staging ever be committed apart.) A staged page is one row
    /// whatever its size, so this reads one row per page under way, never their members. Counts rows
    /// (<c>pages</c>, the batch) and the members they held.
    /// </summary>
    public const string UnclaimedStagedPages = """
        WITH deleted AS (
            DELETE FROM staged_page WHERE upload_id = ANY(ARRAY(
                SELECT sp.upload_id FROM staged_page sp
                WHERE sp.staged_at < now() - @grace
                  AND NOT EXISTS (SELECT 1 FROM session_page p WHERE p.upload_id = sp.upload_id)
                LIMIT @batch))
            RETURNING cardinality(distinct_ids) AS members
        )
        SELECT count(*) AS rows, COALESCE(sum(members), 0) AS items FROM deleted
        """;

    /// <summary>
    /// Transitions by age, a chunk (up to 1,000 transitions of one commit, all recorded at once) at a
    /// time. Counts rows (<c>chunks</c>, the batch) and the transitions they held.
    /// </summary>
    public const string OldTransitions = """
        WITH deleted AS (
            DELETE FROM transition_chunk WHERE (session_key, chunk) IN (
                SELECT session_key, chunk FROM transition_chunk
                WHERE recorded_at < now() - @age
                ORDER BY recorded_at
                LIMIT @batch)
            RETURNING cardinality(distinct_ids) AS transitions
        )
        SELECT count(*) AS rows, COALESCE(sum(transitions), 0) AS items FROM deleted
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
    public static readonly string OldSessions = $"""
        DELETE FROM sync_session WHERE session_key = ANY(ARRAY(
            SELECT s.session_key FROM sync_session s
            WHERE s.state NOT IN ('{Open}', '{Sealed}')
              AND COALESCE(s.committed_at, s.last_page_at) < now() - @age
              AND NOT EXISTS (SELECT 1 FROM transition_chunk t WHERE t.session_key = s.session_key)
              AND NOT EXISTS (SELECT 1 FROM sync_session r WHERE r.superseded_by = s.session_key)
              AND (s.state <> '{Committed}' OR EXISTS (
                    SELECT 1 FROM sync_session n
                    WHERE n.cohort_key = s.cohort_key AND n.state = '{Committed}'
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

    /// <summary>
    /// Action reports received more than <c>@age</c> ago that every enabled mixpanel destination of their
    /// project has formed into a batch (the batch holds its own copy, so delivery no longer needs the row).
    /// A disabled destination holds nothing back: disabling stops sending, and as with the change feed's
    /// transitions, a destination enabled again after the age has missed what went meanwhile. An enabled
    /// one that is failing does hold its reports, since enabling it again resumes where it stopped.
    /// Projects are found one index probe each, and a project's reports are read oldest first, so the
    /// young ones are never read. The rows found are deleted by their address, which a planner cannot
    /// turn into a scan of the whole table (and reports are never updated, so it does not move).
    /// </summary>
    public static readonly string OldActionReports = $"""
        DELETE FROM action_report WHERE ctid = ANY(ARRAY(
            WITH RECURSIVE projects AS (
                (SELECT project_id FROM action_report ORDER BY project_id LIMIT 1)
                UNION ALL
                SELECT (SELECT r.project_id FROM action_report r WHERE r.project_id > p.project_id ORDER BY r.project_id LIMIT 1)
                FROM projects p WHERE p.project_id IS NOT NULL
            )
            SELECT old.ctid
            FROM projects p
            CROSS JOIN LATERAL (
                SELECT min(d.reports_formed_position) AS position FROM destination d
                WHERE d.project_id = p.project_id AND d.kind = '{DestinationKind.Mixpanel}' AND d.enabled) formed
            CROSS JOIN LATERAL (
                SELECT r.ctid FROM action_report r
                WHERE r.project_id = p.project_id AND r.received_at < now() - @age
                  AND (formed.position IS NULL OR r.position <= formed.position)
                ORDER BY r.received_at
                LIMIT @batch) old
            WHERE p.project_id IS NOT NULL
            LIMIT @batch))
        """;
}
