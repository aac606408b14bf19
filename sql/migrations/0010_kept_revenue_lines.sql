-- 0010: the revenue report's working set kept with the recompute (README "Finance", "Incremental recompute";
-- BENCHMARKS.md "The revenue report"). A report over all history used to evaluate the qualifying-order rules
-- (sql/definitions/50, 52, 90) over every order, several times what aggregating the history costs. The refresh
-- (referral_sync_refresh, sql/definitions/80_refresh.sql) computes those rules for the customers it recomputes
-- anyway, so it now also keeps, like referral_sync_participant_values and with the same owners:
--   referral_sync_revenue_kept_lines    every line of both bases (referral_sync_revenue_line_dates) with its
--                                       order's discount and its referral's channel and creation;
--   referral_sync_counted_referrals     every referral that counts (40_referral_checks) with its channel;
-- and the report aggregates these rows. Keyed by the referrer (the customer whose recompute writes them).
-- UNLOGGED like the other kept tables: after a crash they are empty with the state row, so the next refresh is a
-- full one. A database migrated from 0009 has a state row but no kept lines: the definitions change with this
-- migration, so the rules fingerprint differs and its next refresh is a full one.
CREATE UNLOGGED TABLE IF NOT EXISTS referral_sync_revenue_kept_lines (
    referral_id     text NOT NULL,
    referrer_id     text NOT NULL,
    order_id        text NOT NULL,
    redeemed_at     timestamptz NOT NULL,
    dated_at        timestamptz NOT NULL,
    sign            integer NOT NULL,
    total_price     numeric NOT NULL,
    discount_amount numeric NOT NULL,
    -- Not in the redemption basis: the booking and reversal of a referral rejected after its qualifying order.
    booked_only     boolean NOT NULL,
    channel         text,
    -- Its referral's created_at, for the conversion of the referrals created in a range (revenue_channels.sql).
    referral_created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS referral_sync_revenue_kept_lines_referrer_idx
    ON referral_sync_revenue_kept_lines (referrer_id);

CREATE UNLOGGED TABLE IF NOT EXISTS referral_sync_counted_referrals (
    referral_id text NOT NULL,
    referrer_id text NOT NULL,
    created_at  timestamptz NOT NULL,
    channel     text
);
CREATE INDEX IF NOT EXISTS referral_sync_counted_referrals_referrer_idx ON referral_sync_counted_referrals (referrer_id);
