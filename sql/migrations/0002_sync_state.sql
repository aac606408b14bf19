-- 0002: referral-sync's own state: the ledger of what Attentive accepted, values still pending, run history
-- (README "Change detection"). Its first identity, money and date rules now live in sql/definitions.

-- The ledger: per participant, the identity and the four attribute values (exactly as sent) that Attentive
-- last answered 2xx for. A value is written here only after that answer; NULL means Attentive holds nothing.
-- No foreign key to customers: the landing zone may be truncated and reloaded every night.
CREATE TABLE IF NOT EXISTS referral_sync_ledger (
    customer_id                       text PRIMARY KEY,
    email                             text,
    phone                             text,
    shareable_link                    text,
    successful_referrals              text,
    latest_successful_referral_at     text,
    total_successful_referral_revenue text,
    accepted_at                       timestamptz NOT NULL,
    run_id                            bigint
);

-- Values that differ from the ledger and were not accepted yet: failed (retried by the next run), skipped (not
-- sendable, with the reason) or in_flight (inside a bulk job Attentive has not finished).
CREATE TABLE IF NOT EXISTS referral_sync_pending (
    customer_id     text NOT NULL,
    attribute       text NOT NULL,
    value           text,
    state           text NOT NULL CHECK (state IN ('failed', 'skipped', 'in_flight')),
    first_seen_at   timestamptz NOT NULL,
    last_attempt_at timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    http_status     integer,
    error           text,
    run_id          bigint,
    PRIMARY KEY (customer_id, attribute)
);

-- One row per run of a command that reads or changes data.
CREATE TABLE IF NOT EXISTS referral_sync_runs (
    run_id         bigserial PRIMARY KEY,
    run_key        text NOT NULL UNIQUE,
    command        text NOT NULL,
    arguments      text NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    exit_status    integer,
    as_of          timestamptz,
    dry_run        boolean NOT NULL DEFAULT false,
    outcome_counts jsonb NOT NULL DEFAULT '{}',
    stage_seconds  jsonb NOT NULL DEFAULT '{}',
    message        text
);
