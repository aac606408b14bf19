#!/usr/bin/env bash
# `make bench-sync` (BENCHMARKS.md "Sync"), run inside scripts/with-postgres.sh. Each row loads changed participants
# (4 values each) into a fresh database and runs `referral-sync run` once against a fresh attentive-simulator
# executable at Attentive's limits (BENCH_SYNC_RATE, default 150/s, for /v1/attributes/custom; bulk endpoints
# 100/s), under /usr/bin/time (the job's CPU seconds and peak RSS). The rows:
#   - BENCH_SYNC_MODES (default "v1 bulk") at BENCH_SYNC_PARTICIPANTS (20,000), latency BENCH_SYNC_LATENCY_MS
#     (50 ms), bulk jobs completed 500 ms after submission: today's rows (issue 3).
#   - v1 with dropped connections: one row per BENCH_SYNC_DROPS share (default "0.01 0.1", simulator
#     --fault-drop P) at BENCH_SYNC_DROP_PARTICIPANTS (default 5,000): 2xx/s and the job's CPU seconds (issue 11).
#   - bulk submission rate: one row per BENCH_SYNC_BULK_SCALES count (default "20000 1000000") with jobs completed
#     at once (--bulk-delay-ms 0): records submitted per second, records applied per second, peak RSS (issue 11).
# An empty variable drops its rows. Writes the figures to reports/bench/sync-<time>.md. A benchmark, not a test: it
# asserts nothing, it measures. Target (issue 3): v1 at >= 95% of the limit with <= 1% of requests answered 429;
# (issue 11) bulk submits >= 10,000 records/s with peak RSS flat from 20,000 to 1,000,000 participants.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/simulator.sh
participants=${BENCH_SYNC_PARTICIPANTS:-20000}
rate=${BENCH_SYNC_RATE:-150}
latency=${BENCH_SYNC_LATENCY_MS:-50}
modes=${BENCH_SYNC_MODES-v1 bulk}
drops=${BENCH_SYNC_DROPS-0.01 0.1}
drop_participants=${BENCH_SYNC_DROP_PARTICIPANTS:-5000}
bulk_scales=${BENCH_SYNC_BULK_SCALES-20000 1000000}
bin=${BENCH_SYNC_BIN:-$(swift build -c release --show-bin-path)}
out=reports/bench
mkdir -p "$out"
simulator_workspace bench

# json FIELD: a top-level number of the simulator's statistics in $stats (read through PostgreSQL's jsonb).
json() { printf "SELECT coalesce((:'doc'::jsonb)->>'%s', '0')\n" "$1" | psql -qAt -d postgres -v doc="$stats"; }
# history FIELD: a number of the newest run in referral_sync_runs.
history() { psql -qAt -c "SELECT coalesce($1, '0') FROM referral_sync_runs ORDER BY run_id DESC LIMIT 1"; }
# timed FIELD: a figure of the last run's /usr/bin/time -v report.
timed() { sed -n "s/^[[:space:]]*$1: //p" "$work/time.txt"; }

report="$out/sync-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "# bench-sync $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Simulator limit $rate/s (bulk 100/s), latency ${latency} ms, $(nproc) cores, load average"
  echo "$(cut -d' ' -f1-3 /proc/loadavg) at the start, $(swift --version 2>/dev/null | head -n 1)."
  echo
  echo "| row | participants synced | failed values | sync seconds | requests | 2xx/s | limit | % of limit | 429s | % 429 | drops | records/s | submitted/s | CPU s | peak RSS MB |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$report"

# bench_row LABEL MODE PARTICIPANTS SIMULATOR-OPTION ...: one run into a fresh database against a fresh simulator.
bench_row() {
  local label=$1 mode=$2 count=$3
  shift 3
  local database="bench_sync_$$_$((++row_number))"
  psql -q -d postgres -c "CREATE DATABASE $database"
  export PGDATABASE=$database DATABASE_URL="postgresql://${PGUSER}@${PGHOST}:${PGPORT}/$database"
  "$bin/referral-sync" migrate >/dev/null
  psql -q -v ON_ERROR_STOP=1 -v n="$count" <<'SQL'
INSERT INTO customers (customer_id, email, shareable_link, opted_in_at)
SELECT 'bench_' || lpad(i::text, 7, '0'), 'bench' || i || '@example.com', 'https://test.oken.do/b' || i,
       timestamptz '2024-01-01 00:00:00Z'
FROM generate_series(1, :n) AS i;
INSERT INTO referrals (referral_id, referrer_id, channel, created_at)
SELECT 'r' || i, 'bench_' || lpad(i::text, 7, '0'), 'email', timestamptz '2024-02-01 00:00:00Z'
FROM generate_series(1, :n) AS i;
INSERT INTO referral_orders (order_id, order_number, referral_id, total_price, currency, redeemed_at)
SELECT 'o' || i, '#' || i, 'r' || i, 10 + i % 90, 'USD', timestamptz '2024-03-01 00:00:00Z' + i * interval '1 minute'
FROM generate_series(1, :n) AS i;
VACUUM ANALYZE;
SQL
  start_simulator "$bin" "$work" --rate-limit "$rate" --bulk-rate-limit 100 "$@"
  echo "== $label: referral-sync run --mode $mode ($count participants; simulator $*)" >&2
  set +e
  /usr/bin/time -v -o "$work/time.txt" "$bin/referral-sync" run --mode "$mode" --max-rps "$rate" --currency USD \
    --bulk-wait 600 --reports-dir "$work/reports-$row_number" --quiet
  local status=$?
  set -e
  stats=$(curl -fsS "$ATTENTIVE_BASE_URL/__simulator/stats")
  stop_simulator
  rm -rf "$work/reports-$row_number" "$work/port"
  local requests throttled accepted records dropped seconds failed synced cpu rss submit_seconds
  requests=$(json requests)
  throttled=$(json tooManyRequests)
  accepted=$(json acceptedUpdates)
  records=$(json acceptedBulkRecords)
  dropped=$(printf "SELECT coalesce((:'doc'::jsonb)->'faultsInjected'->>'dropConnection', '0')\n" | psql -qAt -d postgres -v doc="$stats")
  seconds=$(history "(stage_seconds->>'recompute_and_sync')")
  failed=$(history "(outcome_counts->>'failed')")
  synced=$(psql -qAt -c "SELECT count(*) FROM referral_sync_ledger")
  # Submission window: from the first batch recorded to the last 202 recorded.
  submit_seconds=$(psql -qAt -c "
    SELECT coalesce(extract(epoch FROM max(submitted_at) - min(created_at)), 0) FROM referral_sync_bulk_jobs")
  cpu=$(psql -qAt -d postgres -c "SELECT round($(timed 'User time (seconds)') + $(timed 'System time (seconds)'), 2)")
  rss=$(psql -qAt -d postgres -c "SELECT round($(timed 'Maximum resident set size (kbytes)') / 1024.0, 1)")
  local figures per_second percent throttled_percent records_per_second submitted_per_second
  figures=$(psql -qAt -F ' ' -d postgres -c "
    SELECT round($accepted / $seconds, 1), round(100.0 * $accepted / $seconds / $rate, 1),
           round(100.0 * $throttled / greatest($requests, 1), 2), round($records / $seconds, 1),
           CASE WHEN $submit_seconds > 0 THEN round($records / $submit_seconds, 1) END")
  read -r per_second percent throttled_percent records_per_second submitted_per_second <<<"$figures"
  local limit=$rate
  if [ "$mode" = v1 ]; then
    records_per_second="-" submitted_per_second="-"
  else
    per_second="-" percent="-" limit=100
  fi
  echo "| $label | $synced | $failed | $seconds | $requests | $per_second | $limit | $percent | $throttled | $throttled_percent | $dropped | $records_per_second | ${submitted_per_second:--} | $cpu | $rss |" >>"$report"
  echo "exit $status: $synced participants synced, $failed values failed, $requests requests in ${seconds}s, $throttled answered 429, $dropped dropped, CPU ${cpu}s, peak RSS ${rss} MB" >&2
  psql -q -d postgres -c "DROP DATABASE $database"
}
row_number=0

for mode in $modes; do
  bench_row "$mode" "$mode" "$participants" --latency-ms "$latency" --bulk-delay-ms 500
done
for share in $drops; do
  bench_row "v1, $share dropped" v1 "$drop_participants" --latency-ms "$latency" --fault-drop "$share"
done
for count in $bulk_scales; do
  bench_row "bulk, delay 0" bulk "$count" --latency-ms "$latency" --bulk-delay-ms 0
done

echo
cat "$report"
echo
echo "written to $report"
