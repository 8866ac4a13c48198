#!/usr/bin/env bash
# Swarm test of the autoscaler: deploy/stack.yaml + deploy/stack.test.yaml
# (dnsrr and a host-mode port, as these machines have no IPVS) +
# deploy/stack.autoscaler.yaml, with min 1, max 3 and short cooldowns:
#   - the autoscaler brings the stack's 2 workers down to 1 while idle;
#   - AUTOSCALE_JOBS jobs of AUTOSCALE_ITEMS items (default 6 x 100k: the
#     digits model is fast, and the new workers must have time to start and
#     take part) are submitted through the gateway: the worker service must
#     reach more than 1 replica within 30 s, and more than one worker must
#     run items;
#   - every job completes with exactly its item count of results (done ==
#     total, none failed; the NDJSON results hold each index once);
#   - once drained it scales back to 1 within 90 s, and no worker task it
#     stopped failed (they drain on SIGTERM);
#   - the stack is removed; a swarm this script created is left again.
# Needs the gateway, worker and frontend images (make images); builds the
# autoscaler image when it is missing (or AUTOSCALE_BUILD=1). The autoscaler
# reaches the engine only through the docker-proxy service; the test also
# checks that the proxy refuses what the autoscaler does not need.
#
# Refuses to touch an engine that is already part of a swarm it did not
# create, unless SWARM_TEST_REUSE=1.
set -euo pipefail
cd "$(dirname "$0")/.."

export VERSION=${VERSION:-$(cat VERSION)}
stack=${SWARM_STACK:-biscale$$}
port=${FRONTEND_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
base=http://127.0.0.1:$port
items=${AUTOSCALE_ITEMS:-100000}
jobs=${AUTOSCALE_JOBS:-6}
export FRONTEND_PORT=$port NATS_SECRET_NAME=${stack}_nats_password API_KEYS_SECRET_NAME=${stack}_api_keys RESOLVE_IMAGE=never
export DOCKER_GID=${DOCKER_GID:-$(stat -c %g /var/run/docker.sock)}
work=$(mktemp -d)
worker=${stack}_worker

log() { printf 'docker-autoscale-test: %s\n' "$*" >&2; }
decisions() { # the autoscaler's log lines of changes (and failures)
  docker service logs --raw "${stack}_autoscaler" 2>&1 | grep -E '"message":"(scaling|scaling failed|backlog not read|replica count not read|scale failed)"' || true
}
die() {
  log "FAIL: $*"
  decisions | tail -20 >&2
  exit 1
}

for img in gateway worker frontend; do
  docker image inspect "${IMAGE_PREFIX:-}$img:$VERSION" >/dev/null 2>&1 || die "no image ${IMAGE_PREFIX:-}$img:$VERSION (make images)"
done
if [ "${AUTOSCALE_BUILD:-0}" = 1 ] || ! docker image inspect "${IMAGE_PREFIX:-}autoscaler:$VERSION" >/dev/null 2>&1; then
  log "building ${IMAGE_PREFIX:-}autoscaler:$VERSION"
  docker build -q -f Dockerfile.autoscaler --build-arg VERSION="$VERSION" -t "${IMAGE_PREFIX:-}autoscaler:$VERSION" . >/dev/null
fi

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

# The test's settings over the overlay's: min 1, max 3, a short target so
# that 200k items need more than one worker, short cooldowns.
cat >"$work/autoscale.test.yaml" <<'EOF'
version: "3.9"
services:
  autoscaler:
    environment:
      AUTOSCALER_MIN: "1"
      AUTOSCALER_MAX: "3"
      AUTOSCALER_INTERVAL: 1s
      AUTOSCALER_TARGET_DRAIN: 10s
      AUTOSCALER_ASSUMED_RATE: "1000"
      AUTOSCALER_SCALE_UP_COOLDOWN: 5s
      AUTOSCALER_SCALE_DOWN_COOLDOWN: 15s
    deploy:
      endpoint_mode: dnsrr
  dockerproxy:
    deploy:
      endpoint_mode: dnsrr
EOF
export STACK_OVERRIDES=deploy/stack.test.yaml:deploy/stack.autoscaler.yaml:$work/autoscale.test.yaml

swarm_deploy

replicas() { docker service inspect -f '{{.Spec.Mode.Replicated.Replicas}}' "$worker"; }
running() { docker service ls --filter "name=$worker" --format '{{.Replicas}}' | cut -d/ -f1; }
swarm_wait_converged

# ---------------------------------------------------------------- idle: down to the minimum
t1=$(date +%s)
for _ in $(seq 1 90); do [ "$(replicas)" = 1 ] && [ "$(running)" = 1 ] && break; sleep 1; done
[ "$(replicas)" = 1 ] || die "idle, the workers were not scaled to 1 (replicas $(replicas))"
log "idle: scaled from 2 to 1 worker in $(($(date +%s) - t1)) s"

# ---------------------------------------------------------------- load: up
body=$work/digits.ndjson
awk -v n="$items" 'NF{l[c++]=$0} END{for(i=0;i<n;i++) print l[i%c]}' model/testdata/digits_sample.ndjson >"$body"
sample() { # the worker service's replicas (spec, running) every 0.5 s until $work/stop
  while [ ! -f "$work/stop" ]; do
    printf '%s %s %s\n' "$(date +%s.%N)" "$(replicas 2>/dev/null || echo 0)" "$(running 2>/dev/null || echo 0)"
    sleep 0.5
  done >"$work/samples"
}
# first SPEC|RUN: seconds from the submission to the first sample above 1 ("" if none)
first() { awk -v t0="$ts" -v col="$([ "$1" = spec ] && echo 2 || echo 3)" '$col > 1 {printf "%.1f", $1 - t0; exit}' "$work/samples"; }
ids=()
ts=$(date +%s.%N)
sample &
for _ in $(seq 1 "$jobs"); do
  id=$(curl -fsS "${auth[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @"$body" "$base/v1/jobs?model=digits" | jq -r .job.id)
  [ -n "$id" ] && [ "$id" != null ] || die "submission failed"
  ids+=("$id")
done
log "submitted ${#ids[@]} jobs of $items items in $(awk -v t0="$ts" -v t="$(date +%s.%N)" 'BEGIN{printf "%.1f", t - t0}') s: ${ids[*]}"

done_all() {
  local id s
  for id in "${ids[@]}"; do
    s=$(curl -fsS --max-time 5 "${auth[@]}" "$base/v1/jobs/$id") || return 1
    [ "$(jq -r .state <<<"$s")" = completed ] || return 1
  done
}
t_up="" t_done=""
for _ in $(seq 1 600); do
  curl -fsS --max-time 5 "${auth[@]}" "$base/v1/cluster" 2>/dev/null | jq -r '.workers[] | "\(.id) \(.items_total)"' >>"$work/items" || true
  if [ -z "$t_up" ]; then
    t_up=$(first spec)
    if [ -n "$t_up" ]; then
      log "scale up: the worker service above 1 replica $t_up s after the submission began"
    elif awk -v t0="$ts" -v t="$(date +%s.%N)" 'BEGIN{exit !(t - t0 > 30)}'; then
      die "no scale up within 30 s of submitting $((jobs * items)) items (replicas $(replicas))"
    fi
  fi
  if done_all; then
    te=$(date +%s.%N) t_done=$(awk -v t0="$ts" -v t="$te" 'BEGIN{printf "%.1f", t - t0}')
    break
  fi
  sleep 1
done
[ -n "$t_done" ] || die "the jobs did not complete within 600 s"
awk -v t="$t_up" 'BEGIN{exit !(t != "" && t <= 30)}' || die "the scale up took $t_up s (more than 30)"
# The autoscaler reached the engine through the proxy only.
ac=$(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_autoscaler" | head -1)
if docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}' "$ac" | grep -q docker.sock; then die "the autoscaler mounts the Docker socket"; fi
# The log is read whole, then searched: under pipefail, `docker service
# logs | grep -q` fails when grep leaves at the first match while docker
# still writes (SIGPIPE). A few reads: the log is gathered from the task.
proxied=false
for _ in 1 2 3 4 5; do
  docker service logs --raw "${stack}_dockerproxy" >"$work/dockerproxy.log" 2>&1 || true
  if grep -q '"replica count update let through"' "$work/dockerproxy.log"; then proxied=true; break; fi
  sleep 1
done
if ! $proxied; then
  tail -20 "$work/dockerproxy.log" | sed 's/^/dockerproxy: /' >&2
  die "no scaling went through the docker proxy"
fi
log "the autoscaler scaled through the docker proxy (no socket in its container)"
busy=$(awk '$2 > 0 {seen[$1] = 1} END {print length(seen)}' "$work/items")
peak=$(awk '$2 > m {m = $2} END {print m + 0}' "$work/samples")
peak_running=$(awk '$3 > m {m = $3} END {print m + 0}' "$work/samples")
log "all jobs completed $t_done s after the submission began; peak $peak replicas, $peak_running running (first above 1 at $(first run) s); $busy workers ran items"
[ "$busy" -gt 1 ] || die "only $busy worker ran items: the scale up came too late to matter"

# ---------------------------------------------------------------- exactly once
for id in "${ids[@]}"; do
  s=$(curl -fsS "${auth[@]}" "$base/v1/jobs/$id")
  jq -e --argjson n "$items" '.total == $n and .done == $n and .failed == 0' <<<"$s" >/dev/null ||
    die "job $id: $(jq -c '{state, total, done, failed}' <<<"$s"), want $items done, none failed"
  curl -fsS --max-time 120 "${auth[@]}" "$base/v1/jobs/$id/results?format=ndjson" >"$work/results.ndjson"
  got=$(jq -r 'select(.error == null) | .index' "$work/results.ndjson" | sort -n -u | awk -v n="$items" '$1 >= 0 && $1 < n' | wc -l)
  lines=$(wc -l <"$work/results.ndjson")
  [ "$got" = "$items" ] && [ "$lines" = "$items" ] || die "job $id: $lines result lines, $got distinct indices without error, want $items"
done
log "every job has exactly its $items results"

# ---------------------------------------------------------------- drained: down
since_done() { awk -v t0="$te" -v t="$(date +%s.%N)" 'BEGIN{printf "%d", t - t0}'; }
while [ "$(replicas)" != 1 ] && [ "$(since_done)" -le 90 ]; do sleep 1; done
[ "$(replicas)" = 1 ] || die "not scaled back to 1 within 90 s of draining (replicas $(replicas))"
sleep 1
t_down=$(awk -v t0="$te" '$1 >= t0 && $2 == 1 {printf "%.1f", $1 - t0; exit}' "$work/samples")
log "scale down: back to 1 replica ${t_down:-?} s after the jobs completed"
sleep 5 # the stopped tasks' final state
failed=$(docker service ps --no-trunc --format '{{.DesiredState}} {{.CurrentState}} {{.Error}}' "$worker" | grep -c '^Shutdown Failed' || true)
[ "$failed" = 0 ] || { docker service ps --no-trunc "$worker" >&2; die "$failed worker tasks failed while scaled down"; }
decisions | sed 's/^[^{]*//' | jq -r 'select(.message == "scaling") | "\(.time // .timestamp // "") \(.current) -> \(.replicas): \(.reason) (backlog \(.backlog), rate \(.rate | floor)/s)"' | while read -r l; do log "decision $l"; done
log "ok: $((jobs * items)) items: above 1 replica after ${t_up} s, peak $peak, drained in ${t_done} s, back to 1 after ${t_down:-?} s more"
