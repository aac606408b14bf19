-- 0003: identity rules, second version, and the participant set defined once (README "Identities" and
-- "Attribute definitions"). Used by participant_attributes.sql, rejected_rows.sql and row_accounting.sql.

-- Names, emails and Okendo's exports are Unicode: the rules below (NFC, no-break spaces) need a UTF8 database.
DO $migration$
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'referral-sync needs a UTF8 database, this one is %', current_setting('server_encoding')
            USING HINT = 'Create the database with ENCODING ''UTF8'' and load the export into it.';
    END IF;
END
$migration$;

-- Each rule is one expression without FROM, so PostgreSQL inlines it into the queries instead of calling a
-- function per row, and the costly steps (Unicode normalisation, regular expressions with capture groups) are
-- avoided where they are not needed: over 200,000 customers the email rule takes about as long as the first
-- version's lower(btrim()), where a naive form took six times as long.

-- Surrounding whitespace as exports leave it: spaces, tabs, line breaks, no-break spaces and a byte-order mark.
CREATE OR REPLACE FUNCTION referral_sync_trim(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(raw, E' \t\n\r\u000b\f\u00a0\ufeff')
$$;

-- Unicode NFC (a composed and a decomposed "é" are one string); ASCII text is already NFC and skips the work.
CREATE OR REPLACE FUNCTION referral_sync_nfc(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN octet_length(value) = char_length(value) THEN value ELSE normalize(value, NFC) END
$$;

-- Email rule: trimmed, NFC, lower-cased with the database's collation (a UTF-8 collation lowers every letter, the
-- C collation only A-Z); valid when it is local@domain.tld with no whitespace. NULL when not valid.
CREATE OR REPLACE FUNCTION referral_sync_email(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(substring(referral_sync_nfc(referral_sync_trim(raw)) FROM '^[^\s@]+@[^\s@]+\.[^\s@.]+$'))
$$;

-- Phone rule: whitespace (no-break spaces included), dots, dashes, slashes and parentheses removed, a leading 00
-- read as +. Valid when E.164 (+, a non-zero digit, 7 to 15 digits in all). Without a +, a number is national and
-- ambiguous, except with a default region of the North American Numbering Plan (US or CA): ten digits
-- NXX NXX XXXX (N = 2-9), optionally after a 1, become +1XXXXXXXXXX. Anything else is NULL (not sent).
CREATE OR REPLACE FUNCTION referral_sync_phone(raw text, default_region text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT substring(
        CASE WHEN upper(default_region) IN ('US', 'CA')
             THEN regexp_replace(
                      regexp_replace(translate(raw, E' \t\n\r\u000b\f\u00a0\ufeff.()/-', ''), '^00', '+'),
                      '^1?([2-9][0-9]{2}[2-9][0-9]{6})$', '+1\1')
             ELSE regexp_replace(translate(raw, E' \t\n\r\u000b\f\u00a0\ufeff.()/-', ''), '^00', '+')
        END
        FROM '^\+[1-9][0-9]{6,14}$')
$$;

-- The rule without a default region (0002's one-argument form, kept for its callers).
CREATE OR REPLACE FUNCTION referral_sync_phone(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT referral_sync_phone(raw, NULL)
$$;

-- Every participant as of as_of (opted in, or referred at least once, by then) with the identity Attentive gets,
-- and why it cannot be sent when it cannot: problem 'no_usable_identity' (neither a valid email nor a valid phone)
-- or 'duplicate_identity' (its email or phone, normalised, is also another participant's: two customers would
-- write to one Attentive profile, so neither is sent). Over all participants, whatever the shard: a collision
-- across shards is still a collision. One sort per identity kind (window functions), no per-row lookups.
CREATE OR REPLACE FUNCTION referral_sync_participants(as_of timestamptz, default_region text)
RETURNS TABLE (customer_id text, email text, phone text, shareable_link text, send_email text, send_phone text,
               problem text, problem_detail text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH participants AS (
        SELECT c.customer_id, c.email, c.phone, c.shareable_link,
               referral_sync_email(c.email) AS send_email,
               referral_sync_phone(c.phone, default_region) AS send_phone
        FROM customers c
        WHERE c.opted_in_at <= as_of
           OR EXISTS (SELECT 1 FROM referrals r WHERE r.referrer_id = c.customer_id AND r.created_at <= as_of)
    ),
    holders AS (
        SELECT p.*,
               count(*) OVER by_email AS email_holders,
               first_value(p.customer_id) OVER by_email AS email_first,
               nth_value(p.customer_id, 2) OVER by_email AS email_second,
               count(*) OVER by_phone AS phone_holders,
               first_value(p.customer_id) OVER by_phone AS phone_first,
               nth_value(p.customer_id, 2) OVER by_phone AS phone_second
        FROM participants p
        WINDOW by_email AS (PARTITION BY p.send_email ORDER BY p.customer_id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
               by_phone AS (PARTITION BY p.send_phone ORDER BY p.customer_id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ),
    flagged AS (
        SELECT h.*,
               h.send_email IS NOT NULL AND h.email_holders > 1 AS email_shared,
               h.send_phone IS NOT NULL AND h.phone_holders > 1 AS phone_shared
        FROM holders h
    )
    SELECT f.customer_id, f.email, f.phone, f.shareable_link, f.send_email, f.send_phone,
           CASE WHEN f.send_email IS NULL AND f.send_phone IS NULL THEN 'no_usable_identity'
                WHEN f.email_shared OR f.phone_shared THEN 'duplicate_identity' END,
           CASE
               WHEN f.send_email IS NULL AND f.send_phone IS NULL THEN
                   'no usable identity: email '
                   || CASE WHEN f.email IS NULL THEN 'missing'
                           WHEN referral_sync_trim(f.email) = '' THEN 'empty'
                           ELSE '"' || f.email || '" is not a valid address' END
                   || ', phone '
                   || CASE WHEN f.phone IS NULL THEN 'missing'
                           WHEN referral_sync_trim(f.phone) = '' THEN 'empty'
                           WHEN default_region IS NULL
                               THEN '"' || f.phone || '" is not E.164 (a national number needs --default-phone-region)'
                           ELSE '"' || f.phone || '" is neither E.164 nor a ' || upper(default_region)
                               || ' national number' END
               WHEN f.email_shared OR f.phone_shared THEN
                   'identity shared with another participant, so neither is sent: '
                   || concat_ws('; ',
                        CASE WHEN f.email_shared THEN
                            'email ' || f.send_email || ' is also customer '
                            || CASE WHEN f.email_first = f.customer_id THEN f.email_second ELSE f.email_first END
                            || CASE WHEN f.email_holders > 2 THEN ' and ' || (f.email_holders - 2) || ' more'
                                    ELSE '' END
                        END,
                        CASE WHEN f.phone_shared THEN
                            'phone ' || f.send_phone || ' is also customer '
                            || CASE WHEN f.phone_first = f.customer_id THEN f.phone_second ELSE f.phone_first END
                            || CASE WHEN f.phone_holders > 2 THEN ' and ' || (f.phone_holders - 2) || ' more'
                                    ELSE '' END
                        END)
           END
    FROM flagged f
$$;
