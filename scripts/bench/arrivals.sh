#!/usr/bin/env bash
# The cost of recording arrival times (issue 26, BENCHMARKS.md "Arrival times"): for each referral-sync binary
# given, in a fresh database of the cluster scripts/with-postgres.sh started: migrate; a 1M-row load (333,334
# customers, 333,333 referrals, 333,333 orders, one INSERT … SELECT generate_series each, timed by the server);
# the first refresh (`run --dry-run`, a full recompute); a nightly delta (10,000 new orders and 10,000 updated
# orders, two statements); and the nightly refresh (`run --dry-run`, incremental). The refresh columns are the run
# history's refresh stage; the dry run columns the whole command's wall time. Prints one Markdown row per
# binary. ARRIVALS_LOAD_ONLY=1: the load alone.
# Usage: scripts/with-postgres.sh scripts/bench/arrivals.sh LABEL=BINARY [LABEL=BINARY ...]
set -euo pipefail
psql_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql
seconds() { # the server-side time of one statement, in seconds
  "$psql_bin" -X -q -d "$1" -c '\timing on' -c "$2" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{ printf "%.2f", $1 / 1000 }'
}
# The refresh stage of the last run (run history's stage_seconds), and the whole dry run's wall time.
refresh() {
  local start end
  start=$(date +%s.%N); "${run[@]}" >/dev/null || true; end=$(date +%s.%N)
  printf '%s | %s' "$("$psql_bin" -X -qtA -d "$db" -c "SELECT round((stage_seconds->>'refresh')::numeric, 2)
        FROM referral_sync_runs ORDER BY run_id DESC LIMIT 1")" "$(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }')"
}
echo "| binary | load customers s | load referrals s | load orders s | first refresh s | first dry run s | nightly delta s | nightly refresh s | nightly dry run s | arrival rows |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for pair in "$@"; do
  label=${pair%%=*} binary=${pair#*=}
  db="bench_arrivals_$label"
  "$psql_bin" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  url="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
  DATABASE_URL=$url "$binary" migrate >/dev/null
  c=$(seconds "$db" "INSERT INTO customers (customer_id, email, opted_in_at)
        SELECT 'c' || i, 'c' || i || '@example.com', '2024-01-01Z' FROM generate_series(1, 333334) i")
  r=$(seconds "$db" "INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
        SELECT 'r' || i, 'c' || (i % 333334 + 1), 'f' || i || '@example.com', 'email',
               '2025-01-01Z'::timestamptz + i * interval '1 minute' FROM generate_series(1, 333333) i")
  o=$(seconds "$db" "INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
        SELECT 'o' || i, 'r' || i, 50 + i % 100, 'USD', '2025-01-02Z'::timestamptz + i * interval '1 minute'
        FROM generate_series(1, 333333) i")
  if [ "${ARRIVALS_LOAD_ONLY:-0}" = 1 ]; then # the load alone (repeated, to see through a busy machine)
    echo "| $label | $c | $r | $o | | | | | | |"
    "$psql_bin" -X -q -d postgres -c "DROP DATABASE $db"
    continue
  fi
  run=(env DATABASE_URL="$url" ATTENTIVE_API_KEY=bench REFERRAL_SHOP_CURRENCY=USD REFERRAL_SYNC_QUIET=1
       "$binary" run --dry-run --as-of 2026-01-01T00:00:00Z --reports-dir "$(mktemp -d)")
  first=$(refresh)
  n1=$(seconds "$db" "INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
        SELECT 'n' || i, 'r' || i, 20, 'USD', '2025-01-01Z'::timestamptz + i * interval '1 minute'
        FROM generate_series(1, 10000) i")
  n2=$(seconds "$db" "UPDATE referral_orders SET total_price = total_price + 1
        WHERE order_id IN (SELECT 'o' || i FROM generate_series(100001, 110000) i)")
  nightly=$(refresh)
  arrivals=-
  if [ "$("$psql_bin" -X -qtA -d "$db" -c "SELECT to_regclass('referral_sync_row_arrivals') IS NOT NULL")" = t ]; then
    arrivals=$("$psql_bin" -X -qtA -d "$db" -c "SELECT count(*) FROM referral_sync_row_arrivals")
  fi
  delta=$(echo "$n1 $n2" | awk '{ printf "%.2f", $1 + $2 }')
  echo "| $label | $c | $r | $o | $first | $delta | $nightly | $arrivals |"
  "$psql_bin" -X -q -d postgres -c "DROP DATABASE $db"
done
