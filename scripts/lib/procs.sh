# Helpers for the scripts that run the system as separate processes
# (scripts/soak.sh, scripts/bench.sh); sourced, not run.

# start_nats DIR PORT: a JetStream server storing in DIR/nats, client port
# PORT, monitoring PORT+1, profiling PORT+2, logging to DIR/nats.log, in the
# background ($! is its pid); returns once it serves JetStream. Its
# max_file_store is what the default stream bounds reserve (~26 GiB) and
# some, not three quarters of the free disk, which refuses the streams on a
# disk with under ~35 GB free (the runs write what they fill, not the bounds).
start_nats() {
  printf 'jetstream { store_dir: "%s", max_file_store: 32GB }\n' "$1/nats" >"$1/nats.conf"
  ./bin/nats-server -c "$1/nats.conf" -a 127.0.0.1 -p "$2" -m $(($2 + 1)) --profile $(($2 + 2)) >"$1/nats.log" 2>&1 &
  local pid=$!
  wait_http "http://127.0.0.1:$(($2 + 1))/healthz?js-enabled-only=true" "$pid" "$1/nats.log"
}

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
