-- The revenue report's periods (README "Finance", reports/README.md "revenue.csv"): one row per period of the range,
-- contiguous (a period with nothing is a row of zeros), then the totals row. Every figure is its exact sum rounded
-- once by the money rule (sql/definitions/30_money.sql); the totals row also says by how much the rounded periods
-- differ from the rounded total (sub-minor-unit amounts) and whether the exact periods add up to the exact totals.
-- Periods are date_trunc(unit) of the local time in the zone, so a daylight-saving day is one period of 23 or 25
-- hours. Reads referral_sync_report_lines and referral_sync_report_referrals (revenue_lines.sql,
-- revenue_referrals.sql); the session's TimeZone is the report's zone (offsets in period_start, period_end).
-- Parameters: $1 zone, $2 unit, $3 step, $4 range start (local), $5 range end (local, exclusive), $6 minor units,
-- $7 label format (to_char) of the unit.
WITH bounds AS (
    SELECT $4::timestamp AS first_local, $5::timestamp AS end_local,
           $4::timestamp AT TIME ZONE $1 AS range_start, $5::timestamp AT TIME ZONE $1 AS range_end
),
periods AS (
    SELECT p AS local_start, greatest(p, b.first_local) AT TIME ZONE $1 AS period_start,
           least(p + $3::interval, b.end_local) AT TIME ZONE $1 AS period_end
    FROM bounds b,
         generate_series(date_trunc($2, b.first_local), b.end_local - interval '1 microsecond', $3::interval) AS p
),
lines AS (
    SELECT date_trunc($2, l.dated_at AT TIME ZONE $1) AS local_start, l.*
    FROM referral_sync_report_lines l, bounds b
    WHERE l.dated_at >= b.range_start AND l.dated_at < b.range_end
),
figures AS (
    SELECT l.local_start,
           count(*) FILTER (WHERE l.sign = 1) AS successes,
           count(DISTINCT l.referrer_id) FILTER (WHERE l.sign = 1) AS referrers,
           coalesce(sum(l.total_price) FILTER (WHERE l.sign = 1), 0) AS revenue,
           coalesce(sum(l.discount_amount) FILTER (WHERE l.sign = 1), 0) AS discounts,
           count(*) FILTER (WHERE l.sign = -1) AS reversals,
           coalesce(sum(l.total_price) FILTER (WHERE l.sign = -1), 0) AS reversed_revenue
    FROM lines l
    GROUP BY l.local_start
),
created AS (
    SELECT date_trunc($2, c.created_at AT TIME ZONE $1) AS local_start, count(*) AS referrals_created
    FROM referral_sync_report_referrals c, bounds b
    WHERE c.created_at >= b.range_start AND c.created_at < b.range_end
    GROUP BY 1
),
period_rows AS (
    SELECT p.local_start, p.period_start, p.period_end, coalesce(c.referrals_created, 0) AS referrals_created,
           coalesce(f.successes, 0) AS successes, coalesce(f.referrers, 0) AS referrers,
           coalesce(f.revenue, 0) AS revenue, coalesce(f.discounts, 0) AS discounts,
           coalesce(f.reversals, 0) AS reversals, coalesce(f.reversed_revenue, 0) AS reversed_revenue
    FROM periods p
    LEFT JOIN figures f ON f.local_start = p.local_start
    LEFT JOIN created c ON c.local_start = p.local_start
),
-- The totals straight from the lines of the range, not from the periods: the check below compares the two.
totals AS (
    SELECT (SELECT count(*) FROM referral_sync_report_referrals c, bounds b
            WHERE c.created_at >= b.range_start AND c.created_at < b.range_end) AS referrals_created,
           count(*) FILTER (WHERE l.sign = 1) AS successes,
           count(DISTINCT l.referrer_id) FILTER (WHERE l.sign = 1) AS referrers,
           coalesce(sum(l.total_price) FILTER (WHERE l.sign = 1), 0) AS revenue,
           coalesce(sum(l.discount_amount) FILTER (WHERE l.sign = 1), 0) AS discounts,
           count(*) FILTER (WHERE l.sign = -1) AS reversals,
           coalesce(sum(l.total_price) FILTER (WHERE l.sign = -1), 0) AS reversed_revenue
    FROM lines l
),
period_sums AS (
    SELECT coalesce(sum(r.referrals_created), 0) AS referrals_created, coalesce(sum(r.successes), 0) AS successes,
           coalesce(sum(r.revenue), 0) AS revenue, coalesce(sum(r.discounts), 0) AS discounts,
           coalesce(sum(r.reversals), 0) AS reversals, coalesce(sum(r.reversed_revenue), 0) AS reversed_revenue,
           coalesce(sum(referral_sync_money(r.revenue, $6)::numeric), 0) AS rounded_revenue,
           coalesce(sum(referral_sync_money(r.discounts, $6)::numeric), 0) AS rounded_discounts,
           coalesce(sum(referral_sync_money(r.reversed_revenue, $6)::numeric), 0) AS rounded_reversed_revenue,
           coalesce(sum(referral_sync_money(r.revenue - r.reversed_revenue, $6)::numeric), 0) AS rounded_net_revenue
    FROM period_rows r
)
SELECT 'period' AS kind, to_char(r.local_start, 'YYYY-MM-DD') AS period, to_char(r.local_start, $7) AS label,
       to_char(r.period_start, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') AS period_start,
       to_char(r.period_end, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') AS period_end,
       r.referrals_created, r.successes AS successful_referrals, r.referrers,
       referral_sync_money(r.revenue, $6) AS revenue, referral_sync_money(r.discounts, $6) AS discounts,
       referral_sync_money(coalesce(r.revenue / nullif(r.successes, 0), 0), $6) AS average_order_value,
       r.reversals AS reversed_referrals, referral_sync_money(r.reversed_revenue, $6) AS reversed_revenue,
       referral_sync_money(r.revenue - r.reversed_revenue, $6) AS net_revenue,
       NULL::text AS revenue_rounding, NULL::text AS discounts_rounding, NULL::text AS reversed_revenue_rounding,
       NULL::text AS net_revenue_rounding, NULL::boolean AS adds_up
FROM period_rows r
UNION ALL
SELECT 'total', NULL, 'Total', to_char(b.range_start, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'),
       to_char(b.range_end, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'),
       t.referrals_created, t.successes, t.referrers,
       referral_sync_money(t.revenue, $6), referral_sync_money(t.discounts, $6),
       referral_sync_money(coalesce(t.revenue / nullif(t.successes, 0), 0), $6),
       t.reversals, referral_sync_money(t.reversed_revenue, $6),
       referral_sync_money(t.revenue - t.reversed_revenue, $6),
       -- The rounded total minus the sum of the rounded periods: what rounding each period once left over.
       referral_sync_money(referral_sync_money(t.revenue, $6)::numeric - s.rounded_revenue, $6),
       referral_sync_money(referral_sync_money(t.discounts, $6)::numeric - s.rounded_discounts, $6),
       referral_sync_money(referral_sync_money(t.reversed_revenue, $6)::numeric - s.rounded_reversed_revenue, $6),
       referral_sync_money(
           referral_sync_money(t.revenue - t.reversed_revenue, $6)::numeric - s.rounded_net_revenue, $6),
       (t.referrals_created, t.successes, t.revenue, t.discounts, t.reversals, t.reversed_revenue)
           = (s.referrals_created, s.successes, s.revenue, s.discounts, s.reversals, s.reversed_revenue)
FROM totals t, period_sums s, bounds b
ORDER BY kind, period
