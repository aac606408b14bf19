-- The qualifying order (README "Attribute definitions"): each referral counts once, with its first valid order
-- (earliest redeemed_at, then smallest order_id). Every order of the referrals of p_referrers (NULL: of everyone)
-- with its referral's checks (40_referral_checks), reason, the first reason it is not valid (NULL when it is), its
-- rank among its referral's orders of the same validity, the first of them, and whether it is the qualifying order;
-- and, for the revenue report (90), its discount and its referral's channel as stored.
-- An order is not valid when it was redeemed after as-of or at ±infinity, its total is NaN, ±Infinity or negative,
-- its currency is not exactly the shop currency, its referral does not count, or it was redeemed before its
-- referral was created.
--
-- The first reason an order is not valid, NULL when it is: the rule above for one order, given its referral's
-- checks (40_referral_checks: its reason and created_at). A single expression, so PostgreSQL inlines it into the
-- order checks below and into the refresh (82_refresh_kept_rows), which calls it beside the referral checks it has
-- already computed.
CREATE OR REPLACE FUNCTION referral_sync_order_reason(
    redeemed_at timestamptz, total_price numeric, currency text, referral_reason text,
    referral_created_at timestamptz, p_as_of timestamptz, p_currency text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN redeemed_at > p_as_of THEN 'redeemed_after_as_of'
        WHEN NOT isfinite(redeemed_at) THEN 'redeemed_at_not_finite'
        WHEN total_price IN ('NaN', 'Infinity', '-Infinity') THEN 'total_not_finite'
        WHEN total_price < 0 THEN 'negative_total'
        WHEN currency IS DISTINCT FROM p_currency THEN 'currency_mismatch'
        WHEN referral_reason IS NOT NULL THEN 'referral_not_counted'
        WHEN redeemed_at < referral_created_at THEN 'redeemed_before_referral_created'
    END;

DROP FUNCTION IF EXISTS referral_sync_order_checks(timestamptz, text, text[]);
CREATE OR REPLACE FUNCTION referral_sync_order_checks(p_as_of timestamptz, p_currency text, p_referrers text[])
RETURNS TABLE (order_id text, referral_id text, referrer_id text, redeemed_at timestamptz, currency text,
               total_price numeric, referral_created_at timestamptz, referral_reason text, rejected_at timestamptz,
               referral_rejected boolean, reason text, order_rank bigint, first_order_id text, qualifying boolean,
               discount_amount numeric, referral_channel text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT oc.order_id, oc.referral_id, oc.referrer_id, oc.redeemed_at, oc.currency, oc.total_price,
           oc.referral_created_at, oc.referral_reason, oc.rejected_at, oc.referral_rejected, oc.reason,
           row_number() OVER by_referral,
           first_value(oc.order_id) OVER by_referral,
           oc.reason IS NULL AND row_number() OVER by_referral = 1,
           oc.discount_amount, oc.referral_channel
    FROM (
        SELECT o.order_id, o.referral_id, rc.referrer_id, o.redeemed_at, o.currency, o.total_price,
               rc.created_at AS referral_created_at, rc.reason AS referral_reason, rc.rejected_at,
               rc.rejected AS referral_rejected, o.discount_amount, rc.channel AS referral_channel,
               referral_sync_order_reason(o.redeemed_at, o.total_price, o.currency, rc.reason, rc.created_at,
                                          p_as_of, p_currency) AS reason
        FROM referral_sync_referral_checks(p_as_of, p_referrers) rc
        JOIN referral_orders o
          ON referral_sync_same_referral(o.referral_id, o.referrer_id, rc.referral_id, rc.referrer_id)
    ) AS oc
    -- The refresh (82_refresh_kept_rows) ranks the orders with this same window over the referral checks it has
    -- already computed; a change here goes there too.
    -- By referrer too: a referral has one, and on Citus a window is pushed down only by the distribution column.
    WINDOW by_referral AS (PARTITION BY oc.referrer_id, oc.referral_id, oc.reason IS NULL
                           ORDER BY oc.redeemed_at, oc.order_id)
$$;

-- The reason code of an order that does not count (rejected_rows.csv), from its row of referral_sync_order_checks:
-- its own reason, else its referral's rejection, else that it is not its referral's first valid order.
CREATE OR REPLACE FUNCTION referral_sync_order_row_reason(reason text, referral_rejected boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN reason IS NULL AND referral_rejected THEN 'referral_rejected'
                WHEN reason IS NULL THEN 'not_first_order_of_referral'
                ELSE reason END;

-- The words of an order's row in rejected_rows.csv (README "Rejected rows and row accounting"), from its row of
-- referral_sync_order_checks, for each reason code above. STABLE like the time format it uses (20_dates), so
-- PostgreSQL inlines it into the refresh rather than calling it per row.
CREATE OR REPLACE FUNCTION referral_sync_order_row_detail(
    reason text, referral_rejected boolean, redeemed_at timestamptz, total_price numeric, currency text,
    shop_currency text, referral_id text, referral_reason text, referral_created_at timestamptz,
    rejected_at timestamptz, first_order_id text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE
        WHEN reason = 'redeemed_after_as_of'
            THEN 'redeemed_at ' || referral_sync_detail_time(redeemed_at) || ' is after --as-of'
        WHEN reason = 'redeemed_at_not_finite' THEN 'redeemed_at ' || redeemed_at::text || ' is not a point in time'
        WHEN reason = 'total_not_finite' THEN 'total_price ' || total_price::text || ' is not an amount'
        WHEN reason = 'negative_total' THEN 'total_price ' || total_price::text || ' is negative'
        WHEN reason = 'currency_mismatch' THEN 'currency ' || currency || ' is not the shop currency ' || shop_currency
        WHEN reason = 'referral_not_counted'
            THEN 'referral ' || referral_id || ' does not count (' || referral_reason || ')'
        WHEN reason = 'redeemed_before_referral_created'
            THEN 'redeemed_at ' || referral_sync_detail_time(redeemed_at) || ' is before the referral was created at '
                 || referral_sync_detail_time(referral_created_at)
        WHEN referral_rejected
            THEN 'referral ' || referral_id || ' was rejected at ' || referral_sync_detail_time(rejected_at)
        ELSE 'referral ' || referral_id || ' already counts with its first order ' || first_order_id
    END;
