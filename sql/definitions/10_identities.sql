-- Identity rules (README "Identities"): how a customer's email and phone become the identity Attentive gets.
-- Used by the refresh (80_refresh) and its identity problems.
--
-- Each rule is one expression without FROM, so PostgreSQL inlines it into the queries instead of calling a
-- function per row, and the costly steps (Unicode normalisation, regular expressions with capture groups) are
-- avoided where they are not needed: over 200,000 customers the email rule takes about as long as the first
-- version's lower(btrim()), where a naive form took six times as long.
--
-- The rules that read no table have SQL-standard bodies (`RETURN expr`, `BEGIN ATOMIC … END`): PostgreSQL binds the
-- names in them when the function is created, so a rule calling another works wherever the query runs, whatever
-- its search_path (on a Citus worker, issue 28), and inlines them exactly as it did the `AS $$ SELECT … $$` form.

-- Surrounding whitespace as exports leave it: spaces, tabs, line breaks, no-break spaces and a byte-order mark.
CREATE OR REPLACE FUNCTION referral_sync_trim(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN btrim(raw, E' \t\n\r\u000b\f\u00a0\ufeff');

-- Unicode NFC (a composed and a decomposed "é" are one string); ASCII text is already NFC and skips the work.
CREATE OR REPLACE FUNCTION referral_sync_nfc(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN octet_length(value) = char_length(value) THEN value ELSE normalize(value, NFC) END;

-- Email rule: trimmed, NFC, lower-cased with the database's collation (a UTF-8 collation lowers every letter, the
-- C collation only A-Z); valid when it is local@domain.tld with no whitespace, within RFC 5321's lengths: at most 64
-- characters before the @, 254 in all, and no label of the domain over 63 (a longer address is one a mail platform
-- refuses, and would refuse every night). NULL when not valid. The lengths are lookaheads on the one pattern
-- (`(?!…)`): about 2.8 times the pattern's cost alone (200,000 emails, measured with btrim: 0.50 s instead of
-- 0.18 s); bounded repetitions (`{1,64}`) instead took 50 times as long.
-- Most stored addresses are already clean: printable ASCII with no whitespace, local@domain.tld, at most 64 bytes.
-- For those, trimming and NFC change nothing and no length limit can be reached (the whole address is within the
-- shortest of them), so the rule's answer is the address lower-cased, and a test with `~` (no match to extract,
-- no lookaheads) decides it: 300,000 customers in 0.33 s instead of 1.46 s (issue 27). Every other address takes
-- the full rule.
CREATE OR REPLACE FUNCTION referral_sync_email(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN octet_length(raw) <= 64
             AND raw ~ '^[\x21-\x3f\x41-\x7e]+@[\x21-\x3f\x41-\x7e]+\.[\x21-\x2d\x2f-\x3f\x41-\x7e]+$'
            THEN lower(raw)
        ELSE lower(substring(referral_sync_nfc(referral_sync_trim(raw))
                             FROM '^(?![^@]{65})(?!.{255})[^\s@]+@(?![^@]*[^@.]{64})[^\s@]+\.[^\s@.]+$'))
    END;

-- Phone rule: whitespace (no-break spaces included), dots, dashes, slashes and parentheses removed, a leading 00
-- read as +. Valid when E.164 (+, a non-zero digit, 7 to 15 digits in all). Without a +, a number is national and
-- ambiguous, except with a default region of the North American Numbering Plan (US or CA): ten digits
-- NXX NXX XXXX (N = 2-9), optionally after a 1, become +1XXXXXXXXXX. Anything else is NULL (not sent).
CREATE OR REPLACE FUNCTION referral_sync_phone(raw text, default_region text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN substring(
        CASE WHEN upper(default_region) IN ('US', 'CA')
             THEN regexp_replace(
                      regexp_replace(translate(raw, E' \t\n\r\u000b\f\u00a0\ufeff.()/-', ''), '^00', '+'),
                      '^1?([2-9][0-9]{2}[2-9][0-9]{6})$', '+1\1')
             ELSE regexp_replace(translate(raw, E' \t\n\r\u000b\f\u00a0\ufeff.()/-', ''), '^00', '+')
        END
        FROM '^\+[1-9][0-9]{6,14}$');

-- The rule without a default region (the first, one-argument form, kept for its callers).
CREATE OR REPLACE FUNCTION referral_sync_phone(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN referral_sync_phone(raw, NULL);

-- A stored value quoted for the words below: whole up to 100 characters, else its first 100 and its length, so a
-- 100,000-character value does not become a 100,000-character reason.
CREATE OR REPLACE FUNCTION referral_sync_detail_quote(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN char_length(value) <= 100 THEN '"' || value || '"'
                ELSE '"' || left(value, 100) || '…" (' || char_length(value) || ' characters)' END;

-- Why the rules refuse a stored email or phone, in words for rejected_rows.csv and warnings.csv (README
-- "Identities"): 'missing', 'empty', or the value quoted and what is wrong with it; NULL when the rule accepts it.
-- Called only for the few participants whose identity was refused, never per row of a recompute.
CREATE OR REPLACE FUNCTION referral_sync_email_refusal(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
        WHEN raw IS NULL THEN 'missing'
        WHEN referral_sync_trim(raw) = '' THEN 'empty'
        WHEN referral_sync_email(raw) IS NOT NULL THEN NULL
        ELSE referral_sync_detail_quote(raw) || ' is not a valid address'
             || coalesce(' (' || nullif(concat_ws(', ',
                    CASE WHEN a.address ~ '\s' THEN 'it contains whitespace' END,
                    CASE WHEN a.address !~ '^[^@]+@[^@]+\.[^@.]+$' THEN 'it is not local@domain.tld' END), '') || ')',
                 -- RFC 5321's lengths, for an address of the right shape.
                 ' (' || nullif(concat_ws(', ',
                    CASE WHEN char_length(split_part(a.address, '@', 1)) > 64
                         THEN 'the part before the @ is ' || char_length(split_part(a.address, '@', 1))
                              || ' characters, RFC 5321 allows 64' END,
                    CASE WHEN char_length(a.address) > 254
                         THEN 'the address is ' || char_length(a.address) || ' characters, RFC 5321 allows 254' END,
                    CASE WHEN a.longest_label > 63
                         THEN 'a label of the domain is ' || a.longest_label || ' characters, RFC 5321 allows 63' END
                 ), '') || ')', '')
    END
    FROM (SELECT e.address,
                 (SELECT max(char_length(l)) FROM regexp_split_to_table(substring(e.address FROM '@(.*)$'), '\.') l)
                     AS longest_label
          FROM (SELECT referral_sync_nfc(referral_sync_trim(raw)) AS address) e) a;
END;

CREATE OR REPLACE FUNCTION referral_sync_phone_refusal(raw text, default_region text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN raw IS NULL THEN 'missing'
        WHEN referral_sync_trim(raw) = '' THEN 'empty'
        WHEN referral_sync_phone(raw, default_region) IS NOT NULL THEN NULL
        WHEN default_region IS NULL
            THEN referral_sync_detail_quote(raw) || ' is not E.164 (a national number needs --default-phone-region)'
        ELSE referral_sync_detail_quote(raw) || ' is neither E.164 nor a ' || upper(default_region) || ' national number'
    END;
