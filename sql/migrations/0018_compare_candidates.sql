-- 0018: a run compares with the ledger only the participants whose values could differ from it (issue 27; README
-- "Change detection"). sql/definitions/87_compare_candidates.sql keeps the set.
--
-- referral_sync_compare_candidates: customers whose kept values may differ from what the ledger says Attentive
-- has: recomputed since a run last found them equal, their ledger row or compared values changed since, or still
-- different (a value pending, skipped, refused or in flight).
CREATE TABLE IF NOT EXISTS referral_sync_compare_candidates (
    customer_id text PRIMARY KEY
);

-- compare_everyone: every participant is a candidate, not only those listed: after a full recompute, and until a
-- complete run has compared everyone and listed those that still differ.
ALTER TABLE referral_sync_state ADD COLUMN IF NOT EXISTS compare_everyone boolean NOT NULL DEFAULT true;

-- The participants whose identity cannot be sent, by customer: rejected_rows.csv lists them first, and at a million
-- participants finding the few thousand took a scan of every participant (0.17 s of a quiet night).
CREATE INDEX IF NOT EXISTS referral_sync_participant_values_problem_idx
    ON referral_sync_participant_values (customer_id) WHERE problem IS NOT NULL;
