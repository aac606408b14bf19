-- 0006: the recompute kept between runs and brought up to date incrementally (README "Incremental recompute",
-- BENCHMARKS.md "A million referrers").
--
-- A full recompute reads the whole referral history: at a million participants it costs several times what
-- PostgreSQL needs to aggregate that history, because the identity rules, the rejected rows and the row
-- accounting each need it again. Yet a night changes about 1% of the participants. So the derived data is kept:
--   referral_sync_participant_values  every participant's identity, four attributes and identity problem;
--   referral_sync_rejected_rows       every input row that does not count, with its reason and detail;
--   referral_sync_state               what they were computed for (as-of, currency, phone region, rules) and
--                                     the input tables' row counts, for the row accounting;
-- and a run first brings them up to date (referral_sync_refresh, sql/definitions/80_refresh.sql), recomputing only
-- the customers whose inputs changed since (referral_sync_changes, written by the triggers of
-- sql/definitions/70_change_notes.sql) or whose rows crossed the as-of date since the last refresh. The recompute of
-- a set of customers is the full recompute restricted to them, so both give the same rows (a test checks it after
-- random changes). A full recompute happens when there is no state yet, when the currency, the
-- phone region or the rules changed, after a TRUNCATE of an input table, and on --full-recompute.
--
-- The three tables are UNLOGGED: derived data, not worth WAL. After a crash PostgreSQL empties them, the state
-- row is gone with them, and the next run recomputes everything.

-- 0003's participant set and identity problems now live in referral_sync_refresh (the one definition).
DROP FUNCTION IF EXISTS referral_sync_participants(timestamptz, text);

-- The rows that cross the as-of date between two runs are found by these.
CREATE INDEX IF NOT EXISTS customers_opted_in_at_idx ON customers (opted_in_at);
CREATE INDEX IF NOT EXISTS referrals_created_at_idx ON referrals (created_at);
CREATE INDEX IF NOT EXISTS referral_orders_redeemed_at_idx ON referral_orders (redeemed_at);
CREATE INDEX IF NOT EXISTS referral_rejections_rejected_at_idx ON referral_rejections (rejected_at);

-- Which customers' derived rows are out of date. customer_id: a customer, or the referrer of a referral, that
-- was inserted, updated or deleted; referral_id: a referral whose orders or rejection changed (its referrer is
-- looked up when the state is refreshed, so an order may arrive before its referral's row is current);
-- everything: recompute every customer, for the reason given (an input table was truncated, or a run found
-- that its rows did not add up). No key: writers never wait for each other here, and duplicates are harmless.
CREATE UNLOGGED TABLE IF NOT EXISTS referral_sync_changes (
    customer_id text,
    referral_id text,
    everything  boolean NOT NULL DEFAULT false,
    why         text
);

CREATE UNLOGGED TABLE IF NOT EXISTS referral_sync_state (
    singleton                  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    -- The definitions the rows were computed with: the functions of sql/definitions, the server's version and the
    -- database's collation version (lower() and normalize() depend on them).
    rules_fingerprint          text NOT NULL,
    as_of                      timestamptz NOT NULL,
    currency                   text NOT NULL,
    minor_units                integer NOT NULL,
    default_region             text,
    refreshed_at               timestamptz NOT NULL,
    full_recompute_at          timestamptz NOT NULL,
    -- The row accounting (sql/queries/row_accounting.sql), counted on the refresh's snapshot.
    customers_read             bigint NOT NULL,
    customers_not_participants bigint NOT NULL,
    referrals_read             bigint NOT NULL,
    orders_read                bigint NOT NULL,
    rejections_read            bigint NOT NULL,
    rejections_counted         bigint NOT NULL
);

CREATE UNLOGGED TABLE IF NOT EXISTS referral_sync_participant_values (
    customer_id                       text PRIMARY KEY,
    email                             text,
    phone                             text,
    shareable_link                    text,
    send_email                        text,
    send_phone                        text,
    successful_referrals              text NOT NULL,
    latest_successful_referral_at     text,
    total_successful_referral_revenue text NOT NULL,
    -- Referrals of this customer that count (README "Rejected rows"), for the row accounting.
    counted_referrals                 bigint NOT NULL,
    problem                           text,
    problem_detail                    text
);
-- Who else holds an identity, looked up for the few identities a refresh touches.
CREATE INDEX IF NOT EXISTS referral_sync_participant_values_email_idx ON referral_sync_participant_values (send_email);
CREATE INDEX IF NOT EXISTS referral_sync_participant_values_phone_idx ON referral_sync_participant_values (send_phone);

CREATE UNLOGGED TABLE IF NOT EXISTS referral_sync_rejected_rows (
    "table"  text NOT NULL,
    key      text NOT NULL,
    -- The customer whose recompute produces this row: the referrer of the referral involved.
    owner_id text NOT NULL,
    reason   text NOT NULL,
    detail   text NOT NULL,
    PRIMARY KEY ("table", key)
);
CREATE INDEX IF NOT EXISTS referral_sync_rejected_rows_owner_idx ON referral_sync_rejected_rows (owner_id);
