-- One customer's values that Attentive has not accepted yet (referral_sync_pending: failed, skipped or in flight),
-- and the other participants holding its email or phone (the kept recompute), for `referral-sync explain`.
-- Parameters: $1 customer_id.
-- Columns: kind (pending or shared_email / shared_phone), attribute or identity, value or other customer, state,
-- attempts, http_status, error, first_seen_at, last_attempt_at, run_id.
SELECT 'pending' AS kind, p.attribute AS name, p.value, p.state, p.attempts, p.http_status, p.error,
       referral_sync_timestamp(p.first_seen_at) AS first_seen_at,
       referral_sync_timestamp(p.last_attempt_at) AS last_attempt_at, p.run_id
FROM referral_sync_pending p
WHERE p.customer_id = $1
UNION ALL
SELECT 'shared_email', v.send_email, o.customer_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM referral_sync_participant_values v
JOIN referral_sync_participant_values o ON o.send_email = v.send_email AND o.customer_id <> v.customer_id
WHERE v.customer_id = $1
UNION ALL
SELECT 'shared_phone', v.send_phone, o.customer_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM referral_sync_participant_values v
JOIN referral_sync_participant_values o ON o.send_phone = v.send_phone AND o.customer_id <> v.customer_id
WHERE v.customer_id = $1
ORDER BY 1, 2, 3
