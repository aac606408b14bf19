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
    -- node that holds it, and Citus plans an INSERT … SELECT into a distributed table as a distributed query, which
    -- cannot see a transition table ("could not find named tuplestore"): there the key columns of its rows are
    -- read into a JSON literal first, which it can. Not a temporary table: a transaction that writes shards on two
    -- nodes commits in two phases, and PostgreSQL refuses to prepare one that used a temporary table. On
    -- PostgreSQL the statements read the transition tables directly, as they always have.
    new_source text := 'new_rows';
    old_source text := 'old_rows';
    kind text;
    key_columns text;
    copied_rows text;
    -- On Citus (issue 28), where the trigger fires: 'shard', on a shard of a distributed table, on the node that
    -- holds it; 'shell', on the distributed table itself, where a TRUNCATE was issued (Citus fires a TRUNCATE's
    -- triggers there and on every shard); NULL on PostgreSQL, and for a table Citus does not distribute.
    citus_role text;
    -- A store whose tables are distributed by row (README "Several workers and a distributed PostgreSQL",
    -- referral_sync_distribute_by_customer in 97_citus_layout) keeps its notes distributed by colocation_key, the
    -- distribution column's value of the row noted: each note lands on the shard co-located with that row's, on
    -- the trigger's own node (Citus refuses a trigger's write to another node). Empty everywhere else, so the
    -- statements below are the same text as they always were.
    colocation_column text := '';
    colocation_value text := '';
    distribution_column text;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        citus_role := CASE WHEN EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = TG_RELID) THEN 'shell'
                           WHEN EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = to_regclass(input_table))
                           THEN 'shard' END;
        IF citus_role = 'shard' AND TG_OP = 'TRUNCATE' THEN
            RETURN NULL;  -- noted once, by the trigger on the distributed table itself
        END IF;
        IF EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = to_regclass('referral_sync_changes')
                                                   AND partmethod = 'h') THEN
            colocation_column := ', colocation_key';
            IF TG_OP <> 'TRUNCATE' THEN
                distribution_column := (SELECT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition
                                        WHERE logicalrelid = to_regclass(input_table) AND partmethod = 'h');
                colocation_value := ', ' || quote_ident(distribution_column);
                IF colocation_value IS NULL THEN
                    RAISE EXCEPTION 'referral-sync cannot note the changes of %: its notes are distributed by row, '
                                    'and % is not', input_table, input_table
                    USING HINT = 'Distribute it by row, co-located with customers: '
                                 'SELECT referral_sync_distribute_by_customer()';
                END IF;
            END IF;
        END IF;
    END IF;
    IF citus_role IS NOT NULL AND TG_OP <> 'TRUNCATE' THEN
        FOREACH kind IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['new'] WHEN 'DELETE' THEN ARRAY['old']
                                         ELSE ARRAY['new', 'old'] END LOOP
            key_columns := (SELECT string_agg(DISTINCT quote_ident(c), ', ')
                            FROM unnest(ARRAY[key_column, event_key_column, row_key_column, distribution_column]) c
                            WHERE c IS NOT NULL);
            EXECUTE format('SELECT coalesce(json_agg(r), ''[]'')::text FROM (SELECT %s FROM %I) r', key_columns,
                           kind || '_rows') INTO copied_rows;
            copied_rows := format('json_to_recordset(%L) AS %I (%s)', copied_rows, kind || '_rows',
                                  replace(key_columns, ', ', ' text, ') || ' text');
            IF kind = 'new' THEN new_source := copied_rows; ELSE old_source := copied_rows; END IF;
        END LOOP;
    END IF;
    -- Arrival times. A row an update or a delete sees for the first time predates the triggers: first seen at
    -- '-infinity', the beginning. A truncation deletes every row of the table the arrivals know.
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE referral_sync_row_arrivals SET last_changed = now(), deleted_at = now()
        WHERE source = input_table AND deleted_at IS NULL;
    ELSE
        EXECUTE format('INSERT INTO referral_sync_row_arrivals (source, key, first_seen, last_changed, deleted_at%s) '
                       'SELECT %L, %I, %s, now(), %s%s FROM %s ON CONFLICT (%ssource, key) DO UPDATE '
                       'SET last_changed = excluded.last_changed, deleted_at = excluded.deleted_at',
                       colocation_column, input_table, row_key_column,
                       CASE TG_OP WHEN 'INSERT' THEN 'now()' ELSE '''-infinity''::timestamptz' END,
                       CASE TG_OP WHEN 'DELETE' THEN 'now()' ELSE 'NULL::timestamptz' END, colocation_value,
                       CASE TG_OP WHEN 'DELETE' THEN old_source ELSE new_source END,
                       CASE WHEN colocation_column <> '' THEN 'colocation_key, ' ELSE '' END);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE')
       OR (TG_OP = 'DELETE' AND input_table IN ('referral_orders', 'referral_rejections')) THEN
        EXECUTE format('INSERT INTO referral_sync_event_notes (source, key%s) SELECT DISTINCT %L, %I%s FROM %s',
                       colocation_column, input_table, event_key_column, colocation_value,
                       CASE TG_OP WHEN 'DELETE' THEN old_source ELSE new_source END);
        -- The doorbell of `events --follow`: once per statement (and PostgreSQL folds the same channel and payload
        -- into one notification per transaction), delivered at commit. The payload names the store, so followers
        -- of other stores in the same database ignore it. The notes above stay the source of truth: a follower
        -- that misses this finds them at its next sweep. Not on a Citus shard: there it would ring on the shard's
        -- node, where no follower listens, and PostgreSQL refuses to prepare (as a transaction that writes shards on
        -- two nodes must) a transaction that sent a notification.
        IF citus_role IS DISTINCT FROM 'shard' THEN
            PERFORM pg_notify('referral_sync_events', TG_TABLE_SCHEMA);
        END IF;
    END IF;
    IF input_table = 'referral_coupons' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' AND colocation_column = '' THEN
        INSERT INTO referral_sync_changes (everything, why) VALUES (true, input_table || ' was truncated');
    ELSIF TG_OP = 'TRUNCATE' THEN
        EXECUTE 'INSERT INTO referral_sync_changes (everything, why, colocation_key) VALUES (true, $1, $2)'
        USING input_table || ' was truncated', input_table;
    ELSE
        -- The transition tables (new_rows, old_rows) are visible to EXECUTE as to any query of the trigger.
        EXECUTE format('INSERT INTO referral_sync_changes (%I%s) SELECT DISTINCT k%s FROM (%s) AS changed (k%s)',
                       note_column, colocation_column, replace(colocation_column, 'colocation_key', 'c'),
                       CASE TG_OP
                           WHEN 'INSERT' THEN format('SELECT %I%s FROM %s', key_column, colocation_value, new_source)
                           WHEN 'DELETE' THEN format('SELECT %I%s FROM %s', key_column, colocation_value, old_source)
                           ELSE format('SELECT %1$I%4$s FROM %2$s UNION ALL SELECT %1$I%4$s FROM %3$s', key_column,
                                       new_source, old_source, colocation_value)
                       END,
                       replace(colocation_column, 'colocation_key', 'c'));
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
