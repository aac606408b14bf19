-- What the kept rows were computed for (README "Incremental recompute": what is kept), and the input tables' row
-- counts for the row accounting (README "Rejected rows and row accounting"). Steps of referral_sync_refresh
-- (80_refresh), counted on its snapshot.

-- The input tables' rows as of p_as_of: read, customers that are not participants, rejections that apply.
-- PARALLEL SAFE, so the counts may use parallel workers: at ten million customers counting is most of a quiet
-- night's refresh (BENCHMARKS.md); at a million, 2.1-2.5 s instead of 2.8-3.5 s on a busy two-core machine.
CREATE OR REPLACE FUNCTION referral_sync_input_counts(p_as_of timestamptz)
RETURNS TABLE (customers_read bigint, customers_not_participants bigint, referrals_read bigint, orders_read bigint,
               rejections_read bigint, rejections_counted bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (SELECT count(*) FROM customers),
           -- A scalar subquery (never turned into a join) keeps this an index lookup per customer who did not opt
           -- in, a few percent, rather than a join with every referral.
           (SELECT count(*) FROM customers c
            WHERE NOT referral_sync_is_participant(
                c.opted_in_at,
                (SELECT r.referral_id FROM referrals r
                 WHERE r.referrer_id = c.customer_id AND r.created_at <= p_as_of LIMIT 1) IS NOT NULL,
                p_as_of)),
           (SELECT count(*) FROM referrals),
           (SELECT count(*) FROM referral_orders),
           (SELECT count(*) FROM referral_rejections),
           (SELECT count(*) FROM referral_rejections j WHERE j.rejected_at <= p_as_of)
$$;

-- Replaces the state row. p_everyone: everyone was recomputed now (else the last full recompute's time stays).
-- p_count_rows: count the input tables (else the previous row's counts stay: `explain` accounts for nothing).
CREATE OR REPLACE FUNCTION referral_sync_keep_state(
    previous referral_sync_state, p_rules text, p_as_of timestamptz, p_currency text, p_minor_units integer,
    p_default_region text, p_everyone boolean, p_count_rows boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    counts record;
BEGIN
    IF p_count_rows THEN
        SELECT * INTO counts FROM referral_sync_input_counts(p_as_of);
    ELSE
        SELECT previous.customers_read, previous.customers_not_participants, previous.referrals_read,
               previous.orders_read, previous.rejections_read, previous.rejections_counted
        INTO counts;
    END IF;
    DELETE FROM referral_sync_state;
    INSERT INTO referral_sync_state (
        singleton, rules_fingerprint, as_of, currency, minor_units, default_region, refreshed_at, full_recompute_at,
        customers_read, customers_not_participants, referrals_read, orders_read, rejections_read, rejections_counted,
        compare_everyone)
    VALUES (
        true, p_rules, p_as_of, p_currency, p_minor_units, p_default_region, clock_timestamp(),
        CASE WHEN p_everyone THEN clock_timestamp() ELSE previous.full_recompute_at END,
        counts.customers_read, counts.customers_not_participants, counts.referrals_read, counts.orders_read,
        counts.rejections_read, counts.rejections_counted,
        -- Everyone recomputed is everyone to compare (87_compare_candidates).
        p_everyone OR coalesce(previous.compare_everyone, true));
END
$$;
