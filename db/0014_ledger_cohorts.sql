-- Where each destination's ledger of a cohort began: the earliest commit position among the stays written by the
-- step of forming that wrote its first ones. Stays are written only by forming, in feed order, and a commit holds
-- one change per user: every stay was last changed at or after that commit, so a change formed later in that
-- same commit is of a user the ledger holds no stay for, and forming does not look it up. A first sync of a
-- million members was a million index probes that all found nothing.
CREATE TABLE destination_ledger_cohort (
    destination_id  uuid NOT NULL,
    cohort_id       text COLLATE "C" NOT NULL,
    first_position  bigint NOT NULL,
    PRIMARY KEY (destination_id, cohort_id)
);

-- Ledgers begun before this table are marked as begun at position 0, before every commit: their stays are
-- always looked up, as they were.
INSERT INTO destination_ledger_cohort (destination_id, cohort_id, first_position)
SELECT DISTINCT destination_id, cohort_id, 0 FROM destination_ledger;
