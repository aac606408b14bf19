-- 0014: Attentive deletion requests filed by `referral-sync forget --request-deletion` (README "Personal data",
-- issue 23), so `forget --status` can ask Attentive whether each was processed.
--
-- One row per request, one request per identity. The identity itself is never kept: its kind and the salted hash
-- of the suppression list (referral_sync_identity_hash, sql/definitions/95_forgotten.sql) tie the request to the
-- forgotten identity without naming it. run_id is the forget run's row in referral_sync_runs (the audit row).
CREATE TABLE IF NOT EXISTS referral_sync_deletion_requests (
    request_id    text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('email', 'phone')),
    identity_hash text NOT NULL,
    filed_at      timestamptz NOT NULL DEFAULT now(),
    run_id        bigint
);
