-- The recompute of a set of customers (README "Attribute definitions", "Rejected rows and row accounting",
-- "Finance"; kept as README "Incremental recompute" says): a step of referral_sync_refresh (80_refresh).
--
-- Writes the rows of p_referrers (NULL: of everyone; their old rows are already deleted) in the four kept tables:
-- every participant's identity and values, the referrals that count, the revenue report's lines of both bases, and
-- every input row that does not count with its reason and detail. One statement, so each check of
-- sql/definitions is computed once for all four (the two MATERIALIZED sets, from which the successes are
-- aggregated too); the filter on p_referrers reaches the
-- indexes of the input tables through the inlined rule functions. plpgsql, so the statement is planned with the
-- parameters' values (p_referrers NULL or not) as the single function's statement was.
CREATE OR REPLACE FUNCTION referral_sync_recompute_kept_rows(
    p_as_of timestamptz, p_currency text, p_minor_units integer, p_default_region text, p_referrers text[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    WITH referral_checks AS MATERIALIZED (
        SELECT * FROM referral_sync_referral_checks(p_as_of, p_referrers)
    ),
    ranked_orders AS MATERIALIZED (
        SELECT * FROM referral_sync_order_checks(p_as_of, p_currency, p_referrers)
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
