#!/usr/bin/env bash
# Fault tests against a running compose project, through nginx:
#   1. `docker kill` a worker container while a job runs: the job completes,
#      every item exactly once (the killed worker's chunks are redelivered
#      after WORKER_ACK_WAIT);
#   2. `docker restart` the NATS container while a job runs: no item lost.
#
#   COMPOSE_PROJECT_NAME=... COMPOSE_FILE=compose.yaml:deploy/compose.test.yaml \
#     scripts/docker-faults.sh http://127.0.0.1:8080
#
# The project must run deploy/compose.test.yaml's slower workers; this script
# also lowers their CPU limit (FAULT_WORKER_CPUS, default 0.25), so that a job
# of FAULT_ITEMS digits (default 40000) lasts several seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

base=${1:?usage: docker-faults.sh BASE_URL}
# The public development key of deploy/secrets/api_keys.dev (compose's default).
auth=(-H "Authorization: Bearer ${API_KEY:-bik_development_key_public_do_not_use_in_production}")
items=${FAULT_ITEMS:-40000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log() { printf 'docker-faults: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# NDJSON body of $items digit rows (the sample lines repeated).
body=$work/digits.ndjson
awk -v n="$items" 'NF{l[c++]=$0} END{for(i=0;i<n;i++) print l[i%c]}' model/testdata/digits_sample.ndjson >"$body"

# GET with retries: the gateway answers 503 while NATS is away.
get() {
  local out
  for _ in $(seq 1 60); do
    if out=$(curl -fsS --max-time 10 "${auth[@]}" "$base$1" 2>/dev/null); then printf '%s' "$out"; return 0; fi
    sleep 0.5
  done
  return 1
}

submit() {
  curl -fsS --max-time 60 "${auth[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @"$body" \
    "$base/v1/jobs?model=digits" | jq -r '.job.id'
}

# wait_running ID: until at least one chunk is done (the job is under way).
wait_running() {
  local s
  for _ in $(seq 1 200); do
    s=$(get "/v1/jobs/$1") || die "job $1: no status"
    if [ "$(jq -r '.done' <<<"$s")" -gt 0 ]; then printf '%s' "$s"; return 0; fi
    sleep 0.1
  done
  die "job $1 did not start"
}

# wait_complete ID TIMEOUT_S: prints the final status.
wait_complete() {
  local s deadline=$(($(date +%s) + $2))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if s=$(get "/v1/jobs/$1"); then
      case "$(jq -r '.state' <<<"$s")" in
        completed|failed|cancelled) printf '%s' "$s"; return 0 ;;
      esac
    fi
    sleep 0.5
  done
  die "job $1 not finished after $2 s: $(get "/v1/jobs/$1" || true)"
}

# verify ID: done == total, no failure, every index 0..total-1 exactly once
# across the result pages.
verify() {
  local id=$1 s total done failed off=0 next
  s=$(get "/v1/jobs/$id")
  total=$(jq -r .total <<<"$s"); done=$(jq -r .done <<<"$s"); failed=$(jq -r .failed <<<"$s")
  [ "$(jq -r .state <<<"$s")" = completed ] || die "job $id: state $(jq -r .state <<<"$s")"
  [ "$total" = "$items" ] || die "job $id: total $total, want $items"
  [ "$done" = "$total" ] || die "job $id: done $done of $total"
  [ "$failed" = 0 ] || die "job $id: $failed items failed"
  : >"$work/idx"
  while :; do
    local page
    page=$(get "/v1/jobs/$id/results?offset=$off&limit=10000") || die "job $id: results page at $off"
    [ "$(jq -r .complete <<<"$page")" = true ] || die "job $id: results page at $off incomplete"
    jq -r '.items[] | select(.error == null) | .index' <<<"$page" >>"$work/idx"
    next=$(jq -r '.next_offset // empty' <<<"$page")
    [ -n "$next" ] || break
    off=$next
  done
  local n uniq dup minmax
  n=$(wc -l <"$work/idx")
  uniq=$(sort -n -u "$work/idx" | wc -l)
  dup=$((n - uniq))
  minmax=$(sort -n -u "$work/idx" | sed -n '1p;$p' | tr '\n' ' ')
  [ "$n" = "$total" ] && [ "$dup" = 0 ] && [ "$minmax" = "0 $((total - 1)) " ] ||
    die "job $id: $n result items for $total ($dup duplicates, range $minmax)"
  log "job $id: $total/$total done, every index once"
}

ps_worker() { docker compose ps -q worker; }

# A quarter of a CPU per worker from now on (the containers keep it across
# restarts): jobs last seconds, not a fraction of one.
for c in $(ps_worker); do docker update --cpus "${FAULT_WORKER_CPUS:-0.25}" "$c" >/dev/null; done

# ---------------------------------------------------------------- 1. kill a worker
[ "$(ps_worker | wc -l)" -ge 2 ] || die "need two workers running"
t0=$(now)
id=$(submit) || die "submit"
s=$(wait_running "$id")
victim=$(ps_worker | sed -n 1p) # sed reads all: head could SIGPIPE compose under pipefail
docker kill "$victim" >/dev/null
at=$(jq -r .done <<<"$s")
[ "$at" -lt "$items" ] || die "the job had finished before the kill"
log "killed worker $(docker inspect -f '{{.Name}}' "$victim" | tr -d /) with job $id at $at/$items"
wait_complete "$id" 180 >/dev/null
log "job $id finished $(since "$t0") s after submission (ack wait ${WORKER_ACK_WAIT:-5s} for the lost chunks)"
verify "$id"
log "restoring the killed worker"
docker compose up -d --no-build --wait --wait-timeout 120 worker >/dev/null 2>&1 || die "worker did not come back"

# ---------------------------------------------------------------- 2. restart NATS
t0=$(now)
id=$(submit) || die "submit"
s=$(wait_running "$id")
nats=$(docker compose ps -q nats)
at=$(jq -r .done <<<"$s")
docker restart -t 10 "$nats" >/dev/null
[ "$at" -lt "$items" ] || die "the job had finished before the NATS restart"
log "restarted NATS with job $id at $at/$items"
wait_complete "$id" 240 >/dev/null
log "job $id finished $(since "$t0") s after submission"
verify "$id"
docker compose up -d --no-build --wait --wait-timeout 120 >/dev/null 2>&1 || die "the project is not healthy after the NATS restart"
log "ok"
