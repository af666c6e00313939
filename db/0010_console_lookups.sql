-- The console's lookups by user and by cohort, each served by an index instead of a scan.

-- Member search by email, ignoring case: the expression is the one the search compares, and distinct_id
-- the order it lists in, so no plan finds it cheaper to walk the project's profiles in that order instead.
CREATE INDEX user_profile_email ON user_profile (project_id, lower(email), distinct_id);

-- A user's history across cohorts probes each commit of the project for the one chunk that could hold
-- them (chunks are in distinct-id order): one index entry per chunk of up to 1,000 transitions, so
-- commits write next to nothing more.
CREATE INDEX transition_chunk_last_id ON transition_chunk (session_key, last_id);

-- Refusals naming one cohort, newest first.
CREATE INDEX rejected_request_cohort ON rejected_request (project_id, cohort_id, rejection_id);
