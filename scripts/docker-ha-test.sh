#!/usr/bin/env bash
# The HA queue, tested for real with containers (docs/scaling.md):
#
#   1. docker compose up the three-server NATS cluster (compose.yaml +
#      deploy/compose.test.yaml's slower workers + deploy/compose.ha.yaml), a
#      throwaway project on a random port, a generated password with a `/`
#      in it (the route URLs must encode it); every stream and bucket R3;
#   2. submit a job of HA_ITEMS (100000) digits through nginx and follow it
#      over the WebSocket (test/ha: records every results message);
#   3. `docker kill` the server leading the INFER stream (SIGKILL: no
#      leadership hand-over), `docker start` it again once the others have
#      taken over, wait until it is current, then `docker restart` the new
#      INFER leader;
#   4. assert: the job completes; 0 items lost, 0 duplicated, both in what
#      the follower saw and in the stored results; the follower's seqs rise
#      with no gap; progress resumes within HA_MAX_STALL (5 s) of the rejoin
#      and the restart, and within HA_MAX_STALL_KILL (20 s) of the kill: a
#      SIGKILLed server hands nothing over, and when it led the groups the
#      workers need (the batch consumer, RESULTS, KV_jobs) the others elect
#      new leaders only after JetStream's election timeout, 4-9 s, fixed in
#      nats-server, and a split vote starts another such round (measured:
#      0.3 s when it led none of them, up to 10.9 s when it did, 16.0 s in a
#      CI run whose first election took 8.4 s; docs/scaling.md).
#
#   scripts/docker-ha-test.sh            # images gateway/worker/frontend:$VERSION built if missing
#
# Knobs: HA_ITEMS (100000), HA_WORKER_CPUS (CPU limit per worker, 0.25: the
# job must outlast both faults), HA_MAX_STALL (5s), HA_MAX_STALL_KILL (20s),
# HA_BUILD=1 (rebuild the images), HA_KEEP=1 (leave the project up),
# HA_KILL=consumer (kill and restart the leader of the digits batch consumer
# instead of the stream's: the workers' pulls and acks go to it), VERSION
# (the image tag, default the VERSION file). For throughput figures without
# faults (docs/scaling.md): HA_FAULTS=0 (no faults, full-speed workers:
# compose.yaml's, not deploy/compose.test.yaml's), and with it HA_CLUSTER=0
# (one NATS server, R1: the same job for comparison). Figures go to stdout
# and .cache/docker-ha-test/summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export VERSION=${VERSION:-$(cat VERSION)}
export DOCKER_BUILDKIT=1
: "${HA_ITEMS:=100000}" "${HA_WORKER_CPUS:=0.25}" "${HA_MAX_STALL:=5s}" "${HA_BUILD:=0}" "${HA_KEEP:=0}"
: "${HA_FAULTS:=1}" "${HA_CLUSTER:=1}" "${HA_KILL:=stream}" "${HA_MAX_STALL_KILL:=20s}"
[ "$HA_CLUSTER" = 1 ] || HA_FAULTS=0
KEY=${API_KEY:-bik_development_key_public_do_not_use_in_production} # deploy/secrets/api_keys.dev

log() { printf 'docker-ha-test: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
now_ms() { date +%s%3N; }
summary=()
note() { summary+=("$*"); log "$*"; }

work=$(mktemp -d)
project=biha$$
follower=
cleanup() {
  local rc=$?
  set +e
  [ -n "$follower" ] && kill "$follower" 2>/dev/null
  if [ -n "${COMPOSE_PROJECT_NAME:-}" ]; then
    if [ "$HA_KEEP" = 1 ]; then
      log "leaving project $project up (docker compose -p $project down -v)"
    else
      [ $rc = 0 ] || { docker compose ps -a >&2; docker compose logs --tail 30 nats nats-2 nats-3 gateway worker >&2; }
      docker compose down -v --remove-orphans --timeout 10 >/dev/null 2>&1
    fi
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

# ---------------------------------------------------------------- engine, images
shared=$root/../shared/docker
if ! docker info >/dev/null 2>&1; then
  [ -x "$shared/ensure-engine" ] || die "no Docker engine answers (docker info)"
  "$shared/ensure-engine"
fi
[ -x "$shared/ensure-base-images" ] && "$shared/ensure-base-images" --project . >/dev/null
for i in gateway worker frontend; do
  if [ "$HA_BUILD" = 1 ] || ! docker image inspect "$i:$VERSION" >/dev/null 2>&1; then
    scripts/docker-images.sh gateway worker frontend || die "image build"
    break
  fi
done
go build -o "$work/ha" ./test/ha || die "build test/ha"

# ---------------------------------------------------------------- 1. up
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/secrets" && chmod 700 "$work/secrets"
printf '%s' "t$(openssl rand -hex 12)/$(openssl rand -hex 12)" >"$work/secrets/nats_password"
chmod 644 "$work/secrets/nats_password" # bind-mounted as is: the services run as non-root
files=compose.yaml
[ "$HA_FAULTS" = 1 ] && files=$files:deploy/compose.test.yaml
[ "$HA_CLUSTER" = 1 ] && files=$files:deploy/compose.ha.yaml
# The cluster is TLS only, routes mutual TLS: certificates made for the test
# (compose mounts file secrets with the host file's mode: NATS_CERTS_SHARED).
NATS_CERTS_SHARED=1 scripts/nats-certs.sh "$work/nats-tls" 2>/dev/null
export COMPOSE_PROJECT_NAME=$project COMPOSE_FILE=$files NATS_TLS_DIR=$work/nats-tls
export FRONTEND_PORT=$port NATS_PASSWORD_SECRET=$work/secrets/nats_password
# The follower signs in with the public development key: allowed for this
# throwaway project, which publishes on 127.0.0.1 only.
export ALLOW_DEV_KEY=true
base=http://127.0.0.1:$port
t=$(date +%s)
docker compose up -d --no-build --wait --wait-timeout 240 || die "compose up"
note "compose up --wait ($files): $(($(date +%s) - t)) s"

svc_of() { case "$1" in nats-1) echo nats ;; *) echo "$1" ;; esac; } # server name -> service
cid() { docker compose ps -a -q "$1"; } # -a: a killed one too
# jsz SVC: the server's JetStream report (monitoring listens on its loopback only).
jsz() { docker exec "$(cid "$1")" wget -q -T 3 -O- 'http://127.0.0.1:8222/jsz?streams=true&consumers=true&config=true' 2>/dev/null; }
# leader_of GROUP [SVCS]: the leader of a stream (INFER) or a durable consumer
# (INFER/batch_digits_1) as the first answering server sees it.
leader_of() {
  local g=$1 svc l
  for svc in ${2:-nats nats-2 nats-3}; do
    l=$(jsz "$svc" | jq -r --arg g "$g" '[.account_details[]?.stream_detail[]? | . as $s
      | ({k: .name, c: .cluster}, (.consumer_detail[]? | {k: ($s.name + "/" + .name), c: .cluster}))
      | select(.k == $g) | .c.leader // empty][0] // empty') || continue
    [ -n "$l" ] && { echo "$l"; return 0; }
  done
  return 1
}
# current: every stream and durable consumer has a leader and its two other
# copies current (watchers of the buckets are R1 ephemerals: left out). Only
# a group's leader knows whether the others are current, so the best report
# of the three servers counts for each group.
current() {
  local svc
  for svc in nats nats-2 nats-3; do
    jsz "$svc" | jq -c '.account_details[]?.stream_detail[]? | . as $s
      | ({k: $s.name, c: $s.cluster}, ($s.consumer_detail[]? | select(.config.durable_name) | {k: ($s.name + "/" + .name), c: .cluster}))
      | {k, l: .c.leader, n: ([.c.replicas[]? | select(.current and (.offline | not))] | length)}' || true
  done | jq -se 'length > 0 and (group_by(.k) | map(max_by(.n)) | all(.l != null and .n == 2))' >/dev/null
}
wait_current() {
  local what=$1 limit=$2 t0
  t0=$(now_ms)
  while ! current; do
    [ $(($(now_ms) - t0)) -lt $((limit * 1000)) ] || die "$what: streams and consumers not all R3 and current after $limit s"
    sleep 0.5
  done
  echo $(($(now_ms) - t0))
}
if [ "$HA_CLUSTER" = 1 ]; then
  streams=$(jsz nats | jq -r '[.account_details[]?.stream_detail[]? | "\(.name):R\(.config.num_replicas)"] | join(" ")')
  log "streams: $streams"
  grep -q 'INFER:R3' <<<"$streams" && ! grep -qE ':R[12]( |$)' <<<"$streams" || die "streams not all R3: $streams"
  ms=$(wait_current up 60)
  note "streams and consumers R3, all copies current: $ms ms after up"
fi

# Slower workers, so that the job outlasts both faults.
if [ "$HA_FAULTS" = 1 ]; then
  for c in $(cid worker); do docker update --cpus "$HA_WORKER_CPUS" "$c" >/dev/null; done
fi

# ---------------------------------------------------------------- 2. job
body=$work/digits.ndjson
awk -v n="$HA_ITEMS" 'NF{l[c++]=$0} END{for(i=0;i<n;i++) print l[i%c]}' model/testdata/digits_sample.ndjson >"$body"
API_KEY=$KEY "$work/ha" follow -url "$base" -body "$body" -events "$work/events.ndjson" -job "$work/job" \
  -timeout 15m >"$work/summary.json" 2>"$work/follow.log" &
follower=$!
: >"$work/faults"
# done_items: the items the follower has received so far.
done_items() { jq -s '[.[] | select(.type == "results") | .items] | add // 0' "$work/events.ndjson" 2>/dev/null || echo 0; }
for _ in $(seq 1 600); do [ -s "$work/job" ] && break; sleep 0.2; done
[ -s "$work/job" ] || die "job not accepted: $(cat "$work/follow.log")"
job=$(cat "$work/job")
log "job $job ($HA_ITEMS items) accepted"
until [ "$HA_FAULTS" = 0 ] || [ "$(done_items)" -ge $((HA_ITEMS / 10)) ]; do
  kill -0 "$follower" 2>/dev/null || die "follower ended early: $(cat "$work/follow.log")"
  sleep 0.2
done

# ---------------------------------------------------------------- 3. faults
# The faults, one after the other; each line of $work/faults is a mark the
# analysis measures the pause in results after.
faults() {
  local group=INFER
  [ "$HA_KILL" = consumer ] && group=INFER/batch_digits_1
  running() { local d; d=$(done_items); [ "$d" -lt "$HA_ITEMS" ] || die "the job finished before the $1 (lower HA_WORKER_CPUS)"; echo "$d"; }

  old=$(leader_of "$group") || die "no $group leader"
  victim=$(svc_of "$old")
  led=$(jsz "$victim" | jq -r --arg n "$old" '[.account_details[]?.stream_detail[]? | . as $s
    | (select(.cluster.leader == $n) | .name), ($s.consumer_detail[]? | select(.config.durable_name and .cluster.leader == $n) | $s.name + "/" + .name)] | join(" ")')
  others=$(printf '%s\n' nats nats-2 nats-3 | grep -vx "$victim" | tr '\n' ' ')
  at=$(running kill)
  echo "$(now_ms) kill $old ($group leader)" >>"$work/faults"
  t0=$(now_ms)
  docker kill "$(cid "$victim")" >/dev/null
  log "killed $old (service $victim), the $group leader, at $at/$HA_ITEMS"
  while :; do
    new=$(leader_of "$group" "$others" || true)
    [ -n "$new" ] && [ "$new" != "$old" ] && break
    [ $(($(now_ms) - t0)) -lt 30000 ] || die "no new $group leader 30 s after the kill"
    sleep 0.1
  done
  elected=$(($(now_ms) - t0))
  note "kill $old (it led: $led): $new leads $group after $elected ms"
  sleep 8 # results must flow again while one server is down
  at=$(running rejoin)
  echo "$(now_ms) start $old again" >>"$work/faults"
  docker start "$(cid "$victim")" >/dev/null
  ms=$(wait_current "$victim" 90)
  note "$old back at $at/$HA_ITEMS: all its copies current after $ms ms"

  victim2=$(svc_of "$new")
  at=$(running restart)
  echo "$(now_ms) restart $new ($group leader)" >>"$work/faults"
  t0=$(now_ms)
  docker restart -t 10 "$(cid "$victim2")" >/dev/null
  note "restart $new (the new $group leader) at $at/$HA_ITEMS: docker restart took $(($(now_ms) - t0)) ms, now led by $(leader_of "$group" || echo none)"
  ms=$(wait_current "$victim2" 90)
  note "$new back: all its copies current after $ms ms"
}
if [ "$HA_FAULTS" = 1 ]; then faults; fi

# ---------------------------------------------------------------- 4. verdict
rc=0
wait "$follower" || rc=$?
follower=
cat "$work/summary.json"
[ $rc = 0 ] || die "follower: $(tail -5 "$work/follow.log")"
while read -r l; do note "$l"; done < <(jq -r '"job \(.job): \(.total) items in \(.job_seconds | .*10 | round / 10) s (\(.items_per_second | round) items/s), \(.lost) lost, \(.duplicated) duplicated, \(.seq_gaps) seq gaps, \(.reconnects) WebSocket reconnects"' "$work/summary.json")
if [ "$HA_FAULTS" = 1 ]; then
  stalls=$("$work/ha" analyze -events "$work/events.ndjson" -faults "$work/faults" \
    -max-stall "$HA_MAX_STALL" -max-stall-kill "$HA_MAX_STALL_KILL") ||
    { echo "$stalls"; die "progress did not resume in time (kill: $HA_MAX_STALL_KILL, others: $HA_MAX_STALL)"; }
  echo "$stalls"
  while read -r l; do note "$l"; done < <(jq -r '.[] | "\(.name): progress back \(.resume_ms) ms after it (longest gap between results \(.longest_gap_ms) ms)"' <<<"$stalls")
fi

# The stored results, page by page: every index exactly once.
off=0
: >"$work/idx"
while :; do
  page=
  for _ in 1 2 3 4 5; do
    page=$(curl -fsS --max-time 60 -H "Authorization: Bearer $KEY" "$base/v1/jobs/$job/results?offset=$off&limit=10000") && break
    sleep 2
  done
  [ -n "$page" ] || die "results page at $off"
  jq -r '.items[] | select(.error == null) | .index' <<<"$page" >>"$work/idx"
  off=$(jq -r '.next_offset // empty' <<<"$page")
  [ -n "$off" ] || break
done
n=$(wc -l <"$work/idx") u=$(sort -n -u "$work/idx" | wc -l)
[ "$n" = "$HA_ITEMS" ] && [ "$u" = "$HA_ITEMS" ] || die "stored results: $n items, $u distinct, want $HA_ITEMS"
note "stored results: $HA_ITEMS items, each index once"
res=$(jsz nats | jq -r '[.account_details[]?.stream_detail[]? | select(.name == "RESULTS") | .state][0] | "\(.messages) messages, \(.bytes) bytes"')
note "RESULTS stream on each server: $res"
docker compose up -d --no-build --wait --wait-timeout 120 >/dev/null 2>&1 || die "the project is not healthy after the faults"

mkdir -p .cache/docker-ha-test
{
  echo "# docker-ha-test $(date -u +%Y-%m-%dT%H:%M:%SZ) ($VERSION, $(nproc) CPUs, HA_CLUSTER=$HA_CLUSTER HA_FAULTS=$HA_FAULTS HA_WORKER_CPUS=$HA_WORKER_CPUS)"
  for s in "${summary[@]}"; do echo "- $s"; done
} >.cache/docker-ha-test/summary.md
log "ok"
