-- The revenue report's periods (README "Finance", reports/README.md "revenue.csv"): one row per period of the range,
-- contiguous (a period with nothing is a row of zeros), then the totals row. Every figure is its exact sum rounded
-- once by the money rule (sql/definitions/30_money.sql); the totals row also says by how much the rounded periods
-- differ from the rounded total (sub-minor-unit amounts) and whether the exact periods add up to the exact totals.
-- Periods are date_trunc(unit) of the local time in the zone, so a daylight-saving day is one period of 23 or 25
-- hours, starting at the first instant of its local start (referral_sync_zone_start, 20_dates: where clocks go back
-- at midnight, the repeated hour belongs to the day its clocks show); a row's period is found among the periods'
-- first instants by width_bucket (a binary search, cheaper than the local time of every row), and each figure of
-- the periods and of the range comes from one pass (grouping sets).
-- Reads referral_sync_report_lines and referral_sync_report_referrals (revenue_lines.sql,
-- revenue_referrals.sql); the session's TimeZone is the report's zone (offsets in period_start, period_end).
-- In the booked basis (the setting referral_sync.report_booked) the books of this unit and zone
-- (sql/definitions/92_revenue_books.sql): a closed period's row is its figures as closed, every period's
-- adjustments are those booked in it (pending ones in the first open period), adjusted_net_revenue is net revenue
-- plus adjustments; the totals row's adjusted_net_revenue adds up the periods' (whole history: the net revenue of
-- the lines now). In the redemption basis, and before any close, adjustments are 0 and the rest is as it was.
-- Parameters: $1 zone, $2 unit, $3 step, $4 range start (local), $5 range end (local, exclusive), $6 minor units,
-- $7 label format (to_char) of the unit.
WITH bounds AS (
    SELECT $4::timestamp AS first_local, $5::timestamp AS end_local,
           referral_sync_zone_start($4::timestamp, $1) AS range_start,
           referral_sync_zone_start($5::timestamp, $1) AS range_end
),
periods AS MATERIALIZED (
    SELECT p.p AS local_start, p.bucket, referral_sync_zone_start(greatest(p.p, b.first_local), $1) AS period_start,
           referral_sync_zone_start(least(p.p + $3::interval, b.end_local), $1) AS period_end
    FROM bounds b,
         generate_series(date_trunc($2, b.first_local), b.end_local - interval '1 microsecond', $3::interval)
             WITH ORDINALITY AS p (p, bucket)
),
-- The instants where the periods start, and the range's end: width_bucket (a binary search) finds the period of an
-- instant, 1 for the first; cheaper than the local time of every row.
thresholds AS MATERIALIZED (
    SELECT array_agg(p.period_start ORDER BY p.bucket) || (SELECT b.range_end FROM bounds b) AS starts FROM periods p
),
lines AS NOT MATERIALIZED (
    SELECT width_bucket(l.dated_at, t.starts) AS bucket, l.referrer_id, l.sign, l.total_price, l.discount_amount
    FROM referral_sync_report_lines l, bounds b, thresholds t
    WHERE l.dated_at >= b.range_start AND l.dated_at < b.range_end
),
-- Each period's figures and (the empty grouping set) the range's, from one pass over the lines.
figures AS MATERIALIZED (
    SELECT l.bucket,
           count(*) FILTER (WHERE l.sign = 1) AS successes,
           coalesce(sum(l.total_price) FILTER (WHERE l.sign = 1), 0) AS revenue,
           coalesce(sum(l.discount_amount) FILTER (WHERE l.sign = 1), 0) AS discounts,
           count(*) FILTER (WHERE l.sign = -1) AS reversals,
           coalesce(sum(l.total_price) FILTER (WHERE l.sign = -1), 0) AS reversed_revenue
    FROM lines l
    GROUP BY GROUPING SETS ((l.bucket), ())
),
-- Distinct referrers with a success, per period and in the range.
referrers AS MATERIALIZED (
    SELECT d.bucket, count(*) AS referrers
    FROM (SELECT DISTINCT l.bucket, l.referrer_id FROM lines l WHERE l.sign = 1) d
    GROUP BY d.bucket
    UNION ALL
    SELECT NULL, count(*) FROM (SELECT DISTINCT l.referrer_id FROM lines l WHERE l.sign = 1) d
),
created AS MATERIALIZED (
    SELECT width_bucket(c.created_at, t.starts) AS bucket, count(*) AS referrals_created
    FROM referral_sync_report_referrals c, bounds b, thresholds t
    WHERE c.created_at >= b.range_start AND c.created_at < b.range_end
    GROUP BY GROUPING SETS ((1), ())
),
books AS MATERIALIZED (
    SELECT coalesce(current_setting('referral_sync.report_booked', true)::boolean, false) AS booked
),
closed AS MATERIALIZED (
    SELECT c.period, c.figures
    FROM referral_sync_revenue_closes c, books k
    WHERE k.booked AND c.unit = $2 AND c.zone = $1
),
adjustments AS MATERIALIZED (
    SELECT width_bucket(a.booked_at, t.starts) AS bucket, sum(a.amount) AS amount
    -- No unit outside the booked basis: the books are then not read at all, whatever the plan.
    FROM books k, bounds b, thresholds t,
         LATERAL referral_sync_revenue_adjustments(CASE WHEN k.booked THEN $2 END, $1) a
    WHERE a.booked_at >= b.range_start AND a.booked_at < b.range_end
    GROUP BY GROUPING SETS ((1), ())
),
period_rows AS (
    SELECT p.local_start, p.period_start, p.period_end, coalesce(c.referrals_created, 0) AS referrals_created,
           coalesce(f.successes, 0) AS successes, coalesce(r.referrers, 0) AS referrers,
           coalesce(f.revenue, 0) AS revenue, coalesce(f.discounts, 0) AS discounts,
           coalesce(f.reversals, 0) AS reversals, coalesce(f.reversed_revenue, 0) AS reversed_revenue,
           coalesce(a.amount, 0) AS adjustments, k.figures AS closed
    FROM periods p
    LEFT JOIN closed k ON k.period = to_char(p.local_start, 'YYYY-MM-DD')
    LEFT JOIN adjustments a ON a.bucket = p.bucket
    LEFT JOIN figures f ON f.bucket = p.bucket
    LEFT JOIN referrers r ON r.bucket = p.bucket
    LEFT JOIN created c ON c.bucket = p.bucket
),
-- The range's totals from the same passes (the empty grouping sets), not from the periods: the check below
-- compares the two, so a line outside every period would show.
totals AS (
    SELECT coalesce((SELECT c.referrals_created FROM created c WHERE c.bucket IS NULL), 0) AS referrals_created,
           coalesce(f.successes, 0) AS successes,
           coalesce((SELECT r.referrers FROM referrers r WHERE r.bucket IS NULL), 0) AS referrers,
           coalesce(f.revenue, 0) AS revenue, coalesce(f.discounts, 0) AS discounts,
           coalesce(f.reversals, 0) AS reversals, coalesce(f.reversed_revenue, 0) AS reversed_revenue
    FROM (SELECT 1) AS one LEFT JOIN figures f ON f.bucket IS NULL
),
period_sums AS (
    SELECT coalesce(sum(r.referrals_created), 0) AS referrals_created, coalesce(sum(r.successes), 0) AS successes,
           coalesce(sum(r.revenue), 0) AS revenue, coalesce(sum(r.discounts), 0) AS discounts,
           coalesce(sum(r.reversals), 0) AS reversals, coalesce(sum(r.reversed_revenue), 0) AS reversed_revenue,
           coalesce(sum(referral_sync_money(r.revenue, $6)::numeric), 0) AS rounded_revenue,
           coalesce(sum(referral_sync_money(r.discounts, $6)::numeric), 0) AS rounded_discounts,
           coalesce(sum(referral_sync_money(r.reversed_revenue, $6)::numeric), 0) AS rounded_reversed_revenue,
           coalesce(sum(referral_sync_money(r.revenue - r.reversed_revenue, $6)::numeric), 0) AS rounded_net_revenue,
           coalesce(sum(coalesce((r.closed ->> 'adjusted_net_revenue')::numeric,
                                 r.revenue - r.reversed_revenue + r.adjustments)), 0) AS adjusted_net_revenue
    FROM period_rows r
)
SELECT 'period' AS kind, to_char(r.local_start, 'YYYY-MM-DD') AS period, to_char(r.local_start, $7) AS label,
       to_char(r.period_start, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') AS period_start,
       to_char(r.period_end, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') AS period_end,
       coalesce((r.closed ->> 'referrals_created')::bigint, r.referrals_created) AS referrals_created,
       coalesce((r.closed ->> 'successful_referrals')::bigint, r.successes) AS successful_referrals,
       coalesce((r.closed ->> 'referrers')::bigint, r.referrers) AS referrers,
       coalesce(r.closed ->> 'revenue', referral_sync_money(r.revenue, $6)) AS revenue,
       coalesce(r.closed ->> 'discounts', referral_sync_money(r.discounts, $6)) AS discounts,
       coalesce(r.closed ->> 'average_order_value',
                referral_sync_money(coalesce(r.revenue / nullif(r.successes, 0), 0), $6)) AS average_order_value,
       coalesce((r.closed ->> 'reversed_referrals')::bigint, r.reversals) AS reversed_referrals,
       coalesce(r.closed ->> 'reversed_revenue', referral_sync_money(r.reversed_revenue, $6)) AS reversed_revenue,
       coalesce(r.closed ->> 'net_revenue', referral_sync_money(r.revenue - r.reversed_revenue, $6)) AS net_revenue,
       NULL::text AS revenue_rounding, NULL::text AS discounts_rounding, NULL::text AS reversed_revenue_rounding,
       NULL::text AS net_revenue_rounding, NULL::boolean AS adds_up,
       coalesce(r.closed ->> 'adjustments', referral_sync_money(r.adjustments, $6)) AS adjustments,
       coalesce(r.closed ->> 'adjusted_net_revenue',
                referral_sync_money(r.revenue - r.reversed_revenue + r.adjustments, $6)) AS adjusted_net_revenue,
       r.closed IS NOT NULL AS closed
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
           = (s.referrals_created, s.successes, s.revenue, s.discounts, s.reversals, s.reversed_revenue),
       referral_sync_money(coalesce((SELECT a.amount FROM adjustments a WHERE a.bucket IS NULL), 0), $6),
       referral_sync_money(s.adjusted_net_revenue, $6), false
FROM totals t, period_sums s, bounds b
ORDER BY kind, period
