-- The refresh (README "Incremental recompute"): the kept recompute brought up to date with the rules above.
--
-- Brings the derived tables up to date for a run's as-of, currency and phone region, and says what it did:
-- mode 'full' or 'incremental', why (for the summary), and how many customers were recomputed. Call it in a
-- REPEATABLE READ transaction, with no other refresh running (the job holds an advisory lock around it):
-- everything it reads is one snapshot, and the change markers it deletes are exactly those that snapshot sees, so
-- a change committed meanwhile stays marked for the next run.
--
-- p_count_rows: count the input tables' rows for the row accounting, as every run does. `drift`, `revenue` and
-- `explain`, which account for nothing, pass false and keep the last counts (at ten million customers the counting
-- is most of a refresh with nothing to recompute); the next run's refresh counts again.
--
-- This function decides who is recomputed and runs the steps in order; each step is a function of its own:
--   81_refresh_owners            which customers changed, forgetting their kept rows, the kept tables' indexes
--   82_refresh_kept_rows         their values, counted referrals, revenue lines and rejected rows
--   83_refresh_identity_problems identity problems of the participants a recompute may affect
--   84_refresh_state             what the kept rows were computed for, and the input tables' row counts
DROP FUNCTION IF EXISTS referral_sync_refresh(timestamptz, text, integer, text, boolean);
CREATE OR REPLACE FUNCTION referral_sync_refresh(
    p_as_of timestamptz, p_currency text, p_minor_units integer, p_default_region text, p_full boolean,
    p_count_rows boolean DEFAULT true)
RETURNS TABLE (mode text, reason text, recomputed bigint)
-- JIT compiling the steps' statements costs more than it saves: a second or more for the identity step alone.
-- The setting holds for the steps too: they run inside this call.
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    rules text := referral_sync_rules_fingerprint();
    previous referral_sync_state%ROWTYPE;
    why text;
    everyone boolean;
    -- When everyone is recomputed and the kept tables could be truncated (or there is no earlier state: a first
    -- run, or after a crash, when no run can be reading them), their secondary indexes are dropped and built once
    -- at the end rather than row by row. Otherwise they stay: DROP INDEX would wait for, and then block, the
    -- readers of shards that are streaming.
    rebuild_indexes boolean;
    low timestamptz;
    high timestamptz;
    owner_count bigint;
BEGIN
    IF current_setting('transaction_isolation') NOT IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION 'referral_sync_refresh needs a REPEATABLE READ transaction';
    END IF;
    SELECT * INTO previous FROM referral_sync_state;
    why := referral_sync_full_recompute_reason(previous, rules, p_full, p_currency, p_minor_units, p_default_region);
    everyone := why IS NOT NULL;
    rebuild_indexes := false;

    -- The steps' working sets. The owners: the customers recomputed (empty when everyone is). The touched
    -- identities: those the owners had and have, for the identity problems.
    DROP TABLE IF EXISTS pg_temp.referral_sync_owners;
    CREATE TEMP TABLE referral_sync_owners (customer_id text PRIMARY KEY) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.referral_sync_touched;
    CREATE TEMP TABLE referral_sync_touched (send_email text, send_phone text) ON COMMIT DROP;

    IF everyone THEN
        -- Truncated, the tables are this transaction's alone: their indexes are built once at the end.
        rebuild_indexes := referral_sync_forget_kept_rows(true) OR previous.singleton IS NULL;
        IF rebuild_indexes THEN
            PERFORM referral_sync_drop_kept_indexes();
        END IF;
        SELECT count(*) INTO owner_count FROM customers;
    ELSE
        low := least(previous.as_of, p_as_of);
        high := greatest(previous.as_of, p_as_of);
        INSERT INTO referral_sync_owners (customer_id)
        SELECT ch.customer_id FROM referral_sync_changed_customers(low, high) ch;
        PERFORM referral_sync_forget_kept_rows(false);
        ANALYZE referral_sync_owners;
        SELECT count(*) INTO owner_count FROM referral_sync_owners;
    END IF;

    IF owner_count > 0 THEN
        -- The rule functions take the customers recomputed, NULL for everyone.
        PERFORM referral_sync_recompute_kept_rows(
            p_as_of, p_currency, p_minor_units, p_default_region,
            CASE WHEN NOT everyone THEN ARRAY(SELECT w.customer_id FROM referral_sync_owners w) END);
        PERFORM referral_sync_recompute_identity_problems(p_default_region, everyone);
    END IF;

    IF rebuild_indexes THEN
        PERFORM referral_sync_build_kept_indexes();
    END IF;

    -- The customers recomputed are compared with the ledger by the next run (87_compare_candidates); everyone
    -- recomputed sets compare_everyone instead (84_refresh_state).
    IF NOT everyone THEN
        PERFORM referral_sync_note_compare_candidates(ARRAY(SELECT w.customer_id FROM referral_sync_owners w));
    END IF;

    -- The markers this snapshot sees are handled; any committed since stay for the next run.
    DELETE FROM referral_sync_changes;

    PERFORM referral_sync_keep_state(
        previous, rules, p_as_of, p_currency, p_minor_units, p_default_region, everyone,
        p_count_rows OR previous.singleton IS NULL);

    RETURN QUERY SELECT CASE WHEN everyone THEN 'full' ELSE 'incremental' END, why, owner_count;
END
$$;

-- The version of the rules the kept rows are computed with (README "Incremental recompute": when everyone is
-- recomputed): any change to a definition (sql/definitions, re-applied by every migrate), the server or its
-- collation recomputes everyone. Covers every referral_sync_ function of this schema, the server's version and the
-- database's collation version (lower() and normalize() depend on them).
CREATE OR REPLACE FUNCTION referral_sync_rules_fingerprint() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT md5(string_agg(pg_get_functiondef(f.oid), E'\n' ORDER BY f.oid::regprocedure::text))
           || ':' || version()
           || ':' || coalesce((SELECT d.datcollversion FROM pg_database d WHERE d.datname = current_database()), '')
    FROM pg_proc f
    WHERE f.proname LIKE 'referral\_sync\_%'
      AND f.pronamespace = (SELECT p.pronamespace FROM pg_proc p WHERE p.oid = 'referral_sync_refresh'::regproc)
$$;

-- Why everyone is recomputed (README "Incremental recompute": when everyone is recomputed), in the summary's
-- words; NULL when only the changed customers are. previous: the state the last refresh kept (all NULL: none).
CREATE OR REPLACE FUNCTION referral_sync_full_recompute_reason(
    previous referral_sync_state, p_rules text, p_full boolean, p_currency text, p_minor_units integer,
    p_default_region text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_full THEN 'asked for (--full-recompute)'
        WHEN previous.singleton IS NULL THEN 'no earlier state (first run, or emptied after a crash)'
        WHEN previous.rules_fingerprint <> p_rules THEN 'the attribute definitions, PostgreSQL or its collation changed'
        WHEN previous.currency <> p_currency OR previous.minor_units <> p_minor_units THEN 'the shop currency changed'
        WHEN previous.default_region IS DISTINCT FROM p_default_region THEN 'the default phone region changed'
        -- An input table truncated (the triggers of 70_change_notes), a run whose rows did not add up.
        ELSE (SELECT coalesce(min(ch.why), 'a full recompute was asked for') FROM referral_sync_changes ch
              WHERE ch.everything HAVING count(*) > 0)
    END
$$;
