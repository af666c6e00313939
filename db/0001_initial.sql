-- CohortSync's schema. Ids from Mixpanel are compared byte-wise (COLLATE "C"): they are
-- identifiers, not words, and keyset pagination needs one fixed order.

CREATE TABLE cohort (
    cohort_key        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id        text COLLATE "C" NOT NULL,
    cohort_id         text COLLATE "C" NOT NULL,
    name              text,
    description       text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    last_committed_at timestamptz,
    UNIQUE (project_id, cohort_id)
);

-- One export of a cohort. At most one session of a cohort is open at a time.
CREATE TABLE sync_session (
    session_key    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cohort_key     bigint NOT NULL REFERENCES cohort,
    session_id     text COLLATE "C" NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('full', 'diff')),
    state          text NOT NULL CHECK (state IN ('open', 'committed', 'superseded')),
    superseded_by  bigint REFERENCES sync_session,
    first_page_at  timestamptz NOT NULL DEFAULT now(),
    last_page_at   timestamptz NOT NULL DEFAULT now(),
    committed_at   timestamptz,
    entered_count  integer,
    exited_count   integer,
    UNIQUE (cohort_key, session_id)
);
CREATE INDEX sync_session_open ON sync_session (cohort_key) WHERE state = 'open';

-- How many pages an action of a session has, as its pages say.
CREATE TABLE session_action (
    session_key  bigint NOT NULL REFERENCES sync_session ON DELETE CASCADE,
    action       text NOT NULL CHECK (action IN ('members', 'add_members', 'remove_members')),
    total_pages  integer NOT NULL CHECK (total_pages >= 1),
    PRIMARY KEY (session_key, action)
);

-- A page received and stored; its members are in staged_member under upload_id.
CREATE TABLE session_page (
    session_key   bigint NOT NULL,
    action        text NOT NULL,
    page_count    integer NOT NULL CHECK (page_count >= 1),
    upload_id     bigint NOT NULL UNIQUE,
    member_count  integer NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_key, action, page_count),
    FOREIGN KEY (session_key, action) REFERENCES session_action ON DELETE CASCADE
);

CREATE SEQUENCE upload_id_seq;

-- Members of stored pages, invisible until their session commits. Written by binary COPY before
-- the cohort is locked, so that pages of one session are staged in parallel.
CREATE TABLE staged_member (
    upload_id     bigint NOT NULL,
    ordinal       integer NOT NULL,
    distinct_id   text COLLATE "C" NOT NULL,
    email         text,
    first_name    text,
    last_name     text,
    phone_number  text,
    properties    jsonb NOT NULL
);
CREATE INDEX staged_member_upload ON staged_member (upload_id);

-- The members of a session's stored pages, as a commit reads them.
CREATE VIEW session_member AS
SELECT p.session_key, p.action, p.page_count, sm.ordinal, sm.distinct_id,
       sm.email, sm.first_name, sm.last_name, sm.phone_number, sm.properties
FROM session_page p
JOIN staged_member sm ON sm.upload_id = p.upload_id;

-- Who is in each cohort: exactly the last committed session's result.
CREATE TABLE membership (
    cohort_key   bigint NOT NULL REFERENCES cohort,
    distinct_id  text COLLATE "C" NOT NULL,
    session_key  bigint NOT NULL,
    entered_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_key, distinct_id)
);

-- The latest profile Mixpanel sent for each user of a project.
CREATE TABLE user_profile (
    project_id    text COLLATE "C" NOT NULL,
    distinct_id   text COLLATE "C" NOT NULL,
    email         text,
    first_name    text,
    last_name     text,
    phone_number  text,
    properties    jsonb NOT NULL DEFAULT '{}',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, distinct_id)
);

-- Every real change of membership, once: the unique key makes a second record impossible.
CREATE TABLE transition (
    transition_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cohort_key     bigint NOT NULL REFERENCES cohort,
    distinct_id    text COLLATE "C" NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('entered', 'exited')),
    session_key    bigint NOT NULL REFERENCES sync_session,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_key, distinct_id)
);
CREATE INDEX transition_cohort ON transition (cohort_key, transition_id);

-- Requests refused: never the body, never credentials.
CREATE TABLE rejected_request (
    rejection_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    status        integer NOT NULL,
    reason        text NOT NULL,
    message       text NOT NULL,
    size_bytes    bigint,
    action        text,
    project_id    text,
    cohort_id     text,
    session_id    text
);
CREATE INDEX rejected_request_time ON rejected_request (received_at DESC);
