-- 0013: forgetting a person (README "Personal data", `referral-sync forget`, issue 23).
--
-- The salt of the suppression list: one random value per store, made here once and never shown. The list keeps
-- sha256(salt || kind || ':' || identity) of each forgotten identity, so it names no one to a reader of the
-- database, yet a run can tell that a customer's normalised email or phone is one of them
-- (referral_sync_is_forgotten, sql/definitions/95_forgotten.sql).
CREATE TABLE IF NOT EXISTS referral_sync_privacy_salt (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    salt      text NOT NULL
);
INSERT INTO referral_sync_privacy_salt (salt)
VALUES (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
ON CONFLICT (singleton) DO NOTHING;

-- The suppression list: kind 'email' or 'phone', the salted hash of the normalised identity (10_identities), when
-- it was forgotten and by which run (referral_sync_runs: the audit row).
CREATE TABLE IF NOT EXISTS referral_sync_forgotten (
    identity_hash text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('email', 'phone')),
    forgotten_at  timestamptz NOT NULL DEFAULT now(),
    run_id        bigint
);

-- An event whose person was forgotten before it was delivered: never sent, its body erased. A delivered event
-- keeps its state (exactly-once rests on its id); either way the body is replaced by its hash.
ALTER TABLE referral_sync_events DROP CONSTRAINT IF EXISTS referral_sync_events_state_check;
ALTER TABLE referral_sync_events
    ADD CONSTRAINT referral_sync_events_state_check
    CHECK (state IN ('pending', 'in_flight', 'delivered', 'failed', 'forgotten'));
ALTER TABLE referral_sync_events ADD COLUMN IF NOT EXISTS body_sha256 text;
