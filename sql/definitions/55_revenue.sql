-- Revenue (README "Attribute definitions", Okendo Total Successful Referral Revenue): the sum of total_price of the
-- qualifying orders of the successful referrals, exact (numeric, never floating point), rounded once at the end.

-- Per referrer of p_referrers (NULL: every referrer) with a successful referral (52_successful_referral): how many,
-- the latest qualifying order's redeemed_at, and the exact, unrounded revenue. The refresh (82_refresh_kept_rows)
-- takes the same three aggregates over the order checks it has already computed, rather than calling this
-- function (which would compute them again); a change here goes there too, and the fuzz tests compare both
-- with an independent recomputation.
CREATE OR REPLACE FUNCTION referral_sync_referrer_successes(p_as_of timestamptz, p_currency text, p_referrers text[])
RETURNS TABLE (referrer_id text, successful_referrals bigint, latest_at timestamptz, revenue numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT s.referrer_id, count(*), max(s.redeemed_at), sum(s.total_price)
    FROM referral_sync_successful_referrals(p_as_of, p_currency, p_referrers) s
    GROUP BY s.referrer_id
$$;

-- The attribute's text: the exact sum rounded once by the money rule (30_money), 0 when there is none (0.00 USD).
-- Rounding once matters: two orders of 0.005 make 0.01, where rounding each would make 0.00.
CREATE OR REPLACE FUNCTION referral_sync_revenue(exact_sum numeric, minor_units integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN referral_sync_money(coalesce(exact_sum, 0), minor_units);
