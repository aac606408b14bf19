-- Successful referrals (README "Attribute definitions"): a referral that counts (40_referral_checks), has a
-- qualifying order (50_qualifying_order), and is not rejected by a rejection dated by as-of. One row per successful
-- referral of p_referrers (NULL: of everyone), with its qualifying order. A zero total counts.
--
-- referral_sync_is_success says it of one row of referral_sync_order_checks, for the callers that already hold
-- those rows (the refresh's kept revenue lines, 90_revenue_report); inlined like the sets.
CREATE OR REPLACE FUNCTION referral_sync_is_success(qualifying boolean, referral_rejected boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN qualifying AND NOT referral_rejected;

CREATE OR REPLACE FUNCTION referral_sync_successful_referrals(
    p_as_of timestamptz, p_currency text, p_referrers text[])
RETURNS TABLE (referral_id text, referrer_id text, order_id text, redeemed_at timestamptz, total_price numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT q.referral_id, q.referrer_id, q.order_id, q.redeemed_at, q.total_price
    FROM referral_sync_order_checks(p_as_of, p_currency, p_referrers) q
    WHERE referral_sync_is_success(q.qualifying, q.referral_rejected)
$$;
