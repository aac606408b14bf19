-- 0007: the living rules moved out of the migrations into sql/definitions (functions, and the triggers that call
-- them), which every migrate re-applies, like Flyway's repeatable scripts. This table records which definitions a
-- migrate applied, one row per file with the checksum of its text, so `run` and `drift` notice a database whose
-- rules are not this referral-sync's and ask for `referral-sync migrate` instead of computing with other rules.
CREATE TABLE IF NOT EXISTS referral_sync_schema_definitions (
    name       text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
