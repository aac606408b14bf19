-- Every referral one customer made, each with each of its orders, for `referral-sync explain` (README "Support:
-- explain a customer"), in time order. Whether a referral or an order counts comes from the rules applied to this
-- customer alone (referral_sync_referral_checks, referral_sync_successful_referrals: 40 and 52 of sql/definitions),
-- and why not from the kept recompute's rejected rows (80_refresh), with the reason code and words of
-- rejected_rows.csv, read in the snapshot of a refresh for these parameters.
-- The referrals are read by their referrer, and their orders and rejection joined by referral_sync_same_referral
-- (38_same_referral): in a store distributed by row on Citus, the whole query goes to the referrer's shard.
-- Parameters: $1 customer_id, $2 as-of, $3 shop currency.
-- Columns: the referral, its rejection, referral_status (counts, a referrals reason code, referral_rejected,
-- no_order or no_order_counts), its rejected rows, then one order (all NULL when it has none) with counts and its
-- rejected row.
WITH checks AS (
    SELECT * FROM referral_sync_referral_checks($2::timestamptz, ARRAY[$1::text])
),
successes AS (
    SELECT * FROM referral_sync_successful_referrals($2::timestamptz, $3::text, ARRAY[$1::text])
)
SELECT r.referral_id, r.recipient_email, r.recipient_customer_id, r.channel,
       referral_sync_detail_time(r.created_at) AS created_at,
       j.rejection_type, j.reason AS rejection_reason, referral_sync_detail_time(j.rejected_at) AS rejected_at,
       rc.rejected AS rejection_applies,
       CASE WHEN s.referral_id IS NOT NULL THEN 'counts'
            WHEN rr.reason IS NOT NULL THEN rr.reason
            WHEN rc.rejected THEN 'referral_rejected'
            -- The orders are left-joined below: a referral without one has a single row, with no order.
            WHEN o.order_id IS NULL THEN 'no_order'
            ELSE 'no_order_counts'
       END AS referral_status,
       s.order_id AS qualifying_order_id,
       rr.reason AS referral_code, rr.detail AS referral_detail,
       jr.reason AS rejection_code, jr.detail AS rejection_detail,
       o.order_id, o.order_number, o.total_price::text AS total_price, o.discount_amount::text AS discount_amount,
       o.currency, referral_sync_detail_time(o.redeemed_at) AS redeemed_at,
       o.order_id IS NOT NULL AND o.order_id IS NOT DISTINCT FROM s.order_id AS order_counts,
       orr.reason AS order_code, orr.detail AS order_detail
FROM checks rc
JOIN referrals r ON r.referral_id = rc.referral_id AND r.referrer_id = $1::text
LEFT JOIN referral_rejections j
    ON referral_sync_same_referral(j.referral_id, j.referrer_id, r.referral_id, r.referrer_id)
LEFT JOIN successes s ON s.referral_id = r.referral_id
LEFT JOIN referral_sync_rejected_rows rr
    ON rr."table" = 'referrals' AND rr.key = r.referral_id AND rr.owner_id = $1::text
LEFT JOIN referral_sync_rejected_rows jr
    ON jr."table" = 'referral_rejections' AND jr.key = r.referral_id AND jr.owner_id = $1::text
LEFT JOIN referral_orders o
    ON referral_sync_same_referral(o.referral_id, o.referrer_id, r.referral_id, r.referrer_id)
LEFT JOIN referral_sync_rejected_rows orr
    ON orr."table" = 'referral_orders' AND orr.key = o.order_id AND orr.owner_id = $1::text
ORDER BY r.created_at, r.referral_id, o.redeemed_at, o.order_id
