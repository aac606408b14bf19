-- The revenue report's referrers (README "Finance", reports/README.md "referrers.csv"): every referrer with a line
-- dated in the range, with its successful referrals, revenue and discounts net of the reversals dated in the range
-- (booked basis), and its first and last successful redemption in the range (RFC 3339 in the report's zone, the
-- session's TimeZone); by revenue, highest first, then customer_id. Reads referral_sync_report_lines.
-- Parameters: $1 range start, $2 range end (exclusive), $3 minor units.
SELECT l.referrer_id AS customer_id, c.email, sum(l.sign) AS successful_referrals,
       referral_sync_money(sum(l.sign * l.total_price), $3) AS revenue,
       referral_sync_money(sum(l.sign * l.discount_amount), $3) AS discounts,
       to_char(min(l.redeemed_at) FILTER (WHERE l.sign = 1), 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM') AS first_success_at,
       to_char(max(l.redeemed_at) FILTER (WHERE l.sign = 1), 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM') AS last_success_at
FROM referral_sync_report_lines l
JOIN customers c ON c.customer_id = l.referrer_id
WHERE l.dated_at >= $1::timestamptz AND l.dated_at < $2::timestamptz
GROUP BY l.referrer_id, c.email
ORDER BY sum(l.sign * l.total_price) DESC, l.referrer_id
