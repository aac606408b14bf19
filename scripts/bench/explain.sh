#!/usr/bin/env bash
# `referral-sync explain` at bench scale (BENCHMARKS.md "Explain"), run inside scripts/with-postgres.sh with the
# bench's PostgreSQL settings:
#   REFERRAL_SYNC_PG_OPTIONS="<the Makefile's BENCH_PG_OPTIONS>" scripts/with-postgres.sh scripts/bench/explain.sh
# Generates BENCH_EXPLAIN_SCALE participants (default 1000000) with generate.sql, brings the kept recompute up to
# date with one dry run, then times explain (wall seconds, median of 5 after a warm-up) for: a referrer by id, by a
# messy stored email, by phone, a whale (hundreds of referrals), a customer who is not a participant (by id), and
# an unknown email. Prints a Markdown table. Not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${BENCH_EXPLAIN_SCALE:-1000000}
as_of=2025-01-01T00:00:00Z
bin=$(swift build -c release --show-bin-path)
log() { echo "[explain-bench $(date -u +%H:%M:%S)] $*" >&2; }
"$bin/referral-sync" migrate >/dev/null
log "generating $n participants"
psql -X -q -v ON_ERROR_STOP=1 -c "SET bench.participants = $n" -f scripts/bench/generate.sql
psql -X -q -c "VACUUM ANALYZE"
log "bringing the kept recompute up to date (a dry run)"
start=$(date +%s.%N)
"$bin/referral-sync" run --dry-run --as-of "$as_of" --currency USD --quiet --reports-dir "$(mktemp -d)" >/dev/null
log "dry run: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
q() { psql -X -A -t -c "$1"; }
referrer=$(q "SELECT customer_id FROM referral_sync_participant_values WHERE problem IS NULL
              AND successful_referrals::int BETWEEN 2 AND 3 ORDER BY customer_id LIMIT 1")
messy=$(q "SELECT c.email FROM customers c JOIN referral_sync_participant_values v USING (customer_id)
           WHERE v.problem IS NULL AND c.email LIKE '  Shopper.%' ORDER BY c.customer_id LIMIT 1")
phone=$(q "SELECT c.phone FROM customers c JOIN referral_sync_participant_values v USING (customer_id)
           WHERE v.problem IS NULL AND c.phone LIKE '+44 7700 %' ORDER BY c.customer_id LIMIT 1")
whale=$(q "SELECT customer_id FROM referral_sync_participant_values
           ORDER BY successful_referrals::int DESC, customer_id LIMIT 1")
outsider=$(q "SELECT c.customer_id FROM customers c
              WHERE NOT EXISTS (SELECT 1 FROM referral_sync_participant_values v WHERE v.customer_id = c.customer_id)
              ORDER BY c.customer_id LIMIT 1")
echo "| customer | asked as | referrals | wall s (median of 5) | runs |"
echo "| --- | --- | ---: | ---: | --- |"
for case in "referrer by id|$referrer" "referrer by messy email|$messy" "referrer by phone|$phone" \
            "whale by id|$whale" "not a participant, by id|$outsider" "unknown email|nobody@example.com"; do
  label=${case%%|*}
  asked=${case#*|}
  "$bin/referral-sync" explain "$asked" --as-of "$as_of" --currency USD --quiet --format json >/dev/null || true
  times=""
  for _ in 1 2 3 4 5; do
    start=$(date +%s.%N)
    "$bin/referral-sync" explain "$asked" --as-of "$as_of" --currency USD --quiet --format json \
      >/tmp/explain-bench.json 2>/dev/null || true
    times="$times $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')"
  done
  referrals=$(grep -c '"referral_id"' /tmp/explain-bench.json || true)
  median=$(echo $times | tr ' ' '\n' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  echo "| \`$(echo "$asked" | sed 's/^ *//; s/ *$//')\` | $label | $referrals | $median | $times |"
done
