#!/usr/bin/env bash
# `make bench-sync` (BENCHMARKS.md "Sync"), run inside scripts/with-postgres.sh: pushes BENCH_SYNC_PARTICIPANTS
# (default 20,000) changed participants through the attentive-simulator executable at its rate limit
# (BENCH_SYNC_RATE, default 150/s, Attentive's documented limit; bulk endpoints 100/s) and latency
# (BENCH_SYNC_LATENCY_MS, default 50 ms), once with --mode v1 and once with --mode bulk, each into a fresh database.
# Prints achieved requests per second against the limit, the 429s received and the values that failed (v1), and
# records per second (bulk); writes the figures to reports/bench/sync-<time>.md. A benchmark, not a test: it
# asserts nothing, it measures. Target (issue 3): v1 at >= 95% of the limit with <= 1% of requests answered 429.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/simulator.sh
participants=${BENCH_SYNC_PARTICIPANTS:-20000}
rate=${BENCH_SYNC_RATE:-150}
latency=${BENCH_SYNC_LATENCY_MS:-50}
modes=${BENCH_SYNC_MODES:-v1 bulk}
bin=${BENCH_SYNC_BIN:-$(swift build -c release --show-bin-path)}
out=reports/bench
mkdir -p "$out"
work=$(mktemp -d /tmp/referral-sync-bench.XXXXXX)
simulator_pid=""
cleanup() {
  if [ -n "$simulator_pid" ]; then kill "$simulator_pid" 2>/dev/null || true; wait "$simulator_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export ATTENTIVE_API_KEY="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
start_simulator "$bin" "$work" --rate-limit "$rate" --bulk-rate-limit 100 --latency-ms "$latency" --bulk-delay-ms 500
simulator="$ATTENTIVE_BASE_URL"

# json FIELD: a top-level number of the simulator's statistics in $stats (read through PostgreSQL's jsonb).
json() { printf "SELECT coalesce((:'doc'::jsonb)->>'%s', '0')\n" "$1" | psql -qAt -d postgres -v doc="$stats"; }
# history FIELD: a number of the newest run in referral_sync_runs.
history() { psql -qAt -c "SELECT coalesce($1, '0') FROM referral_sync_runs ORDER BY run_id DESC LIMIT 1"; }

report="$out/sync-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "# bench-sync $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "$participants changed participants (4 values each), simulator limit $rate/s (bulk 100/s), latency ${latency} ms,"
  echo "$(nproc) cores, $(swift --version 2>/dev/null | head -n 1)."
  echo
  echo "| mode | participants synced | failed values | sync seconds | requests | 2xx/s | limit | % of limit | 429s | % 429 | records/s |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$report"

for mode in $modes; do
  database="bench_sync_${mode}_$$"
  psql -q -d postgres -c "CREATE DATABASE $database"
  export PGDATABASE=$database DATABASE_URL="postgresql://${PGUSER}@${PGHOST}:${PGPORT}/$database"
  "$bin/referral-sync" migrate >/dev/null
  psql -q -v ON_ERROR_STOP=1 -v n="$participants" <<'SQL'
INSERT INTO customers (customer_id, email, shareable_link, opted_in_at)
SELECT 'bench_' || lpad(i::text, 6, '0'), 'bench' || i || '@example.com', 'https://test.oken.do/b' || i,
       timestamptz '2024-01-01 00:00:00Z'
FROM generate_series(1, :n) AS i;
INSERT INTO referrals (referral_id, referrer_id, channel, created_at)
SELECT 'r' || i, 'bench_' || lpad(i::text, 6, '0'), 'email', timestamptz '2024-02-01 00:00:00Z'
FROM generate_series(1, :n) AS i;
INSERT INTO referral_orders (order_id, order_number, referral_id, total_price, currency, redeemed_at)
SELECT 'o' || i, '#' || i, 'r' || i, 10 + i % 90, 'USD', timestamptz '2024-03-01 00:00:00Z' + i * interval '1 minute'
FROM generate_series(1, :n) AS i;
SQL
  curl -fsS -X POST "$simulator/__simulator/reset" >/dev/null
  echo "== referral-sync run --mode $mode ($participants participants)" >&2
  set +e
  "$bin/referral-sync" run --mode "$mode" --max-rps "$rate" --currency USD --bulk-wait 600 \
    --reports-dir "$work/reports-$mode" --quiet
  status=$?
  set -e
  stats=$(curl -fsS "$simulator/__simulator/stats")
  requests=$(json requests)
  throttled=$(json tooManyRequests)
  accepted=$(json acceptedUpdates)
  records=$(json acceptedBulkRecords)
  seconds=$(history "(stage_seconds->>'recompute_and_sync')")
  failed=$(history "(outcome_counts->>'failed')")
  synced=$(psql -qAt -c "SELECT count(*) FROM referral_sync_ledger")
  figures=$(psql -qAt -F ' ' -d postgres -c "
    SELECT round($accepted / $seconds, 1), round(100.0 * $accepted / $seconds / $rate, 1),
           round(100.0 * $throttled / greatest($requests, 1), 2), round($records / $seconds, 1)")
  read -r per_second percent throttled_percent records_per_second <<<"$figures"
  limit=$rate
  if [ "$mode" = v1 ]; then records_per_second="-"; else per_second="-"; percent="-"; limit=100; fi
  echo "| $mode | $synced | $failed | $seconds | $requests | $per_second | $limit | $percent | $throttled | $throttled_percent | $records_per_second |" >>"$report"
  echo "exit $status: $synced participants synced, $failed values failed, $requests requests in ${seconds}s, $throttled answered 429" >&2
done

echo
cat "$report"
echo
echo "written to $report"
