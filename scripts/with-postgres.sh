#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster: initdb under a temp folder, pg_ctl on a private port
# (no system service), a database `referral_sync`, then the command with PGHOST/PGPORT/PGUSER/PGDATABASE and
# DATABASE_URL set. The cluster is stopped and deleted afterwards, whatever the command's exit status.
# Usage: scripts/with-postgres.sh COMMAND [ARG ...]
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "PostgreSQL server binaries not found: run scripts/install-deps.sh" >&2; exit 69; }
work=$(mktemp -d /tmp/referral-sync-pg.XXXXXX)
port=${REFERRAL_SYNC_TEST_PGPORT:-$(( 20000 + RANDOM % 20000 ))}
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root: the cluster belongs to the postgres system user.
  chown postgres "$work"
  as_owner=(runuser -u postgres --)
fi
cleanup() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"${as_owner[@]}" "$bindir/initdb" -D "$work/data" -U referral --auth=trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 \
  || { cat "$work/initdb.log" >&2; exit 69; }
# A role with a password over TCP, so tests can check wrong-password handling; everything else is trusted.
cat > "$work/data/pg_hba.conf" <<HBA
local all all trust
host all password_user 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
HBA
"${as_owner[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000 ${REFERRAL_SYNC_PG_OPTIONS:-}" start >/dev/null \
  || { cat "$work/server.log" >&2; exit 69; }
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=referral PGDATABASE=referral_sync
unset PGPASSWORD PGSERVICE
"$bindir/psql" -q -d postgres -c "CREATE DATABASE referral_sync" -c "CREATE ROLE password_user LOGIN SUPERUSER PASSWORD 'correct-horse-battery'" >/dev/null
export DATABASE_URL="postgresql://referral@127.0.0.1:$port/referral_sync"
export REFERRAL_SYNC_TEST_CLUSTER="$work"
set +e
"$@"
status=$?
set -e
exit $status
