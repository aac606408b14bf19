-- 0002: referral-sync's own state: the ledger of what Attentive accepted, values still pending, run history,
-- and the identity rules used by the attribute query (README "Identities" and "Change detection").

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

-- Email rule: trimmed, lower-cased; valid when it is local@domain.tld with no spaces. NULL when not valid.
CREATE OR REPLACE FUNCTION referral_sync_email(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN lower(btrim(raw)) ~ '^[^[:space:]@]+@[^[:space:]@]+\.[^[:space:]@.]+$'
                THEN lower(btrim(raw)) END
$$;

-- Phone rule: spaces, dots, dashes and parentheses removed, a leading 00 read as +; valid when E.164
-- (+, a non-zero digit, 7 to 15 digits in all). National forms are ambiguous without a country: NULL.
CREATE OR REPLACE FUNCTION referral_sync_phone(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN cleaned ~ '^\+[1-9][0-9]{6,14}$' THEN cleaned END
    FROM (SELECT regexp_replace(regexp_replace(btrim(raw), '[[:space:].()-]', '', 'g'), '^00', '+') AS cleaned) AS c
$$;

-- Money rule: rounded once, half to even, to the currency's minor units; text keeps the trailing zeros.
CREATE OR REPLACE FUNCTION referral_sync_money(amount numeric, minor_units integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (CASE
        WHEN abs(scaled - trunc(scaled)) = 0.5
            THEN round((trunc(scaled) + CASE WHEN mod(trunc(scaled), 2) = 0 THEN 0 ELSE sign(scaled) END)
                       / (10::numeric ^ minor_units), minor_units)
        ELSE round(amount, minor_units)
    END)::text
    FROM (SELECT amount * (10::numeric ^ minor_units) AS scaled) AS s
$$;

-- Time rule: UTC, millisecond precision, e.g. 2024-11-08T06:10:36.989Z.
CREATE OR REPLACE FUNCTION referral_sync_timestamp(at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
