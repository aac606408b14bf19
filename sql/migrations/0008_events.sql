-- 0008: referral events (README "Events"): the coupons table and the rejection's notify flag (landing zone, a
-- public contract), and referral-sync's own event tables.
--
-- The landing zone: every coupon Okendo issued, the friend's (role recipient) and the referrer's reward (role
-- referrer), each the source of one `Received Okendo Referral Coupon` event.
CREATE TABLE IF NOT EXISTS referral_coupons (
    coupon_code text PRIMARY KEY,
    referral_id text REFERENCES referrals,
    customer_id text REFERENCES customers,
    role        text NOT NULL,
    description text,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz
);
CREATE INDEX IF NOT EXISTS referral_coupons_referral_id_idx ON referral_coupons (referral_id);
CREATE INDEX IF NOT EXISTS referral_coupons_issued_at_idx ON referral_coupons (issued_at);
-- Absent (NULL) means true: Okendo notifies the customer unless told otherwise.
ALTER TABLE referral_rejections ADD COLUMN IF NOT EXISTS should_notify_customer boolean;

-- Which input rows may imply an event not yet decided, written by the triggers of sql/definitions/70_change_notes
-- (source: the input table; key: its customer_id, referral_id or coupon_code; orders and rejections note their
-- referral). `referral-sync events` consumes them, so a quiet run reads an empty index instead of the history.
-- not_before: a row whose event lies after the as-of of the run that read it is noted again for that time.
-- Logged (unlike the kept recompute): a lost note would be a lost event.
CREATE TABLE IF NOT EXISTS referral_sync_event_notes (
    source     text NOT NULL,
    key        text NOT NULL,
    not_before timestamptz
);
CREATE INDEX IF NOT EXISTS referral_sync_event_notes_not_before_idx ON referral_sync_event_notes (not_before);

-- The events ledger: every event referral-sync decided to send, with its request body frozen when it was found,
-- so every retry and every rerun sends the same id with the same bytes. state: pending (found, not yet sent),
-- in_flight (marked just before its request), delivered (Attentive answered 2xx), failed (sent again by the next
-- run). An event delivered is never sent again; only a run that died between Attentive's 2xx and the write of
-- `delivered` can send one twice, with the same externalEventId.
CREATE TABLE IF NOT EXISTS referral_sync_events (
    event_key      text PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE,
    type           text NOT NULL,
    role           text NOT NULL,
    source_row     text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    user_email     text,
    user_phone     text,
    body           text NOT NULL,
    state          text NOT NULL CHECK (state IN ('pending', 'in_flight', 'delivered', 'failed')),
    attempts       integer NOT NULL DEFAULT 0,
    http_status    integer,
    error          text,
    found_at       timestamptz NOT NULL DEFAULT now(),
    found_run_id   bigint,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_run_id bigint,
    delivered_at   timestamptz
);
CREATE INDEX IF NOT EXISTS referral_sync_events_unsent_idx ON referral_sync_events (state)
    WHERE state <> 'delivered';

-- Whether `events` has run: the first run takes only the last --max-age of the history (unless --backfill).
CREATE TABLE IF NOT EXISTS referral_sync_events_state (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    first_as_of   timestamptz NOT NULL,
    first_run_id  bigint,
    backfilled_at timestamptz
);
