-- A million-member sync in seconds (see docs/performance.md). Measured on the 2-core machine, what bounds a large sync
-- is the number of rows and index entries PostgreSQL writes per member, not the SQL around them: a
-- million staged members cost ~4 s to stage and ~1 s to delete again, a million transitions ~4 s
-- (four indexes), and each foreign-key check a trigger call per row. So:
--   * a page is staged as ONE row holding its members as parallel arrays (compressed, TOASTed): a
--     thousand rows per million members instead of a million, and no per-member index;
--   * a commit's transitions are stored in chunks of up to 1,000, in distinct-id order, one row per
--     chunk: the feed's order within a commit is distinct-id order, which a chunk keeps;
--   * membership keeps one row per member (it is what every read looks up), without the foreign key:
--     only a commit writes it, under its cohort's row lock, for a cohort it has just locked.

CREATE TABLE staged_page (
    upload_id      bigint PRIMARY KEY,
    distinct_ids   text[] COLLATE "C" NOT NULL,
    emails         text[],
    first_names    text[],
    last_names     text[],
    phone_numbers  text[],
    properties     jsonb[] NOT NULL,
    staged_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE transition_chunk (
    session_key   bigint NOT NULL REFERENCES sync_session,
    chunk         integer NOT NULL,
    cohort_key    bigint NOT NULL,
    -- The chunk's greatest id: a feed cursor inside a commit seeks the first chunk past it.
    last_id       text COLLATE "C" NOT NULL,
    distinct_ids  text[] COLLATE "C" NOT NULL,
    kinds         text[] NOT NULL CHECK (kinds <@ ARRAY['entered', 'exited']),
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_key, chunk)
);
CREATE INDEX transition_chunk_recorded ON transition_chunk (recorded_at);

-- lz4 compresses several times faster than the default pglz; a server built without it keeps pglz.
DO $$
BEGIN
    ALTER TABLE staged_page
        ALTER distinct_ids SET COMPRESSION lz4, ALTER emails SET COMPRESSION lz4,
        ALTER first_names SET COMPRESSION lz4, ALTER last_names SET COMPRESSION lz4,
        ALTER phone_numbers SET COMPRESSION lz4, ALTER properties SET COMPRESSION lz4;
    ALTER TABLE transition_chunk ALTER distinct_ids SET COMPRESSION lz4, ALTER kinds SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    NULL;
END $$;

-- Pages under way keep their members.
INSERT INTO staged_page (upload_id, distinct_ids, emails, first_names, last_names, phone_numbers, properties, staged_at)
SELECT upload_id, array_agg(distinct_id ORDER BY ordinal), array_agg(email ORDER BY ordinal),
       array_agg(first_name ORDER BY ordinal), array_agg(last_name ORDER BY ordinal),
       array_agg(phone_number ORDER BY ordinal), array_agg(properties ORDER BY ordinal), min(staged_at)
FROM staged_member
GROUP BY upload_id;

-- Recorded transitions move into chunks (recorded_at is a commit's time: one per session).
INSERT INTO transition_chunk (session_key, chunk, cohort_key, last_id, distinct_ids, kinds, recorded_at)
SELECT session_key, chunk, min(cohort_key), max(distinct_id),
       array_agg(distinct_id ORDER BY distinct_id), array_agg(kind ORDER BY distinct_id), min(recorded_at)
FROM (SELECT t.*, ((row_number() OVER (PARTITION BY session_key ORDER BY distinct_id)) - 1) / 1000 AS chunk
      FROM transition t) numbered
GROUP BY session_key, chunk;

DROP VIEW session_member;
DROP TABLE staged_member;
DROP TABLE transition;
DROP SEQUENCE IF EXISTS transition_transition_id_seq;

-- Every transition as a row, for reading by hand and for tests; the service reads the chunks.
CREATE VIEW transition AS
SELECT c.session_key, c.cohort_key, u.distinct_id, u.kind, c.recorded_at
FROM transition_chunk c
CROSS JOIN LATERAL unnest(c.distinct_ids, c.kinds) AS u(distinct_id, kind);

ALTER TABLE membership DROP CONSTRAINT membership_cohort_key_fkey;
