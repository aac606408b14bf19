-- A store's tables distributed by row on Citus (issue 28; README "Several workers and a distributed PostgreSQL"):
-- what an operator runs once, after `referral-sync migrate`, in a session whose search_path is the store and with
-- citus.enable_unsafe_triggers = on: SELECT referral_sync_distribute_by_customer(). Never called by the job, and a
-- no-op for PostgreSQL's plans: on one server it is only defined.
--
-- The layout: every input table distributed by hash and co-located with customers, so a customer's rows, its
-- referrals and their orders and rejections live on one node:
--   customers by customer_id; referrals, referral_orders and referral_rejections by referrer_id (orders and
--   rejections carry the referrer in an added column, referrer_id, filled here from referrals and by the loader
--   from then on); referral_coupons by coupon_code (a coupon has no referrer of its own).
-- Citus wants every key and foreign key of a distributed table to include its distribution column, so the keys of
-- referrals, orders and rejections gain referrer_id and the foreign keys that cannot (a coupon's to its referral and
-- its customer) are dropped.
-- The change notes (referral_sync_changes, referral_sync_event_notes, referral_sync_row_arrivals) gain
-- colocation_key, the distribution value of the row noted, and are distributed by it, co-located with customers:
-- the triggers of 70_change_notes fire on a shard, on the node that holds it, and each note they write lands on
-- the co-located shard of the same node. That is why citus.enable_unsafe_triggers is safe here: no trigger writes to
-- another node (Citus refuses a trigger's write to another node anyway: "cannot execute a distributed query from a
-- query on a shard"). Reference tables are no layout for a table with these triggers: a reference table's triggers
-- fire on every node's copy, and all but one of those would write to another node.
-- Every other table of referral-sync's own stays on the coordinator.
CREATE OR REPLACE FUNCTION referral_sync_distribute_by_customer(shard_count integer DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    note_table text;
    input_table text;
    input_tables text[] := ARRAY['customers', 'referrals', 'referral_orders', 'referral_rejections',
                                 'referral_coupons'];
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RAISE EXCEPTION 'referral_sync_distribute_by_customer needs Citus' USING HINT = 'CREATE EXTENSION citus';
    END IF;
    IF current_setting('citus.enable_unsafe_triggers') <> 'on' THEN
        RAISE EXCEPTION 'referral_sync_distribute_by_customer needs citus.enable_unsafe_triggers = on'
        USING HINT = 'the change-note triggers write only to co-located shards (sql/definitions/97_citus_layout.sql)';
    END IF;
    IF EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = 'customers'::regclass) THEN
        RAISE EXCEPTION 'the store % is distributed already', current_schema();
    END IF;

    -- The rules join an order, a rejection or a note to its referral by both keys from now on (38_same_referral), and
    -- the next run recomputes everyone (the rules' fingerprint changed). First: Citus refuses to propagate a
    -- function once this transaction has written shards in parallel.
    PERFORM referral_sync_define_same_referral(by_row => true);

    -- The change-note triggers are off until the end: the referrer filled in below, and Citus copying each table's
    -- rows into its shards (with the shards' triggers on), would note every row again as changed and move the
    -- arrival times of rows that did not change. Nothing here changes a row of the input.
    FOREACH input_table IN ARRAY input_tables LOOP
        EXECUTE format('ALTER TABLE %I DISABLE TRIGGER USER', input_table);
    END LOOP;

    -- The referrer on orders and rejections: every one has a referral (their foreign key), so none is left NULL.
    ALTER TABLE referral_orders ADD COLUMN IF NOT EXISTS referrer_id text;
    ALTER TABLE referral_rejections ADD COLUMN IF NOT EXISTS referrer_id text;
    UPDATE referral_orders o SET referrer_id = r.referrer_id FROM referrals r
    WHERE r.referral_id = o.referral_id AND o.referrer_id IS DISTINCT FROM r.referrer_id;
    UPDATE referral_rejections j SET referrer_id = r.referrer_id FROM referrals r
    WHERE r.referral_id = j.referral_id AND j.referrer_id IS DISTINCT FROM r.referrer_id;
    ALTER TABLE referral_orders ALTER COLUMN referrer_id SET NOT NULL;
    ALTER TABLE referral_rejections ALTER COLUMN referrer_id SET NOT NULL;

    -- Keys that include the distribution column.
    ALTER TABLE referrals DROP CONSTRAINT referrals_pkey CASCADE;  -- with the foreign keys that name it
    ALTER TABLE referrals ADD PRIMARY KEY (referrer_id, referral_id);
    ALTER TABLE referral_orders DROP CONSTRAINT referral_orders_pkey, ADD PRIMARY KEY (referrer_id, order_id),
        ADD FOREIGN KEY (referrer_id, referral_id) REFERENCES referrals (referrer_id, referral_id);
    ALTER TABLE referral_rejections DROP CONSTRAINT referral_rejections_pkey,
        ADD PRIMARY KEY (referrer_id, referral_id),
        ADD FOREIGN KEY (referrer_id, referral_id) REFERENCES referrals (referrer_id, referral_id);
    ALTER TABLE referral_coupons DROP CONSTRAINT IF EXISTS referral_coupons_customer_id_fkey;
    -- The keys alone are still looked up (a note's referral, an order or a rejection by its own id, the events'
    -- keys): the unique indexes that served them went with the old keys.
    CREATE INDEX IF NOT EXISTS referrals_referral_id_idx ON referrals (referral_id);
    CREATE INDEX IF NOT EXISTS referral_orders_order_id_idx ON referral_orders (order_id);
    CREATE INDEX IF NOT EXISTS referral_rejections_referral_id_idx ON referral_rejections (referral_id);

    -- The notes, keyed by the row noted: its referrer for a referral, an order or a rejection. A note whose row is
    -- gone keeps its own key (a referral deleted before this ran and loaded again later has two arrival rows).
    FOREACH note_table IN ARRAY ARRAY['referral_sync_changes', 'referral_sync_event_notes',
                                       'referral_sync_row_arrivals'] LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS colocation_key text', note_table);
    END LOOP;
    UPDATE referral_sync_changes c
    SET colocation_key = coalesce(c.customer_id, (SELECT r.referrer_id FROM referrals r
                                                  WHERE r.referral_id = c.referral_id), c.referral_id, c.why, '');
    UPDATE referral_sync_event_notes n
    SET colocation_key = coalesce(CASE WHEN n.source IN ('referrals', 'referral_orders', 'referral_rejections')
                                       THEN (SELECT r.referrer_id FROM referrals r WHERE r.referral_id = n.key) END,
                                  n.key);
    UPDATE referral_sync_row_arrivals a
    SET colocation_key = coalesce(CASE a.source
                                      WHEN 'referrals' THEN (SELECT r.referrer_id FROM referrals r
                                                             WHERE r.referral_id = a.key)
                                      WHEN 'referral_rejections' THEN (SELECT r.referrer_id FROM referrals r
                                                                       WHERE r.referral_id = a.key)
                                      WHEN 'referral_orders' THEN (SELECT o.referrer_id FROM referral_orders o
                                                                   WHERE o.order_id = a.key)
                                  END, a.key);
    -- The job's own writers of these two (a run that finds its rows do not add up, `events`, `forget`) name no
    -- colocation_key: they write from the coordinator, where any shard will do.
    ALTER TABLE referral_sync_changes ALTER COLUMN colocation_key SET NOT NULL,
        ALTER COLUMN colocation_key SET DEFAULT '';
    ALTER TABLE referral_sync_event_notes ALTER COLUMN colocation_key SET NOT NULL,
        ALTER COLUMN colocation_key SET DEFAULT '';
    ALTER TABLE referral_sync_row_arrivals ALTER COLUMN colocation_key SET NOT NULL,
        DROP CONSTRAINT referral_sync_row_arrivals_pkey, ADD PRIMARY KEY (colocation_key, source, key);

    PERFORM create_distributed_table('customers', 'customer_id', shard_count => shard_count);
    PERFORM create_distributed_table('referrals', 'referrer_id', colocate_with => 'customers');
    PERFORM create_distributed_table('referral_orders', 'referrer_id', colocate_with => 'customers');
    PERFORM create_distributed_table('referral_rejections', 'referrer_id', colocate_with => 'customers');
    PERFORM create_distributed_table('referral_coupons', 'coupon_code', colocate_with => 'customers');
    PERFORM create_distributed_table('referral_sync_changes', 'colocation_key', colocate_with => 'customers');
    PERFORM create_distributed_table('referral_sync_event_notes', 'colocation_key', colocate_with => 'customers');
    PERFORM create_distributed_table('referral_sync_row_arrivals', 'colocation_key', colocate_with => 'customers');
    -- The rows copied stay on the coordinator's disk, unseen, until truncated; truncated with the triggers still off,
    -- so the notes do not record it as a truncation of the input tables.
    FOREACH input_table IN ARRAY input_tables || ARRAY['referral_sync_changes', 'referral_sync_event_notes',
                                                      'referral_sync_row_arrivals'] LOOP
        PERFORM truncate_local_data_after_distributing_table(input_table::regclass);
    END LOOP;
    FOREACH input_table IN ARRAY input_tables LOOP
        EXECUTE format('ALTER TABLE %I ENABLE TRIGGER USER', input_table);
    END LOOP;
END
$$;

-- The store it distributes is the one it was created in, whatever the caller's search_path.
DO $search_path$
BEGIN
    EXECUTE format('ALTER FUNCTION referral_sync_distribute_by_customer(integer) SET search_path = %I, pg_temp',
                   current_schema());
END
$search_path$;
