-- The revenue report's referrers (README "Finance", reports/README.md "referrers.csv"): every referrer with a line
-- dated in the range, with its successful referrals, revenue and discounts net of the reversals dated in the range
-- (booked basis), and its first and last successful redemption in the range (RFC 3339 in the report's zone, the
-- session's TimeZone); by revenue, highest first, then customer_id. Reads referral_sync_report_lines, aggregated
-- per referrer (once: MATERIALIZED) before the join with customers, and joined to the forgotten referrers alone:
-- in a store distributed by row (README "Several workers and a distributed PostgreSQL") Citus sends the
-- coordinator's sets to each shard's task, and with the aggregate inlined and every kept value joined it sent every
-- line and every value, and each of the 32 tasks aggregated them all again.
-- Parameters: $1 range start, $2 range end (exclusive), $3 minor units.
WITH per_referrer AS MATERIALIZED (
    SELECT l.referrer_id, sum(l.sign) AS successes,
           coalesce(sum(l.total_price) FILTER (WHERE l.sign = 1), 0)
               - coalesce(sum(l.total_price) FILTER (WHERE l.sign = -1), 0) AS revenue,
           coalesce(sum(l.discount_amount) FILTER (WHERE l.sign = 1), 0)
               - coalesce(sum(l.discount_amount) FILTER (WHERE l.sign = -1), 0) AS discounts,
           min(l.redeemed_at) FILTER (WHERE l.sign = 1) AS first_success_at,
           max(l.redeemed_at) FILTER (WHERE l.sign = 1) AS last_success_at
    FROM referral_sync_report_lines l
    WHERE l.dated_at >= $1::timestamptz AND l.dated_at < $2::timestamptz
    GROUP BY l.referrer_id
)
SELECT p.referrer_id AS customer_id,
       -- A forgotten referrer (README "Personal data") keeps its figures, anonymous.
       CASE WHEN f.customer_id IS NULL THEN c.email END AS email, p.successes AS successful_referrals,
       referral_sync_money(p.revenue, $3) AS revenue, referral_sync_money(p.discounts, $3) AS discounts,
       to_char(p.first_success_at, 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM') AS first_success_at,
       to_char(p.last_success_at, 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM') AS last_success_at
FROM per_referrer p
JOIN customers c ON c.customer_id = p.referrer_id
LEFT JOIN (SELECT v.customer_id FROM referral_sync_participant_values v WHERE v.problem = 'forgotten') f
    ON f.customer_id = p.referrer_id
ORDER BY p.revenue DESC, p.referrer_id
