-- The benchmark's busy night (BENCHMARKS.md): changes about 1% of the participants of scripts/bench/generate.sql,
-- deterministically, before --as-of 2025-01-01T00:00:00Z:
--   * 0.95% of opted-in customers get a new referral with an order on 2024-12-31 (count, latest date and revenue
--     change), one in twenty of those orders in CAD instead (a new rejected row, no change);
--   * 0.05% of customers get their first referral rejected (a success taken back when it counted).
-- Run after generate.sql with the same bench.participants setting.
CREATE FUNCTION pg_temp.u(n bigint, salt bigint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (hashint8extended(n, salt) & 2147483647)::float8 / 2147483648.0
$$;

CREATE TEMP TABLE bench_busy AS
SELECT i FROM generate_series(1, current_setting('bench.participants')::int) AS i
WHERE pg_temp.u(i, 50) < 0.0095;

INSERT INTO referrals (referral_id, referrer_id, recipient_email, recipient_customer_id, channel, created_at)
SELECT 'ref_' || lpad(b.i::text, 8, '0') || '_busy', c.customer_id, 'busy.friend' || b.i || '@example.net', NULL,
       'email', timestamptz '2024-12-31 08:00:00Z'
FROM bench_busy b
JOIN customers c ON c.customer_id = 'cus_' || lpad(b.i::text, 8, '0')
WHERE c.opted_in_at IS NOT NULL;

-- Each order and rejection names its referrer, as a loader of a store distributed by row on Citus must (README
-- "Input tables"; on one server the column is optional and ignored).
INSERT INTO referral_orders (order_id, order_number, referral_id, referrer_id, coupon_code, total_price,
                             discount_amount, currency, redeemed_at)
SELECT 'ord_' || lpad(b.i::text, 8, '0') || '_busy', '#busy' || b.i, r.referral_id, r.referrer_id, 'OKR-BUSY',
       round((20 + pg_temp.u(b.i, 51) * 180)::numeric, 2), 10,
       CASE WHEN pg_temp.u(b.i, 52) < 0.05 THEN 'CAD' ELSE 'USD' END,
       timestamptz '2024-12-31 18:30:00.123456Z'
FROM bench_busy b
JOIN referrals r ON r.referral_id = 'ref_' || lpad(b.i::text, 8, '0') || '_busy';

-- Which customers lose their first referral, in a temporary table like bench_busy: so the statements below join
-- a table of this session to the store's, which Citus can run on a distributed store too (make bench-citus).
CREATE TEMP TABLE bench_rejected AS
SELECT i FROM generate_series(1, current_setting('bench.participants')::int) AS i
WHERE pg_temp.u(i, 53) < 0.0005;

INSERT INTO referral_rejections (referral_id, referrer_id, rejection_type, reason, rejected_at)
SELECT r.referral_id, r.referrer_id, 'manual', 'Refunded order', timestamptz '2024-12-31 12:00:00Z'
FROM bench_rejected b
JOIN referrals r ON r.referral_id = 'ref_' || lpad(b.i::text, 8, '0') || '_0001'
ON CONFLICT DO NOTHING;

ANALYZE referrals, referral_orders, referral_rejections;
