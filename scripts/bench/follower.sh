#!/usr/bin/env bash
# The follower's part of `make bench-events` (BENCHMARKS.md "Events": the follower). Sourced by
# scripts/bench-events.sh, which provides $bin, $work, $report, use_database, start_simulator and stop_simulator.
# Against a fresh simulator executable at BENCH_FOLLOW_RATE (150/s) and BENCH_FOLLOW_LATENCY_MS (50 ms):
#   1. Latency: BENCH_FOLLOW_SECONDS (60) of a steady BENCH_FOLLOW_PER_SECOND (20) referrals a second, each its own
#      transaction (an email referral: two events, "Sent" and "Invitation"), paced by PostgreSQL's clock; the
#      latency of each event is the simulator's arrival time minus the referral's created_at (clock_timestamp() in
#      the inserting statement, which commits at once): p50, p95, p99, max. Target: p99 under 2 s.
#   2. A burst: BENCH_FOLLOW_BURST (1,000) referrals in one statement (2,000 events): drained at events/s from the
#      first arrival to the last, as a % of the limit. Target: at least 95%.
#   3. Idle: the follower's CPU (utime + stime from /proc) over BENCH_FOLLOW_IDLE_SECONDS (60) with nothing new,
#      as % of one core. Target: under 1%.
# A benchmark, not a test: it asserts nothing, it measures.

follow_rate=${BENCH_FOLLOW_RATE:-150}
follow_latency=${BENCH_FOLLOW_LATENCY_MS:-50}
follow_seconds=${BENCH_FOLLOW_SECONDS:-60}
follow_per_second=${BENCH_FOLLOW_PER_SECOND:-20}
follow_burst=${BENCH_FOLLOW_BURST:-1000}
follow_idle=${BENCH_FOLLOW_IDLE_SECONDS:-60}
follower_pid=""
stop_follower() {
  if [ -n "$follower_pid" ]; then kill -TERM "$follower_pid" 2>/dev/null || true; wait "$follower_pid" 2>/dev/null || true; fi
  follower_pid=""
}
trap 'stop_follower; stop_simulator; rm -rf "$work"' EXIT

# cpu_ticks PID: utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# delivered_count: events the follower delivered so far.
delivered_count() { psql -qAt -c "SELECT count(*) FROM referral_sync_events WHERE state = 'delivered'"; }

# wait_delivered N: waits (at most 10 minutes) until N events are delivered.
wait_delivered() {
  for _ in $(seq 1 6000); do [ "$(delivered_count)" -ge "$1" ] && return 0; sleep 0.1; done
  echo "only $(delivered_count) of $1 events delivered after 10 minutes" >&2
  return 1
}

# receipts_table: the simulator's arrival times, loaded into bench_receipts (externalEventId, received_at).
receipts_table() {
  curl -fsS "$ATTENTIVE_BASE_URL/__simulator/event-receipts" >"$work/receipts.json"
  # psql reads the file itself (a backquoted \set): thousands of receipts are too long for one argument.
  psql -q -v ON_ERROR_STOP=1 <<SQL
\\set doc \`cat '$work/receipts.json'\`
DROP TABLE IF EXISTS bench_receipts;
CREATE TABLE bench_receipts AS
SELECT (r->>'externalEventId')::uuid AS event_id, to_timestamp((r->>'receivedAt')::float8) AS received_at
FROM jsonb_array_elements(:'doc'::jsonb) AS r;
SQL
}

use_database bench_events_follower
# Referrers who opted in two days ago: their opt-in events are too old, so only the referrals make events.
psql -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO customers (customer_id, email, first_name, last_name, locale, opted_in_at)
SELECT 'f' || i, 'f' || i || '@example.com', 'First', 'Last', 'en', now() - interval '2 days'
FROM generate_series(1, 1000) AS i;
VACUUM ANALYZE;
SQL
rm -f "$work/port"
start_simulator "$bin" "$work" --rate-limit "$follow_rate" --latency-ms "$follow_latency"
"$bin/referral-sync" events --follow --currency USD --max-rps "$follow_rate" --reports-dir "$work/reports-follow" \
  --quiet 2>"$work/follower.log" &
follower_pid=$!
for _ in $(seq 1 300); do
  [ "$(psql -qAt -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'referral-sync events listener'")" = 1 ] && break
  sleep 0.1
done

echo "== follower: steady $follow_per_second referrals/s for $follow_seconds s" >&2
steady=$((follow_seconds * follow_per_second))
{
  echo "SELECT clock_timestamp() AS start \\gset"
  for i in $(seq 1 "$steady"); do
    echo "SELECT pg_sleep(greatest(0, extract(epoch FROM :'start'::timestamptz + interval '$((1000000 / follow_per_second)) microseconds' * $i - clock_timestamp())));"
    echo "INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at) VALUES ('s$i', 'f$(( (i % 1000) + 1 ))', 'friend-s$i@example.com', 'email', clock_timestamp());"
  done
} | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
wait_delivered $((steady * 2))
receipts_table
read -r p50 p95 p99 pmax <<<"$(psql -qAt -F ' ' -c "
  SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l)::numeric, 3),
         round(percentile_cont(0.95) WITHIN GROUP (ORDER BY l)::numeric, 3),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY l)::numeric, 3), round(max(l)::numeric, 3)
  FROM (SELECT extract(epoch FROM min(b.received_at) - e.occurred_at) AS l
        FROM bench_receipts b JOIN referral_sync_events e USING (event_id)
        WHERE e.source_row LIKE 'referrals:s%' GROUP BY b.event_id, e.occurred_at) AS latency")"

echo "== follower: a burst of $follow_burst referrals in one statement" >&2
before=$(delivered_count)
psql -q -v ON_ERROR_STOP=1 -c "
  INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
  SELECT 'b' || i, 'f' || (i % 1000 + 1), 'friend-b' || i || '@example.com', 'email', clock_timestamp()
  FROM generate_series(1, $follow_burst) AS i"
wait_delivered $((before + follow_burst * 2))
receipts_table
read -r burst_seconds burst_rate burst_percent burst_first <<<"$(psql -qAt -F ' ' -c "
  SELECT round(extract(epoch FROM max(received_at) - min(received_at))::numeric, 2),
         round(((count(*) - 1) / extract(epoch FROM max(received_at) - min(received_at)))::numeric, 1),
         round((100 * (count(*) - 1) / extract(epoch FROM max(received_at) - min(received_at)) / $follow_rate)::numeric, 1),
         round(extract(epoch FROM min(received_at) - (SELECT min(created_at) FROM referrals WHERE referral_id LIKE 'b%'))::numeric, 3)
  FROM bench_receipts b JOIN referral_sync_events e USING (event_id) WHERE e.source_row LIKE 'referrals:b%'")"

echo "== follower: idle for $follow_idle s" >&2
sleep 2
ticks_before=$(cpu_ticks "$follower_pid")
sleep "$follow_idle"
ticks_after=$(cpu_ticks "$follower_pid")
idle_percent=$(psql -qAt -d postgres -c "
  SELECT round(100.0 * ($ticks_after - $ticks_before) / $(getconf CLK_TCK) / $follow_idle, 3)")
rss_kb=$(awk '/VmHWM/ { print $2 }' "/proc/$follower_pid/status")
stop_follower
stop_simulator

{
  echo
  echo "## The follower (events --follow; simulator limit $follow_rate/s, latency ${follow_latency} ms)"
  echo
  echo "| measure | figure | target |"
  echo "| --- | ---: | --- |"
  echo "| commit → Attentive, steady $follow_per_second referrals/s ($((steady * 2)) events, each referral its own transaction): p50 s | $p50 | |"
  echo "| … p95 s | $p95 | |"
  echo "| … p99 s | $p99 | under 2 |"
  echo "| … max s | $pmax | |"
  echo "| burst of $follow_burst referrals in one statement ($((follow_burst * 2)) events): first arrival after the commit, s | $burst_first | |"
  echo "| … drained in s | $burst_seconds | |"
  echo "| … events/s | $burst_rate | |"
  echo "| … % of the limit | $burst_percent | at least 95 |"
  echo "| idle CPU over $follow_idle s, % of one core | $idle_percent | under 1 |"
  echo "| follower's peak RSS, MB | $(psql -qAt -d postgres -c "SELECT round($rss_kb / 1024.0, 1)") | |"
} >>"$report"
