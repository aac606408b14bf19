-- 0017: when each input row arrived, and the revenue books' closes (README "Finance": "Closing a period",
-- "Arrival times"). Numbered 0017, not 0016, so it does not collide with another branch's 0016.
--
-- referral_sync_row_arrivals: one row per input row the triggers of sql/definitions/70_change_notes.sql have seen
-- (source: the input table; key: its primary key): when it was first seen, when it last changed (inserted,
-- updated or deleted) and when it was deleted (NULL while it exists). A table of referral-sync's own, so any
-- loader fills it and the input tables' public contract is unchanged. A row with no arrival row predates the
-- triggers (or this migration): it was there all along, arrived at the beginning.
CREATE TABLE IF NOT EXISTS referral_sync_row_arrivals (
    source       text NOT NULL,
    key          text NOT NULL,
    -- '-infinity' for a row first seen by an update or delete: it predates the triggers.
    first_seen   timestamptz NOT NULL,
    last_changed timestamptz NOT NULL,
    deleted_at   timestamptz,
    PRIMARY KEY (source, key)
);

-- A closed period of the booked basis (`referral-sync revenue --close`): per unit and zone, contiguous from the
-- first close, never reopened (no code deletes a row). figures: the period's revenue.csv row as reported at the
-- close, which every later booked report of the same unit and zone repeats figure for figure.
CREATE TABLE IF NOT EXISTS referral_sync_revenue_closes (
    unit         text NOT NULL,
    zone         text NOT NULL,
    period       text NOT NULL,
    label        text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    closed_at    timestamptz NOT NULL DEFAULT now(),
    closed_by    text NOT NULL DEFAULT current_user,
    as_of        timestamptz NOT NULL,
    currency     text NOT NULL,
    run_id       text NOT NULL,
    figures      jsonb NOT NULL,
    PRIMARY KEY (unit, zone, period)
);

-- What the closed periods have booked (sql/definitions/92_revenue_books.sql): at each close, the closed period's
-- own revenue lines (reason NULL) and the adjustments to earlier closed periods found since the previous close
-- (reason set, weight -1 for a line that is gone, +1 for one that is new), booked in the closed period. A line is
-- identified by its values; the sum of weights per line is what the books hold for it.
CREATE TABLE IF NOT EXISTS referral_sync_revenue_booked_entries (
    unit            text NOT NULL,
    zone            text NOT NULL,
    booked_in       text NOT NULL,
    booked_at       timestamptz NOT NULL,
    referral_id     text NOT NULL,
    referrer_id     text NOT NULL,
    order_id        text NOT NULL,
    dated_at        timestamptz NOT NULL,
    sign            integer NOT NULL,
    total_price     numeric NOT NULL,
    discount_amount numeric NOT NULL,
    weight          integer NOT NULL,
    reason          text,
    arrived_at      timestamptz
);
CREATE INDEX IF NOT EXISTS referral_sync_revenue_booked_entries_books_idx
    ON referral_sync_revenue_booked_entries (unit, zone, dated_at);
