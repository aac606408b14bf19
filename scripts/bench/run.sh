#!/usr/bin/env bash
# `make bench`, run inside scripts/with-postgres.sh: for each scale, generates the data (generate.sql), then
# measures side by side (BENCHMARKS.md):
#   1. baseline: sql/bench/baseline.sql by psql into /dev/null (median of BENCH_REPEAT runs after a warm-up);
#   2. first run: `run --dry-run`, everything new: wall time, peak RSS, participants per second;
#   3. quiet night: after the ledger holds what a first sync leaves (a real sync through the simulator up to
#      BENCH_REAL_SYNC_MAX participants, above that fill_ledger.sh), a real run: median of BENCH_REPEAT, ratio
#      to the baseline, requests (must be 0);
#   4. busy night: busy_night.sql changes ~1% of the participants, a real run through the simulator: wall time,
#      requests, their own time (at the initial real sync's request rate), ratio to the baseline;
#   5. revenue: `revenue --by month` over all history (median of BENCH_REPEAT) and `--by day` over two years,
#      ratio to the baseline;
#   6. full recompute: BENCH_FULL_RUNS consecutive `run --dry-run --full-recompute` (default 10, issue 27: the
#      tenth must cost what the first did): the first, the median and the last, and the kept tables' size before
#      and after the series;
#   7. an `events` run with nothing new (after a first one), and `explain` of one referrer;
#   8. the database's size on disk.
# Plans (EXPLAIN (ANALYZE, BUFFERS)) of the three queries are kept per scale. Prints a Markdown table and writes
# it, the plans and the logs to reports/bench/<UTC time>/ (reports/bench/latest points at it).
# Environment: BENCH_SCALES (default "100000 1000000"), BENCH_REPEAT (3), BENCH_REAL_SYNC_MAX (100000),
# BENCH_FULL_RUNS (10; 0 skips the series).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/simulator.sh
scales=${BENCH_SCALES:-100000 1000000}
repeat=${BENCH_REPEAT:-3}
real_sync_max=${BENCH_REAL_SYNC_MAX:-100000}
full_runs=${BENCH_FULL_RUNS:-10}
as_of=2025-01-01T00:00:00Z currency=USD minor_units=2
bin=$(swift build -c release --show-bin-path)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$PWD/reports/bench/$stamp"
mkdir -p "$out"
simulator_workspace bench
start_simulator "$bin" "$work"
job_options=(--as-of "$as_of" --currency "$currency" --max-rps 10000 --concurrency 64 --quiet)

log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }
# CPU seconds the cluster has used so far: the postmaster and its live processes, plus the backends it has reaped
# (their time is added to its children's time when they exit). Wall time on a shared machine depends on what else
# runs; CPU time mostly does not.
pg_cpu() {
  local postmaster
  postmaster=$(head -n 1 "$REFERRAL_SYNC_TEST_CLUSTER/data/postmaster.pid")
  {
    awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat"
    for child in $(pgrep -P "$postmaster"); do awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || true; done
  } | awk -v hz="$(getconf CLK_TCK)" '{sum += $1} END {printf "%.2f", sum / hz}'
}
pg_processes() { pgrep -c -P "$(head -n 1 "$REFERRAL_SYNC_TEST_CLUSTER/data/postmaster.pid")"; }
# timed NAME COMMAND...: runs the command under /usr/bin/time; leaves "wall_s peak_rss_kb client_cpu_s" in
# $work/NAME.time and the cluster's CPU seconds meanwhile in $work/NAME.pgcpu.
timed() {
  local name=$1 before processes
  shift
  processes=$(pg_processes)
  before=$(pg_cpu)
  /usr/bin/time -o "$work/$name.time" -f "%e %M %U %S" "$@" >"$out/$name.log" 2>&1 \
    || { echo "bench: '$*' failed, see $out/$name.log" >&2; cat "$out/$name.log" >&2; exit 1; }
  # A backend's time reaches the postmaster only once the backend has exited and been reaped.
  for _ in $(seq 1 50); do [ "$(pg_processes)" -le "$processes" ] && break; sleep 0.1; done
  sleep 0.2
  awk -v a="$before" -v b="$(pg_cpu)" 'BEGIN {printf "%.2f", b - a}' > "$work/$name.pgcpu"
}
wall() { cut -d' ' -f1 "$work/$1.time"; }
rss_mb() { awk '{printf "%.1f", $2 / 1024}' "$work/$1.time"; }
# "client CPU s / PostgreSQL CPU s" of a timed command.
cpu() { echo "$(awk '{printf "%.1f", $3 + $4}' "$work/$1.time") / $(awk '{printf "%.1f", $1}' "$work/$1.pgcpu")"; }
median() { tr ' ' '\n' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# The last run's counts from the run history.
last_run() { psql -X -A -t -c "SELECT outcome_counts->>'$1' FROM referral_sync_runs ORDER BY run_id DESC LIMIT 1"; }
last_stage() { psql -X -A -t -c "SELECT round((stage_seconds->>'$1')::numeric, 2) FROM referral_sync_runs ORDER BY run_id DESC LIMIT 1"; }
# refresh_plans FULL: the plans of every statement of referral_sync_refresh (auto_explain), in a transaction that
# is rolled back, so the state stays as the job left it.
refresh_plans() {
  psql -X -q -v ON_ERROR_STOP=1 <<SQL
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_nested_statements = on;
SET client_min_messages = log;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM referral_sync_refresh('$as_of'::timestamptz, '$currency'::text, $minor_units, NULL::text, $1);
ROLLBACK;
SQL
}
baseline() {
  psql -X -q -A -t -v ON_ERROR_STOP=1 -v as_of="$as_of" -v currency="$currency" -v minor_units="$minor_units" \
    -f sql/bench/baseline.sql -o /dev/null
}
export -f baseline
export as_of currency minor_units
# explain SETTINGS FILE [LITERAL ...]: EXPLAIN (ANALYZE, BUFFERS) of a query file with its parameters bound.
explain() {
  local settings=$1 file=$2
  shift 2
  {
    echo "$settings"
    echo "EXPLAIN (ANALYZE, BUFFERS)"
    scripts/bench/bind_query.sh "$file" "$@" | sed 's/;[[:space:]]*$//'
    echo ";"
  } | psql -X -q -v ON_ERROR_STOP=1 -v as_of="$as_of" -v currency="$currency" -v minor_units="$minor_units"
}

{
  echo "# referral-sync benchmark $stamp"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) memory," \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $(psql -X -A -t -c 'SHOW server_version')" \
    "PostgreSQL; $(swift --version 2>&1 | head -n 1)."
  echo "PostgreSQL settings: $(psql -X -A -t -F= -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem', 'effective_cache_size', 'max_parallel_workers_per_gather', 'jit', 'random_page_cost', 'fsync', 'synchronous_commit')")."
  echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
} > "$out/header.md"
rows="$work/rows.md"
: > "$rows"
request_rate=""

for n in $scales; do
  db="bench_$n"
  log "scale $n: generating"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  export PGDATABASE=$db DATABASE_URL="${DATABASE_URL%/*}/$db"
  "$bin/referral-sync" migrate >/dev/null
  timed "generate-$n" psql -X -q -v ON_ERROR_STOP=1 -c "SET bench.participants = $n" -f scripts/bench/generate.sql
  psql -X -q -c "VACUUM ANALYZE"
  sizes=$(psql -X -A -t -F' ' -c "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM referrals),
    (SELECT count(*) FROM referral_orders), (SELECT count(*) FROM referral_rejections)")
  read -r customers referrals orders rejections <<<"$sizes"
  log "scale $n: $customers customers, $referrals referrals, $orders orders, $rejections rejections ($(wall "generate-$n") s)"

  log "scale $n: baseline"
  timed "baseline-warmup-$n" bash -c baseline
  times=""
  for i in $(seq 1 "$repeat"); do timed "baseline-$n-$i" bash -c baseline; times="$times $(wall "baseline-$n-$i")"; done
  base=$(echo $times | median)
  echo "| $n | baseline (psql) | $base | 1.00 | $(cpu "baseline-$n-1") | | | | | runs:$times |" >> "$rows"

  log "scale $n: first run (--dry-run)"
  timed "first-$n" "$bin/referral-sync" run --dry-run "${job_options[@]}" --reports-dir "$work/reports-$n"
  participants=$(last_run participants)
  first=$(wall "first-$n")
  echo "| $n | first run (--dry-run) | $first | $(ratio "$first" "$base") | $(cpu "first-$n") | $(rss_mb "first-$n") | $participants |" \
    "$(awk -v p="$participants" -v w="$first" 'BEGIN {printf "%.0f", p / w}') | 0 | $(last_run changed_participants) changed; refresh $(last_stage refresh) s ($(last_run recompute)) |" >> "$rows"
  rm -rf "$work/reports-$n"

  if [ "$n" -le "$real_sync_max" ]; then
    log "scale $n: initial real sync through the simulator"
    timed "initial-$n" "$bin/referral-sync" run "${job_options[@]}" --reports-dir "$work/reports-$n"
    initial_requests=$(last_run requests)
    initial=$(wall "initial-$n")
    echo "| $n | initial sync (real, to the simulator) | $initial | $(ratio "$initial" "$base") | $(cpu "initial-$n") | $(rss_mb "initial-$n") |" \
      "$participants | $(awk -v p="$participants" -v w="$initial" 'BEGIN {printf "%.0f", p / w}') | $initial_requests | |" >> "$rows"
  else
    log "scale $n: ledger filled by fill_ledger.sh (what a successful first sync leaves)"
    timed "fill-$n" scripts/bench/fill_ledger.sh "$as_of" "$currency" "$minor_units"
    psql -X -q -c "VACUUM ANALYZE referral_sync_ledger, referral_sync_pending"
    echo "| $n | ledger filled by SQL (fill_ledger.sh) | $(wall "fill-$n") | | $(cpu "fill-$n") | | | | | instead of $participants requests |" >> "$rows"
  fi

  log "scale $n: quiet night"
  times="" requests=""
  for i in $(seq 1 "$repeat"); do
    timed "quiet-$n-$i" "$bin/referral-sync" run "${job_options[@]}" --reports-dir "$work/reports-$n" --keep 1
    times="$times $(wall "quiet-$n-$i")"
    requests="$requests$(last_run requests)"
  done
  quiet=$(echo $times | median)
  [ -z "${requests//0/}" ] || echo "bench: the quiet night sent requests ($requests) at scale $n" >&2
  echo "| $n | quiet night | $quiet | $(ratio "$quiet" "$base") | $(cpu "quiet-$n-$repeat") | $(rss_mb "quiet-$n-1") | $participants |" \
    "$(awk -v p="$participants" -v w="$quiet" 'BEGIN {printf "%.0f", p / w}') | $(last_run requests) | runs:$times; refresh $(last_stage refresh) s |" >> "$rows"
  if [ -n "${initial_requests:-}" ] && [ -z "$request_rate" ]; then
    # Requests per second of the initial sync, beyond what recomputing costs (the quiet night's time).
    request_rate=$(awk -v r="$initial_requests" -v i="$initial" -v q="$quiet" 'BEGIN {printf "%.0f", r / (i - q)}')
  fi

  log "scale $n: plans"
  {
    cursor="SET max_parallel_workers_per_gather = 0; SET cursor_tuple_fraction = 1;"
    echo "## baseline (sql/bench/baseline.sql, server settings as for psql)"
    explain "" sql/bench/baseline.sql
    echo "## full refresh (referral_sync_refresh, sql/definitions/80_refresh.sql, every statement; rolled back)"
    refresh_plans true
    echo "## attribute query (sql/queries/participant_attributes.sql, as the job's cursor runs it: no parallel workers)"
    explain "$cursor" sql/queries/participant_attributes.sql 1 0
    echo "## rejected rows (sql/queries/rejected_rows.sql, as the job's cursor runs it: no parallel workers)"
    explain "$cursor" sql/queries/rejected_rows.sql
    echo "## row accounting (sql/queries/row_accounting.sql, after the rejected rows on their connection)"
    explain "" sql/queries/row_accounting.sql
  } > "$out/plans-$n.txt" 2>&1 || true

  log "scale $n: busy night"
  psql -X -q -v ON_ERROR_STOP=1 -c "SET bench.participants = $n" -f scripts/bench/busy_night.sql
  psql -X -q -c "VACUUM ANALYZE"
  {
    echo "## incremental refresh after the busy night's changes (rolled back; the job's run below makes it again)"
    refresh_plans false
  } >> "$out/plans-$n.txt" 2>&1 || true
  timed "busy-$n" "$bin/referral-sync" run "${job_options[@]}" --reports-dir "$work/reports-$n" --keep 1
  busy=$(wall "busy-$n")
  busy_requests=$(last_run requests)
  own=""
  [ -n "$request_rate" ] && own=$(awk -v r="$busy_requests" -v rate="$request_rate" 'BEGIN {printf "%.2f", r / rate}')
  echo "| $n | busy night (~1% changed, real sync) | $busy | $(ratio "$busy" "$base") | $(cpu "busy-$n") | $(rss_mb "busy-$n") |" \
    "$participants | $(awk -v p="$participants" -v w="$busy" 'BEGIN {printf "%.0f", p / w}') | $busy_requests |" \
    "$(last_run changed_participants) changed; refresh $(last_stage refresh) s, $(last_run recomputed_customers) customers recomputed; requests' own time ${own:-?} s at $request_rate req/s; target $(awk -v b="$base" -v o="${own:-0}" 'BEGIN {printf "%.2f", 1.5 * b + o}') s |" >> "$rows"
  cp "$work/reports-$n/latest/summary.md" "$out/busy-summary-$n.md" 2>/dev/null || true

  # The revenue report (README "Finance") on the recompute the busy night left: all history by month (median of
  # BENCH_REPEAT; the issue's target is 1.5 x the baseline), and two years by day.
  log "scale $n: revenue reports"
  revenue_options=(--as-of "$as_of" --currency "$currency" --quiet --reports-dir "$work/revenue-$n" --keep 1)
  times=""
  for i in $(seq 1 "$repeat"); do
    timed "revenue-month-$n-$i" "$bin/referral-sync" revenue --by month "${revenue_options[@]}"
    times="$times $(wall "revenue-month-$n-$i")"
  done
  revenue=$(echo $times | median)
  echo "| $n | revenue --by month, all history | $revenue | $(ratio "$revenue" "$base") | $(cpu "revenue-month-$n-1") |" \
    "$(rss_mb "revenue-month-$n-1") | $participants | | 0 | runs:$times; refresh $(last_stage refresh) s; target 1.50 x baseline |" >> "$rows"
  timed "revenue-day-$n" "$bin/referral-sync" revenue --by day --from 2023 --to 2024 "${revenue_options[@]}"
  day=$(wall "revenue-day-$n")
  echo "| $n | revenue --by day, 2023-2024 | $day | $(ratio "$day" "$base") | $(cpu "revenue-day-$n") |" \
    "$(rss_mb "revenue-day-$n") | $participants | | 0 | $(last_run periods) periods |" >> "$rows"

  # Issue 27: consecutive full recomputes leave no dead rows behind, so the last costs what the first did.
  if [ "$full_runs" -gt 0 ]; then
    log "scale $n: $full_runs consecutive full recomputes"
    kept_size() {
      psql -X -A -t -c "SELECT round(sum(pg_total_relation_size(t)) / 1048576.0) FROM unnest(ARRAY[
        'referral_sync_participant_values', 'referral_sync_counted_referrals', 'referral_sync_revenue_kept_lines',
        'referral_sync_rejected_rows']::regclass[]) AS t"
    }
    size_before=$(kept_size)
    times="" refreshes=""
    for i in $(seq 1 "$full_runs"); do
      timed "full-$n-$i" "$bin/referral-sync" run --dry-run --full-recompute "${job_options[@]}" \
        --reports-dir "$work/reports-$n" --keep 1
      times="$times $(wall "full-$n-$i")"
      refreshes="$refreshes $(last_stage refresh)"
    done
    full=$(echo $times | median)
    echo "| $n | full recompute (\`run --dry-run --full-recompute\`), $full_runs in a row | $full | $(ratio "$full" "$base") |" \
      "$(cpu "full-$n-1") | $(rss_mb "full-$n-1") | $participants | $(awk -v p="$participants" -v w="$full" 'BEGIN {printf "%.0f", p / w}') | 0 |" \
      "median; first $(wall "full-$n-1") s, last $(wall "full-$n-$full_runs") s (last / first $(ratio "$(wall "full-$n-$full_runs")" "$(wall "full-$n-1")")); refresh stages:$refreshes; kept tables $size_before MB before, $(kept_size) MB after |" >> "$rows"
  fi

  log "scale $n: events (nothing new) and explain"
  event_options=(--as-of "$as_of" --currency "$currency" --quiet --reports-dir "$work/events-$n" --keep 1)
  timed "events-first-$n" "$bin/referral-sync" events "${event_options[@]}"
  timed "events-$n" "$bin/referral-sync" events "${event_options[@]}"
  echo "| $n | events, nothing new (after a first events run of $(wall "events-first-$n") s) | $(wall "events-$n") |" \
    "$(ratio "$(wall "events-$n")" "$base") | $(cpu "events-$n") | $(rss_mb "events-$n") | | | 0 | $(last_run delivered) delivered |" >> "$rows"
  referrer=$(psql -X -A -t -c "SELECT customer_id FROM referral_sync_participant_values WHERE problem IS NULL
    AND successful_referrals::int BETWEEN 2 AND 3 ORDER BY customer_id LIMIT 1")
  timed "explain-$n" "$bin/referral-sync" explain "$referrer" --as-of "$as_of" --currency "$currency" --quiet \
    --format json
  echo "| $n | explain (one referrer) | $(wall "explain-$n") | $(ratio "$(wall "explain-$n")" "$base") |" \
    "$(cpu "explain-$n") | $(rss_mb "explain-$n") | | | 0 | |" >> "$rows"
  echo "| $n | database size on disk | | | | | | | | $(psql -X -A -t -c "SELECT pg_size_pretty(pg_database_size(current_database()))") after every stage |" >> "$rows"

  psql -X -q -d postgres -c "DROP DATABASE $db WITH (FORCE)"
  unset initial_requests
done

{
  cat "$out/header.md"
  echo "| customers | stage | wall s | × baseline | CPU s: client / PostgreSQL | peak RSS MB | participants | rows/s | requests | notes |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  cat "$rows"
  echo
  echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg). Plans: plans-<scale>.txt; logs: *.log."
} > "$out/results.md"
rm -f "$out/header.md"
ln -sfn "$stamp" "$PWD/reports/bench/latest"
cat "$out/results.md"
