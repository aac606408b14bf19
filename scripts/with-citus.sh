#!/usr/bin/env bash
# Runs a command against a throwaway Citus cluster (issue 28): a coordinator and two workers, each a cluster of
# its own on a private port (like scripts/with-postgres.sh), Citus loaded and the workers added. Sets the PG*
# variables and DATABASE_URL for the coordinator's database `referral_sync`, and REFERRAL_SYNC_CITUS_WORKERS (the
# workers' ports), then runs the command; everything is stopped and deleted afterwards.
# Needs a PostgreSQL with the Citus extension installed (README "Several workers and a distributed PostgreSQL":
# how to build it); without it, exits 77 with one line saying so.
# Usage: scripts/with-citus.sh COMMAND [ARG ...]
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "PostgreSQL server binaries not found: run scripts/install-deps.sh" >&2; exit 69; }
if [ ! -f "$("$bindir/pg_config" --sharedir 2>/dev/null || dirname "$bindir")/extension/citus.control" ] \
   && ! ls /usr/share/postgresql/*/extension/citus.control >/dev/null 2>&1; then
  echo "Citus is not installed for $("$bindir/postgres" --version): the Citus tests need it (README, \"Several workers and a distributed PostgreSQL\")" >&2
  exit 77
fi
work=$(mktemp -d /tmp/referral-sync-citus.XXXXXX)
base=${REFERRAL_SYNC_TEST_PGPORT:-$(( 20000 + RANDOM % 20000 ))}
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$work"
  as_owner=(runuser -u postgres --)
fi
nodes=(coordinator worker1 worker2)
cleanup() {
  for node in "${nodes[@]}"; do
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$work/$node" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
port_of() { case $1 in coordinator) echo "$base" ;; worker1) echo $((base + 1)) ;; worker2) echo $((base + 2)) ;; esac; }
for node in "${nodes[@]}"; do
  "${as_owner[@]}" "$bindir/initdb" -D "$work/$node" -U referral --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$work/$node-initdb.log" 2>&1 || { cat "$work/$node-initdb.log" >&2; exit 69; }
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$work/$node" -l "$work/$node.log" -w -t 60 \
    -o "-p $(port_of "$node") -k $work -c listen_addresses=127.0.0.1 -c shared_preload_libraries=citus \
        -c max_prepared_transactions=200 -c max_connections=300 -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off ${REFERRAL_SYNC_PG_OPTIONS:-}" start >/dev/null \
    || { cat "$work/$node.log" >&2; exit 69; }
  "$bindir/psql" -X -q -h 127.0.0.1 -p "$(port_of "$node")" -U referral -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE referral_sync" >/dev/null
  "$bindir/psql" -X -q -h 127.0.0.1 -p "$(port_of "$node")" -U referral -d referral_sync -v ON_ERROR_STOP=1 \
    -c "CREATE EXTENSION citus" >/dev/null
done
coordinator=$(port_of coordinator)
"$bindir/psql" -X -q -h 127.0.0.1 -p "$coordinator" -U referral -d referral_sync -v ON_ERROR_STOP=1 \
  -c "SELECT citus_set_coordinator_host('127.0.0.1', $coordinator)" \
  -c "SELECT citus_add_node('127.0.0.1', $(port_of worker1))" \
  -c "SELECT citus_add_node('127.0.0.1', $(port_of worker2))" >/dev/null
export PGHOST=127.0.0.1 PGPORT=$coordinator PGUSER=referral PGDATABASE=referral_sync
unset PGPASSWORD PGSERVICE
export DATABASE_URL="postgresql://referral@127.0.0.1:$coordinator/referral_sync"
export REFERRAL_SYNC_CITUS_WORKERS="$(port_of worker1) $(port_of worker2)"
export REFERRAL_SYNC_TEST_CLUSTER="$work/coordinator"
set +e
"$@"
status=$?
set -e
exit $status
