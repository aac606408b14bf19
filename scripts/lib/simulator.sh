# Shared by scripts/demo.sh, scripts/bench-sync.sh, scripts/bench-events.sh, scripts/bench/run.sh and
# scripts/bench/citus.sh: source it, do not run it.

# simulator_workspace NAME: makes the folder $work (/tmp/referral-sync-NAME.XXXXXX) for the simulator's files and the
# caller's, and a fresh ATTENTIVE_API_KEY (NAME-…); at exit, the simulator is stopped and $work removed.
simulator_workspace() {
  work=$(mktemp -d "/tmp/referral-sync-$1.XXXXXX")
  simulator_pid=""
  trap 'stop_simulator; rm -rf "$work"' EXIT
  export ATTENTIVE_API_KEY="$1-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
}

# stop_simulator: stops the simulator start_simulator started, if one runs.
stop_simulator() {
  if [ -n "$simulator_pid" ]; then kill "$simulator_pid" 2>/dev/null || true; wait "$simulator_pid" 2>/dev/null || true; fi
  simulator_pid=""
}

# start_simulator BIN_DIR WORK_DIR [OPTION ...]: starts attentive-simulator on a free loopback port with the key in
# ATTENTIVE_API_KEY and the given options, sets simulator_pid (for the caller's cleanup) and exports
# ATTENTIVE_BASE_URL. Exits 69 with the simulator's log when it does not come up within 10 s.
start_simulator() {
  local bin=$1 work=$2
  shift 2
  "$bin/attentive-simulator" --port 0 --port-file "$work/port" "$@" >"$work/simulator.log" 2>&1 &
  simulator_pid=$!
  for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || { echo "the simulator did not start:" >&2; cat "$work/simulator.log" >&2; exit 69; }
  export ATTENTIVE_BASE_URL="http://127.0.0.1:$(cat "$work/port")"
}
