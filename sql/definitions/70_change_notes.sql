-- Change notes (README "Incremental recompute", "Events"): triggers on the input tables write
--   into referral_sync_changes (a table of migration 0006) which customers' derived rows are out of date, so a
--   refresh (80_refresh) recomputes only those; and
--   into referral_sync_event_notes (migration 0008) which rows were inserted or updated, so `referral-sync events`
--   derives the events of those rows only (85_events), never re-reading the history every few minutes; and
--   a notification on the channel referral_sync_events (payload: the store's schema) that wakes `events --follow`;
--   and into referral_sync_row_arrivals (migration 0017) when each row was first seen, last changed and deleted
--   (README "Finance", "Arrival times"), keyed by the table's primary key: one INSERT … ON CONFLICT per statement.
--
-- One statement-level trigger per table and event: a bulk load adds one INSERT … SELECT DISTINCT per note table,
-- not one row per row. The key noted for the refresh is the table's own customer (customers.customer_id,
-- referrals.referrer_id) or referral (referral_orders and referral_rejections: referral_id); an update notes the old
-- key and the new. For events: customers.customer_id, referrals.referral_id, the referral_id of an order or a
-- rejection, referral_coupons.coupon_code; a deleted order or rejection is noted too (it can change which order of
-- its referral earns the reward). referral_coupons feeds events only. SECURITY DEFINER so whoever loads the input
-- tables needs no rights on referral-sync's own tables; its search_path (set below) is this schema, then pg_temp,
-- so a loader's temporary table of the same name cannot take the notes.
CREATE OR REPLACE FUNCTION referral_sync_note_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    -- The input table, from the trigger's argument: on Citus the trigger fires on a shard, whose name is the
    -- table's with a number after it (issue 28).
    input_table text := TG_ARGV[0];
    key_column text := CASE input_table WHEN 'customers' THEN 'customer_id' WHEN 'referrals' THEN 'referrer_id'
                                          ELSE 'referral_id' END;
    note_column text := CASE WHEN input_table IN ('customers', 'referrals') THEN 'customer_id'
                             ELSE 'referral_id' END;
    event_key_column text := CASE input_table WHEN 'customers' THEN 'customer_id'
                                                WHEN 'referral_coupons' THEN 'coupon_code'
                                                ELSE 'referral_id' END;
    row_key_column text := CASE input_table WHEN 'customers' THEN 'customer_id'
                                              WHEN 'referral_orders' THEN 'order_id'
                                              WHEN 'referral_coupons' THEN 'coupon_code'
                                              ELSE 'referral_id' END;
    -- The transition tables the statements below read. On Citus (issue 28) the trigger fires on a shard, on the
    -- store's node, and Citus plans an INSERT … SELECT into a distributed table as a distributed query, which
    -- cannot see a transition table ("could not find named tuplestore"): there they are first copied into
    -- temporary tables, which it can. On PostgreSQL the statements read them directly, as they always have.
    new_source text := 'new_rows';
    old_source text := 'old_rows';
    kind text;
    copy text;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL AND TG_OP <> 'TRUNCATE' THEN
        FOREACH kind IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['new'] WHEN 'DELETE' THEN ARRAY['old']
                                         ELSE ARRAY['new', 'old'] END LOOP
            copy := 'pg_temp.' || quote_ident('referral_sync_' || kind || '_' || input_table);
            IF to_regclass(copy) IS NOT NULL THEN  -- an earlier statement's, in this transaction
                EXECUTE 'DROP TABLE ' || copy;
            END IF;
            EXECUTE 'CREATE TEMPORARY TABLE ' || copy || ' ON COMMIT DROP AS SELECT * FROM ' || kind || '_rows';
            IF kind = 'new' THEN new_source := copy; ELSE old_source := copy; END IF;
        END LOOP;
    END IF;
    -- Arrival times. A row an update or a delete sees for the first time predates the triggers: first seen at
    -- '-infinity', the beginning. A truncation deletes every row of the table the arrivals know.
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE referral_sync_row_arrivals SET last_changed = now(), deleted_at = now()
        WHERE source = input_table AND deleted_at IS NULL;
    ELSE
        EXECUTE format('INSERT INTO referral_sync_row_arrivals (source, key, first_seen, last_changed, deleted_at) '
                       'SELECT %L, %I, %s, now(), %s FROM %s ON CONFLICT (source, key) DO UPDATE '
                       'SET last_changed = excluded.last_changed, deleted_at = excluded.deleted_at',
                       input_table, row_key_column,
                       CASE TG_OP WHEN 'INSERT' THEN 'now()' ELSE '''-infinity''::timestamptz' END,
                       CASE TG_OP WHEN 'DELETE' THEN 'now()' ELSE 'NULL::timestamptz' END,
                       CASE TG_OP WHEN 'DELETE' THEN old_source ELSE new_source END);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE')
       OR (TG_OP = 'DELETE' AND input_table IN ('referral_orders', 'referral_rejections')) THEN
        EXECUTE format('INSERT INTO referral_sync_event_notes (source, key) SELECT DISTINCT %L, %I FROM %s',
                       input_table, event_key_column, CASE TG_OP WHEN 'DELETE' THEN old_source ELSE new_source END);
        -- The doorbell of `events --follow`: once per statement (and PostgreSQL folds the same channel and payload
        -- into one notification per transaction), delivered at commit. The payload names the store, so followers
        -- of other stores in the same database ignore it. The notes above stay the source of truth: a follower
        -- that misses this finds them at its next sweep.
        PERFORM pg_notify('referral_sync_events', TG_TABLE_SCHEMA);
    END IF;
    IF input_table = 'referral_coupons' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO referral_sync_changes (everything, why) VALUES (true, input_table || ' was truncated');
    ELSE
        -- The transition tables (new_rows, old_rows) are visible to EXECUTE as to any query of the trigger.
        EXECUTE format('INSERT INTO referral_sync_changes (%I) SELECT DISTINCT k FROM (%s) AS changed (k)',
                       note_column,
                       CASE TG_OP
                           WHEN 'INSERT' THEN format('SELECT %I FROM %s', key_column, new_source)
                           WHEN 'DELETE' THEN format('SELECT %I FROM %s', key_column, old_source)
                           ELSE format('SELECT %1$I FROM %2$s UNION ALL SELECT %1$I FROM %3$s', key_column, new_source,
                                       old_source)
                       END);
    END IF;
    RETURN NULL;
END
$$;

DO $triggers$
DECLARE
    input_table text;
BEGIN
    EXECUTE format('ALTER FUNCTION referral_sync_note_change() SET search_path = %I, pg_temp', current_schema());
    FOREACH input_table IN ARRAY ARRAY['customers', 'referrals', 'referral_orders', 'referral_rejections',
                                          'referral_coupons'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS referral_sync_inserted ON %I', input_table);
        EXECUTE format('DROP TRIGGER IF EXISTS referral_sync_updated ON %I', input_table);
        EXECUTE format('DROP TRIGGER IF EXISTS referral_sync_deleted ON %I', input_table);
        EXECUTE format('DROP TRIGGER IF EXISTS referral_sync_truncated ON %I', input_table);
        EXECUTE format('CREATE TRIGGER referral_sync_inserted AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_change(%L)', input_table, input_table);
        EXECUTE format('CREATE TRIGGER referral_sync_updated AFTER UPDATE ON %I '
                       'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_change(%L)', input_table, input_table);
        EXECUTE format('CREATE TRIGGER referral_sync_deleted AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_change(%L)', input_table, input_table);
        EXECUTE format('CREATE TRIGGER referral_sync_truncated AFTER TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_change(%L)', input_table, input_table);
    END LOOP;
END
$triggers$;
