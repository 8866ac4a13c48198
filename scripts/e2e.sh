#!/usr/bin/env bash
# Runs the Playwright tests in frontend/e2e against the real standalone
# system (embedded NATS, gateway serving the built UI, a TensorFlow worker)
# started on a free port with a throwaway data directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
eval "$(scripts/tf-env.sh)"

port=${E2E_PORT:-18000}
data=$(mktemp -d)
log=$data/standalone.log
./bin/standalone -addr "127.0.0.1:$port" -nats-port -1 -data-dir "$data/nats" -ui-dir frontend/dist >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 &&
     curl -fsS "http://127.0.0.1:$port/v1/models" | grep -q '"ready":true'; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; exit 1; fi
  sleep 0.2
done

cd frontend
E2E_BASE_URL="http://127.0.0.1:$port" npm run e2e || { tail -n 50 "$log"; exit 1; }
