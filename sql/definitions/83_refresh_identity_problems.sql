-- Identity problems (README "Identities": no usable identity, duplicate identities), by 10_identities' rules: a
-- participant with neither a usable email nor a usable phone, or with an email or phone another participant also
-- has. A step of referral_sync_refresh (80_refresh), after the recompute of the kept rows.

-- A participant's identity of one kind (p_kind 'email' or 'phone') among its send_email and send_phone. Called
-- with a constant kind, PostgreSQL inlines it and folds it to the column itself, so each kind's statement is
-- planned as if written for that column (with its index).
CREATE OR REPLACE FUNCTION referral_sync_identity_of_kind(p_kind text, send_email text, send_phone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN p_kind = 'phone' THEN send_phone ELSE send_email END;

-- The holders of the candidates' shared identities of one kind, each with how many participants hold its identity
-- (counted over every holder) and the first two of them by customer_id, for the words. Written once for both
-- kinds: a single SELECT, inlined into the statement below with the kind folded away, so its plan is the one of
-- a query written for that column. It reads the refresh's temporary table of candidates, which exists only while
-- a refresh runs: its body is checked when it is called, not here (SET LOCAL: migrate applies the definitions in
-- one transaction, and the check is back on for the files after this one).
SET LOCAL check_function_bodies = off;
CREATE OR REPLACE FUNCTION referral_sync_identity_holders(p_kind text)
RETURNS TABLE (customer_id text, holders bigint, first_holder text, second_holder text)
LANGUAGE sql STABLE AS $$
    SELECT v.customer_id, count(*) OVER by_identity, first_value(v.customer_id) OVER by_identity,
           nth_value(v.customer_id, 2) OVER by_identity
    FROM referral_sync_participant_values v
    JOIN (SELECT referral_sync_identity_of_kind(p_kind, s.send_email, s.send_phone) AS identity
          FROM referral_sync_participant_values s
          WHERE referral_sync_identity_of_kind(p_kind, s.send_email, s.send_phone) IN (
              SELECT referral_sync_identity_of_kind(p_kind, k.send_email, k.send_phone)
              FROM pg_temp.referral_sync_candidates k)
          GROUP BY 1 HAVING count(*) > 1) shared
      ON shared.identity = referral_sync_identity_of_kind(p_kind, v.send_email, v.send_phone)
    WINDOW by_identity AS (PARTITION BY referral_sync_identity_of_kind(p_kind, v.send_email, v.send_phone)
                           ORDER BY v.customer_id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
$$;
SET LOCAL check_function_bodies TO DEFAULT;

-- The words for one shared identity of a participant ('email ocean@example.com is also customer c2', '… and 2
-- more' for larger groups), from its row of referral_sync_identity_holders; NULL when it is not shared. STABLE
-- (text || bigint is), so PostgreSQL inlines it.
CREATE OR REPLACE FUNCTION referral_sync_shared_identity_words(
    kind text, identity text, customer_id text, holders bigint, first_holder text, second_holder text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN holders > 1 THEN
        kind || ' ' || identity || ' is also customer '
        || CASE WHEN first_holder = customer_id THEN second_holder ELSE first_holder END
        || CASE WHEN holders > 2 THEN ' and ' || (holders - 2) || ' more' ELSE '' END
    END;

-- Writes the problem of every participant whose problem may have changed, and only where it did. After everyone
-- was recomputed (p_everyone) every problem is NULL, and the candidates are the participants with no identity or
-- a shared one (found by hashing every identity once). Otherwise they are the recomputed customers (their own
-- identity may now be unusable) and every holder of an identity one of them had or has (referral_sync_touched;
-- changing one customer's email can give or take another's problem), found by index.
CREATE OR REPLACE FUNCTION referral_sync_recompute_identity_problems(p_default_region text, p_everyone boolean)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- A table of its own, analysed, so the statement below is planned for the rows it has.
    DROP TABLE IF EXISTS pg_temp.referral_sync_candidates;
    CREATE TEMP TABLE referral_sync_candidates (customer_id text, send_email text, send_phone text) ON COMMIT DROP;
    IF p_everyone THEN
        INSERT INTO referral_sync_candidates (customer_id, send_email, send_phone)
        SELECT v.customer_id, v.send_email, v.send_phone FROM referral_sync_participant_values v
        WHERE (v.send_email IS NULL AND v.send_phone IS NULL)
           OR v.send_email IN (SELECT e.send_email FROM referral_sync_participant_values e
                               WHERE e.send_email IS NOT NULL GROUP BY e.send_email HAVING count(*) > 1)
           OR v.send_phone IN (SELECT p.send_phone FROM referral_sync_participant_values p
                               WHERE p.send_phone IS NOT NULL GROUP BY p.send_phone HAVING count(*) > 1);
    ELSE
        -- The identities the owners have now; those they had were kept when their rows were deleted.
        INSERT INTO referral_sync_touched (send_email, send_phone)
        SELECT v.send_email, v.send_phone
        FROM referral_sync_participant_values v JOIN referral_sync_owners o ON o.customer_id = v.customer_id;
        INSERT INTO referral_sync_candidates (customer_id, send_email, send_phone)
        SELECT v.customer_id, v.send_email, v.send_phone
        FROM referral_sync_participant_values v JOIN referral_sync_owners o ON o.customer_id = v.customer_id
        UNION
        SELECT v.customer_id, v.send_email, v.send_phone
        FROM referral_sync_participant_values v
        WHERE v.send_email IN (SELECT t.send_email FROM referral_sync_touched t)
        UNION
        SELECT v.customer_id, v.send_email, v.send_phone
        FROM referral_sync_participant_values v
        WHERE v.send_phone IN (SELECT t.send_phone FROM referral_sync_touched t);
    END IF;
    ANALYZE referral_sync_candidates;

    WITH problems AS (
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
                            referral_sync_shared_identity_words('email', v.send_email, v.customer_id, e.holders,
                                                                e.first_holder, e.second_holder),
                            referral_sync_shared_identity_words('phone', v.send_phone, v.customer_id, p.holders,
                                                                p.first_holder, p.second_holder))
               END AS detail
        FROM referral_sync_candidates k
        JOIN referral_sync_participant_values v ON v.customer_id = k.customer_id
        LEFT JOIN referral_sync_identity_holders('email') e ON e.customer_id = k.customer_id
        LEFT JOIN referral_sync_identity_holders('phone') p ON p.customer_id = k.customer_id
    )
    UPDATE referral_sync_participant_values v
    SET problem = p.problem, problem_detail = p.detail
    FROM problems p
    WHERE v.customer_id = p.customer_id
      AND (v.problem, v.problem_detail) IS DISTINCT FROM (p.problem, p.detail);
END
$$;
