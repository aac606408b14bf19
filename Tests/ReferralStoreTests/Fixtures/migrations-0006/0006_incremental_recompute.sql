-- 0006: the recompute kept between runs and brought up to date incrementally (README "Incremental recompute",
-- BENCHMARKS.md "A million referrers").
--
-- A full recompute reads the whole referral history: at a million participants it costs several times what
-- PostgreSQL needs to aggregate that history, because the identity rules, the rejected rows and the row
-- accounting each need it again. Yet a night changes about 1% of the participants. So the derived data is kept:
--   referral_sync_participant_values  every participant's identity, four attributes and identity problem;
--   referral_sync_rejected_rows       every input row that does not count, with its reason and detail;
--   referral_sync_state               what they were computed for (as-of, currency, phone region, rules) and
--                                     the input tables' row counts, for the row accounting;
-- and a run first brings them up to date (referral_sync_refresh below), recomputing only the customers whose
-- inputs changed since (referral_sync_changes, written by triggers on the input tables) or whose rows crossed
-- the as-of date since the last refresh. Every definition is the one of sql/queries (0003's rules); the
-- recompute of a set of customers is the full recompute restricted to them, so both give the same rows (a test
-- checks it after random changes). A full recompute happens when there is no state yet, when the currency, the
-- phone region or the rules changed, after a TRUNCATE of an input table, and on --full-recompute.
--
-- The three tables are UNLOGGED: derived data, not worth WAL. After a crash PostgreSQL empties them, the state
-- row is gone with them, and the next run recomputes everything.

-- 0003's participant set and identity problems now live in referral_sync_refresh below (the one definition).
DROP FUNCTION IF EXISTS referral_sync_participants(timestamptz, text);

-- 0002's date rule, declared STABLE (to_char is): PostgreSQL inlines a SQL function only when the body is no more
-- volatile than the declaration, so the IMMUTABLE form ran as a little query per date (a full refresh formats over a
-- million). Same result for every input.
CREATE OR REPLACE FUNCTION referral_sync_timestamp(at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- A point in time in a rejected row's detail: the attribute date format, or for ±infinity (which to_char makes NULL,
-- and timestamptz accepts) the value as PostgreSQL writes it. Not STRICT, so it is inlined too.
CREATE OR REPLACE FUNCTION referral_sync_detail_time(at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(referral_sync_timestamp(at), at::text)
$$;

-- The rows that cross the as-of date between two runs are found by these.
CREATE INDEX IF NOT EXISTS customers_opted_in_at_idx ON customers (opted_in_at);
CREATE INDEX IF NOT EXISTS referrals_created_at_idx ON referrals (created_at);
CREATE INDEX IF NOT EXISTS referral_orders_redeemed_at_idx ON referral_orders (redeemed_at);
CREATE INDEX IF NOT EXISTS referral_rejections_rejected_at_idx ON referral_rejections (rejected_at);

-- Which customers' derived rows are out of date. customer_id: a customer, or the referrer of a referral, that
-- was inserted, updated or deleted; referral_id: a referral whose orders or rejection changed (its referrer is
-- looked up when the state is refreshed, so an order may arrive before its referral's row is current);
-- everything: recompute every customer, for the reason given (an input table was truncated, or a run found
-- that its rows did not add up). No key: writers never wait for each other here, and duplicates are harmless.
CREATE UNLOGGED TABLE IF NOT EXISTS referral_sync_changes (
    customer_id text,
    referral_id text,
    everything  boolean NOT NULL DEFAULT false,
    why         text
);

CREATE UNLOGGED TABLE IF NOT EXISTS referral_sync_state (
    singleton                  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    -- The definitions the rows were computed with: the functions below and 0002/0003/0005's rules, the server's
    -- version and the database's collation version (lower() and normalize() depend on them).
    rules_fingerprint          text NOT NULL,
    as_of                      timestamptz NOT NULL,
    currency                   text NOT NULL,
    minor_units                integer NOT NULL,
    default_region             text,
    refreshed_at               timestamptz NOT NULL,
    full_recompute_at          timestamptz NOT NULL,
    -- The row accounting (sql/queries/row_accounting.sql), counted on the refresh's snapshot.
    customers_read             bigint NOT NULL,
    customers_not_participants bigint NOT NULL,
    referrals_read             bigint NOT NULL,
    orders_read                bigint NOT NULL,
    rejections_read            bigint NOT NULL,
    rejections_counted         bigint NOT NULL
);

CREATE UNLOGGED TABLE IF NOT EXISTS referral_sync_participant_values (
    customer_id                       text PRIMARY KEY,
    email                             text,
    phone                             text,
    shareable_link                    text,
    send_email                        text,
    send_phone                        text,
    successful_referrals              text NOT NULL,
    latest_successful_referral_at     text,
    total_successful_referral_revenue text NOT NULL,
    -- Referrals of this customer that count (README "Rejected rows"), for the row accounting.
    counted_referrals                 bigint NOT NULL,
    problem                           text,
    problem_detail                    text
);
-- Who else holds an identity, looked up for the few identities a refresh touches.
CREATE INDEX IF NOT EXISTS referral_sync_participant_values_email_idx ON referral_sync_participant_values (send_email);
CREATE INDEX IF NOT EXISTS referral_sync_participant_values_phone_idx ON referral_sync_participant_values (send_phone);

CREATE UNLOGGED TABLE IF NOT EXISTS referral_sync_rejected_rows (
    "table"  text NOT NULL,
    key      text NOT NULL,
    -- The customer whose recompute produces this row: the referrer of the referral involved.
    owner_id text NOT NULL,
    reason   text NOT NULL,
    detail   text NOT NULL,
    PRIMARY KEY ("table", key)
);
CREATE INDEX IF NOT EXISTS referral_sync_rejected_rows_owner_idx ON referral_sync_rejected_rows (owner_id);

-- One statement-level trigger per table and event: a bulk load adds one INSERT … SELECT DISTINCT, not one row
-- per row. The key noted is the table's own customer (customers.customer_id, referrals.referrer_id) or referral
-- (referral_orders and referral_rejections: referral_id); an update notes the old key and the new. SECURITY
-- DEFINER so whoever loads the input tables needs no rights on referral-sync's own tables; its search_path (set
-- below) is this schema, then pg_temp, so a loader's temporary table of the same name cannot take the notes.
CREATE OR REPLACE FUNCTION referral_sync_note_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    key_column text := CASE TG_TABLE_NAME WHEN 'customers' THEN 'customer_id' WHEN 'referrals' THEN 'referrer_id'
                                          ELSE 'referral_id' END;
    note_column text := CASE WHEN TG_TABLE_NAME IN ('customers', 'referrals') THEN 'customer_id'
                             ELSE 'referral_id' END;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO referral_sync_changes (everything, why) VALUES (true, TG_TABLE_NAME || ' was truncated');
    ELSE
        -- The transition tables (new_rows, old_rows) are visible to EXECUTE as to any query of the trigger.
        EXECUTE format('INSERT INTO referral_sync_changes (%I) SELECT DISTINCT k FROM (%s) AS changed (k)',
                       note_column,
                       CASE TG_OP
                           WHEN 'INSERT' THEN format('SELECT %I FROM new_rows', key_column)
                           WHEN 'DELETE' THEN format('SELECT %I FROM old_rows', key_column)
                           ELSE format('SELECT %1$I FROM new_rows UNION ALL SELECT %1$I FROM old_rows', key_column)
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
    FOREACH input_table IN ARRAY ARRAY['customers', 'referrals', 'referral_orders', 'referral_rejections'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS referral_sync_inserted ON %I', input_table);
        EXECUTE format('DROP TRIGGER IF EXISTS referral_sync_updated ON %I', input_table);
        EXECUTE format('DROP TRIGGER IF EXISTS referral_sync_deleted ON %I', input_table);
        EXECUTE format('DROP TRIGGER IF EXISTS referral_sync_truncated ON %I', input_table);
        EXECUTE format('CREATE TRIGGER referral_sync_inserted AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_change()', input_table);
        EXECUTE format('CREATE TRIGGER referral_sync_updated AFTER UPDATE ON %I '
                       'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_change()', input_table);
        EXECUTE format('CREATE TRIGGER referral_sync_deleted AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_change()', input_table);
        EXECUTE format('CREATE TRIGGER referral_sync_truncated AFTER TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_change()', input_table);
    END LOOP;
END
$triggers$;

-- Brings the derived tables up to date for a run's as-of, currency and phone region, and says what it did:
-- mode 'full' or 'incremental', why (for the summary), and how many customers were recomputed. Call it in a
-- REPEATABLE READ transaction, with no other refresh running (the job holds an advisory lock around it):
-- everything it reads is one snapshot, and the change markers it deletes are exactly those that snapshot sees, so
-- a change committed meanwhile stays marked for the next run.
CREATE OR REPLACE FUNCTION referral_sync_refresh(
    p_as_of timestamptz, p_currency text, p_minor_units integer, p_default_region text, p_full boolean)
RETURNS TABLE (mode text, reason text, recomputed bigint)
-- JIT compiling these statements costs more than it saves: a second or more for the identity step alone.
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    -- Any change to a definition (a later migration, a server or collation upgrade) recomputes everyone.
    rules text := (
        SELECT md5(string_agg(pg_get_functiondef(f.oid), E'\n' ORDER BY f.oid::regprocedure::text))
               || ':' || version()
               || ':' || coalesce((SELECT d.datcollversion FROM pg_database d WHERE d.datname = current_database()), '')
        FROM pg_proc f
        WHERE f.proname IN ('referral_sync_refresh', 'referral_sync_email', 'referral_sync_phone', 'referral_sync_trim',
                            'referral_sync_nfc', 'referral_sync_money', 'referral_sync_timestamp',
                            'referral_sync_detail_time')
          AND f.pronamespace = (SELECT p.pronamespace FROM pg_proc p WHERE p.oid = 'referral_sync_refresh'::regproc));
    previous referral_sync_state%ROWTYPE;
    why text;
    low timestamptz;
    high timestamptz;
    owner_count bigint;
    rebuild_indexes boolean := false;
BEGIN
    IF current_setting('transaction_isolation') NOT IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION 'referral_sync_refresh needs a REPEATABLE READ transaction';
    END IF;
    SELECT * INTO previous FROM referral_sync_state;
    why := CASE
        WHEN p_full THEN 'asked for (--full-recompute)'
        WHEN previous.singleton IS NULL THEN 'no earlier state (first run, or emptied after a crash)'
        WHEN previous.rules_fingerprint <> rules
            THEN 'the attribute definitions, PostgreSQL or its collation changed'
        WHEN previous.currency <> p_currency OR previous.minor_units <> p_minor_units THEN 'the shop currency changed'
        WHEN previous.default_region IS DISTINCT FROM p_default_region THEN 'the default phone region changed'
        ELSE (SELECT coalesce(min(ch.why), 'a full recompute was asked for') FROM referral_sync_changes ch
              WHERE ch.everything HAVING count(*) > 0)
    END;

    DROP TABLE IF EXISTS pg_temp.referral_sync_owners;
    CREATE TEMP TABLE referral_sync_owners (customer_id text PRIMARY KEY) ON COMMIT DROP;
    -- The identities the recomputed customers had and have: only their holders' problems can change.
    DROP TABLE IF EXISTS pg_temp.referral_sync_touched;
    CREATE TEMP TABLE referral_sync_touched (send_email text, send_phone text) ON COMMIT DROP;
    IF why IS NOT NULL THEN
        -- Everyone: the statements below read every row instead of the owners' (which stays empty).
        DELETE FROM referral_sync_participant_values;
        DELETE FROM referral_sync_rejected_rows;
        -- With no earlier state (a first run, or after a crash) no run can be reading these tables, so the
        -- secondary indexes are dropped and built once at the end rather than row by row. Otherwise they stay:
        -- DROP INDEX would wait for, and then block, the readers of shards that are streaming.
        rebuild_indexes := previous.singleton IS NULL;
        IF rebuild_indexes THEN
            DROP INDEX referral_sync_participant_values_email_idx;
            DROP INDEX referral_sync_participant_values_phone_idx;
            DROP INDEX referral_sync_rejected_rows_owner_idx;
        END IF;
        SELECT count(*) INTO owner_count FROM customers;
    ELSE
        low := least(previous.as_of, p_as_of);
        high := greatest(previous.as_of, p_as_of);
        INSERT INTO referral_sync_owners
        SELECT ch.customer_id FROM referral_sync_changes ch WHERE ch.customer_id IS NOT NULL
        UNION
        SELECT r.referrer_id FROM referral_sync_changes ch JOIN referrals r ON r.referral_id = ch.referral_id
        -- Rows whose date lies between the last refresh's as-of and this one's count now and did not then, or
        -- the other way round.
        UNION
        SELECT c.customer_id FROM customers c WHERE c.opted_in_at > low AND c.opted_in_at <= high
        UNION
        SELECT r.referrer_id FROM referrals r WHERE r.created_at > low AND r.created_at <= high
        UNION
        SELECT r.referrer_id FROM referral_orders o JOIN referrals r ON r.referral_id = o.referral_id
        WHERE o.redeemed_at > low AND o.redeemed_at <= high
        UNION
        SELECT r.referrer_id FROM referral_rejections j JOIN referrals r ON r.referral_id = j.referral_id
        WHERE j.rejected_at > low AND j.rejected_at <= high;
        WITH gone AS (
            DELETE FROM referral_sync_participant_values v USING referral_sync_owners o
            WHERE v.customer_id = o.customer_id
            RETURNING v.send_email, v.send_phone
        )
        INSERT INTO referral_sync_touched SELECT * FROM gone;
        DELETE FROM referral_sync_rejected_rows v USING referral_sync_owners o WHERE v.owner_id = o.customer_id;
        ANALYZE referral_sync_owners;
        SELECT count(*) INTO owner_count FROM referral_sync_owners;
    END IF;

    IF owner_count > 0 THEN
        -- The definitions of sql/queries (README "Attribute definitions", "Rejected rows"), over the owners'
        -- rows only, each check computed once for both the attributes and the rejected rows.
        WITH referral_checks AS MATERIALIZED (
            SELECT r.referral_id, r.referrer_id, r.created_at,
                   CASE
                       WHEN r.created_at > p_as_of THEN 'created_after_as_of'
                       WHEN r.recipient_customer_id = r.referrer_id THEN 'self_referral_by_customer_id'
                       -- Only two present, non-blank emails can be the same.
                       WHEN nullif(lower(btrim(r.recipient_email)), '') = nullif(lower(btrim(referrer.email)), '')
                           THEN 'self_referral_by_email'
                   END AS reason
            FROM referrals r
            JOIN customers referrer ON referrer.customer_id = r.referrer_id
            WHERE why IS NOT NULL OR r.referrer_id IN (SELECT w.customer_id FROM referral_sync_owners w)
        ),
        order_checks AS (
            SELECT o.order_id, o.referral_id, rc.referrer_id, o.redeemed_at, o.currency, o.total_price,
                   rc.created_at, rc.reason AS referral_reason, j.rejected_at,
                   -- A rejection dated by as-of rejects the referral whatever its date relative to the order.
                   coalesce(j.rejected_at <= p_as_of, false) AS referral_rejected,
                   CASE
                       WHEN o.redeemed_at > p_as_of THEN 'redeemed_after_as_of'
                       WHEN NOT isfinite(o.redeemed_at) THEN 'redeemed_at_not_finite'
                       WHEN o.total_price IN ('NaN', 'Infinity', '-Infinity') THEN 'total_not_finite'
                       WHEN o.total_price < 0 THEN 'negative_total'
                       WHEN o.currency IS DISTINCT FROM p_currency THEN 'currency_mismatch'
                       WHEN rc.reason IS NOT NULL THEN 'referral_not_counted'
                       WHEN o.redeemed_at < rc.created_at THEN 'redeemed_before_referral_created'
                   END AS reason
            FROM referral_checks rc
            JOIN referral_orders o ON o.referral_id = rc.referral_id
            LEFT JOIN referral_rejections j ON j.referral_id = rc.referral_id
        ),
        ranked_orders AS MATERIALIZED (
            -- Each valid order's place among its referral's valid orders (earliest redeemed_at, then order_id):
            -- the first is the referral's qualifying order.
            SELECT oc.*,
                   row_number() OVER by_referral AS position,
                   first_value(oc.order_id) OVER by_referral AS first_order_id
            FROM order_checks oc
            WINDOW by_referral AS (PARTITION BY oc.referral_id, oc.reason IS NULL
                                   ORDER BY oc.redeemed_at, oc.order_id)
        ),
        per_referrer AS (
            SELECT rc.referrer_id,
                   count(*) FILTER (WHERE rc.reason IS NULL) AS counted_referrals,
                   bool_or(rc.created_at <= p_as_of) AS referred
            FROM referral_checks rc
            GROUP BY rc.referrer_id
        ),
        successes AS (
            -- A referral is successful when it has a qualifying order and no rejection dated by as-of.
            SELECT q.referrer_id, count(*) AS successful_referrals, max(q.redeemed_at) AS latest_at,
                   sum(q.total_price) AS revenue
            FROM ranked_orders q
            WHERE q.reason IS NULL AND q.position = 1 AND NOT q.referral_rejected
            GROUP BY q.referrer_id
        ),
        rejected AS (
            INSERT INTO referral_sync_rejected_rows ("table", key, owner_id, reason, detail)
            SELECT 'referrals', rc.referral_id, rc.referrer_id, rc.reason,
                   CASE rc.reason
                       WHEN 'created_after_as_of'
                           THEN 'created_at ' || referral_sync_detail_time(rc.created_at) || ' is after --as-of'
                       WHEN 'self_referral_by_customer_id' THEN 'the recipient is the referrer (same customer_id)'
                       ELSE 'the recipient email is the referrer''s own email'
                   END
            FROM referral_checks rc
            WHERE rc.reason IS NOT NULL
            UNION ALL
            SELECT 'referral_orders', oc.order_id, oc.referrer_id,
                   CASE WHEN oc.reason IS NULL AND oc.referral_rejected THEN 'referral_rejected'
                        WHEN oc.reason IS NULL THEN 'not_first_order_of_referral'
                        ELSE oc.reason END,
                   CASE
                       WHEN oc.reason = 'redeemed_after_as_of'
                           THEN 'redeemed_at ' || referral_sync_detail_time(oc.redeemed_at) || ' is after --as-of'
                       WHEN oc.reason = 'redeemed_at_not_finite'
                           THEN 'redeemed_at ' || oc.redeemed_at::text || ' is not a point in time'
                       WHEN oc.reason = 'total_not_finite'
                           THEN 'total_price ' || oc.total_price::text || ' is not an amount'
                       WHEN oc.reason = 'negative_total' THEN 'total_price ' || oc.total_price::text || ' is negative'
                       WHEN oc.reason = 'currency_mismatch'
                           THEN 'currency ' || oc.currency || ' is not the shop currency ' || p_currency
                       WHEN oc.reason = 'referral_not_counted'
                           THEN 'referral ' || oc.referral_id || ' does not count (' || oc.referral_reason || ')'
                       WHEN oc.reason = 'redeemed_before_referral_created'
                           THEN 'redeemed_at ' || referral_sync_detail_time(oc.redeemed_at)
                                || ' is before the referral was created at ' || referral_sync_detail_time(oc.created_at)
                       WHEN oc.referral_rejected
                           THEN 'referral ' || oc.referral_id || ' was rejected at '
                                || referral_sync_detail_time(oc.rejected_at)
                       ELSE 'referral ' || oc.referral_id || ' already counts with its first order ' || oc.first_order_id
                   END
            FROM ranked_orders oc
            WHERE oc.reason IS NOT NULL OR oc.referral_rejected OR oc.position > 1
            UNION ALL
            SELECT 'referral_rejections', j.referral_id, rc.referrer_id, 'rejected_after_as_of',
                   'rejected_at ' || referral_sync_detail_time(j.rejected_at) || ' is after --as-of'
            FROM referral_checks rc
            JOIN referral_rejections j ON j.referral_id = rc.referral_id
            WHERE j.rejected_at > p_as_of
        )
        -- Every participant: opted in, or referred at least once, by as-of.
        INSERT INTO referral_sync_participant_values
        SELECT c.customer_id, c.email, c.phone, c.shareable_link,
               referral_sync_email(c.email), referral_sync_phone(c.phone, p_default_region),
               coalesce(s.successful_referrals, 0)::text, referral_sync_timestamp(s.latest_at),
               referral_sync_money(coalesce(s.revenue, 0), p_minor_units),
               coalesce(pr.counted_referrals, 0), NULL, NULL
        FROM customers c
        LEFT JOIN per_referrer pr ON pr.referrer_id = c.customer_id
        LEFT JOIN successes s ON s.referrer_id = c.customer_id
        WHERE (why IS NOT NULL OR c.customer_id IN (SELECT w.customer_id FROM referral_sync_owners w))
          AND (c.opted_in_at <= p_as_of OR coalesce(pr.referred, false));

        -- Identity problems (0003's rules): no usable identity, or an identity another participant also has.
        -- Changing one customer's email can give or take another's problem, so the holders of every identity a
        -- recomputed customer had or has are checked again (found by index).
        -- Only the rows whose problem changed are written.
        INSERT INTO referral_sync_touched
        SELECT v.send_email, v.send_phone
        FROM referral_sync_participant_values v JOIN referral_sync_owners o ON o.customer_id = v.customer_id
        WHERE why IS NULL;
        -- The participants whose problem may change: the recomputed customers (their own identity may now be
        -- unusable) and every holder of a touched identity. A table of its own, analysed, so the statement below
        -- is planned for the few rows it has.
        DROP TABLE IF EXISTS pg_temp.referral_sync_candidates;
        -- After a full recompute every problem is NULL: the candidates are the participants with no identity or
        -- a shared one (found by hashing every identity once).
        CREATE TEMP TABLE referral_sync_candidates ON COMMIT DROP AS
        SELECT v.customer_id, v.send_email, v.send_phone FROM referral_sync_participant_values v
        WHERE why IS NOT NULL
          AND ((v.send_email IS NULL AND v.send_phone IS NULL)
               OR v.send_email IN (SELECT e.send_email FROM referral_sync_participant_values e
                                   WHERE e.send_email IS NOT NULL GROUP BY e.send_email HAVING count(*) > 1)
               OR v.send_phone IN (SELECT p.send_phone FROM referral_sync_participant_values p
                                   WHERE p.send_phone IS NOT NULL GROUP BY p.send_phone HAVING count(*) > 1));
        INSERT INTO referral_sync_candidates
        SELECT v.customer_id, v.send_email, v.send_phone
        FROM referral_sync_participant_values v JOIN referral_sync_owners o ON o.customer_id = v.customer_id
        WHERE why IS NULL
        UNION
        SELECT v.customer_id, v.send_email, v.send_phone
        FROM referral_sync_participant_values v
        WHERE why IS NULL AND v.send_email IN (SELECT t.send_email FROM referral_sync_touched t)
        UNION
        SELECT v.customer_id, v.send_email, v.send_phone
        FROM referral_sync_participant_values v
        WHERE why IS NULL AND v.send_phone IN (SELECT t.send_phone FROM referral_sync_touched t);
        ANALYZE referral_sync_candidates;
        WITH shared_emails AS (
            -- The candidates' emails that more than one participant holds (counted over every holder).
            SELECT v.send_email FROM referral_sync_participant_values v
            WHERE v.send_email IN (SELECT k.send_email FROM referral_sync_candidates k)
            GROUP BY v.send_email HAVING count(*) > 1
        ),
        shared_phones AS (
            SELECT v.send_phone FROM referral_sync_participant_values v
            WHERE v.send_phone IN (SELECT k.send_phone FROM referral_sync_candidates k)
            GROUP BY v.send_phone HAVING count(*) > 1
        ),
        email_holders AS (
            SELECT v.customer_id, count(*) OVER by_email AS holders,
                   first_value(v.customer_id) OVER by_email AS first_holder,
                   nth_value(v.customer_id, 2) OVER by_email AS second_holder
            FROM referral_sync_participant_values v JOIN shared_emails s ON s.send_email = v.send_email
            WINDOW by_email AS (PARTITION BY v.send_email ORDER BY v.customer_id
                                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ),
        phone_holders AS (
            SELECT v.customer_id, count(*) OVER by_phone AS holders,
                   first_value(v.customer_id) OVER by_phone AS first_holder,
                   nth_value(v.customer_id, 2) OVER by_phone AS second_holder
            FROM referral_sync_participant_values v JOIN shared_phones s ON s.send_phone = v.send_phone
            WINDOW by_phone AS (PARTITION BY v.send_phone ORDER BY v.customer_id
                                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ),
        problems AS (
            SELECT v.customer_id,
                   CASE WHEN v.send_email IS NULL AND v.send_phone IS NULL THEN 'no_usable_identity'
                        WHEN e.holders > 1 OR p.holders > 1 THEN 'duplicate_identity'
                   END AS problem,
                   CASE
                       WHEN v.send_email IS NULL AND v.send_phone IS NULL THEN
                           'no usable identity: email '
                           || CASE WHEN v.email IS NULL THEN 'missing'
                                   WHEN referral_sync_trim(v.email) = '' THEN 'empty'
                                   ELSE '"' || v.email || '" is not a valid address' END
                           || ', phone '
                           || CASE WHEN v.phone IS NULL THEN 'missing'
                                   WHEN referral_sync_trim(v.phone) = '' THEN 'empty'
                                   WHEN p_default_region IS NULL
                                       THEN '"' || v.phone
                                            || '" is not E.164 (a national number needs --default-phone-region)'
                                   ELSE '"' || v.phone || '" is neither E.164 nor a ' || upper(p_default_region)
                                       || ' national number' END
                       WHEN e.holders > 1 OR p.holders > 1 THEN
                           'identity shared with another participant, so neither is sent: '
                           || concat_ws('; ',
                                CASE WHEN e.holders > 1 THEN
                                    'email ' || v.send_email || ' is also customer '
                                    || CASE WHEN e.first_holder = v.customer_id THEN e.second_holder
                                            ELSE e.first_holder END
                                    || CASE WHEN e.holders > 2 THEN ' and ' || (e.holders - 2) || ' more' ELSE '' END
                                END,
                                CASE WHEN p.holders > 1 THEN
                                    'phone ' || v.send_phone || ' is also customer '
                                    || CASE WHEN p.first_holder = v.customer_id THEN p.second_holder
                                            ELSE p.first_holder END
                                    || CASE WHEN p.holders > 2 THEN ' and ' || (p.holders - 2) || ' more' ELSE '' END
                                END)
                   END AS detail
            FROM referral_sync_candidates k
            JOIN referral_sync_participant_values v ON v.customer_id = k.customer_id
            LEFT JOIN email_holders e ON e.customer_id = k.customer_id
            LEFT JOIN phone_holders p ON p.customer_id = k.customer_id
        )
        UPDATE referral_sync_participant_values v
        SET problem = p.problem, problem_detail = p.detail
        FROM problems p
        WHERE v.customer_id = p.customer_id
          AND (v.problem, v.problem_detail) IS DISTINCT FROM (p.problem, p.detail);
    END IF;

    IF rebuild_indexes THEN
        CREATE INDEX referral_sync_participant_values_email_idx ON referral_sync_participant_values (send_email);
        CREATE INDEX referral_sync_participant_values_phone_idx ON referral_sync_participant_values (send_phone);
        CREATE INDEX referral_sync_rejected_rows_owner_idx ON referral_sync_rejected_rows (owner_id);
    END IF;

    -- The markers this snapshot sees are handled; any committed since stay for the next run.
    DELETE FROM referral_sync_changes;

    DELETE FROM referral_sync_state;
    INSERT INTO referral_sync_state
    SELECT true, rules, p_as_of, p_currency, p_minor_units, p_default_region, clock_timestamp(),
           CASE WHEN why IS NOT NULL THEN clock_timestamp() ELSE previous.full_recompute_at END,
           (SELECT count(*) FROM customers),
           -- A scalar subquery (never turned into a join) keeps this an index lookup per customer who did not opt
           -- in, a few percent, rather than a join with every referral.
           (SELECT count(*) FROM customers c
            WHERE NOT coalesce(c.opted_in_at <= p_as_of, false)
              AND (SELECT r.referral_id FROM referrals r
                   WHERE r.referrer_id = c.customer_id AND r.created_at <= p_as_of LIMIT 1) IS NULL),
           (SELECT count(*) FROM referrals),
           (SELECT count(*) FROM referral_orders),
           (SELECT count(*) FROM referral_rejections),
           (SELECT count(*) FROM referral_rejections WHERE rejected_at <= p_as_of);

    RETURN QUERY SELECT CASE WHEN why IS NULL THEN 'incremental' ELSE 'full' END, why, owner_count;
END
$$;
