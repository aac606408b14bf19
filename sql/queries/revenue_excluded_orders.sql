-- The orders redeemed in the range that do not count (README "Finance", reports/README.md "excluded_orders.csv"),
-- by the reason code the kept recompute gave them (referral_sync_rejected_rows, the rows of rejected_rows.csv) and
-- currency as stored: how many, and their amount in their own currency, never converted or added to the shop's,
-- rounded once to that currency's minor units ($3/$4: the ISO 4217 codes whose minor units are not 2). Totals
-- that are not finite (NaN, ±Infinity) are counted but left out of the amount.
-- Parameters: $1 range start, $2 range end (exclusive), $3 currency codes, $4 their minor units.
-- The kept rows in a subquery, and the amounts rounded after the aggregate: on Citus a store distributed by row
-- keeps the orders on the workers, which join a set of the coordinator's (the subquery, which Citus reads first)
-- but not its table, and round no amount inside the aggregate they send back (README "Several workers and a
-- distributed PostgreSQL"). PostgreSQL alone flattens the subquery: the plan is the join it always was.
WITH per_reason AS (
    SELECT x.reason, o.currency, count(*) AS orders,
           coalesce(sum(o.total_price) FILTER (WHERE o.total_price NOT IN ('NaN', 'Infinity', '-Infinity')), 0)
               AS total,
           count(*) FILTER (WHERE o.total_price IN ('NaN', 'Infinity', '-Infinity')) AS not_finite
    FROM (SELECT rr.key AS order_id, rr.reason FROM referral_sync_rejected_rows rr
          WHERE rr."table" = 'referral_orders') x
    JOIN referral_orders o ON o.order_id = x.order_id
    WHERE o.redeemed_at >= $1::timestamptz AND o.redeemed_at < $2::timestamptz
    GROUP BY x.reason, o.currency
)
SELECT p.reason, p.currency, p.orders,
       referral_sync_money(
           p.total,
           coalesce((SELECT u.units FROM unnest($3::text[], $4::integer[]) AS u (code, units)
                     WHERE u.code = upper(btrim(p.currency))), 2)) AS amount,
       p.not_finite
FROM per_reason p
ORDER BY p.reason, p.currency
