# Shared by scripts/demo.sh, scripts/bench-sync.sh and scripts/bench/run.sh: source it, do not run it.

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
