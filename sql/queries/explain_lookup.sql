-- Which customers CUSTOMER names, for `referral-sync explain` (README "Support: explain a customer"), read in the
-- snapshot of a refresh for the same as-of, currency and phone region. A customer_id matches exactly and wins;
-- otherwise the given text is read by the identity rules (sql/definitions/10_identities.sql) and matched with the
-- participants' identities as the kept recompute holds them (by index: a lookup, never a scan of customers). A
-- customer who is not a participant has no identity that is sent, and is found by its customer_id only.
-- Parameters: $1 the text given, $2 the default phone region (NULL: none).
-- Columns: customer_id, matched (customer_id, email or phone).
WITH by_id AS (
    SELECT c.customer_id, 'customer_id' AS matched FROM customers c WHERE c.customer_id = $1
),
by_identity AS (
    SELECT v.customer_id, 'email' AS matched
    FROM referral_sync_participant_values v
    WHERE v.send_email = referral_sync_email($1)
    UNION
    SELECT v.customer_id, 'phone'
    FROM referral_sync_participant_values v
    WHERE v.send_phone = referral_sync_phone($1, $2)
)
SELECT * FROM by_id
UNION ALL
SELECT * FROM by_identity WHERE NOT EXISTS (SELECT 1 FROM by_id)
ORDER BY 1, 2
