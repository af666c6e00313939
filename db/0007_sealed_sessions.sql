-- A sealed session has all its pages in and was acknowledged: Mixpanel was told it succeeded, so it must
-- be applied. Sessions are committed in the order they were sealed (seal_position), by the page that
-- sealed a small one, or by the committer in the background (docs/storage.md).
ALTER TABLE sync_session DROP CONSTRAINT sync_session_state_check;
ALTER TABLE sync_session ADD CONSTRAINT sync_session_state_check
    CHECK (state IN ('open', 'sealed', 'committed', 'superseded'));

CREATE SEQUENCE seal_position_seq;
ALTER TABLE sync_session ADD COLUMN sealed_at timestamptz, ADD COLUMN seal_position bigint;

-- What the committer looks for: few rows at any time.
CREATE INDEX sync_session_sealed ON sync_session (cohort_key, seal_position) WHERE state = 'sealed';
