#!/usr/bin/env bash
# The demo, run inside scripts/with-postgres.sh: migrate, load the sample, start the simulator, run the job,
# show the reports, run again to show that nothing changed, and clean up.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/simulator.sh
bin=$(swift build --show-bin-path)
simulator_workspace demo
start_simulator "$bin" "$work"
reports="$PWD/reports"
# The sample holds one GBP order (a bad row), so the shop currency must be named.
export REFERRAL_SHOP_CURRENCY=USD

echo "== referral-sync migrate"
"$bin/referral-sync" migrate
echo "== loading sql/sample_data.sql"
psql -q -v ON_ERROR_STOP=1 -f sql/sample_data.sql
echo "== referral-sync run (first night: every participant is new)"
set +e
"$bin/referral-sync" run --reports-dir "$reports"
status=$?
set -e
echo "exit status: $status"
echo
cat "$reports/latest/summary.md"
echo
echo "== changes.csv"
cat "$reports/latest/changes.csv"
echo
echo "== rejected_rows.csv"
cat "$reports/latest/rejected_rows.csv"
echo
echo "== warnings.csv"
cat "$reports/latest/warnings.csv"
echo
echo "== referral-sync run (second night, nothing changed: nothing is sent)"
"$bin/referral-sync" run --reports-dir "$reports"
grep -E '^\| (Requests sent|Participants with changes) ' "$reports/latest/summary.md"
echo "(changes.csv of the second run lists only the values that are still not sendable: outcome skipped)"
echo
echo "== referral-sync events (first run: only the last 12 hours could trigger a journey, and the sample is older)"
"$bin/referral-sync" events --reports-dir "$reports/events"
sed -n '/^## First events run/,/^## Events by outcome/p' "$reports/events/latest/summary.md" | sed '$d'
echo "== referral-sync events --backfill (send the older history too, with its true times)"
set +e
"$bin/referral-sync" events --reports-dir "$reports/events" --backfill
status=$?
set -e
echo "exit status: $status"
grep -E '^\| (delivered|failed|skipped|too_old) ' "$reports/events/latest/summary.md"
echo "== events.csv"
cat "$reports/events/latest/events.csv"
echo
echo "== referral-sync events again (nothing new: nothing is sent)"
"$bin/referral-sync" events --reports-dir "$reports/events"
grep -E '^\| (delivered|skipped) ' "$reports/events/latest/summary.md"
echo "== referral-sync revenue (finance: revenue per month, reconciled with the attributes; sends nothing)"
"$bin/referral-sync" revenue --reports-dir "$reports/revenue" --as-of 2025-01-01 --quiet
sed -n '/^## Revenue by/,/^Created:/p' "$reports/revenue/latest/revenue.md"
echo "revenue.md (with channels, top referrers, what is not counted and the reconciliation): $reports/revenue/latest/revenue.md"
echo
echo "== referral-sync history"
"$bin/referral-sync" history --last 5
echo
echo "Reports of both runs are in $reports (reports/latest is the second run). The cluster and the simulator are removed."
