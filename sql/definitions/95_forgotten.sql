-- Forgotten people (README "Personal data", `referral-sync forget`): the suppression list's hash and the rule that
-- treats a forgotten identity as absent. The list (migration 0013) holds salted hashes of normalised identities
-- (10_identities), never the identities.

-- The salted hash of one normalised identity ('email' or 'phone'); NULL for NULL.
CREATE OR REPLACE FUNCTION referral_sync_identity_hash(kind text, identity text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(s.salt || kind || ':' || identity, 'UTF8')), 'hex')
    FROM referral_sync_privacy_salt s
    WHERE identity IS NOT NULL
$$;

-- Whether a normalised email or phone (as the identity rules give them) was forgotten.
CREATE OR REPLACE FUNCTION referral_sync_is_forgotten(email text, phone text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM referral_sync_forgotten f
                   WHERE f.identity_hash IN (referral_sync_identity_hash('email', email),
                                             referral_sync_identity_hash('phone', phone)))
$$;

-- After a refresh, in its transaction: the participants whose identity is forgotten keep their figures (ids and
-- amounts, for the revenue report's reconciliation) but no email, phone or link, and the problem 'forgotten', so a
-- run lists them in rejected_rows.csv and sends nothing. p_all: check everyone (a full refresh, or `forget`);
-- otherwise only the customers the refresh recomputed (pg_temp.referral_sync_owners of 80_refresh): the others
-- were checked when they were last recomputed. Returns how many participants it suppressed.
CREATE OR REPLACE FUNCTION referral_sync_suppress_forgotten(p_all boolean) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    suppressed bigint := 0;
    forgotten text[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM referral_sync_forgotten) THEN
        RETURN 0;
    END IF;
    -- Who is read first, and written by key: Citus refuses a STABLE function of a row's columns in the WHERE of an
    -- UPDATE (98_citus_forms).
    IF p_all OR to_regclass('pg_temp.referral_sync_owners') IS NULL THEN
        forgotten := ARRAY(
            SELECT v.customer_id FROM referral_sync_participant_values v
            WHERE v.problem IS DISTINCT FROM 'forgotten' AND referral_sync_is_forgotten(v.send_email, v.send_phone));
    ELSE
        forgotten := ARRAY(
            SELECT v.customer_id FROM referral_sync_participant_values v
            JOIN pg_temp.referral_sync_owners o ON o.customer_id = v.customer_id
            WHERE referral_sync_is_forgotten(v.send_email, v.send_phone));
    END IF;
    UPDATE referral_sync_participant_values v
    SET email = NULL, phone = NULL, shareable_link = NULL, send_email = NULL, send_phone = NULL,
        stored_link_octets = NULL, problem = 'forgotten',
        problem_detail = 'forgotten (referral-sync forget): never sent, its personal data erased'
    WHERE v.customer_id = ANY (forgotten);
    GET DIAGNOSTICS suppressed = ROW_COUNT;
    RETURN suppressed;
END
$$;
