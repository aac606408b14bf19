-- Benchmark data: a synthetic Okendo Referrals export of `bench.participants` customers (BENCHMARKS.md), made
-- entirely in SQL, deterministic (every choice is a hash of the row's number, never random()), so every run and
-- every machine gets the same rows. Per customer, whatever the scale:
--   * about 3 referrals, skewed: 45% none, 33% 1-3, 18% 4-10, 4% 11-35 and one in 5,000 (customer numbers
--     17, 5017, ...) a "whale" with 300-999 referrals, so a few hundred-success referrers exist at every scale;
--   * 40% of referrals convert (one order), a quarter of those get a second, later order (not counted), so about
--     half an order per referral;
--   * bad rows the job must reject: orders in CAD (1%), negative totals (0.2%), redeemed before the referral was
--     created (0.2%), self-referrals by customer id (0.3%) and by email (0.2%), referrals, orders and rejections
--     dated after the benchmark's --as-of 2025-01-01T00:00:00Z, and rejected referrals (2% of conversions);
--   * identities: 1% of emails missing and 0.5% not an address, 60% of phones missing or national (not E.164),
--     so about 1% of participants cannot be sent (skipped) and the rest mix valid, messy and invalid forms;
--   * 6% of customers never opted in (they are participants only when they referred someone).
-- Set the scale first: SET bench.participants = 100000; then run this file on a migrated, empty database.
-- Loads with triggers off (session_replication_role = replica): the rows are consistent by construction, and the
-- foreign-key checks would otherwise dominate the load time.
SET session_replication_role = replica;
SET synchronous_commit = off;

-- u(n, salt): a uniform number in [0, 1) from a hash of (n, salt).
CREATE FUNCTION pg_temp.u(n bigint, salt bigint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (hashint8extended(n, salt) & 2147483647)::float8 / 2147483648.0
$$;

CREATE TEMP TABLE bench_scale AS SELECT current_setting('bench.participants')::int AS customers;

INSERT INTO customers (customer_id, email, phone, first_name, last_name, locale, shareable_link, opted_in_at)
SELECT 'cus_' || lpad(i::text, 8, '0'),
       CASE WHEN pg_temp.u(i, 1) < 0.010 THEN NULL
            WHEN pg_temp.u(i, 1) < 0.015 THEN 'not-an-email-' || i
            WHEN pg_temp.u(i, 1) < 0.100 THEN '  Shopper.' || i || '@Example.COM '
            ELSE 'shopper' || i || '@example.com' END,
       CASE WHEN pg_temp.u(i, 2) < 0.50 THEN NULL
            WHEN pg_temp.u(i, 2) < 0.60 THEN '(415) 555-' || lpad((i % 10000)::text, 4, '0')
            WHEN pg_temp.u(i, 2) < 0.75 THEN '+1 (415) ' || lpad((i % 1000)::text, 3, '0') || '-'
                                               || lpad((i / 1000 % 10000)::text, 4, '0')
            -- Unique up to 100 million customers (+44 7700 … below a million, as before; +44 7701 … above):
            -- a pool of a million numbers made a quarter of ten million customers share a phone (issue 27).
            ELSE '+44 77' || lpad((i / 1000000 % 100)::text, 2, '0') || ' ' || lpad((i % 1000000)::text, 6, '0') END,
       'First' || i, 'Last' || i,
       (ARRAY['en', 'en-GB', 'de', 'fr', 'sv'])[1 + (i % 5)],
       CASE WHEN pg_temp.u(i, 3) < 0.03 THEN NULL ELSE 'https://test.oken.do/' || substr(md5(i::text), 1, 10) END,
       CASE WHEN pg_temp.u(i, 4) < 0.06 THEN NULL
            ELSE timestamptz '2022-01-01 00:00:00Z' + pg_temp.u(i, 5) * interval '1000 days' END
FROM generate_series(1, (SELECT customers FROM bench_scale)) AS i;

-- How many referrals each customer made (the skew above).
CREATE TEMP TABLE bench_referrers AS
SELECT i,
       CASE WHEN i % 5000 = 17 THEN 300 + floor(pg_temp.u(i, 7) * 700)::int
            WHEN pg_temp.u(i, 6) < 0.45 THEN 0
            WHEN pg_temp.u(i, 6) < 0.78 THEN 1 + floor(pg_temp.u(i, 7) * 3)::int
            WHEN pg_temp.u(i, 6) < 0.96 THEN 4 + floor(pg_temp.u(i, 7) * 7)::int
            ELSE 11 + floor(pg_temp.u(i, 7) * 25)::int END AS referral_count
FROM generate_series(1, (SELECT customers FROM bench_scale)) AS i;

-- Referral k of customer i has the number n = i * 10000 + k, which every later choice hashes.
CREATE TEMP TABLE bench_referrals AS
SELECT r.i, k, r.i::bigint * 10000 + k AS n,
       CASE WHEN pg_temp.u(r.i::bigint * 10000 + k, 10) < 0.003
                THEN timestamptz '2025-01-01 00:00:00Z' + pg_temp.u(r.i::bigint * 10000 + k, 11) * interval '30 days'
            ELSE timestamptz '2022-01-01 00:00:00Z' + pg_temp.u(r.i::bigint * 10000 + k, 11) * interval '1095 days'
       END AS created_at
FROM bench_referrers r, generate_series(1, r.referral_count) AS k
WHERE r.referral_count > 0;

INSERT INTO referrals (referral_id, referrer_id, recipient_email, recipient_customer_id, channel, created_at)
SELECT 'ref_' || lpad(b.i::text, 8, '0') || '_' || lpad(b.k::text, 4, '0'),
       'cus_' || lpad(b.i::text, 8, '0'),
       CASE WHEN pg_temp.u(b.n, 12) BETWEEN 0.003 AND 0.005 THEN upper(c.email) || ' '
            ELSE 'friend' || b.n || '@example.net' END,
       CASE WHEN pg_temp.u(b.n, 12) < 0.003 THEN c.customer_id
            WHEN pg_temp.u(b.n, 13) < 0.30
                THEN 'cus_' || lpad((1 + floor(pg_temp.u(b.n, 14) * s.customers)::int)::text, 8, '0')
       END,
       CASE WHEN b.n % 3 = 0 THEN 'shareable_link' ELSE 'email' END,
       b.created_at
FROM bench_referrals b
JOIN customers c ON c.customer_id = 'cus_' || lpad(b.i::text, 8, '0')
CROSS JOIN bench_scale s;

-- 40% of referrals convert; a quarter of the conversions also have a later second order.
CREATE TEMP TABLE bench_orders AS
SELECT b.n, b.i, b.k, 1 AS position,
       CASE WHEN pg_temp.u(b.n, 21) < 0.002 THEN b.created_at - interval '1 day'
            ELSE b.created_at + pg_temp.u(b.n, 22) * interval '20 days' END AS redeemed_at
FROM bench_referrals b
WHERE pg_temp.u(b.n, 20) < 0.40;
INSERT INTO bench_orders
SELECT n, i, k, 2, redeemed_at + interval '3 days' + pg_temp.u(n, 24) * interval '60 days'
FROM bench_orders
WHERE pg_temp.u(n, 23) < 0.25;

INSERT INTO referral_orders (order_id, order_number, referral_id, coupon_code, total_price, discount_amount,
                             currency, redeemed_at)
SELECT 'ord_' || lpad(o.i::text, 8, '0') || '_' || lpad(o.k::text, 4, '0') || '_' || o.position,
       '#' || (o.n * 2 + o.position),
       'ref_' || lpad(o.i::text, 8, '0') || '_' || lpad(o.k::text, 4, '0'),
       'OKR-' || upper(substr(md5(o.n::text), 1, 6)),
       CASE WHEN pg_temp.u(o.n * 2 + o.position, 30) < 0.002 THEN -10.00
            ELSE round((15 + pg_temp.u(o.n * 2 + o.position, 31) * 235)::numeric, 2) END,
       10,
       CASE WHEN pg_temp.u(o.n * 2 + o.position, 32) < 0.01 THEN 'CAD' ELSE 'USD' END,
       o.redeemed_at
FROM bench_orders o;

-- 2% of conversions are rejected a couple of days later (a few of those after --as-of).
INSERT INTO referral_rejections (referral_id, rejection_type, reason, rejected_at)
SELECT 'ref_' || lpad(o.i::text, 8, '0') || '_' || lpad(o.k::text, 4, '0'),
       'manual', 'Invalid order: fraud review', o.redeemed_at + interval '2 days'
FROM bench_orders o
WHERE o.position = 1 AND pg_temp.u(o.n, 40) < 0.02;

RESET session_replication_role;
ANALYZE customers, referrals, referral_orders, referral_rejections;
