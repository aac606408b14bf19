-- Input rows that do not count, each with the first reason that applies (README "Rejected rows").
-- Parameters: $1 as_of timestamptz, $2 shop currency, $3 default phone region (NULL, US or CA).
-- Columns: table, key, reason (a stable code), detail (for people).
WITH referral_checks AS (
    SELECT r.referral_id, r.created_at,
           CASE
               WHEN r.created_at > $1 THEN 'created_after_as_of'
               WHEN r.recipient_customer_id = r.referrer_id THEN 'self_referral_by_customer_id'
               WHEN nullif(lower(btrim(r.recipient_email)), '') = nullif(lower(btrim(referrer.email)), '')
                   THEN 'self_referral_by_email'
           END AS reason
    FROM referrals r
    JOIN customers referrer ON referrer.customer_id = r.referrer_id
),
order_checks AS (
    SELECT o.order_id, o.referral_id, o.redeemed_at, o.currency, o.total_price, rc.created_at,
           rc.reason AS referral_reason, j.rejected_at,
           -- A rejection dated by $1 rejects the referral whatever its date relative to the order.
           coalesce(j.rejected_at <= $1, false) AS referral_rejected,
           CASE
               WHEN o.redeemed_at > $1 THEN 'redeemed_after_as_of'
               WHEN NOT isfinite(o.redeemed_at) THEN 'redeemed_at_not_finite'
               WHEN o.total_price IN ('NaN', 'Infinity', '-Infinity') THEN 'total_not_finite'
               WHEN o.total_price < 0 THEN 'negative_total'
               WHEN o.currency IS DISTINCT FROM $2 THEN 'currency_mismatch'
               WHEN rc.reason IS NOT NULL THEN 'referral_not_counted'
               WHEN o.redeemed_at < rc.created_at THEN 'redeemed_before_referral_created'
           END AS reason
    FROM referral_orders o
    JOIN referral_checks rc ON rc.referral_id = o.referral_id
    LEFT JOIN referral_rejections j ON j.referral_id = o.referral_id
),
ranked_orders AS (
    -- Each valid order's place among its referral's valid orders. Partitioning by (referral, valid) ranks the
    -- valid orders among themselves in the same pass over every order, instead of ranking them separately and
    -- joining the ranks back by order_id (a second sort of every order).
    SELECT oc.*,
           row_number() OVER by_referral AS position,
           first_value(oc.order_id) OVER by_referral AS first_order_id
    FROM order_checks oc
    WINDOW by_referral AS (PARTITION BY oc.referral_id, oc.reason IS NULL ORDER BY oc.redeemed_at, oc.order_id)
)
SELECT 'customers' AS "table", customer_id AS key, problem AS reason, problem_detail AS detail
FROM referral_sync_participants($1, $3)
WHERE problem IS NOT NULL
UNION ALL
SELECT 'referrals', referral_id, reason,
       CASE reason
           WHEN 'created_after_as_of' THEN 'created_at ' || referral_sync_timestamp(created_at) || ' is after --as-of'
           WHEN 'self_referral_by_customer_id' THEN 'the recipient is the referrer (same customer_id)'
           ELSE 'the recipient email is the referrer''s own email'
       END AS detail
FROM referral_checks WHERE reason IS NOT NULL
UNION ALL
SELECT 'referral_orders', oc.order_id,
       CASE WHEN oc.reason IS NULL AND oc.referral_rejected THEN 'referral_rejected'
            WHEN oc.reason IS NULL THEN 'not_first_order_of_referral'
            ELSE oc.reason END,
       CASE
           WHEN oc.reason = 'redeemed_after_as_of' THEN 'redeemed_at ' || referral_sync_timestamp(oc.redeemed_at) || ' is after --as-of'
           WHEN oc.reason = 'redeemed_at_not_finite' THEN 'redeemed_at ' || oc.redeemed_at::text || ' is not a point in time'
           WHEN oc.reason = 'total_not_finite' THEN 'total_price ' || oc.total_price::text || ' is not an amount'
           WHEN oc.reason = 'negative_total' THEN 'total_price ' || oc.total_price::text || ' is negative'
           WHEN oc.reason = 'currency_mismatch' THEN 'currency ' || oc.currency || ' is not the shop currency ' || $2
           WHEN oc.reason = 'referral_not_counted' THEN 'referral ' || oc.referral_id || ' does not count (' || oc.referral_reason || ')'
           WHEN oc.reason = 'redeemed_before_referral_created' THEN 'redeemed_at ' || referral_sync_timestamp(oc.redeemed_at)
               || ' is before the referral was created at ' || referral_sync_timestamp(oc.created_at)
           WHEN oc.referral_rejected THEN 'referral ' || oc.referral_id || ' was rejected at '
               || referral_sync_timestamp(oc.rejected_at)
           ELSE 'referral ' || oc.referral_id || ' already counts with its first order ' || oc.first_order_id
       END
FROM ranked_orders oc
WHERE oc.reason IS NOT NULL OR oc.referral_rejected OR oc.position > 1
UNION ALL
SELECT 'referral_rejections', referral_id, 'rejected_after_as_of',
       'rejected_at ' || referral_sync_timestamp(rejected_at) || ' is after --as-of'
FROM referral_rejections WHERE rejected_at > $1
ORDER BY 1, 2
