-- Destinations of the kind mixpanel: events sent back to Mixpanel's /import, one per change delivered;
-- and the actions downstream systems report, stored once and forwarded to those destinations.

-- A webhook destination has a URL and a signing secret; a mixpanel one has neither, but a region, the
-- credentials /import takes (a service account's username and secret, or the project token as the secret
-- alone) and the events' names and constant properties. Secrets are stored because sending needs them.
ALTER TABLE destination
    ADD COLUMN kind text NOT NULL DEFAULT 'webhook' CHECK (kind IN ('webhook', 'mixpanel')),
    ALTER COLUMN url DROP NOT NULL,
    ALTER COLUMN secret DROP NOT NULL,
    ADD COLUMN mixpanel_region text CHECK (mixpanel_region IN ('US', 'EU', 'IN')),
    ADD COLUMN mixpanel_username text,
    ADD COLUMN mixpanel_secret text,
    ADD COLUMN mixpanel_project_id text,
    ADD COLUMN event_names jsonb,
    ADD COLUMN event_properties jsonb,
    -- Where forming the destination's batches of action reports continues: just after this report.
    ADD COLUMN reports_formed_position bigint NOT NULL DEFAULT 0,
    DROP CONSTRAINT destination_batch_size_check,
    ADD CONSTRAINT destination_batch_size_check
        CHECK (batch_size BETWEEN 1 AND CASE kind WHEN 'mixpanel' THEN 2000 ELSE 1000 END),
    ADD CONSTRAINT destination_kind_settings CHECK (
        CASE kind
            WHEN 'webhook' THEN url IS NOT NULL AND secret IS NOT NULL
            ELSE mixpanel_region IS NOT NULL AND mixpanel_secret IS NOT NULL AND event_names IS NOT NULL
                 AND event_properties IS NOT NULL AND (mixpanel_username IS NULL OR mixpanel_project_id IS NOT NULL)
        END);

-- What a downstream system reported it did, stored before it is acknowledged, once per report id. The
-- reports of a project are inserted one transaction at a time (an advisory lock), so their positions
-- become visible in order and forming, which reads past its place, never skips one.
CREATE SEQUENCE action_report_position;
CREATE TABLE action_report (
    project_id   text COLLATE "C" NOT NULL,
    report_id    text COLLATE "C" NOT NULL,
    position     bigint NOT NULL DEFAULT nextval('action_report_position'),
    distinct_id  text COLLATE "C" NOT NULL,
    event        text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    properties   jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, report_id)
);
CREATE UNIQUE INDEX action_report_order ON action_report (project_id, position);

-- A batch holds either feed changes (their first and last feed positions) or action reports (their first
-- and last report positions).
ALTER TABLE delivery_batch
    ALTER COLUMN first_position DROP NOT NULL,
    ALTER COLUMN first_distinct_id DROP NOT NULL,
    ALTER COLUMN last_position DROP NOT NULL,
    ALTER COLUMN last_distinct_id DROP NOT NULL,
    ADD COLUMN first_report bigint,
    ADD COLUMN last_report bigint,
    ADD CONSTRAINT delivery_batch_holds_one_kind
        CHECK ((first_position IS NULL) = (first_report IS NOT NULL) AND (last_position IS NULL) = (last_report IS NOT NULL));

-- The events Mixpanel refused in a 400 under strict=1 (index, insert_id, field, message): the others were
-- ingested, so the batch is done and these are what the operator is shown.
ALTER TABLE delivery_attempt ADD COLUMN failed_records jsonb;
