-- 0015: refusals (README "Refusals"): a value or an event Attentive refused for its content (400, 413, 422) is
-- parked as `refused` instead of `failed`, so no run sends it again while its content is unchanged, and the
-- pending count means "still trying". refused_at is when this content was first refused (refused.csv); a value's
-- refusal is for the identity it was sent to as well (sent_email, sent_phone), so a corrected email or phone is
-- new content and is sent by the next run.
ALTER TABLE referral_sync_pending DROP CONSTRAINT IF EXISTS referral_sync_pending_state_check;
ALTER TABLE referral_sync_pending ADD CONSTRAINT referral_sync_pending_state_check
    CHECK (state IN ('failed', 'skipped', 'in_flight', 'refused'));
ALTER TABLE referral_sync_pending ADD COLUMN IF NOT EXISTS refused_at timestamptz;
ALTER TABLE referral_sync_pending ADD COLUMN IF NOT EXISTS sent_email text;
ALTER TABLE referral_sync_pending ADD COLUMN IF NOT EXISTS sent_phone text;

ALTER TABLE referral_sync_events DROP CONSTRAINT IF EXISTS referral_sync_events_state_check;
ALTER TABLE referral_sync_events ADD CONSTRAINT referral_sync_events_state_check
    CHECK (state IN ('pending', 'in_flight', 'delivered', 'failed', 'forgotten', 'refused'));
ALTER TABLE referral_sync_events ADD COLUMN IF NOT EXISTS refused_at timestamptz;
