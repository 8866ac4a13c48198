#!/usr/bin/env bash
# Swarm smoke test of deploy/stack.yaml (+ deploy/stack.test.yaml: dnsrr and
# a host-mode port, as these machines have no IPVS), with the images already
# built (VERSION tags):
#   - deploy; every service converges and the UI and API answer through nginx;
#   - docker service scale worker=1 then =2: the catalogue sees the workers
#     and a job's throughput rises;
#   - rolling update of the gateway (start-first) under a constant HTTP load
#     of GETs and synchronous predictions: no request fails;
#   - the stack is removed; a swarm this script created is left again.
#
# Refuses to touch an engine that is already part of a swarm it did not
# create, unless SWARM_TEST_REUSE=1.
set -euo pipefail
cd "$(dirname "$0")/.."

export VERSION=${VERSION:-$(cat VERSION)}
stack=${SWARM_STACK:-bitest$$}
port=${FRONTEND_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
base=http://127.0.0.1:$port
export FRONTEND_PORT=$port NATS_SECRET_NAME=${stack}_nats_password API_KEYS_SECRET_NAME=${stack}_api_keys RESOLVE_IMAGE=never
export STACK_OVERRIDES=deploy/stack.test.yaml
work=$(mktemp -d)

log() { printf 'docker-swarm-test: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# shellcheck source=scripts/lib/swarm.sh
. scripts/lib/swarm.sh
swarm_test_key
swarm_enter

cleanup() {
  set +e
  touch "$work/stop"
  wait 2>/dev/null
  swarm_remove_stack
  rm -rf "$work"
}
trap cleanup EXIT

swarm_deploy

swarm_wait_converged
curl -fsS "$base/" | grep -q '<div id="app">' || die "the UI is not served"

# ---------------------------------------------------------------- scale
body=$work/digits.ndjson
awk -v n=50000 'NF{l[c++]=$0} END{for(i=0;i<n;i++) print l[i%c]}' model/testdata/digits_sample.ndjson >"$body"
rate() { # one 50k-item job, prints items/s
  local id s
  id=$(curl -fsS "${auth[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @"$body" "$base/v1/jobs?model=digits" | jq -r .job.id)
  for _ in $(seq 1 600); do
    s=$(curl -fsS "${auth[@]}" "$base/v1/jobs/$id")
    [ "$(jq -r .state <<<"$s")" = completed ] && { jq -r '.items_per_sec | floor' <<<"$s"; return 0; }
    sleep 0.2
  done
  die "job $id did not complete"
}
scale() {
  docker service scale --detach=false "${stack}_worker=$1" >/dev/null 2>&1 || die "scale to $1"
  for _ in $(seq 1 60); do
    [ "$(curl -fsS "${auth[@]}" "$base/v1/cluster" | jq '.workers | length')" = "$1" ] && return 0
    sleep 1
  done
  die "the catalogue does not show $1 workers"
}
scale 1; r1=$(rate)
scale 2; r2=$(rate)
log "throughput: 1 worker $r1 items/s, 2 workers $r2 items/s"
awk -v a="$r1" -v b="$r2" 'BEGIN{exit !(b > 1.3 * a)}' || die "scaling to 2 workers did not raise throughput (>1.3x)"

# ---------------------------------------------------------------- rolling update under load
predict=$(head -1 model/testdata/digits_sample.ndjson | jq -c '{inputs: [.]}')
load() { # load NAME: requests until $work/stop exists, one status code per line
  local n=$1
  while [ ! -f "$work/stop" ]; do
    if [ "$n" = predict ]; then
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 15 "${auth[@]}" -H 'Content-Type: application/json' \
        -d "$predict" "$base/v1/models/digits/predict"
    else
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 15 "${auth[@]}" "$base/v1/$n"
    fi
  done >"$work/load.$n"
}
curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -d "$predict" "$base/v1/models/digits/predict" >/dev/null ||
  die "synchronous prediction fails before the update: $(curl -s "${auth[@]}" -H 'Content-Type: application/json' -d "$predict" "$base/v1/models/digits/predict")"
load models & load cluster & load predict &
sleep 2
t1=$(date +%s)
docker service update --detach=false --force "${stack}_gateway" >/dev/null 2>&1 || die "gateway update failed"
log "rolling update of the gateway took $(($(date +%s) - t1)) s"
sleep 2
touch "$work/stop"
wait
total=$(cat "$work"/load.* | wc -l)
bad=$(cat "$work"/load.* | grep -vc '^200$' || true)
log "requests during the update: $total, failed: $bad ($(cat "$work"/load.* | sort | uniq -c | tr -s ' ' | tr '\n' ';'))"
[ "$total" -gt 100 ] || die "too few requests during the update"
[ "$bad" = 0 ] || die "$bad requests failed during the rolling update"
log "ok"
