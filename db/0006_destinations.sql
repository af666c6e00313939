-- Destinations: HTTP endpoints that are sent the change feed, signed, in batches, at least once.

CREATE TABLE destination (
    destination_id         uuid PRIMARY KEY,
    project_id             text COLLATE "C" NOT NULL,
    url                    text NOT NULL,
    -- NULL: every cohort of the project.
    cohort_ids             text[] COLLATE "C",
    kinds                  text[] NOT NULL CHECK (kinds <@ ARRAY['entered', 'exited'] AND cardinality(kinds) > 0),
    batch_size             integer NOT NULL CHECK (batch_size BETWEEN 1 AND 1000),
    enabled                boolean NOT NULL,
    -- active: delivering; failing: the retry schedule ran out; gone: the destination answered 410.
    state                  text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'failing', 'gone')),
    reentry_cooldown_seconds integer CHECK (reentry_cooldown_seconds > 0),
    -- Standard Webhooks secrets (whsec_...). During a rotation the previous one signs too, until its time.
    secret                 text NOT NULL,
    previous_secret        text,
    previous_secret_until  timestamptz,
    -- Where batch forming continues in the feed: just after this transition.
    formed_position        bigint NOT NULL,
    formed_distinct_id     text COLLATE "C" NOT NULL,
    -- An operator's replay under way: from just after this place up to and including the end.
    replay_position        bigint,
    replay_distinct_id     text COLLATE "C",
    replay_end_position    bigint,
    replay_end_distinct_id text COLLATE "C",
    next_batch             bigint NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX destination_project ON destination (project_id);

-- A batch's id and body are fixed when it is formed, before its first attempt: every retry, on any host
-- and after any crash, sends the same webhook-id with the same changes. Batches of a destination are
-- delivered one at a time in batch order, which is feed order.
CREATE TABLE delivery_batch (
    destination_id    uuid NOT NULL REFERENCES destination ON DELETE CASCADE,
    batch             bigint NOT NULL,
    webhook_id        text NOT NULL UNIQUE,
    body              text NOT NULL,
    change_count      integer NOT NULL,
    first_position    bigint NOT NULL,
    first_distinct_id text COLLATE "C" NOT NULL,
    last_position     bigint NOT NULL,
    last_distinct_id  text COLLATE "C" NOT NULL,
    -- The commit time of the batch's oldest change: how far behind the feed the destination is.
    oldest_change_at  timestamptz NOT NULL,
    replay            boolean NOT NULL,
    state             text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered')),
    attempts          integer NOT NULL DEFAULT 0,
    -- Where in the retry schedule the next attempt is (enabling a failing destination starts it again).
    schedule_step     integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    formed_at         timestamptz NOT NULL DEFAULT now(),
    delivered_at      timestamptz,
    PRIMARY KEY (destination_id, batch)
);
CREATE INDEX delivery_batch_pending ON delivery_batch (destination_id, batch) WHERE state = 'pending';

-- Each attempt's answer: the status (NULL when none came: a timeout, a refused connection) and why.
CREATE TABLE delivery_attempt (
    destination_id  uuid NOT NULL,
    batch           bigint NOT NULL,
    attempt         integer NOT NULL,
    started_at      timestamptz NOT NULL,
    latency_ms      integer NOT NULL,
    status          integer,
    outcome         text NOT NULL,
    error           text,
    PRIMARY KEY (destination_id, batch, attempt),
    FOREIGN KEY (destination_id, batch) REFERENCES delivery_batch ON DELETE CASCADE
);

-- Targeted once: each user's stay in each cohort as the destination was sent it.
CREATE TABLE destination_ledger (
    destination_id  uuid NOT NULL REFERENCES destination ON DELETE CASCADE,
    cohort_id       text COLLATE "C" NOT NULL,
    distinct_id     text COLLATE "C" NOT NULL,
    in_cohort       boolean NOT NULL,
    targeted        boolean NOT NULL,
    exited_at       timestamptz,
    last_position   bigint NOT NULL,
    last_distinct_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (destination_id, cohort_id, distinct_id)
);
