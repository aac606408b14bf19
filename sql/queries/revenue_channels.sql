-- The revenue report's channels (README "Finance", reports/README.md "channels.csv"): per referrals.channel over
-- the range, the referrals created (that count), the successful referrals and revenue net of the reversals dated
-- in the range (booked basis; none in the redemption basis), so the channels add up to the periods' totals; and
-- the conversion of the referrals created in the range: the share of them successful as of as-of, in percent.
-- Reads referral_sync_report_lines (revenue_lines.sql) and the kept referral_sync_counted_referrals. A missing
-- channel is ''. A referral is successful as of as-of when it has a line that is not booked-only (its lines then
-- add up to one, as referral_sync_report_referrals says), so the converted ones are counted from the lines, with
-- their referral's created_at, rather than by joining every referral that counts with its lines; both from one
-- pass over the lines.
-- Parameters: $1 range start, $2 range end (exclusive), $3 minor units.
WITH line_figures AS (
    SELECT coalesce(l.channel, '') AS channel,
           sum(l.sign) FILTER (WHERE l.dated_at >= $1::timestamptz AND l.dated_at < $2::timestamptz) AS successes,
           sum(CASE WHEN l.sign = 1 THEN l.total_price ELSE -l.total_price END)
               FILTER (WHERE l.dated_at >= $1::timestamptz AND l.dated_at < $2::timestamptz) AS revenue,
           count(*) FILTER (WHERE NOT l.booked_only AND l.referral_created_at >= $1::timestamptz
                                  AND l.referral_created_at < $2::timestamptz) AS converted
    FROM referral_sync_report_lines l
    GROUP BY 1
),
created AS (
    SELECT coalesce(c.channel, '') AS channel, count(*) AS created
    FROM referral_sync_counted_referrals c
    WHERE c.created_at >= $1::timestamptz AND c.created_at < $2::timestamptz
    GROUP BY 1
)
SELECT coalesce(f.channel, c.channel) AS channel, coalesce(c.created, 0) AS referrals_created,
       coalesce(f.successes, 0) AS successful_referrals,
       CASE WHEN c.channel IS NULL THEN 0 ELSE coalesce(f.converted, 0) END AS converted_referrals,
       CASE WHEN coalesce(c.created, 0) = 0 THEN NULL
            ELSE referral_sync_money(100::numeric * coalesce(f.converted, 0) / c.created, 1) END AS conversion_percent,
       referral_sync_money(coalesce(f.revenue, 0), $3) AS revenue,
       referral_sync_money(coalesce(f.revenue / nullif(f.successes, 0), 0), $3) AS average_order_value
FROM line_figures f
FULL JOIN created c ON c.channel = f.channel
-- A channel with a line dated in the range (its sums are then not NULL) or a referral created in it.
WHERE f.successes IS NOT NULL OR c.channel IS NOT NULL
ORDER BY coalesce(f.revenue, 0) DESC, 1
