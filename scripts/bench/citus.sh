#!/usr/bin/env bash
# `make bench-citus`, run inside scripts/with-citus.sh (issue 28, BENCHMARKS.md "Citus"): the same generated
# history (generate.sql at BENCH_SCALE participants) in two stores of the one Citus cluster, each measured the
# same way:
#   one server:  a database of the coordinator without the citus extension (PostgreSQL alone, on the coordinator);
#   distributed: a store in a distributed schema (schema-based sharding: its tables on one worker).
# For each: the first run (`run --dry-run`, everything new), the quiet night (a real `run` after fill_ledger.sh:
# nothing to send), the busy night (busy_night.sql, then a real `run` to the simulator) and `revenue --by month`,
# BENCH_REPEAT times each but the busy night (median). Prints a Markdown table and writes it with the logs to
# reports/bench/citus-<UTC time>/.
# Environment: BENCH_SCALE (default 1000000), BENCH_REPEAT (3).
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
stores=(one distributed)

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
  local path=""
  [ "$store" = distributed ] && path="-c search_path=bench"
  PGOPTIONS="${options[$store]} $path" psql -X -q -v ON_ERROR_STOP=1 -d "${url[$store]}" "$@"
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
  job "$store" migrate $([ "$store" = distributed ] && echo --create-schema) >"$out/$store-migrate.log"
  if [ "$store" = one ]; then
    timed "$store-generate" sql "$store" -c "SET bench.participants = $scale" -f scripts/bench/generate.sql
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
  PGDATABASE="${url[$store]##*/}" PGOPTIONS="${options[$store]} $([ "$store" = distributed ] && echo "-c search_path=bench")" \
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
  log "$store: busy night"
  # Its hash function in a schema Citus propagates to the workers, not pg_temp, which it cannot.
  sed 's/pg_temp\.u(/public.bench_u(/g; s/CREATE FUNCTION public\.bench_u/CREATE OR REPLACE FUNCTION public.bench_u/' \
    scripts/bench/busy_night.sql >"$work/busy_night.sql"
  sql "$store" -c "SET bench.participants = $scale" -f "$work/busy_night.sql" >"$out/$store-busy-load.log"
  timed "$store-busy" job "$store" run --as-of "$as_of" --currency USD --quiet --reports-dir "$work/reports" \
    --max-rps 10000 --concurrency 64
done

{
  echo "| at $scale participants | one server (coordinator, no Citus) | distributed schema (one worker) | ratio |"
  echo "| --- | ---: | ---: | ---: |"
  declare -A label=([first]="full recompute, \`run --dry-run --full-recompute\`, empty ledger"
                     [quiet]="quiet night, \`run\`, nothing to send" [revenue]="\`revenue --by month\`")
  for figure in first quiet revenue; do
    one=$(runs "one-$figure" | median)
    distributed=$(runs "distributed-$figure" | median)
    echo "| ${label[$figure]} (median of $repeat: $(runs "one-$figure") / $(runs "distributed-$figure")) | $one s" \
      "| $distributed s | $(awk -v a="$distributed" -v b="$one" 'BEGIN {printf "%.2f", a / b}') |"
  done
  one=$(cat "$work/one-busy") distributed=$(cat "$work/distributed-busy")
  echo "| busy night, \`busy_night.sql\` then \`run\` to the simulator (one run) | $one s | $distributed s | $(awk -v a="$distributed" -v b="$one" 'BEGIN {printf "%.2f", a / b}') |"
  echo "| generating the history (psql; the distributed store through a plain schema, its triggers on) | $(cat "$work/one-generate") s | $(cat "$work/distributed-generate") s | |"
} | tee "$out/table.md"
