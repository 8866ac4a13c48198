#!/usr/bin/env bash
# Runs the Playwright tests in frontend/e2e against the real standalone
# system (embedded NATS, gateway serving the built UI, a TensorFlow worker)
# started on a free port with a throwaway data directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
eval "$(scripts/tf-env.sh)"
eval "$(scripts/litert-env.sh)"

port=${E2E_PORT:-18000}
data=$(mktemp -d)
log=$data/standalone.log
./bin/standalone -addr "127.0.0.1:$port" -nats-port -1 -data-dir "$data/nats" -ui-dir frontend/dist >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 &&
     key=$(cat "$data/dev-api-key" 2>/dev/null) &&
     curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:$port/v1/models" | grep -q '"ready":true'; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; exit 1; fi
  sleep 0.2
done

# The standalone system created a development key on its first start (in
# $data/dev-api-key, beside the keys file): the suite signs in with it.
key=$(cat "$data/dev-api-key" 2>/dev/null || true)
[ -n "$key" ] || { echo "e2e: the standalone system created no development key" >&2; tail -n 30 "$log"; exit 1; }
cd frontend
# On failure: the system's log, then Playwright's own summary last, so that
# the end of a CI log names the failing test.
out=$data/playwright.out
E2E_BASE_URL="http://127.0.0.1:$port" E2E_API_KEY="$key" npm run e2e 2>&1 | tee "$out" || {
  echo "--- standalone log (last 50 lines)"; tail -n 50 "$log"
  echo "--- Playwright (last 120 lines)"; tail -n 120 "$out"
  exit 1
}
