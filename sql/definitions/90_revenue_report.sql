-- The revenue report's lines (README "Finance", `referral-sync revenue`): what each successful referral brings in,
-- and when it counts, over exactly the rules above, so the report reconciles with the attributes `run` sends.
--
-- One line per successful referral (52_successful_referral), dated at its qualifying order's redeemed_at, sign +1.
-- The booked basis also has the qualifying orders (50_qualifying_order) of referrals rejected by as-of by a
-- rejection dated after the redemption: booked at the redemption (+1) and reversed at the rejection (-1), never in
-- the past (booked_only: these lines are not in the redemption basis). A rejection dated before its order never
-- books it (the referral was rejected when the order came). Over all dates the lines of both bases add up to the
-- same count and revenue: the successful referrals'.
--
-- referral_sync_revenue_line_dates is the rule for one row of referral_sync_order_checks (no line, one or two):
-- the refresh (80_refresh) keeps every line of both bases in referral_sync_revenue_kept_lines from the order checks
-- it computes anyway, and the report reads them there; referral_sync_revenue_lines is the same set straight from
-- the rules, over everyone (what the kept lines are checked against).
CREATE OR REPLACE FUNCTION referral_sync_revenue_line_dates(
    p_qualifying boolean, p_referral_rejected boolean, p_redeemed_at timestamptz, p_rejected_at timestamptz)
RETURNS TABLE (dated_at timestamptz, sign integer, booked_only boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT d.dated_at, d.sign, d.booked_only
    FROM (VALUES (p_redeemed_at, 1, false, referral_sync_is_success(p_qualifying, p_referral_rejected)),
                 (p_redeemed_at, 1, true, p_qualifying AND p_referral_rejected AND p_rejected_at > p_redeemed_at),
                 (p_rejected_at, -1, true, p_qualifying AND p_referral_rejected AND p_rejected_at > p_redeemed_at))
         AS d (dated_at, sign, booked_only, applies)
    WHERE d.applies;
END;

-- The previous version read the successful referrals and the rejected referrals' orders separately.
DROP FUNCTION IF EXISTS referral_sync_revenue_lines(timestamptz, text, boolean);
CREATE OR REPLACE FUNCTION referral_sync_revenue_lines(p_as_of timestamptz, p_currency text, p_booked boolean)
RETURNS TABLE (referral_id text, referrer_id text, order_id text, redeemed_at timestamptz, dated_at timestamptz,
               sign integer, total_price numeric, discount_amount numeric, booked_only boolean)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT q.referral_id, q.referrer_id, q.order_id, q.redeemed_at, d.dated_at, d.sign, q.total_price,
           q.discount_amount, d.booked_only
    FROM referral_sync_order_checks(p_as_of, p_currency, NULL) q
    CROSS JOIN LATERAL referral_sync_revenue_line_dates(q.qualifying, q.referral_rejected, q.redeemed_at,
                                                        q.rejected_at) d
    WHERE p_booked OR NOT d.booked_only
$$;
