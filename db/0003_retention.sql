-- Retention (src/Host.CSharp/Retention): what it needs to find old rows without scanning whole tables.

-- When a member was staged, so that staged rows no page ever claimed go after a grace period. COPY
-- leaves the column out, so every staged row takes its transaction's time.
ALTER TABLE staged_member ADD COLUMN staged_at timestamptz NOT NULL DEFAULT now();

-- Transitions go by age.
CREATE INDEX transition_recorded ON transition (recorded_at);

-- Finished sessions go by the time they finished (a superseded session's last page).
CREATE INDEX sync_session_finished ON sync_session ((COALESCE(committed_at, last_page_at))) WHERE state <> 'open';

-- Deleting a session checks that no session names it as its superseder: without this, one scan per row.
CREATE INDEX sync_session_superseded_by ON sync_session (superseded_by) WHERE superseded_by IS NOT NULL;
