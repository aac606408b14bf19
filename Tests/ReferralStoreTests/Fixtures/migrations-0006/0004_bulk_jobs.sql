-- 0004: bulk jobs (README "Bulk mode"). Every batch sent through POST /v2/bulk/user/attributes is written here
-- BEFORE it is submitted, with each record's full state, so a run that stops at any point leaves what the next run
-- needs: a batch without a job id may or may not have reached Attentive and is sent again; a job in progress is
-- polled; a completed job's per-record results are applied to the ledger exactly once, in one transaction.

-- One row per batch. status: submitting (recorded, Attentive's 202 not recorded yet), in_progress (Attentive holds
-- the job), completed (its results are applied: results_applied_at), failed (refused, unreachable, failed as a
-- whole, unknown to Attentive, or never confirmed; its values are pending failed and sent again).
CREATE TABLE IF NOT EXISTS referral_sync_bulk_jobs (
    batch_id           bigserial PRIMARY KEY,
    job_id             text UNIQUE,
    run_id             bigint NOT NULL,
    shard              text NOT NULL,
    status             text NOT NULL CHECK (status IN ('submitting', 'in_progress', 'completed', 'failed')),
    records            integer NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    submitted_at       timestamptz,
    http_status        integer,
    attempts           integer NOT NULL DEFAULT 0,
    polls              integer NOT NULL DEFAULT 0,
    last_polled_at     timestamptz,
    attentive_status   text,
    error              text,
    results_applied_at timestamptz
);

CREATE INDEX IF NOT EXISTS referral_sync_bulk_jobs_open
    ON referral_sync_bulk_jobs (batch_id) WHERE status IN ('submitting', 'in_progress');

-- One row per record of a batch: the participant's identity and all four values as sent (what the ledger gets when
-- Attentive reports success), which attributes changed (mask: 1 link, 2 count, 4 latest, 8 revenue) and what the
-- ledger held for them (for changes.csv), and, once the results are applied, the record's outcome.
CREATE TABLE IF NOT EXISTS referral_sync_bulk_records (
    batch_id                          bigint NOT NULL REFERENCES referral_sync_bulk_jobs ON DELETE CASCADE,
    record_index                      integer NOT NULL,
    customer_id                       text NOT NULL,
    email                             text,
    phone                             text,
    shareable_link                    text,
    successful_referrals              text,
    latest_successful_referral_at     text,
    total_successful_referral_revenue text,
    changed_mask                      integer NOT NULL,
    previous_shareable_link           text,
    previous_successful_referrals     text,
    previous_latest_at                text,
    previous_revenue                  text,
    succeeded                         boolean,
    error                             text,
    PRIMARY KEY (batch_id, record_index)
);

CREATE INDEX IF NOT EXISTS referral_sync_bulk_records_customer ON referral_sync_bulk_records (customer_id);
