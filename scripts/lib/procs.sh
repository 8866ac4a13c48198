# Helpers for the scripts that run the system as separate processes
# (scripts/soak.sh, scripts/bench.sh); sourced, not run.

# wait_http URL PID LOG: wait until URL answers 2xx; fail, with the end of
# LOG, when the process PID exits first or after 60 s.
wait_http() {
  for _ in $(seq 1 300); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { tail -n 30 "$3"; return 1; }
    sleep 0.2
  done
  echo "$(basename "$0"): $1 not ready" >&2; tail -n 30 "$3"; return 1
}
