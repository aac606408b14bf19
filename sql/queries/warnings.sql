-- Participants that count and are sent, but with something left out or changed on the way out (README
-- "Identities", reports/README.md "warnings.csv"), one row per warning:
--   email_not_usable  a stored email the rules refuse (RFC 5321's lengths, say) while the phone is usable: sent by
--                     phone only;
--   phone_not_usable  a stored phone the rules refuse while the email is usable: sent by email only;
--   link_too_long     a shareable link over the 1,024 characters Attentive shortens in a message: sent as it is;
--   link_cleaned      a shareable link the outbound text rule changed (bidirectional or control characters
--                     removed, sql/definitions/15_outbound_text.sql): sent without them.
-- Participants with an identity problem are in rejected_rows.csv instead: nothing of theirs is sent. The words
-- are computed only for the rows listed: one pass over the kept participants with cheap tests (NULL, lengths)
-- picks them first, as fast as rejected_rows.sql's (the planner cannot know how few they are, so the reader turns
-- JIT off, and the pass is materialised rather than walked in key order). Read in the snapshot of the run's
-- attribute query, like rejected_rows.sql, with the phone region the refresh computed for.
-- The characters a cleaned link lost are read from customers for those rows alone, in a set of their own: on Citus
-- (issue 28) a store distributed by row keeps customers on the workers, and Citus cannot push a subquery of a
-- UNION without a FROM down to them (README "Several workers and a distributed PostgreSQL").
-- Columns: table, key, reason (a stable code), detail (for people).
WITH listed AS MATERIALIZED (
    SELECT v.customer_id, v.email, v.phone, v.send_email, v.send_phone, v.shareable_link, v.stored_link_octets
    FROM referral_sync_participant_values v
    WHERE v.problem IS NULL
      AND ((v.send_email IS NULL AND v.email IS NOT NULL) OR (v.send_phone IS NULL AND v.phone IS NOT NULL)
           OR octet_length(v.shareable_link) > 1024 OR octet_length(v.shareable_link) < v.stored_link_octets)
),
cleaned AS MATERIALIZED (
    SELECT v.customer_id, referral_sync_outbound_removed(c.shareable_link) AS removed
    FROM listed v
    JOIN customers c ON c.customer_id = v.customer_id
    WHERE octet_length(v.shareable_link) < v.stored_link_octets
)
SELECT 'customers' AS "table", v.customer_id AS key, w.reason, w.detail
FROM listed v
CROSS JOIN referral_sync_state s
LEFT JOIN cleaned ON cleaned.customer_id = v.customer_id
CROSS JOIN LATERAL (
    SELECT 'email_not_usable', 'email ' || referral_sync_email_refusal(v.email) || '; sent by phone only'
    WHERE v.send_email IS NULL AND referral_sync_trim(v.email) <> ''
    UNION ALL
    SELECT 'phone_not_usable',
           'phone ' || referral_sync_phone_refusal(v.phone, s.default_region) || '; sent by email only'
    WHERE v.send_phone IS NULL AND referral_sync_trim(v.phone) <> ''
    UNION ALL
    SELECT 'link_too_long',
           'shareable_link is ' || char_length(v.shareable_link) || ' characters: Attentive shortens links of up '
           || 'to 1,024 characters in a message, so it is sent as it is'
    WHERE octet_length(v.shareable_link) > 1024 AND char_length(v.shareable_link) > 1024
    UNION ALL
    SELECT 'link_cleaned',
           'shareable_link: ' || cleaned.removed || ' (bidirectional or control characters), sent without them'
    WHERE cleaned.customer_id IS NOT NULL
) AS w (reason, detail)
ORDER BY 2, 3
