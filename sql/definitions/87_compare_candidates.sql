-- Which participants a run compares with the ledger (README "Change detection"; issue 27): a quiet night at a
-- million participants spent a second of PostgreSQL comparing a million participants whose values had not moved.
-- The run's attribute query (sql/queries/participant_attributes.sql) reads only the candidates of migration 0018
-- (AttributeQuery.candidatesSQL), or everyone while referral_sync_state.compare_everyone holds. A participant becomes a candidate whenever what is
-- compared can change:
--   - the refresh recomputes it (80_refresh: the owners; a full recompute sets compare_everyone);
--   - its ledger row is inserted, updated or deleted, by a run, drift, forget or a person (the triggers below;
--     a TRUNCATE of the ledger sets compare_everyone);
--   - its compared values are updated in place, as forget's suppression does (the trigger below).
-- A complete run (every shard, not a dry run, not interrupted) then settles: the candidates whose values now equal
-- the ledger leave the set; those still different (pending, skipped, refused, in flight) stay for the next run.

-- The participants whose kept values differ from their ledger row: what the attribute query's changed_mask says
-- when it is not 0 (a new identity is a new Attentive user, who gets every value; else any value that differs).
-- A view, which PostgreSQL and Citus both expand in place (a function taking the two rows whole cannot run on
-- Citus's shards, whose row types are the shards' own: 98_citus_forms).
DROP FUNCTION IF EXISTS referral_sync_differs_from_ledger(referral_sync_participant_values, referral_sync_ledger);
CREATE OR REPLACE VIEW referral_sync_differing_from_ledger AS
    SELECT p.customer_id
    FROM referral_sync_participant_values p
    LEFT JOIN referral_sync_ledger l ON l.customer_id = p.customer_id
    WHERE l.customer_id IS NULL
        OR (p.send_email, p.send_phone) IS DISTINCT FROM (l.email, l.phone)
        OR (p.shareable_link, p.successful_referrals, p.latest_successful_referral_at,
            p.total_successful_referral_revenue)
           IS DISTINCT FROM (l.shareable_link, l.successful_referrals, l.latest_successful_referral_at,
                             l.total_successful_referral_revenue);

-- Notes p_customers as candidates (the refresh's owners). SECURITY DEFINER like the trigger functions below: the
-- set is referral-sync's bookkeeping, so a role that may write only the kept recompute (README "Support: explain a
-- customer") refreshes as before.
-- While everyone is compared anyway (compare_everyone), nothing is noted: a first sync of a million participants
-- would otherwise note a million ledger rows only for the settling to remove them.
CREATE OR REPLACE FUNCTION referral_sync_note_compare_candidates(p_customers text[]) RETURNS void
LANGUAGE sql SECURITY DEFINER AS $$
    INSERT INTO referral_sync_compare_candidates (customer_id)
    SELECT DISTINCT u.customer_id FROM unnest(p_customers) AS u (customer_id)
    WHERE NOT coalesce((SELECT s.compare_everyone FROM referral_sync_state s), true)
    ON CONFLICT DO NOTHING
$$;

-- Notes the customers of a changed ledger row (statement triggers: one insert per statement, whatever its size).
-- The customers are read out of the transition table first: on Citus the trigger fires on the ledger's shard, and
-- the insert into the candidates, a distributed query, cannot see a transition table (70_change_notes).
CREATE OR REPLACE FUNCTION referral_sync_note_ledger_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF coalesce((SELECT s.compare_everyone FROM referral_sync_state s), true) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM referral_sync_note_compare_candidates(ARRAY(SELECT o.customer_id FROM old_rows o));
    ELSE
        PERFORM referral_sync_note_compare_candidates(ARRAY(SELECT n.customer_id FROM new_rows n));
    END IF;
    RETURN NULL;
END
$$;

-- A ledger emptied by TRUNCATE: every participant is a candidate again.
CREATE OR REPLACE FUNCTION referral_sync_note_ledger_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    UPDATE referral_sync_state SET compare_everyone = true;
    RETURN NULL;
END
$$;

-- Notes a participant whose compared values were updated in place (the refresh itself deletes and inserts).
CREATE OR REPLACE FUNCTION referral_sync_note_value_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    PERFORM referral_sync_note_compare_candidates(ARRAY[NEW.customer_id]);
    RETURN NULL;
END
$$;

-- After a complete run, under the run and refresh locks (no refresh, and no other command of referral-sync writing
-- the ledger, between the look and the write): when everyone was a candidate, the candidates become exactly the
-- participants that differ from the ledger now; then every candidate
-- that no longer differs (its values sent, or no longer a participant) leaves. Reads the committed rows as they are
-- now, not the run's snapshot, so a change committed during the run stays a candidate. Returns how many stay.
CREATE OR REPLACE FUNCTION referral_sync_settle_compared() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    remaining bigint;
BEGIN
    IF coalesce((SELECT s.compare_everyone FROM referral_sync_state s), true) THEN
        -- Whatever was noted is replaced by what differs now (nothing is noted meanwhile: the lock).
        TRUNCATE referral_sync_compare_candidates;
        INSERT INTO referral_sync_compare_candidates (customer_id)
        SELECT d.customer_id FROM referral_sync_differing_from_ledger d
        ON CONFLICT DO NOTHING;
        UPDATE referral_sync_state SET compare_everyone = false;
    END IF;
    DELETE FROM referral_sync_compare_candidates c
    WHERE NOT EXISTS (SELECT 1 FROM referral_sync_differing_from_ledger d WHERE d.customer_id = c.customer_id);
    SELECT count(*) INTO remaining FROM referral_sync_compare_candidates;
    RETURN remaining;
END
$$;

DO $triggers$
BEGIN
    EXECUTE format('ALTER FUNCTION referral_sync_note_ledger_change() SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION referral_sync_note_value_change() SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION referral_sync_note_ledger_truncated() SET search_path = %I, pg_temp',
                   current_schema());
    EXECUTE format('ALTER FUNCTION referral_sync_note_compare_candidates(text[]) SET search_path = %I, pg_temp',
                   current_schema());
    DROP TRIGGER IF EXISTS referral_sync_ledger_inserted ON referral_sync_ledger;
    DROP TRIGGER IF EXISTS referral_sync_ledger_updated ON referral_sync_ledger;
    DROP TRIGGER IF EXISTS referral_sync_ledger_deleted ON referral_sync_ledger;
    DROP TRIGGER IF EXISTS referral_sync_ledger_truncated ON referral_sync_ledger;
    DROP TRIGGER IF EXISTS referral_sync_values_updated ON referral_sync_participant_values;
    CREATE TRIGGER referral_sync_ledger_inserted AFTER INSERT ON referral_sync_ledger
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_ledger_change();
    CREATE TRIGGER referral_sync_ledger_updated AFTER UPDATE ON referral_sync_ledger
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_ledger_change();
    CREATE TRIGGER referral_sync_ledger_deleted AFTER DELETE ON referral_sync_ledger
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_ledger_change();
    CREATE TRIGGER referral_sync_ledger_truncated AFTER TRUNCATE ON referral_sync_ledger
        FOR EACH STATEMENT EXECUTE FUNCTION referral_sync_note_ledger_truncated();
    CREATE TRIGGER referral_sync_values_updated AFTER UPDATE ON referral_sync_participant_values FOR EACH ROW
        WHEN ((OLD.send_email, OLD.send_phone, OLD.shareable_link, OLD.successful_referrals,
               OLD.latest_successful_referral_at, OLD.total_successful_referral_revenue)
              IS DISTINCT FROM (NEW.send_email, NEW.send_phone, NEW.shareable_link, NEW.successful_referrals,
                                NEW.latest_successful_referral_at, NEW.total_successful_referral_revenue))
        EXECUTE FUNCTION referral_sync_note_value_change();
END
$triggers$;
