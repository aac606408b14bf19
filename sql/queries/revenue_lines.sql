-- The revenue report's lines (README "Finance"), kept for the report's other queries in a temporary table of the
-- reader's transaction (dropped at its end), read in the snapshot the refresh exported, so every figure and the
-- reconciliation with the kept attributes see the same rows: referral_sync_revenue_lines
-- (sql/definitions/90_revenue_report.sql) with each line's referral channel.
-- Parameters: $1 as-of, $2 shop currency, $3 booked basis (true) or redemption basis (false).
CREATE TEMP TABLE referral_sync_report_lines ON COMMIT DROP AS
SELECT l.referral_id, l.referrer_id, l.order_id, l.redeemed_at, l.dated_at, l.sign, l.total_price,
       l.discount_amount, r.channel
FROM referral_sync_revenue_lines($1::timestamptz, $2::text, $3::boolean) l
JOIN referrals r ON r.referral_id = l.referral_id
