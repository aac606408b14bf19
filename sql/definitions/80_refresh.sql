-- The refresh (README "Incremental recompute"): the kept recompute brought up to date with the rules above.
--
-- Brings the derived tables up to date for a run's as-of, currency and phone region, and says what it did:
-- mode 'full' or 'incremental', why (for the summary), and how many customers were recomputed. Call it in a
-- REPEATABLE READ transaction, with no other refresh running (the job holds an advisory lock around it):
-- everything it reads is one snapshot, and the change markers it deletes are exactly those that snapshot sees, so
-- a change committed meanwhile stays marked for the next run.
--
-- p_count_rows: count the input tables' rows for the row accounting, as every run does. `referral-sync explain`,
-- which accounts for nothing, passes false and keeps the last counts (at a million participants the counting is
-- most of a refresh with nothing to recompute); the next run's refresh counts again.
DROP FUNCTION IF EXISTS referral_sync_refresh(timestamptz, text, integer, text, boolean);
CREATE OR REPLACE FUNCTION referral_sync_refresh(
    p_as_of timestamptz, p_currency text, p_minor_units integer, p_default_region text, p_full boolean,
    p_count_rows boolean DEFAULT true)
RETURNS TABLE (mode text, reason text, recomputed bigint)
-- JIT compiling these statements costs more than it saves: a second or more for the identity step alone.
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    -- Any change to a definition (sql/definitions, re-applied by every migrate), the server or its collation
    -- recomputes everyone: the fingerprint covers every referral_sync_ function of this schema.
    rules text := (
        SELECT md5(string_agg(pg_get_functiondef(f.oid), E'\n' ORDER BY f.oid::regprocedure::text))
               || ':' || version()
               || ':' || coalesce((SELECT d.datcollversion FROM pg_database d WHERE d.datname = current_database()), '')
        FROM pg_proc f
        WHERE f.proname LIKE 'referral\_sync\_%'
          AND f.pronamespace = (SELECT p.pronamespace FROM pg_proc p WHERE p.oid = 'referral_sync_refresh'::regproc));
    previous referral_sync_state%ROWTYPE;
    why text;
    low timestamptz;
    high timestamptz;
    owner_count bigint;
    -- The customers recomputed by an incremental refresh, for the rule functions; NULL (everyone) for a full one.
    referrers text[];
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
        DELETE FROM referral_sync_revenue_kept_lines;
        DELETE FROM referral_sync_counted_referrals;
        -- With no earlier state (a first run, or after a crash) no run can be reading these tables, so the
        -- secondary indexes are dropped and built once at the end rather than row by row. Otherwise they stay:
        -- DROP INDEX would wait for, and then block, the readers of shards that are streaming.
        rebuild_indexes := previous.singleton IS NULL;
        IF rebuild_indexes THEN
            DROP INDEX referral_sync_participant_values_email_idx;
            DROP INDEX referral_sync_participant_values_phone_idx;
            DROP INDEX referral_sync_rejected_rows_owner_idx;
            DROP INDEX referral_sync_revenue_kept_lines_referrer_idx;
            DROP INDEX referral_sync_counted_referrals_referrer_idx;
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
        DELETE FROM referral_sync_revenue_kept_lines v USING referral_sync_owners o
        WHERE v.referrer_id = o.customer_id;
        DELETE FROM referral_sync_counted_referrals v USING referral_sync_owners o WHERE v.referrer_id = o.customer_id;
        ANALYZE referral_sync_owners;
        SELECT count(*) INTO owner_count FROM referral_sync_owners;
        referrers := ARRAY(SELECT w.customer_id FROM referral_sync_owners w);
    END IF;

    IF owner_count > 0 THEN
        -- The rules of sql/definitions (README "Attribute definitions", "Rejected rows") over the owners' rows
        -- only (referrers), each check computed once for the attributes, the rejected rows and the revenue
        -- report's kept lines.
        WITH referral_checks AS MATERIALIZED (
            SELECT * FROM referral_sync_referral_checks(p_as_of, referrers)
        ),
        ranked_orders AS MATERIALIZED (
            SELECT * FROM referral_sync_order_checks(p_as_of, p_currency, referrers)
        ),
        per_referrer AS (
            SELECT rc.referrer_id,
                   count(*) FILTER (WHERE rc.reason IS NULL) AS counted_referrals,
                   bool_or(rc.created_at <= p_as_of) AS referred
            FROM referral_checks rc
            GROUP BY rc.referrer_id
        ),
        successes AS (
            SELECT * FROM referral_sync_referrer_successes(p_as_of, p_currency, referrers)
        ),
        -- The revenue report's working set (90_revenue_report): the lines of both bases, from the order checks
        -- above, and the referrals that count, each with its referral's channel.
        kept_lines AS (
            INSERT INTO referral_sync_revenue_kept_lines
            SELECT oc.referral_id, oc.referrer_id, oc.order_id, oc.redeemed_at, d.dated_at, d.sign, oc.total_price,
                   oc.discount_amount, d.booked_only, oc.referral_channel, oc.referral_created_at
            FROM ranked_orders oc
            CROSS JOIN LATERAL referral_sync_revenue_line_dates(oc.qualifying, oc.referral_rejected, oc.redeemed_at,
                                                                oc.rejected_at) d
        ),
        kept_referrals AS (
            INSERT INTO referral_sync_counted_referrals
            SELECT rc.referral_id, rc.referrer_id, rc.created_at, rc.channel
            FROM referral_checks rc
            WHERE rc.reason IS NULL
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
                   referral_sync_order_row_reason(oc.reason, oc.referral_rejected),
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
                                || ' is before the referral was created at '
                                || referral_sync_detail_time(oc.referral_created_at)
                       WHEN oc.referral_rejected
                           THEN 'referral ' || oc.referral_id || ' was rejected at '
                                || referral_sync_detail_time(oc.rejected_at)
                       ELSE 'referral ' || oc.referral_id || ' already counts with its first order ' || oc.first_order_id
                   END
            FROM ranked_orders oc
            WHERE oc.reason IS NOT NULL OR oc.referral_rejected OR oc.order_rank > 1
            UNION ALL
            SELECT 'referral_rejections', rc.referral_id, rc.referrer_id, 'rejected_after_as_of',
                   'rejected_at ' || referral_sync_detail_time(rc.rejected_at) || ' is after --as-of'
            FROM referral_checks rc
            WHERE rc.rejected_at > p_as_of
        )
        -- Every participant (60_participants).
        INSERT INTO referral_sync_participant_values
        -- The link is sent as the outbound text rule (15_outbound_text) leaves it; the stored link's length in
        -- bytes says whether the rule changed it (migration 0011).
        SELECT c.customer_id, c.email, c.phone, referral_sync_outbound_text(c.shareable_link),
               referral_sync_email(c.email), referral_sync_phone(c.phone, p_default_region),
               coalesce(s.successful_referrals, 0)::text, referral_sync_timestamp(s.latest_at),
               referral_sync_revenue(s.revenue, p_minor_units),
               coalesce(pr.counted_referrals, 0), NULL, NULL, octet_length(c.shareable_link)
        FROM customers c
        LEFT JOIN per_referrer pr ON pr.referrer_id = c.customer_id
        LEFT JOIN successes s ON s.referrer_id = c.customer_id
        WHERE (why IS NOT NULL OR c.customer_id IN (SELECT w.customer_id FROM referral_sync_owners w))
          AND referral_sync_is_participant(c.opted_in_at, pr.referred, p_as_of);

        -- Identity problems (10_identities' rules): no usable identity, or an identity another participant also has.
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
                           'no usable identity: email ' || referral_sync_email_refusal(v.email)
                           || ', phone ' || referral_sync_phone_refusal(v.phone, p_default_region)
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
        CREATE INDEX referral_sync_revenue_kept_lines_referrer_idx ON referral_sync_revenue_kept_lines (referrer_id);
        CREATE INDEX referral_sync_counted_referrals_referrer_idx ON referral_sync_counted_referrals (referrer_id);
    END IF;

    -- The markers this snapshot sees are handled; any committed since stay for the next run.
    DELETE FROM referral_sync_changes;

    DELETE FROM referral_sync_state;
    IF p_count_rows OR previous.singleton IS NULL THEN
        INSERT INTO referral_sync_state
        SELECT true, rules, p_as_of, p_currency, p_minor_units, p_default_region, clock_timestamp(),
               CASE WHEN why IS NOT NULL THEN clock_timestamp() ELSE previous.full_recompute_at END,
               (SELECT count(*) FROM customers),
               -- A scalar subquery (never turned into a join) keeps this an index lookup per customer who did not
               -- opt in, a few percent, rather than a join with every referral.
               (SELECT count(*) FROM customers c
                WHERE NOT referral_sync_is_participant(
                    c.opted_in_at,
                    (SELECT r.referral_id FROM referrals r
                     WHERE r.referrer_id = c.customer_id AND r.created_at <= p_as_of LIMIT 1) IS NOT NULL,
                    p_as_of)),
               (SELECT count(*) FROM referrals),
               (SELECT count(*) FROM referral_orders),
               (SELECT count(*) FROM referral_rejections),
               (SELECT count(*) FROM referral_rejections WHERE rejected_at <= p_as_of);
    ELSE
        INSERT INTO referral_sync_state
        SELECT true, rules, p_as_of, p_currency, p_minor_units, p_default_region, clock_timestamp(),
               CASE WHEN why IS NOT NULL THEN clock_timestamp() ELSE previous.full_recompute_at END,
               previous.customers_read, previous.customers_not_participants, previous.referrals_read,
               previous.orders_read, previous.rejections_read, previous.rejections_counted;
    END IF;

    RETURN QUERY SELECT CASE WHEN why IS NULL THEN 'incremental' ELSE 'full' END, why, owner_count;
END
$$;
