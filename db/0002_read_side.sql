-- The read side: member counts kept at commit, sync history by cohort, the change feed in commit
-- order, and where named feed consumers got to. Never edit 0001: a migration runs once.

-- Maintained by each commit (entered − exited), so listing cohorts never counts membership rows.
ALTER TABLE cohort ADD COLUMN member_count bigint NOT NULL DEFAULT 0;
UPDATE cohort c SET member_count = (SELECT count(*) FROM membership m WHERE m.cohort_key = c.cohort_key);

-- A cohort's sessions newest first (sync history, and its latest session).
CREATE INDEX sync_session_history ON sync_session (cohort_key, session_key);

-- The feed's order: a session that records transitions takes the next commit_position under a
-- transaction-scoped advisory lock, at the very end of its commit transaction, so that positions are
-- handed out in the order the commits become visible (see src/Host.CSharp/Webhook/ReadSideCommit.cs). A transition's
-- place in the feed is (its session's commit_position, its distinct_id): one number per commit, not
-- per transition, so the work done under the lock does not grow with the size of the commit.
CREATE SEQUENCE commit_position_seq;
ALTER TABLE sync_session ADD COLUMN commit_position bigint;
CREATE UNIQUE INDEX sync_session_feed ON sync_session (commit_position) WHERE commit_position IS NOT NULL;
CREATE INDEX sync_session_cohort_feed ON sync_session (cohort_key, commit_position) WHERE commit_position IS NOT NULL;

-- Commits recorded before this migration join the feed in the order they committed.
UPDATE sync_session s
SET commit_position = o.position
FROM (SELECT session_key, nextval('commit_position_seq') AS position
      FROM (SELECT s2.session_key
            FROM sync_session s2
            WHERE s2.state = 'committed'
              AND EXISTS (SELECT 1 FROM transition t WHERE t.session_key = s2.session_key)
            ORDER BY s2.committed_at, s2.session_key) ordered) o
WHERE s.session_key = o.session_key;

-- How far a named worker has read the feed. Names live in the scope of the API key that stores them
-- (its project list), so a key for one project can neither read nor move another project's worker.
CREATE TABLE feed_consumer (
    scope            text COLLATE "C" NOT NULL,
    name             text COLLATE "C" NOT NULL,
    commit_position  bigint NOT NULL,
    distinct_id      text COLLATE "C" NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, name)
);
