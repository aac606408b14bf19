-- The revenue report's lines (README "Finance", `referral-sync revenue`): what each successful referral brings in,
-- and when it counts, over exactly the rules above, so the report reconciles with the attributes `run` sends.
--
-- One line per successful referral (52_successful_referral), dated at its qualifying order's redeemed_at, sign +1.
-- With p_booked (the booked basis), also the qualifying orders (50_qualifying_order) of referrals rejected by as-of
-- by a rejection dated after the redemption: booked at the redemption (+1) and reversed at the rejection (-1),
-- never in the past. A rejection dated before its order never books it (the referral was rejected when the order
-- came). Over all dates the lines of both bases add up to the same count and revenue: the successful referrals'.
-- The rejected referrals are few, so their referrers' orders are read by index (p_referrers of 50), not scanned.
CREATE OR REPLACE FUNCTION referral_sync_revenue_lines(p_as_of timestamptz, p_currency text, p_booked boolean)
RETURNS TABLE (referral_id text, referrer_id text, order_id text, redeemed_at timestamptz, dated_at timestamptz,
               sign integer, total_price numeric, discount_amount numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT s.referral_id, s.referrer_id, s.order_id, s.redeemed_at, s.redeemed_at, 1, s.total_price,
           o.discount_amount
    FROM referral_sync_successful_referrals(p_as_of, p_currency, NULL) s
    JOIN referral_orders o ON o.order_id = s.order_id
    UNION ALL
    SELECT q.referral_id, q.referrer_id, q.order_id, q.redeemed_at, d.dated_at, d.sign, q.total_price,
           o.discount_amount
    FROM referral_sync_order_checks(
             p_as_of, p_currency,
             ARRAY(SELECT DISTINCT r.referrer_id
                   FROM referral_rejections j JOIN referrals r ON r.referral_id = j.referral_id
                   WHERE p_booked AND j.rejected_at <= p_as_of)) q
    JOIN referral_orders o ON o.order_id = q.order_id
    CROSS JOIN LATERAL (VALUES (q.redeemed_at, 1), (q.rejected_at, -1)) AS d (dated_at, sign)
    WHERE p_booked AND q.qualifying AND q.referral_rejected AND q.rejected_at > q.redeemed_at
$$;
