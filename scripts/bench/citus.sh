#!/usr/bin/env bash
# `make bench-citus`, run inside scripts/with-citus.sh (issue 28, BENCHMARKS.md "Citus"): the same generated
# history (generate.sql at BENCH_SCALE participants) in up to three stores of the one Citus cluster, each measured
# the same way:
#   one server:  a database of the coordinator without the citus extension (PostgreSQL alone, on the coordinator);
#   distributed: a store in a distributed schema (schema-based sharding: its tables on one worker);
#   rows:        a store distributed by row (referral_sync_distribute_by_customer: its tables over both workers),
#                which runs every command too (README "Several workers and a distributed PostgreSQL").
# For each: the first run (`run --dry-run`, everything new), the quiet night (a real `run` after fill_ledger.sh:
# nothing to send), `revenue --by month`, the first `events` run (the events of the last 12 hours before the
# as-of, sent to the simulator) and `events` with nothing new, and the busy night (busy_night.sql, then a real
# `run` to the simulator), BENCH_REPEAT times each but the busy night and the first events run (median). Prints a
# Markdown table and writes it with the logs to reports/bench/citus-<UTC time>/.
# Environment: BENCH_SCALE (default 1000000), BENCH_REPEAT (3), BENCH_CITUS_STORES ("one distributed rows").
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/simulator.sh
scale=${BENCH_SCALE:-1000000}
repeat=${BENCH_REPEAT:-3}
as_of=2025-01-01T00:00:00Z
bin=$(swift build -c release --show-bin-path)
out="$PWD/reports/bench/citus-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
simulator_workspace bench-citus
start_simulator "$bin" "$work"
log() { echo "[bench-citus $(date -u +%H:%M:%S)] $*" >&2; }

coordinator_url=$DATABASE_URL
distributed_options="-c citus.enable_schema_based_sharding=on -c citus.enable_unsafe_triggers=on"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE bench_one_server"
# Each store: its URL, the options of its sessions, and the --schema of its commands.
declare -A url options schema
url[one]="${coordinator_url%/*}/bench_one_server" options[one]="" schema[one]=""
url[distributed]=$coordinator_url options[distributed]=$distributed_options schema[distributed]="--schema bench"
url[rows]=$coordinator_url schema[rows]="--schema bench_rows"
options[rows]="-c citus.enable_schema_based_sharding=off -c citus.enable_unsafe_triggers=on"
read -r -a stores <<<"${BENCH_CITUS_STORES:-one distributed rows}"
declare -A search_path=([one]="" [distributed]="-c search_path=bench" [rows]="-c search_path=bench_rows")

# job STORE ARGS...: the job against a store, its options on every session.
job() {
  local store=$1
  shift
  local encoded
  encoded=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "${options[$store]}")
  DATABASE_URL="${url[$store]}?options=$encoded" "$bin/referral-sync" "$@" ${schema[$store]}
}
# sql STORE ARGS...: psql in a store (its schema first on the search_path).
sql() {
  local store=$1
  shift
  PGOPTIONS="${options[$store]} ${search_path[$store]}" psql -X -q -v ON_ERROR_STOP=1 -d "${url[$store]}" "$@"
}
# timed NAME COMMAND...: wall seconds of the command (a function of this script too) into $work/NAME.
timed() {
  local name=$1 start
  shift
  start=$(date +%s.%N)
  "$@" >"$out/$name.log" 2>&1 \
    || { echo "bench-citus: '$*' failed, see $out/$name.log" >&2; tail -5 "$out/$name.log" >&2; exit 1; }
  awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}' >"$work/$name"
}
median() { tr ' ' '\n' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
runs() { local name=$1; for i in $(seq 1 "$repeat"); do cat "$work/$name-$i"; echo; done | xargs; }

for store in "${stores[@]}"; do
  log "$store: migrate, generate $scale participants, fill the ledger"
  job "$store" migrate $([ "$store" != one ] && echo --create-schema) >"$out/$store-migrate.log"
  if [ "$store" = one ]; then
    timed "$store-generate" sql "$store" -c "SET bench.participants = $scale" -f scripts/bench/generate.sql
  elif [ "$store" = rows ]; then
    # Generated in the plain schema as on one server, then distributed over the workers (which fills the
    # referrer of every order and rejection and copies the rows into the shards).
    timed "$store-generate" sql "$store" -c "SET bench.participants = $scale" -f scripts/bench/generate.sql
    timed "$store-distribute" sql "$store" -c "SELECT referral_sync_distribute_by_customer()" -c "ANALYZE"
  else
    # The generator's statements join its temporary tables and call its temporary function, which Citus cannot
    # send to a worker: it fills a plain schema of the coordinator, copied into the store table by table (the
    # change-note triggers fire on the store's worker: this load notes every row, as a loader's would).
    DATABASE_URL="$coordinator_url?options=-c%20citus.enable_schema_based_sharding%3Doff" \
      "$bin/referral-sync" migrate --schema bench_staging --create-schema >"$out/staging-migrate.log"
    timed "$store-generate" sql "$store" -c "SET search_path = bench_staging" -c "SET bench.participants = $scale" \
      -f scripts/bench/generate.sql -c "SET search_path = bench" \
      -c "INSERT INTO customers SELECT * FROM bench_staging.customers" \
      -c "INSERT INTO referrals SELECT * FROM bench_staging.referrals" \
      -c "INSERT INTO referral_orders SELECT * FROM bench_staging.referral_orders" \
      -c "INSERT INTO referral_rejections SELECT * FROM bench_staging.referral_rejections" \
      -c "INSERT INTO referral_coupons SELECT * FROM bench_staging.referral_coupons" \
      -c "DROP SCHEMA bench_staging CASCADE" -c "ANALYZE"
  fi
  job "$store" run --dry-run --as-of "$as_of" --currency USD --quiet --reports-dir "$work/reports" \
    >"$out/$store-warm.log" 2>&1 || true
done
for i in $(seq 1 "$repeat"); do
  for store in "${stores[@]}"; do
    log "$store: first run $i (run --dry-run --full-recompute)"
    timed "$store-first-$i" job "$store" run --dry-run --full-recompute --as-of "$as_of" --currency USD --quiet \
      --reports-dir "$work/reports"
  done
done
for store in "${stores[@]}"; do
  PGDATABASE="${url[$store]##*/}" PGOPTIONS="${options[$store]} ${search_path[$store]}" \
    scripts/bench/fill_ledger.sh "$as_of" USD 2 >"$out/$store-fill.log" 2>&1
done
for i in $(seq 1 "$repeat"); do
  for store in "${stores[@]}"; do
    log "$store: quiet night $i, revenue $i"
    timed "$store-quiet-$i" job "$store" run --as-of "$as_of" --currency USD --quiet --reports-dir "$work/reports" \
      --max-rps 10000 --concurrency 64
    timed "$store-revenue-$i" job "$store" revenue --by month --as-of "$as_of" --currency USD --quiet \
      --reports-dir "$work/reports"
  done
done
for store in "${stores[@]}"; do
  log "$store: the first events run"
  timed "$store-events" job "$store" events --as-of "$as_of" --currency USD --quiet --reports-dir "$work/reports" \
    --max-rps 10000 --concurrency 64
  # What it delivered, which every store must agree on.
  sql "$store" -A -t -c "SELECT count(*) FROM referral_sync_events WHERE state = 'delivered'" \
    >"$work/$store-events-delivered"
done
for i in $(seq 1 "$repeat"); do
  for store in "${stores[@]}"; do
    log "$store: events with nothing new $i"
    timed "$store-eventsquiet-$i" job "$store" events --as-of "$as_of" --currency USD --quiet \
      --reports-dir "$work/reports"
  done
done
for store in "${stores[@]}"; do
  log "$store: busy night"
  # Its hash function in a schema Citus propagates to the workers, not pg_temp, which it cannot.
  sed 's/pg_temp\.u(/public.bench_u(/g; s/CREATE FUNCTION public\.bench_u/CREATE OR REPLACE FUNCTION public.bench_u/' \
    scripts/bench/busy_night.sql >"$work/busy_night.sql"
  sql "$store" -c "SET bench.participants = $scale" -f "$work/busy_night.sql" >"$out/$store-busy-load.log"
  timed "$store-busy" job "$store" run --as-of "$as_of" --currency USD --quiet --reports-dir "$work/reports" \
    --max-rps 10000 --concurrency 64
  # What it sent, which every store must agree on.
  sql "$store" -A -t -c "SELECT outcome_counts->>'synced' FROM referral_sync_runs ORDER BY run_id DESC LIMIT 1" \
    >"$work/$store-busy-synced"
done

# The table: a column per store, each figure's median with its runs, and each store's ratio to one server.
declare -A heading=([one]="one server (coordinator, no Citus)" [distributed]="distributed schema (one worker)"
                    [rows]="distributed by row (two workers)")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
cell() {  # cell STORE NAME: the median of NAME's runs and the runs (or the one run)
  local store=$1 name=$2
  if [ -f "$work/$store-$name" ]; then echo "$(cat "$work/$store-$name") s"; return; fi
  echo "$(runs "$store-$name" | median) s ($(runs "$store-$name" | tr ' ' '/'))"
}
{
  line="| at $scale participants |" rule="| --- |"
  for store in "${stores[@]}"; do line+=" ${heading[$store]} |"; rule+=" ---: |"; done
  for store in "${stores[@]}"; do [ "$store" = one ] || { line+=" ${store} / one |"; rule+=" ---: |"; }; done
  echo "$line"; echo "$rule"
  declare -A label=([first]="full recompute, \`run --dry-run --full-recompute\`, empty ledger (median of $repeat)"
                     [quiet]="quiet night, \`run\`, nothing to send (median of $repeat)"
                     [revenue]="\`revenue --by month\` (median of $repeat)"
                     [events]="the first \`events\` run, the last 12 hours sent (one run)"
                     [eventsquiet]="\`events\`, nothing new (median of $repeat)"
                     [busy]="busy night, \`busy_night.sql\` then \`run\` to the simulator (one run)"
                     [generate]="generating the history (psql)" [distribute]="distributing it by row")
  for figure in first quiet revenue events eventsquiet busy generate distribute; do
    line="| ${label[$figure]} |"
    for store in "${stores[@]}"; do
      if [ "$figure" = distribute ] && [ "$store" != rows ]; then line+=" |"; else line+=" $(cell "$store" "$figure") |"; fi
    done
    for store in "${stores[@]}"; do
      [ "$store" = one ] && continue
      if [ "$figure" = distribute ]; then line+=" |"; continue; fi
      a=$(cell "$store" "$figure" | awk '{print $1}') b=$(cell one "$figure" | awk '{print $1}')
      if [[ $a =~ ^[0-9.]+$ && $b =~ ^[0-9.]+$ ]]; then line+=" $(ratio "$a" "$b") |"; else line+=" |"; fi
    done
    echo "$line"
  done
  line="| participants the busy night sent |"
  for store in "${stores[@]}"; do line+=" $(cat "$work/$store-busy-synced") |"; done
  echo "$line"
  line="| events the first events run delivered |"
  for store in "${stores[@]}"; do line+=" $(cat "$work/$store-events-delivered") |"; done
  echo "$line"
} | tee "$out/table.md"
