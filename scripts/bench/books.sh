#!/usr/bin/env bash
# What the revenue books cost a booked report (issue 26, BENCHMARKS.md "Arrival times"): 333,333 successful
# referrals from January to August 2025 (as scripts/bench/arrivals.sh loads them), then `revenue --basis booked`
# with no close, each close of January to July (`--close`), and the booked report with seven months closed and
# 10,000 late effects pending (orders deleted from closed months). Prints the wall time of each command.
# Usage: scripts/with-postgres.sh scripts/bench/books.sh BINARY
set -euo pipefail
binary=$1
psql_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql
db=bench_books
"$psql_bin" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
url="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
DATABASE_URL=$url "$binary" migrate >/dev/null
"$psql_bin" -X -q -d "$db" <<'SQL'
INSERT INTO customers (customer_id, email, opted_in_at)
SELECT 'c' || i, 'c' || i || '@example.com', '2024-01-01Z' FROM generate_series(1, 333334) i;
INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
SELECT 'r' || i, 'c' || (i % 333334 + 1), 'f' || i || '@example.com', 'email',
       '2025-01-01Z'::timestamptz + i * interval '1 minute' FROM generate_series(1, 333333) i;
INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
SELECT 'o' || i, 'r' || i, 50 + i % 100, 'USD', '2025-01-02Z'::timestamptz + i * interval '1 minute'
FROM generate_series(1, 333333) i;
SQL
timed() {
  local label=$1 start end; shift; start=$(date +%s.%N)
  env DATABASE_URL="$url" REFERRAL_SYNC_QUIET=1 "$binary" revenue --reports-dir "$(mktemp -d)" --basis booked "$@" \
    >/dev/null || echo "($label: exit $?)"
  end=$(date +%s.%N); echo "| $label | $(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }') |"
}
echo "| booked report | seconds |"
echo "| --- | ---: |"
timed "first (full refresh)" --as-of 2025-09-10T00:00:00Z
timed "no close" --as-of 2025-09-10T00:00:00Z
for month in 01 02 03 04 05 06 07; do timed "close 2025-$month" --as-of 2025-09-10T00:00:00Z --close 2025-$month; done
timed "7 months closed" --as-of 2025-09-10T00:00:00Z
"$psql_bin" -X -q -d "$db" -c "DELETE FROM referral_orders WHERE order_id IN (SELECT 'o' || i FROM generate_series(1, 300000, 30) i)"
timed "7 closed, 10,000 pending" --as-of 2025-09-10T00:00:00Z
"$psql_bin" -X -q -d postgres -c "DROP DATABASE $db"
