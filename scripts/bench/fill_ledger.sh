#!/usr/bin/env bash
# The benchmark's shortcut for "the first real sync succeeded" at scales where sending every participant through
# the simulator would take too long (BENCHMARKS.md): writes the ledger exactly as a successful sync would, from
# the job's own refresh (referral_sync_refresh, sql/definitions/80_refresh.sql) and attribute query
# (sql/queries/participant_attributes.sql), run by psql with the same parameters:
# for every sendable participant (no identity problem) its normalised identity and the four values; for every
# participant that cannot be sent, its changed values as pending 'skipped' with the reason. A quiet night afterwards must send nothing (run.sh checks).
# Usage: scripts/bench/fill_ledger.sh AS_OF CURRENCY MINOR_UNITS   (PG* variables name the database)
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $1 =~ ^[0-9TZ:.+-]+$ && $2 =~ ^[A-Z]{3}$ && $3 =~ ^[0-9]$ ]] || { echo "fill_ledger.sh: bad arguments" >&2; exit 64; }
query=$(scripts/bench/bind_query.sh sql/queries/participant_attributes.sql 1 0)
psql -X -q -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
\\o /dev/null
-- As the job does it (ParticipantStateStore.refresh): the lock before the transaction's snapshot.
SELECT pg_advisory_lock(7226175002999);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM referral_sync_refresh('$1'::timestamptz, '$2'::text, $3, NULL::text, false);
COMMIT;
SELECT pg_advisory_unlock(7226175002999);
\\o
BEGIN;
CREATE TEMP TABLE bench_attributes ON COMMIT DROP AS $query;
INSERT INTO referral_sync_ledger (customer_id, email, phone, shareable_link, successful_referrals,
                                  latest_successful_referral_at, total_successful_referral_revenue, accepted_at)
SELECT customer_id, send_email, send_phone, shareable_link, successful_referrals, latest_at, revenue, now()
FROM bench_attributes
WHERE problem_detail IS NULL;
INSERT INTO referral_sync_pending (customer_id, attribute, value, state, first_seen_at, last_attempt_at, attempts,
                                   error)
SELECT a.customer_id, v.attribute, v.value, 'skipped', now(), now(), 0, a.problem_detail
FROM bench_attributes a
CROSS JOIN LATERAL (VALUES (1, 'Okendo Referral Shareable Link', a.shareable_link),
                           (2, 'Okendo Number of Successful Referrals', a.successful_referrals),
                           (4, 'Okendo Latest Successful Referral Date', a.latest_at),
                           (8, 'Okendo Total Successful Referral Revenue', a.revenue)) AS v(bit, attribute, value)
WHERE a.problem_detail IS NOT NULL AND a.changed_mask & v.bit <> 0;
COMMIT;
SQL
