-- 0016: backfills that neither block nor swell (issue 25), and the warning of an event sent with an identity left
-- out (README "Events").
--
-- warning: the words of `warnings.sql`'s email_not_usable / phone_not_usable for an event whose user's email (or
-- phone) the rules refuse while the other identity is usable, so it is sent by phone (or email) only; frozen with
-- the body when the event is found, so the run that sends it (perhaps a later one) lists it in events.csv.
ALTER TABLE referral_sync_events ADD COLUMN IF NOT EXISTS warning text;

-- The send order of the unsent events (fresh first, then history, each by occurred_at, event_key), read a chunk at
-- a time from where the last chunk ended (keyset), so a backfill of millions never reads or sorts the whole ledger.
-- Delivered events leave the index, so it holds only what is still to send.
CREATE INDEX IF NOT EXISTS referral_sync_events_send_order_idx ON referral_sync_events (occurred_at, event_key)
    WHERE state NOT IN ('delivered', 'forgotten');
