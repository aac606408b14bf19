-- Who a refresh recomputes, and what it forgets first (README "Incremental recompute": what is recomputed, what is
-- kept). Steps of referral_sync_refresh (80_refresh), which makes the working tables they use.

-- The customers whose kept rows may be out of date between a refresh at one as-of and the next at another (p_low is
-- the earlier, p_high the later): those the triggers of 70_change_notes noted, directly or as the referrer of a
-- referral whose orders or rejection changed, and the referrers of rows whose date lies between the two as-ofs,
-- which count now and did not then or the other way round. A single SELECT: PostgreSQL inlines it into the
-- refresh's INSERT.
CREATE OR REPLACE FUNCTION referral_sync_changed_customers(p_low timestamptz, p_high timestamptz)
RETURNS TABLE (customer_id text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ch.customer_id FROM referral_sync_changes ch WHERE ch.customer_id IS NOT NULL
    UNION
    SELECT r.referrer_id FROM referral_sync_changes ch
    JOIN referrals r ON referral_sync_same_referral(ch.referral_id, ch.colocation_key, r.referral_id, r.referrer_id)
    UNION
    SELECT c.customer_id FROM customers c WHERE c.opted_in_at > p_low AND c.opted_in_at <= p_high
    UNION
    SELECT r.referrer_id FROM referrals r WHERE r.created_at > p_low AND r.created_at <= p_high
    UNION
    SELECT r.referrer_id FROM referral_orders o
    JOIN referrals r ON referral_sync_same_referral(o.referral_id, o.referrer_id, r.referral_id, r.referrer_id)
    WHERE o.redeemed_at > p_low AND o.redeemed_at <= p_high
    UNION
    SELECT r.referrer_id FROM referral_rejections j
    JOIN referrals r ON referral_sync_same_referral(j.referral_id, j.referrer_id, r.referral_id, r.referrer_id)
    WHERE j.rejected_at > p_low AND j.rejected_at <= p_high
$$;

-- Deletes the kept rows about to be recomputed: everyone's (p_everyone), else the owners' (referral_sync_owners),
-- keeping the identities the owners had in referral_sync_touched: only their holders' problems can change.
-- Returns whether the kept tables were truncated (then this transaction holds them alone).
DROP FUNCTION IF EXISTS referral_sync_forget_kept_rows(boolean);
CREATE OR REPLACE FUNCTION referral_sync_forget_kept_rows(p_everyone boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF p_everyone THEN
        -- Everyone is recomputed: the kept tables are emptied with TRUNCATE, which leaves no dead rows behind (a
        -- DELETE left every old row for a VACUUM, so each full recompute was slower than the last and the tables
        -- grew) and lets the secondary indexes be built once at the end. TRUNCATE needs the tables to itself: a
        -- shard still streaming the last values holds them, so after a short wait the old way is taken instead.
        BEGIN
            SET LOCAL lock_timeout = '2s';
            TRUNCATE referral_sync_participant_values, referral_sync_rejected_rows, referral_sync_revenue_kept_lines,
                     referral_sync_counted_referrals;
            SET LOCAL lock_timeout = 0;
            RETURN true;
        EXCEPTION WHEN lock_not_available THEN
            SET LOCAL lock_timeout = 0;
            DELETE FROM referral_sync_participant_values;
            DELETE FROM referral_sync_rejected_rows;
            DELETE FROM referral_sync_revenue_kept_lines;
            DELETE FROM referral_sync_counted_referrals;
            RETURN false;
        END;
    ELSE
        WITH gone AS (
            DELETE FROM referral_sync_participant_values v USING referral_sync_owners o
            WHERE v.customer_id = o.customer_id
            RETURNING v.send_email, v.send_phone
        )
        INSERT INTO referral_sync_touched (send_email, send_phone) SELECT g.send_email, g.send_phone FROM gone g;
        DELETE FROM referral_sync_rejected_rows v USING referral_sync_owners o WHERE v.owner_id = o.customer_id;
        DELETE FROM referral_sync_revenue_kept_lines v USING referral_sync_owners o
        WHERE v.referrer_id = o.customer_id;
        DELETE FROM referral_sync_counted_referrals v USING referral_sync_owners o WHERE v.referrer_id = o.customer_id;
        RETURN false;
    END IF;
END
$$;

-- The kept tables' secondary indexes (not their keys), dropped before a refresh with no earlier state fills the
-- tables, and built once afterwards from their definitions as the migrations made them (kept meanwhile in a
-- temporary table): one sort per index instead of an insert per row, and no index list to keep in step here.
CREATE OR REPLACE FUNCTION referral_sync_drop_kept_indexes() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    dropped text;
BEGIN
    DROP TABLE IF EXISTS pg_temp.referral_sync_dropped_indexes;
    CREATE TEMP TABLE referral_sync_dropped_indexes ON COMMIT DROP AS
    SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i
    WHERE i.indrelid IN ('referral_sync_participant_values'::regclass, 'referral_sync_rejected_rows'::regclass,
                         'referral_sync_revenue_kept_lines'::regclass, 'referral_sync_counted_referrals'::regclass)
      AND NOT i.indisprimary;
    FOR dropped IN SELECT d.name FROM referral_sync_dropped_indexes d ORDER BY d.name LOOP
        EXECUTE 'DROP INDEX ' || dropped;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION referral_sync_build_kept_indexes() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    statement text;
BEGIN
    FOR statement IN SELECT d.definition FROM referral_sync_dropped_indexes d ORDER BY d.name LOOP
        EXECUTE statement;
    END LOOP;
END
$$;
