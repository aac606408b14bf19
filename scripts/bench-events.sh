#!/usr/bin/env bash
# `make bench-events` (BENCHMARKS.md "Events"), run inside scripts/with-postgres.sh. Two parts:
#   1. Throughput: BENCH_EVENTS_COUNT events (default 9,000: customers who opted in an hour before the as-of, each
#      with an email referral, 3 events each) sent by `referral-sync events --backfill` to a fresh simulator
#      executable at BENCH_EVENTS_RATE (default 150/s, Attentive's limit per endpoint) and BENCH_EVENTS_LATENCY_MS
#      (50 ms): events delivered per second, % of the limit, 429s, the job's CPU seconds and peak RSS.
#      Target (issue 12): at least 95% of the limit with at most 1% of requests answered 429.
#   2. A quiet run at BENCH_EVENTS_SCALE participants (default 1,000,000; the data of `make bench`,
#      scripts/bench/generate.sql): the first events run (it reads the whole history once), then
#      BENCH_EVENTS_QUIET_RUNS (3) quiet runs with nothing new: each one's wall time and database stages.
#      Target: well under a second of database time. An empty BENCH_EVENTS_SCALE skips this part.
#   3. A backfill of BENCH_EVENTS_BACKFILL_COUNT events (default 1,000,000; history two days old, 3 events per
#      customer) by `referral-sync events --backfill`, read and sent a chunk at a time (issue 25): events per second
#      and the job's peak RSS. At Attentive's 150/s it would take hours, so it runs against a simulator without a
#      rate limit or latency, the job at --max-rps BENCH_EVENTS_BACKFILL_RPS (default 10000, the most the option
#      takes) and --concurrency 32: the rate is the job's and the database's, not Attentive's. Target: peak RSS
#      under 100 MB. An empty BENCH_EVENTS_BACKFILL_COUNT skips this part.
# Writes reports/bench/events-<time>.md. A benchmark, not a test: it asserts nothing, it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/simulator.sh
count=${BENCH_EVENTS_COUNT:-9000}
rate=${BENCH_EVENTS_RATE:-150}
latency=${BENCH_EVENTS_LATENCY_MS:-50}
scale=${BENCH_EVENTS_SCALE-1000000}
quiet_runs=${BENCH_EVENTS_QUIET_RUNS:-3}
backfill_count=${BENCH_EVENTS_BACKFILL_COUNT-1000000}
backfill_rps=${BENCH_EVENTS_BACKFILL_RPS:-10000}
bin=${BENCH_EVENTS_BIN:-$(swift build -c release --show-bin-path)}
out=reports/bench
mkdir -p "$out"
simulator_workspace bench-events
json() { printf "SELECT coalesce((:'doc'::jsonb)->>'%s', '0')\n" "$1" | psql -qAt -d postgres -v doc="$stats"; }
history() { psql -qAt -c "SELECT coalesce($1, '0') FROM referral_sync_runs ORDER BY run_id DESC LIMIT 1"; }
timed() { sed -n "s/^[[:space:]]*$1: //p" "$work/time.txt"; }
use_database() {
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
  export PGDATABASE=$1 DATABASE_URL="postgresql://${PGUSER}@${PGHOST}:${PGPORT}/$1"
  "$bin/referral-sync" migrate >/dev/null
}

# events_row LABEL: one `referral-sync events` run on the quiet-run database, as a row of the report.
events_row() {
  local run=$1 started status wall row noted
  echo "== events run: $run" >&2
  started=$(date +%s.%N)
  set +e
  "$bin/referral-sync" events --as-of 2025-01-01T00:00:00Z --currency USD --reports-dir "$work/reports-quiet" --quiet
  status=$?
  set -e
  wall=$(psql -qAt -d postgres -c "SELECT round($(date +%s.%N) - $started, 3)")
  row=$(psql -qAt -F ' | ' -c "
    SELECT round((stage_seconds->>'discover')::numeric, 3), round((stage_seconds->>'send')::numeric, 3),
           round((SELECT sum(value::numeric) FROM jsonb_each_text(stage_seconds)), 3),
           coalesce(outcome_counts->>'delivered', '0')
    FROM referral_sync_runs ORDER BY run_id DESC LIMIT 1")
  noted=$(grep -o 'Read: [^|]*' "$work/reports-quiet/latest/summary.md" | head -n 1 | sed 's/Read: //')
  echo "| $run | $status | $wall | $row | $noted |" >>"$report"
}

report="$out/events-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "# bench-events $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, $(swift --version 2>/dev/null | head -n 1)."
  echo
  echo "## Throughput of a backfill (simulator limit $rate/s, latency ${latency} ms)"
  echo
  echo "| events | delivered | failed | send seconds | requests | delivered/s | % of limit | 429s | % 429 | CPU s | peak RSS MB |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$report"

use_database bench_events_throughput
psql -q -v ON_ERROR_STOP=1 -v n="$((count / 3))" <<'SQL'
INSERT INTO customers (customer_id, email, first_name, last_name, locale, opted_in_at)
SELECT 'c' || i, 'c' || i || '@example.com', 'First', 'Last', 'en', timestamptz '2025-01-01 11:00:00Z'
FROM generate_series(1, :n) AS i;
INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
SELECT 'r' || i, 'c' || i, 'friend' || i || '@example.com', 'email', timestamptz '2025-01-01 11:30:00Z'
FROM generate_series(1, :n) AS i;
VACUUM ANALYZE;
SQL
start_simulator "$bin" "$work" --rate-limit "$rate" --latency-ms "$latency"
echo "== throughput: referral-sync events --backfill ($count events)" >&2
set +e
/usr/bin/time -v -o "$work/time.txt" "$bin/referral-sync" events --backfill --as-of 2025-01-01T12:00:00Z \
  --currency USD --max-rps "$rate" --reports-dir "$work/reports" --quiet
status=$?
set -e
stats=$(curl -fsS "$ATTENTIVE_BASE_URL/__simulator/stats")
stop_simulator
requests=$(json requests)
throttled=$(json tooManyRequests)
seconds=$(history "(stage_seconds->>'send')")
delivered=$(psql -qAt -c "SELECT count(*) FROM referral_sync_events WHERE state = 'delivered'")
failed=$(psql -qAt -c "SELECT count(*) FROM referral_sync_events WHERE state <> 'delivered'")
cpu=$(psql -qAt -d postgres -c "SELECT round($(timed 'User time (seconds)') + $(timed 'System time (seconds)'), 2)")
rss=$(psql -qAt -d postgres -c "SELECT round($(timed 'Maximum resident set size (kbytes)') / 1024.0, 1)")
read -r per_second percent throttled_percent <<<"$(psql -qAt -F ' ' -d postgres -c "
  SELECT round($delivered / $seconds, 1), round(100.0 * $delivered / $seconds / $rate, 1),
         round(100.0 * $throttled / greatest($requests, 1), 2)")"
echo "| $count | $delivered | $failed | $seconds | $requests | $per_second | $percent | $throttled | $throttled_percent | $cpu | $rss |" >>"$report"
echo "exit $status: $delivered delivered in ${seconds}s, $throttled answered 429, CPU ${cpu}s" >&2

if [ -n "$backfill_count" ]; then
  {
    echo
    echo "## A backfill of $backfill_count events, a chunk at a time (simulator without rate limit or latency)"
    echo
    echo "| events | exit | delivered | discover s | send s | delivered/s | CPU s | peak RSS MB | load average at the end |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  } >>"$report"
  use_database bench_events_backfill
  echo "== generating $backfill_count events of history" >&2
  psql -q -v ON_ERROR_STOP=1 -v n="$((backfill_count / 3))" <<'SQL'
INSERT INTO customers (customer_id, email, first_name, last_name, locale, opted_in_at)
SELECT 'c' || i, 'c' || i || '@example.com', 'First', 'Last', 'en', timestamptz '2025-01-01 00:00:00Z' + i * interval '10 ms'
FROM generate_series(1, :n) AS i;
INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
SELECT 'r' || i, 'c' || i, 'friend' || i || '@example.com', 'email', timestamptz '2025-01-01 01:00:00Z' + i * interval '10 ms'
FROM generate_series(1, :n) AS i;
VACUUM ANALYZE;
SQL
  rm -f "$work/port"
  start_simulator "$bin" "$work"
  echo "== backfill: referral-sync events --backfill ($backfill_count events, --max-rps $backfill_rps)" >&2
  set +e
  /usr/bin/time -v -o "$work/time.txt" "$bin/referral-sync" events --backfill --as-of 2025-01-03T12:00:00Z \
    --currency USD --max-rps "$backfill_rps" --concurrency 32 --reports-dir "$work/reports-backfill" --quiet
  status=$?
  set -e
  stop_simulator
  discover=$(history "round((stage_seconds->>'discover')::numeric, 3)::text")
  seconds=$(history "round((stage_seconds->>'send')::numeric, 3)::text")
  delivered=$(psql -qAt -c "SELECT count(*) FROM referral_sync_events WHERE state = 'delivered'")
  cpu=$(psql -qAt -d postgres -c "SELECT round($(timed 'User time (seconds)') + $(timed 'System time (seconds)'), 2)")
  rss=$(psql -qAt -d postgres -c "SELECT round($(timed 'Maximum resident set size (kbytes)') / 1024.0, 1)")
  per_second=$(psql -qAt -d postgres -c "SELECT round($delivered / greatest($seconds, 0.001), 1)")
  echo "| $backfill_count | $status | $delivered | $discover | $seconds | $per_second | $cpu | $rss | $(cut -d' ' -f1-3 /proc/loadavg) |" >>"$report"
  echo "exit $status: $delivered delivered in ${seconds}s of sending, peak RSS ${rss} MB" >&2
fi

if [ -n "$scale" ]; then
  {
    echo
    echo "## Quiet runs at $scale participants (scripts/bench/generate.sql, --as-of 2025-01-01T00:00:00Z)"
    echo
    echo "| run | exit | wall s | discover s | send s | total stages s | events delivered | rows noted |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  } >>"$report"
  use_database bench_events_quiet
  echo "== generating $scale participants" >&2
  { echo "SET bench.participants = $scale;"; cat scripts/bench/generate.sql; } | psql -X -q -v ON_ERROR_STOP=1
  psql -X -q -c "VACUUM ANALYZE"
  rm -f "$work/port"
  start_simulator "$bin" "$work"
  for run in first $(seq 1 "$quiet_runs"); do
    events_row "$run"
  done
  # A busy five minutes: 100 referrals, 40 orders and 10 rejections land (about 250 events).
  psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
SELECT 'busy_r' || i, 'cus_' || lpad((i * 7919 % 1000000 + 1)::text, 8, '0'), 'busy' || i || '@example.com', 'email',
       timestamptz '2024-12-31 23:50:00Z'
FROM generate_series(1, 100) AS i;
INSERT INTO referral_orders (order_id, order_number, referral_id, total_price, currency, redeemed_at)
SELECT 'busy_o' || i, '#b' || i, 'busy_r' || i, 25, 'USD', timestamptz '2024-12-31 23:55:00Z'
FROM generate_series(1, 40) AS i;
INSERT INTO referral_rejections (referral_id, rejection_type, reason, rejected_at)
SELECT 'busy_r' || i, 'manual', 'test', timestamptz '2024-12-31 23:58:00Z' FROM generate_series(91, 100) AS i;
SQL
  for run in busy quiet-after-busy; do
    events_row "$run"
  done
  stop_simulator
fi

# The follower (scripts/bench/follower.sh): latency at a steady load, a burst, idle CPU. BENCH_FOLLOW=0 skips it
# (make exports the variables it names even unset, as empty: an empty one means the default).
if [ "${BENCH_FOLLOW:-1}" != 0 ]; then
  source scripts/bench/follower.sh
fi

echo
cat "$report"
echo
echo "written to $report"
