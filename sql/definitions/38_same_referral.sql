-- How a row keyed by a referral (an order, a rejection, a change note) is joined to its referral: the one place
-- the layout of the store decides (issue 28; README "Several workers and a distributed PostgreSQL").
--
-- referral_sync_same_referral(a_referral_id, a_referrer_id, b_referral_id, b_referrer_id): whether two rows are
-- of the same referral. On PostgreSQL, and in a store per distributed schema, the referral_id decides alone and
-- the referrers are ignored; PostgreSQL inlines the function, so each join is exactly `a.referral_id =
-- b.referral_id` and planned as before (joined by both keys, PostgreSQL multiplies the two keys' selectivities and
-- estimates a million orders' join at a few rows). In a store distributed by row (referral_sync_distribute_by_customer,
-- 97_citus_layout), orders, rejections and the notes live with their referrer, and Citus pushes a join down to
-- the workers only when it names the distribution columns: there it is both keys. Citus checks the join in its
-- inlined form and sends the call to the workers, where the same function is defined.

-- Whether the store's input tables (the caller's search_path) are Citus tables: Citus's catalog lists referrals, in
-- a distributed schema or distributed by row; p_method 'h': distributed by row (hash-distributed) only. Their rows
-- are then on the workers, and a rule's query is best sent to them whole rather than joined with rows of the
-- coordinator's (the refresh's ranked orders, 82_refresh_kept_rows).
CREATE OR REPLACE FUNCTION referral_sync_distributed(p_method text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Citus's catalog is named only where it exists: PostgreSQL parses a statement only when it reaches it.
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
                   WHERE p.logicalrelid = to_regclass('referrals')
                     AND p.partmethod::text = coalesce(p_method, p.partmethod::text));
END
$$;

-- Whether the store is distributed by row. The one test of the layout: the events' discovery (85_events) asks it too.
CREATE OR REPLACE FUNCTION referral_sync_distributed_by_row() RETURNS boolean
LANGUAGE sql STABLE
    RETURN referral_sync_distributed('h');

-- by_row: whether the store is distributed by row; NULL: as it is now.
CREATE OR REPLACE FUNCTION referral_sync_define_same_referral(by_row boolean DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    by_row := coalesce(by_row, referral_sync_distributed_by_row());
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION %I.referral_sync_same_referral(a_referral_id text, a_referrer_id text, '
        'b_referral_id text, b_referrer_id text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN %s',
        current_schema(),
        CASE WHEN by_row THEN 'a_referral_id = b_referral_id AND a_referrer_id = b_referrer_id'
             ELSE 'a_referral_id = b_referral_id' END);
END
$$;
SELECT referral_sync_define_same_referral();
