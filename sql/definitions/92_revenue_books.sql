-- The revenue books (README "Finance": "Closing a period", "Adjustments to closed periods"): what a close keeps,
-- what a later booked report books as adjustments, and when a period may be closed. Built on the kept revenue
-- lines (90_revenue_report via 82_refresh_kept_rows), the closes and booked entries of migration 0017, and the
-- arrival times the triggers of 70_change_notes record (referral_sync_row_arrivals).
--
-- A close of period P (per unit and zone) books P's own lines and, as adjustments booked in P, every difference
-- between the lines now dated in the periods closed before P and what those periods' books hold: so an effect
-- that arrived after a period's close is booked in the first period still open when it arrived, and a row that
-- arrived after P ended but before P's close is in P. Between closes, the same differences are the pending
-- adjustments of the first open period (the period that starts where the last close ends). Over all periods
-- the books plus the pending adjustments are the lines now: booked with adjustments equals the redemption basis.

-- The lines now dated in closed periods that differ from the books: weight +1 a line the books lack (a late
-- order, an earlier order that now qualifies, a reversal by a rejection that arrived late), -1 a line the books
-- hold that is gone (the order was deleted or replaced, a back-dated rejection); each with why, from which rows
-- of its referral changed (a rejection counts when its arrival time is after the close of the line's period), and
-- when that row arrived (referral_sync_row_arrivals; NULL: before arrival times). Which lines are adjustments is
-- the difference alone, so a row deleted or updated, whose old values the input tables no longer hold, is found.
CREATE OR REPLACE FUNCTION referral_sync_revenue_pending_adjustments(p_unit text, p_zone text)
RETURNS TABLE (booked_at timestamptz, referral_id text, referrer_id text, order_id text, dated_at timestamptz,
               sign integer, total_price numeric, discount_amount numeric, weight integer, reason text,
               arrived_at timestamptz)
LANGUAGE sql STABLE AS $$
    WITH books AS (
        SELECT min(c.period_start) AS first_start, max(c.period_end) AS last_end
        FROM referral_sync_revenue_closes c
        WHERE c.unit = p_unit AND c.zone = p_zone
    ),
    lines_now AS (
        SELECT l.referral_id, l.referrer_id, l.order_id, l.dated_at, l.sign, l.total_price, l.discount_amount,
               count(*)::integer AS n
        FROM books b, referral_sync_revenue_kept_lines l
        -- No close: the first condition is false for the one row of books, and the kept lines are not read.
        WHERE b.first_start IS NOT NULL AND l.dated_at >= b.first_start AND l.dated_at < b.last_end
        GROUP BY 1, 2, 3, 4, 5, 6, 7
    ),
    lines_booked AS (
        SELECT e.referral_id, e.referrer_id, e.order_id, e.dated_at, e.sign, e.total_price, e.discount_amount,
               sum(e.weight)::integer AS n
        FROM referral_sync_revenue_booked_entries e
        WHERE e.unit = p_unit AND e.zone = p_zone
        GROUP BY 1, 2, 3, 4, 5, 6, 7
    ),
    differences AS (
        SELECT d.*,
               max(d.order_id) FILTER (WHERE d.weight > 0) OVER referral AS added_order,
               max(d.order_id) FILTER (WHERE d.weight < 0) OVER referral AS removed_order
        FROM (SELECT referral_id, referrer_id, order_id, dated_at, sign, total_price, discount_amount,
                     coalesce(x.n, 0) - coalesce(y.n, 0) AS weight
              FROM lines_now x
              FULL JOIN lines_booked y
                  USING (referral_id, referrer_id, order_id, dated_at, sign, total_price, discount_amount)
              WHERE coalesce(x.n, 0) <> coalesce(y.n, 0)) d
        WINDOW referral AS (PARTITION BY d.referral_id)
    ),
    -- The arrival rows and the orders the differences name, read once each by key and joined below: on Citus a
    -- store distributed by row keeps them on the workers, where a lookup per difference (a correlated subquery)
    -- cannot reach them (README "Several workers and a distributed PostgreSQL"). One arrival row per key (its
    -- latest), as a lookup by the key expects.
    arrivals AS MATERIALIZED (
        SELECT DISTINCT ON (a.source, a.key) a.source, a.key, a.first_seen, a.last_changed, a.deleted_at
        FROM (SELECT 'referral_rejections' AS source, d.referral_id AS key FROM differences d
              UNION SELECT 'referral_orders', d.order_id FROM differences d
              UNION SELECT 'referral_orders', d.added_order FROM differences d WHERE d.added_order IS NOT NULL) k
        JOIN referral_sync_row_arrivals a ON a.source = k.source AND a.key = k.key
        ORDER BY a.source, a.key, a.last_changed DESC
    ),
    orders_there AS MATERIALIZED (
        SELECT o.order_id
        FROM (SELECT DISTINCT d.order_id FROM differences d WHERE d.weight < 0) k
        JOIN referral_orders o ON o.order_id = k.order_id
    )
    SELECT b.last_end, d.referral_id, d.referrer_id, d.order_id, d.dated_at, d.sign, d.total_price,
           d.discount_amount, d.weight, w.reason,
           CASE w.reason
               WHEN 'late_rejection' THEN rejection.last_changed
               WHEN 'deleted_row' THEN own_order.deleted_at
               WHEN 'changed_row' THEN own_order.last_changed
               ELSE nullif(added_order.first_seen, '-infinity')
           END
    FROM differences d
    CROSS JOIN books b
    LEFT JOIN arrivals rejection ON rejection.source = 'referral_rejections' AND rejection.key = d.referral_id
    LEFT JOIN arrivals own_order ON own_order.source = 'referral_orders' AND own_order.key = d.order_id
    LEFT JOIN arrivals added_order
        ON added_order.source = 'referral_orders' AND added_order.key = coalesce(d.added_order, d.order_id)
    LEFT JOIN orders_there there ON there.order_id = d.order_id
    -- The close of the period the line is dated in: a rejection that arrived after it explains the difference.
    CROSS JOIN LATERAL (
        SELECT c.closed_at FROM referral_sync_revenue_closes c
        WHERE c.unit = p_unit AND c.zone = p_zone AND d.dated_at >= c.period_start AND d.dated_at < c.period_end
    ) k
    CROSS JOIN LATERAL (
        SELECT CASE
            WHEN (d.sign = -1 OR d.weight < 0) AND rejection.last_changed > k.closed_at THEN 'late_rejection'
            WHEN d.weight < 0 AND there.order_id IS NULL THEN 'deleted_row'
            WHEN d.added_order IS NOT NULL AND d.removed_order IS NOT NULL AND d.added_order <> d.removed_order
                THEN 'earlier_order'
            WHEN d.weight > 0 AND NOT EXISTS (SELECT FROM lines_booked y WHERE y.referral_id = d.referral_id)
                THEN 'late_order'
            ELSE 'changed_row'
        END AS reason
    ) w
$$;

-- Every adjustment to a closed period, booked or pending: those each close booked (weight ±1, with a reason) and
-- the pending ones, booked at the start of the first open period. amount: the effect on net revenue.
CREATE OR REPLACE FUNCTION referral_sync_revenue_adjustments(p_unit text, p_zone text)
RETURNS TABLE (booked_at timestamptz, dated_at timestamptz, referral_id text, order_id text, amount numeric,
               reason text, arrived_at timestamptz, pending boolean)
LANGUAGE sql STABLE AS $$
    SELECT e.booked_at, e.dated_at, e.referral_id, e.order_id, e.weight * e.sign * e.total_price, e.reason,
           e.arrived_at, false
    FROM referral_sync_revenue_booked_entries e
    WHERE e.unit = p_unit AND e.zone = p_zone AND e.reason IS NOT NULL
    UNION ALL
    SELECT p.booked_at, p.dated_at, p.referral_id, p.order_id, p.weight * p.sign * p.total_price, p.reason,
           p.arrived_at, true
    FROM referral_sync_revenue_pending_adjustments(p_unit, p_zone) p
$$;

-- Why a period may not be closed now, or NULL: already_closed (a close is never redone or reopened), not_ended
-- (its end is after as-of), predecessor_open (the period just before it is not closed; before the first close of
-- a unit and zone, the predecessor is open when any revenue line is dated before the period, so the books start
-- at the first period with a dated line or later, with nothing left behind them).
CREATE OR REPLACE FUNCTION referral_sync_revenue_close_refusal(
    p_unit text, p_zone text, p_period_start timestamptz, p_period_end timestamptz, p_as_of timestamptz)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT FROM referral_sync_revenue_closes c
                     WHERE c.unit = p_unit AND c.zone = p_zone AND c.period_start = p_period_start)
            THEN 'already_closed'
        WHEN p_period_end > p_as_of THEN 'not_ended'
        WHEN EXISTS (SELECT FROM referral_sync_revenue_closes c WHERE c.unit = p_unit AND c.zone = p_zone)
            THEN CASE WHEN EXISTS (SELECT FROM referral_sync_revenue_closes c
                                   WHERE c.unit = p_unit AND c.zone = p_zone AND c.period_end = p_period_start)
                      THEN NULL ELSE 'predecessor_open' END
        WHEN EXISTS (SELECT FROM referral_sync_revenue_kept_lines l WHERE l.dated_at < p_period_start)
            THEN 'predecessor_open'
    END
$$;

-- Closes a period (after referral_sync_revenue_close_refusal said nothing): books the pending adjustments in it,
-- then its own lines, then records the close with the figures the report has for it.
CREATE OR REPLACE FUNCTION referral_sync_revenue_close(
    p_unit text, p_zone text, p_period text, p_label text, p_period_start timestamptz, p_period_end timestamptz,
    p_as_of timestamptz, p_currency text, p_run_id text, p_figures jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO referral_sync_revenue_booked_entries (
        unit, zone, booked_in, booked_at, referral_id, referrer_id, order_id, dated_at, sign, total_price,
        discount_amount, weight, reason, arrived_at)
    SELECT p_unit, p_zone, p_period, p_period_start, a.referral_id, a.referrer_id, a.order_id, a.dated_at, a.sign,
           a.total_price, a.discount_amount, a.weight, a.reason, a.arrived_at
    FROM referral_sync_revenue_pending_adjustments(p_unit, p_zone) a
    UNION ALL
    SELECT p_unit, p_zone, p_period, p_period_start, l.referral_id, l.referrer_id, l.order_id, l.dated_at, l.sign,
           l.total_price, l.discount_amount, 1, NULL, NULL
    FROM referral_sync_revenue_kept_lines l
    WHERE l.dated_at >= p_period_start AND l.dated_at < p_period_end;
    INSERT INTO referral_sync_revenue_closes (
        unit, zone, period, label, period_start, period_end, as_of, currency, run_id, figures)
    VALUES (p_unit, p_zone, p_period, p_label, p_period_start, p_period_end, p_as_of, p_currency, p_run_id,
            p_figures);
END
$$;
