-- The benchmark's baseline (BENCHMARKS.md): the bare aggregation the attribute definitions need, i.e. the full
-- recompute of referral_sync_refresh (sql/definitions/80_refresh.sql) without the identity rules (normalisation and
-- duplicate identities), the rejected rows and the ledger comparison: every participant's customer_id, email, phone and four
-- attributes, formatted as defined, in customer_id order (attributes.csv's order). It is the physical floor of a
-- full recompute, run by psql into /dev/null.
-- psql variables: as_of (timestamptz), currency (ISO 4217 code), minor_units (integer).
WITH counted_referrals AS (
    SELECT r.referral_id, r.referrer_id, r.created_at
    FROM referrals r
    JOIN customers referrer ON referrer.customer_id = r.referrer_id
    WHERE r.created_at <= :'as_of'
      AND r.recipient_customer_id IS DISTINCT FROM r.referrer_id
      AND NOT coalesce(nullif(lower(btrim(r.recipient_email)), '') = nullif(lower(btrim(referrer.email)), ''), false)
),
qualifying_orders AS (
    SELECT DISTINCT ON (o.referral_id) o.referral_id, cr.referrer_id, o.redeemed_at, o.total_price
    FROM referral_orders o
    JOIN counted_referrals cr ON cr.referral_id = o.referral_id
    WHERE o.redeemed_at <= :'as_of'
      AND isfinite(o.redeemed_at)
      AND o.total_price >= 0
      AND o.total_price < 'Infinity'
      AND o.currency = :'currency'
      AND o.redeemed_at >= cr.created_at
    ORDER BY o.referral_id, o.redeemed_at, o.order_id
),
successes AS (
    SELECT q.referrer_id,
           count(*) AS successful_referrals,
           max(q.redeemed_at) AS latest_at,
           sum(q.total_price) AS revenue
    FROM qualifying_orders q
    WHERE NOT EXISTS (
        SELECT 1 FROM referral_rejections j WHERE j.referral_id = q.referral_id AND j.rejected_at <= :'as_of'
    )
    GROUP BY q.referrer_id
)
SELECT c.customer_id, c.email, c.phone, c.shareable_link,
       coalesce(s.successful_referrals, 0)::text AS successful_referrals,
       referral_sync_timestamp(s.latest_at) AS latest_at,
       referral_sync_money(coalesce(s.revenue, 0), :minor_units) AS revenue
FROM customers c
LEFT JOIN successes s ON s.referrer_id = c.customer_id
WHERE c.opted_in_at <= :'as_of'
   OR EXISTS (SELECT 1 FROM referrals r WHERE r.referrer_id = c.customer_id AND r.created_at <= :'as_of')
ORDER BY c.customer_id;
