-- The recompute of a set of customers (README "Attribute definitions", "Rejected rows and row accounting",
-- "Finance"; kept as README "Incremental recompute" says): a step of referral_sync_refresh (80_refresh).
--
-- Writes the rows of p_referrers (NULL: of everyone; their old rows are already deleted) in the four kept tables:
-- every participant's identity and values, the referrals that count, the revenue report's lines of both bases, and
-- every input row that does not count with its reason and detail. Each check of sql/definitions is computed once
-- for all four: the referral checks and the ranked orders into temporary tables first, then one statement over
-- them (the successes are aggregated from the ranked orders); the filter on p_referrers reaches the indexes of the
-- input tables through the inlined rule functions. plpgsql, so each statement is planned with the parameters'
-- values (p_referrers NULL or not).
CREATE OR REPLACE FUNCTION referral_sync_recompute_kept_rows(
    p_as_of timestamptz, p_currency text, p_minor_units integer, p_default_region text, p_referrers text[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    tuple_cost text := current_setting('parallel_tuple_cost');
BEGIN
    -- The referral checks, once, in a table of their own: analysed, so the statement below is planned for the rows
    -- they are (a few thousand referrals on a busy night, every one on a full recompute).
    -- Checking every referral is worth both cores of a small server, and more of a larger one, but PostgreSQL's
    -- default cost of passing a row from a parallel worker (parallel_tuple_cost 0.1) keeps it from using them for
    -- a result as wide as this one: with 0.01, the checks of a million participants' referrals took 2.9 s instead
    -- of 5.1 s on two cores (BENCHMARKS.md). Only for everyone: a few customers' referrals are read by index.
    IF p_referrers IS NULL THEN
        PERFORM set_config('parallel_tuple_cost', '0.01', true);
    END IF;
    DROP TABLE IF EXISTS pg_temp.referral_sync_checked_referrals;
    CREATE TEMP TABLE referral_sync_checked_referrals ON COMMIT DROP AS
    SELECT * FROM referral_sync_referral_checks(p_as_of, p_referrers);
    PERFORM set_config('parallel_tuple_cost', tuple_cost, true);
    ANALYZE referral_sync_checked_referrals;

    -- The order checks ranked (50_qualifying_order: referral_sync_order_checks, their home, which explain, events
    -- and the revenue report call). On one server, the same columns by the same reason and window over the referral
    -- checks above: calling the function would evaluate the referral checks a second time (issue 27). On Citus, the
    -- function's own query, which Citus sends to the nodes whole (98_citus_forms writes the referral checks into
    -- it): each node ranks its own orders and only the ranked orders come back, where joining the coordinator's
    -- referral checks with the orders sent every referral's checks to each node holding orders first.
    DROP TABLE IF EXISTS pg_temp.referral_sync_ranked_orders;
    IF referral_sync_distributed() THEN
        CREATE TEMP TABLE referral_sync_ranked_orders ON COMMIT DROP AS
        SELECT * FROM referral_sync_order_checks(p_as_of, p_currency, p_referrers);
    ELSE
        CREATE TEMP TABLE referral_sync_ranked_orders ON COMMIT DROP AS
        SELECT oc.order_id, oc.referral_id, oc.referrer_id, oc.redeemed_at, oc.currency, oc.total_price,
               oc.referral_created_at, oc.referral_reason, oc.rejected_at, oc.referral_rejected, oc.reason,
               row_number() OVER by_referral AS order_rank,
               first_value(oc.order_id) OVER by_referral AS first_order_id,
               oc.reason IS NULL AND row_number() OVER by_referral = 1 AS qualifying,
               oc.discount_amount, oc.referral_channel
        FROM (
            SELECT o.order_id, o.referral_id, rc.referrer_id, o.redeemed_at, o.currency, o.total_price,
                   rc.created_at AS referral_created_at, rc.reason AS referral_reason, rc.rejected_at,
                   rc.rejected AS referral_rejected, o.discount_amount, rc.channel AS referral_channel,
                   referral_sync_order_reason(o.redeemed_at, o.total_price, o.currency, rc.reason, rc.created_at,
                                              p_as_of, p_currency) AS reason
            FROM referral_sync_checked_referrals rc
            JOIN referral_orders o
              ON referral_sync_same_referral(o.referral_id, o.referrer_id, rc.referral_id, rc.referrer_id)
        ) AS oc
        WINDOW by_referral AS (PARTITION BY oc.referrer_id, oc.referral_id, oc.reason IS NULL
                               ORDER BY oc.redeemed_at, oc.order_id);
    END IF;
    ANALYZE referral_sync_ranked_orders;

    WITH referral_checks AS NOT MATERIALIZED (
        SELECT * FROM referral_sync_checked_referrals
    ),
    ranked_orders AS NOT MATERIALIZED (
        SELECT * FROM referral_sync_ranked_orders
    ),
    per_referrer AS (
        SELECT rc.referrer_id,
               count(*) FILTER (WHERE rc.reason IS NULL) AS counted_referrals,
               bool_or(rc.created_at <= p_as_of) AS referred
        FROM referral_checks rc
        GROUP BY rc.referrer_id
    ),
    -- Each referrer's successful referrals (55_revenue: referral_sync_referrer_successes, its home, which
    -- explain calls), aggregated here from the order checks computed once above: calling the function would
    -- evaluate the qualifying-order window and the referral checks a second time (issue 27).
    successes AS (
        SELECT oc.referrer_id, count(*) AS successful_referrals, max(oc.redeemed_at) AS latest_at,
               sum(oc.total_price) AS revenue
        FROM ranked_orders oc
        WHERE referral_sync_is_success(oc.qualifying, oc.referral_rejected)
        GROUP BY oc.referrer_id
    ),
    -- The revenue report's working set (90_revenue_report): the lines of both bases, from the order checks above,
    -- and the referrals that count, each with its referral's channel.
    kept_lines AS (
        INSERT INTO referral_sync_revenue_kept_lines (
            referral_id, referrer_id, order_id, redeemed_at, dated_at, sign, total_price, discount_amount,
            booked_only, channel, referral_created_at)
        SELECT oc.referral_id, oc.referrer_id, oc.order_id, oc.redeemed_at, d.dated_at, d.sign, oc.total_price,
               oc.discount_amount, d.booked_only, oc.referral_channel, oc.referral_created_at
        FROM ranked_orders oc
        CROSS JOIN LATERAL referral_sync_revenue_line_dates(oc.qualifying, oc.referral_rejected, oc.redeemed_at,
                                                            oc.rejected_at) d
    ),
    kept_referrals AS (
        INSERT INTO referral_sync_counted_referrals (referral_id, referrer_id, created_at, channel)
        SELECT rc.referral_id, rc.referrer_id, rc.created_at, rc.channel
        FROM referral_checks rc
        WHERE rc.reason IS NULL
    ),
    -- Each row's reason and words from the rule that decides it (40_referral_checks, 50_qualifying_order).
    rejected AS (
        INSERT INTO referral_sync_rejected_rows ("table", key, owner_id, reason, detail)
        SELECT 'referrals', rc.referral_id, rc.referrer_id, rc.reason,
               referral_sync_referral_row_detail(rc.reason, rc.created_at)
        FROM referral_checks rc
        WHERE rc.reason IS NOT NULL
        UNION ALL
        SELECT 'referral_orders', oc.order_id, oc.referrer_id,
               referral_sync_order_row_reason(oc.reason, oc.referral_rejected),
               referral_sync_order_row_detail(
                   reason => oc.reason, referral_rejected => oc.referral_rejected, redeemed_at => oc.redeemed_at,
                   total_price => oc.total_price, currency => oc.currency, shop_currency => p_currency,
                   referral_id => oc.referral_id, referral_reason => oc.referral_reason,
                   referral_created_at => oc.referral_created_at, rejected_at => oc.rejected_at,
                   first_order_id => oc.first_order_id)
        FROM ranked_orders oc
        WHERE oc.reason IS NOT NULL OR oc.referral_rejected OR oc.order_rank > 1
        UNION ALL
        SELECT 'referral_rejections', rc.referral_id, rc.referrer_id, 'rejected_after_as_of',
               referral_sync_rejection_row_detail(rc.rejected_at)
        FROM referral_checks rc
        WHERE rc.rejected_at > p_as_of
    )
    -- Every participant (60_participants). The link is sent as the outbound text rule (15_outbound_text) leaves
    -- it; the stored link's length in bytes says whether the rule changed it (migration 0011). The identity
    -- problem is left NULL for the next step (83_refresh_identity_problems).
    INSERT INTO referral_sync_participant_values (
        customer_id, email, phone, shareable_link, send_email, send_phone, successful_referrals,
        latest_successful_referral_at, total_successful_referral_revenue, counted_referrals, stored_link_octets)
    SELECT c.customer_id, c.email, c.phone, referral_sync_outbound_text(c.shareable_link),
           referral_sync_email(c.email), referral_sync_phone(c.phone, p_default_region),
           coalesce(s.successful_referrals, 0)::text, referral_sync_timestamp(s.latest_at),
           referral_sync_revenue(s.revenue, p_minor_units),
           coalesce(pr.counted_referrals, 0), octet_length(c.shareable_link)
    FROM customers c
    LEFT JOIN per_referrer pr ON pr.referrer_id = c.customer_id
    LEFT JOIN successes s ON s.referrer_id = c.customer_id
    WHERE (p_referrers IS NULL OR c.customer_id IN (SELECT w.customer_id FROM referral_sync_owners w))
      AND referral_sync_is_participant(c.opted_in_at, pr.referred, p_as_of);
END
$$;
