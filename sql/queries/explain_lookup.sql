-- Which customers CUSTOMER names, for `referral-sync explain` (README "Support: explain a customer"), read in the
-- snapshot of a refresh for the same as-of, currency and phone region. A customer_id matches exactly and wins;
-- otherwise the given text is read by the identity rules (sql/definitions/10_identities.sql) and matched with the
-- participants' identities as the kept recompute holds them (by index); only when no participant has it are the
-- customers' stored emails and phones read by the same rules (a scan: customers who are not participants).
-- Parameters: $1 the text given, $2 the default phone region (NULL: none).
-- Columns: customer_id, matched (customer_id, email or phone), participant.
WITH given AS (
    SELECT referral_sync_email($1) AS email, referral_sync_phone($1, $2) AS phone
),
by_id AS (
    SELECT c.customer_id, 'customer_id' AS matched,
           EXISTS (SELECT 1 FROM referral_sync_participant_values v WHERE v.customer_id = c.customer_id) AS participant
    FROM customers c
    WHERE c.customer_id = $1
),
by_identity AS (
    SELECT v.customer_id, 'email' AS matched, true AS participant
    FROM referral_sync_participant_values v
    WHERE v.send_email = (SELECT g.email FROM given g)
    UNION
    SELECT v.customer_id, 'phone', true
    FROM referral_sync_participant_values v
    WHERE v.send_phone = (SELECT g.phone FROM given g)
),
by_stored AS (
    SELECT c.customer_id,
           CASE WHEN referral_sync_email(c.email) = g.email THEN 'email' ELSE 'phone' END AS matched,
           false AS participant
    FROM customers c, given g
    WHERE referral_sync_email(c.email) = g.email OR referral_sync_phone(c.phone, $2) = g.phone
)
SELECT * FROM by_id
UNION ALL
SELECT * FROM by_identity WHERE NOT EXISTS (SELECT 1 FROM by_id)
UNION ALL
SELECT * FROM by_stored WHERE NOT EXISTS (SELECT 1 FROM by_id) AND NOT EXISTS (SELECT 1 FROM by_identity)
ORDER BY 1, 2
