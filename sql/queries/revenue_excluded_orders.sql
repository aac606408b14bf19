-- The orders redeemed in the range that do not count (README "Finance", reports/README.md "excluded_orders.csv"),
-- by the reason code the kept recompute gave them (referral_sync_rejected_rows, the rows of rejected_rows.csv) and
-- currency as stored: how many, and their amount in their own currency, never converted or added to the shop's,
-- rounded once to that currency's minor units ($3/$4: the ISO 4217 codes whose minor units are not 2). Totals
-- that are not finite (NaN, ±Infinity) are counted but left out of the amount.
-- Parameters: $1 range start, $2 range end (exclusive), $3 currency codes, $4 their minor units.
SELECT rr.reason, o.currency, count(*) AS orders,
       referral_sync_money(
           coalesce(sum(o.total_price) FILTER (WHERE o.total_price NOT IN ('NaN', 'Infinity', '-Infinity')), 0),
           coalesce((SELECT u.units FROM unnest($3::text[], $4::integer[]) AS u (code, units)
                     WHERE u.code = upper(btrim(o.currency))), 2)) AS amount,
       count(*) FILTER (WHERE o.total_price IN ('NaN', 'Infinity', '-Infinity')) AS not_finite
FROM referral_sync_rejected_rows rr
JOIN referral_orders o ON o.order_id = rr.key
WHERE rr."table" = 'referral_orders' AND o.redeemed_at >= $1::timestamptz AND o.redeemed_at < $2::timestamptz
GROUP BY rr.reason, o.currency
ORDER BY rr.reason, o.currency
