#!/usr/bin/env bash
# The container tests (make test-docker; docs/docker.md). With a Docker engine
# and the base images present (on these build machines: ../shared/docker/
# ensure-engine and ensure-base-images --project ., which this script runs
# when it finds them):
#
#   1. lint: hadolint, compose and stack files            (scripts/docker-lint.sh)
#   2. build gateway, worker, frontend (+ models) images  (scripts/docker-images.sh)
#   3. inspect each image: numeric non-root USER, HEALTHCHECK, exec-form
#      ENTRYPOINT, OCI labels, no shell in distroless images, no .git/.env/
#      source map/key in any layer, size budget (the project's own layers)
#   4. rebuild after a one-line Go change (a copy of the tree) <= 60 s;
#      a clone made with core.autocrlf=true (Windows, WSL2 on /mnt/c) checks
#      out LF everywhere (.gitattributes) and its images build
#   5. docker compose up --wait (throwaway project, generated NATS password,
#      deploy/compose.test.yaml); runtime hardening; worker time to healthy
#      <= 5 s; only the frontend published; NATS refuses clients without the
#      password and hides its monitoring port; nginx headers, gzip, SPA
#      fallback, WebSocket upgrade
#   6. Playwright e2e in Chromium through nginx     (frontend: npm run e2e)
#   7. kill a worker / restart NATS mid-job         (scripts/docker-faults.sh);
#      the three-server NATS cluster: kill the INFER leader, restart another,
#      mid-job, nothing lost or repeated            (scripts/docker-ha-test.sh)
#      Prometheus of deploy/compose.monitoring.yaml finds and scrapes every
#      gateway and worker replica, loads the alert rules, none fires
#                                                   (scripts/docker-monitoring-test.sh)
#   8. Swarm: deploy, scale, rolling update under load (scripts/docker-swarm-test.sh);
#      the autoscaler follows a 600k-item backlog up to 3 workers and back
#      to 1, every item once (scripts/docker-autoscale-test.sh)
#
# Everything started is removed on exit. Knobs (1 = on): DOCKER_TEST_MODELS,
# DOCKER_TEST_REBUILD, DOCKER_TEST_CRLF, DOCKER_TEST_E2E, DOCKER_TEST_HA, DOCKER_TEST_FAULTS, DOCKER_TEST_MONITORING, DOCKER_TEST_SWARM;
# DOCKER_TEST_KEEP=1 leaves the compose project running. A summary (sizes,
# times) is printed at the end and written to .cache/docker-test/summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export VERSION=${VERSION:-$(cat VERSION)}
export DOCKER_BUILDKIT=1
: "${DOCKER_TEST_MODELS:=1}" "${DOCKER_TEST_REBUILD:=1}" "${DOCKER_TEST_CRLF:=1}" "${DOCKER_TEST_E2E:=1}"
: "${DOCKER_TEST_FAULTS:=1}" "${DOCKER_TEST_SWARM:=1}" "${DOCKER_TEST_KEEP:=0}"

MB=1000000
t_start=$(date +%s)
fails=0
summary=()
log() { printf '\n== docker-test: %s\n' "$*" >&2; }
info() { printf 'docker-test: %s\n' "$*" >&2; }
bad() { printf 'docker-test: FAIL: %s\n' "$*" >&2; fails=$((fails + 1)); }
die() { printf 'docker-test: FAIL: %s\n' "$*" >&2; exit 1; }
note() { summary+=("$*"); info "$*"; }
mb() { awk -v b="$1" 'BEGIN{printf "%.1f MB", b/1e6}'; }
secs() { echo $(($(date +%s) - $1)); }
warm_image() { # IMAGE: read its files into the page cache
  local dirs d
  dirs=$(docker image inspect -f '{{.GraphDriver.Data.LowerDir}}:{{.GraphDriver.Data.UpperDir}}' "$1" 2>/dev/null)
  case $dirs in /*) ;; *) docker save "$1" >/dev/null; return ;; esac # no overlay2 dirs
  local IFS=:
  for d in $dirs; do [ -d "$d" ] && find "$d" -type f -exec cat {} + >/dev/null 2>&1; done
  return 0
}

work=$(mktemp -d)
project=bitest$$
cleanup() {
  local rc=$?
  set +e
  if [ -n "${COMPOSE_PROJECT_NAME:-}" ] && [ "$DOCKER_TEST_KEEP" != 1 ]; then
    docker compose down -v --remove-orphans --timeout 10 >/dev/null 2>&1
  fi
  docker image rm -f "bitest-rebuild-gateway:$project" "bitest-rebuild-worker:$project" "bitest-scan-probe:$project" \
    "bitest-crlf-gateway:$project" "bitest-crlf-worker:$project" "bitest-crlf-frontend:$project" >/dev/null 2>&1
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

# ---------------------------------------------------------------- 0. engine
shared=$root/../shared/docker
if ! docker info >/dev/null 2>&1; then
  [ -x "$shared/ensure-engine" ] || die "no Docker engine answers (docker info)"
  "$shared/ensure-engine"
fi
if [ -x "$shared/ensure-base-images" ]; then
  "$shared/ensure-base-images" --project .
fi
info "engine $(docker version -f '{{.Server.Version}}'), compose $(docker compose version --short), $(nproc) CPUs"

# ---------------------------------------------------------------- 1. lint
log "lint"
scripts/docker-lint.sh || bad "lint"

# ---------------------------------------------------------------- 2. build
log "build images $VERSION"
t=$(date +%s)
scripts/docker-images.sh gateway worker worker-lite frontend autoscaler || die "image build"
note "build gateway+worker+worker-lite+frontend (parallel) + autoscaler: $(secs "$t") s"
images=(gateway worker worker-lite frontend autoscaler)
if [ "$DOCKER_TEST_MODELS" = 1 ]; then
  t=$(date +%s)
  scripts/docker-images.sh models || die "models image build"
  note "build models: $(secs "$t") s"
  images+=(batchinfer-models)
fi
export REVISION
REVISION=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' "gateway:$VERSION")

# ---------------------------------------------------------------- 3. inspect
log "inspect images"
# A control: the layer scanner must catch a planted .env.
mkdir -p "$work/probe" && printf 'SECRET=1\n' >"$work/probe/.env"
printf 'FROM gcr.io/distroless/static-debian12:nonroot\nCOPY .env /app/.env\n' >"$work/probe/Dockerfile"
docker build -q -t "bitest-scan-probe:$project" "$work/probe" >/dev/null
if docker save "bitest-scan-probe:$project" | scripts/docker-scan-layers.py probe >/dev/null 2>&1; then
  bad "the layer scanner missed a planted .env"
fi

declare -A project_bytes
for name in "${images[@]}"; do
  img=$name:$VERSION
  j=$(docker image inspect "$img" | jq '.[0]')
  user=$(jq -r '.Config.User // ""' <<<"$j")
  [[ "$user" =~ ^[0-9]+(:[0-9]+)?$ ]] && [ "${user%%:*}" != 0 ] || bad "$img: USER '$user' is not a numeric non-root uid"
  hc=$(jq -c '.Config.Healthcheck.Test // []' <<<"$j")
  jq -e '.[0] == "CMD"' <<<"$hc" >/dev/null || bad "$img: no exec-form HEALTHCHECK ($hc)"
  ep=$(jq -c '.Config.Entrypoint // []' <<<"$j")
  jq -e 'length > 0 and (.[0:2] != ["/bin/sh","-c"])' <<<"$ep" >/dev/null || bad "$img: ENTRYPOINT not in exec form ($ep)"
  for l in title version revision created source base.name; do
    v=$(jq -r --arg k "org.opencontainers.image.$l" '.Config.Labels[$k] // ""' <<<"$j")
    [ -n "$v" ] || bad "$img: label org.opencontainers.image.$l missing"
  done
  [ "$(jq -r '.Config.Labels["org.opencontainers.image.version"]' <<<"$j")" = "$VERSION" ] || bad "$img: version label is not $VERSION"
  [ "$(jq -r '.Config.Labels["org.opencontainers.image.revision"]' <<<"$j")" = "$REVISION" ] || bad "$img: revision label is not $REVISION"
  docker image inspect "$name:$REVISION" >/dev/null 2>&1 || bad "$img: no $name:$REVISION tag"
  base=$(jq -r '.Config.Labels["org.opencontainers.image.base.name"]' <<<"$j")
  size=$(jq -r .Size <<<"$j")
  bsize=$(docker image inspect -f '{{.Size}}' "$base")
  project_bytes[$name]=$((size - bsize))
  case "$base" in
    gcr.io/distroless/*)
      for sh in sh /bin/sh /bin/bash /busybox/sh; do
        if docker run --rm --network none --entrypoint "$sh" "$img" -c true >/dev/null 2>&1; then
          bad "$img: distroless image runs a shell ($sh)"
        fi
      done ;;
  esac
  docker save "$img" | scripts/docker-scan-layers.py "$img" || bad "$img: forbidden files in its layers"
  note "$img: $(mb "$size") total, $(mb $((size - bsize))) own layers on $base ($(mb "$bsize") here), user $user"
done

# The worker binary loads TensorFlow and its glibc in the runtime image.
docker run --rm --network none "worker:$VERSION" -h >/dev/null 2>&1 || bad "worker:$VERSION does not start (libraries?)"
docker run --rm --network none --entrypoint nginx "frontend:$VERSION" -t >/dev/null 2>&1 || bad "frontend: nginx -t fails"
# The gateway image ships the batchinfer CLI: /batchinfer, a link to the gateway's binary.
[ "$(docker run --rm --network none --entrypoint /batchinfer "gateway:$VERSION" --version)" = "batchinfer version $VERSION" ] ||
  bad "gateway:$VERSION: /batchinfer --version does not answer batchinfer version $VERSION"

# Budgets (MB = 10^6 bytes, as docker reports them).
g=$(docker image inspect -f '{{.Size}}' "gateway:$VERSION")
# 30 MB since the gateway carries the batchinfer CLI and OpenTelemetry's
# SDK with its OTLP exporter (protobuf and gRPC stubs: ~5 MB).
[ "$g" -le $((30 * MB)) ] || bad "gateway: $(mb "$g") > 30 MB"
note "budget gateway <= 30 MB: $(mb "$g")"
a=$(docker image inspect -f '{{.Size}}' "autoscaler:$VERSION")
[ "$a" -le $((25 * MB)) ] || bad "autoscaler: $(mb "$a") > 25 MB"
note "budget autoscaler <= 25 MB: $(mb "$a")"
[ "${project_bytes[frontend]}" -le $((5 * MB)) ] || bad "frontend: own layers $(mb "${project_bytes[frontend]}") > 5 MB"
note "budget frontend <= nginx base + 5 MB: +$(mb "${project_bytes[frontend]}")"
layer_bytes() { # IMAGE REGEX: bytes of the layers whose creating step matches
  docker history --no-trunc --human=false --format '{{.Size}}\t{{.CreatedBy}}' "$1" | awk -F'\t' -v re="$2" '$2 ~ re {s+=$1} END{print s+0}'
}
tf=$(layer_bytes "worker:$VERSION" /tensorflow/)
lrt=$(layer_bytes "worker:$VERSION" /lib/litert/)
w=$(docker image inspect -f '{{.Size}}' "worker:$VERSION")
[ "$tf" -gt 0 ] || bad "worker: no TensorFlow layer found"
[ "$lrt" -gt 0 ] || bad "worker: no LiteRT layer found"
# + 50 MB since the worker carries OpenTelemetry's SDK and OTLP exporter (~5 MB).
[ $((w - tf - lrt)) -le $((50 * MB)) ] || bad "worker: $(mb "$w") is more than the TensorFlow ($(mb "$tf")) and LiteRT ($(mb "$lrt")) libraries + 50 MB"
note "budget worker <= TensorFlow + LiteRT C libraries + 50 MB: $(mb "$w") = $(mb "$tf") + $(mb "$lrt") + $(mb $((w - tf - lrt)))"
wl=$(docker image inspect -f '{{.Size}}' "worker-lite:$VERSION")
[ "$wl" -le $((60 * MB)) ] || bad "worker-lite: $(mb "$wl") > 60 MB"
note "budget worker-lite <= 60 MB: $(mb "$wl") (LiteRT $(mb "$(layer_bytes "worker-lite:$VERSION" /lib/litert/)"), own layers $(mb "${project_bytes[worker-lite]}"))"
docker run --rm --network none "worker-lite:$VERSION" -h >/dev/null 2>&1 || bad "worker-lite:$VERSION does not start (libraries?)"
# worker-lite links no TensorFlow: neither in its Go build nor among its libraries.
cid=$(docker create "worker-lite:$VERSION")
docker cp -q "$cid:/worker-lite" "$work/worker-lite" && docker rm "$cid" >/dev/null
go version -m "$work/worker-lite" | grep -qi tensorflow && bad "worker-lite: its Go build has a TensorFlow package"
if command -v readelf >/dev/null 2>&1; then
  readelf -d "$work/worker-lite" | grep -i 'NEEDED.*tensorflow' && bad "worker-lite: it needs a TensorFlow library"
fi
[ "$(layer_bytes "worker-lite:$VERSION" '[Tt]ensor[Ff]low')" = 0 ] || bad "worker-lite: a layer holds TensorFlow"

# ---------------------------------------------------------------- 4. rebuild
if [ "$DOCKER_TEST_REBUILD" = 1 ]; then
  log "rebuild after a one-line Go change (warm cache)"
  src=$work/rebuild
  mkdir -p "$src"
  git ls-files -z -co --exclude-standard -- go.mod go.sum VERSION api client cmd gateway internal worker model scripts \
      .dockerignore Dockerfile.gateway Dockerfile.worker | tar --null -T - -cf - | tar -C "$src" -xf -
  stamp=$(date +%s%N)
  for c in gateway worker; do
    printf '\nfunc init() { version += "%s"[:0] }\n' "$stamp" >>"$src/cmd/$c/main.go"
    t=$(date +%s.%N)
    docker build -q -f "$src/Dockerfile.$c" --build-arg VERSION="$VERSION" -t "bitest-rebuild-$c:$project" "$src" >/dev/null ||
      bad "rebuild of $c failed"
    d=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
    awk -v d="$d" 'BEGIN{exit !(d <= 60)}' || bad "rebuild of $c after a one-line change took $d s > 60 s"
    note "rebuild $c after a one-line Go change: $d s"
  done
fi

# ------------------------------------------------------- 4b. CRLF clone
if [ "$DOCKER_TEST_CRLF" = 1 ]; then
  log "images from a core.autocrlf=true clone (Windows checkout)"
  crlf=$work/crlf
  git -c core.autocrlf=true clone -q --no-hardlinks "$root" "$crlf"
  git -C "$crlf" config core.autocrlf true
  bad_eol=$(git -C "$crlf" ls-files --eol | awk '$2 == "w/crlf" || $2 == "w/mixed" {print $4}' | head -n 5)
  [ -z "$bad_eol" ] || bad "a core.autocrlf=true checkout has CRLF files: $bad_eol"
  grep -rlI $'\r' "$crlf/scripts" "$crlf/deploy" "$crlf"/Dockerfile.* "$crlf/frontend/Dockerfile" >/dev/null 2>&1 &&
    bad "CR bytes in scripts, deploy/ or a Dockerfile of the CRLF clone"
  t=$(date +%s)
  for c in gateway worker frontend; do
    f=$crlf/Dockerfile.$c ctx=$crlf
    [ "$c" = frontend ] && f=$crlf/frontend/Dockerfile ctx=$crlf/frontend
    docker build -q -f "$f" --build-arg VERSION="$VERSION" -t "bitest-crlf-$c:$project" "$ctx" >/dev/null ||
      bad "image $c does not build from a core.autocrlf=true clone"
  done
  # It runs (its healthcheck fails without a gateway: exit 1, not 126/127).
  rc=0; docker run --rm --network none "bitest-crlf-gateway:$project" healthcheck >/dev/null 2>&1 || rc=$?
  [ "$rc" -lt 126 ] || bad "the gateway image built from the CRLF clone does not start (exit $rc)"
  note "images from a core.autocrlf=true clone: $(secs "$t") s"
fi

# ---------------------------------------------------------------- 5. compose
log "docker compose up (project $project)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
secret=$work/secrets/nats_password
mkdir -p "$work/secrets" && chmod 700 "$work/secrets"
printf '%s' "t$(openssl rand -hex 24)" >"$secret"
chmod 644 "$secret" # bind-mounted as is: the services run as uid 65532
export COMPOSE_PROJECT_NAME=$project COMPOSE_FILE=compose.yaml:deploy/compose.test.yaml
export FRONTEND_PORT=$port NATS_PASSWORD_SECRET=$secret
# The e2e tests sign in with the public development key: allowed for this
# project, which publishes on 127.0.0.1 only (compose.yaml's defaults).
export ALLOW_DEV_KEY=true
base=http://127.0.0.1:$port
# Worker time to healthy is read from the engine's health_status events,
# recorded while compose starts the project (the engine keeps only the last
# 5 checks, and polling it costs the CPU the workers start with).
#
# The budget is for the worker's own start (TensorFlow, the models, NATS),
# on a node whose image files are in the page cache, as on a node that has
# run the image before. After the image builds above, with the disk busy, a
# worker's first read of the 490 MB TensorFlow library took 15-24 s before
# its first log line (CI, 2026-12-02). So flush the builds' writes and read
# the image's files once before the measured start.
t=$(date +%s)
sync
warm_image "worker:$VERSION"
info "flushed earlier writes and read the worker image's files in $(secs "$t") s"
docker events --filter type=container --filter "label=com.docker.compose.project=$project" \
  --format '{{.Status}}|{{.ID}}|{{.TimeNano}}' >"$work/events" 2>/dev/null &
watcher=$!
t=$(date +%s)
if ! docker compose up -d --no-build --wait --wait-timeout 180; then
  docker compose ps -a >&2; docker compose logs --tail 50 >&2
  die "compose up"
fi
note "compose up --wait: $(secs "$t") s"
sleep 1 # events of the last checks reach the file
kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true
healthy_at() { # CONTAINER [EVENTS]: when the engine first reported it healthy (RFC 3339)
  awk -F'|' -v c="$1" '$1 == "health_status: healthy" && $2 == c {print $3; exit}' "${2:-$work/events}" |
    python3 -c 'import sys, datetime as d; n = sys.stdin.read().strip(); print(d.datetime.fromtimestamp(int(n) / 1e9, d.timezone.utc).isoformat() if n else "")'
}

restart_time() { # CONTAINER: prints TOTAL PHASES of a restart (docker-worker-start.py)
  local ev=$work/events.restart w
  docker events --filter "container=$1" --format '{{.Status}}|{{.ID}}|{{.TimeNano}}' >"$ev" 2>/dev/null &
  w=$!
  sleep 0.5
  docker restart -t 30 "$1" >/dev/null
  for _ in $(seq 1 300); do grep -q '^health_status: healthy|' "$ev" && break; sleep 0.2; done
  kill "$w" 2>/dev/null; wait "$w" 2>/dev/null || true
  scripts/docker-worker-start.py "$1" "$(healthy_at "$1" "$ev")"
}
# Worker time to healthy: container start -> first seen healthy, split by
# the worker's log lines (scripts/docker-worker-start.py).
for c in $(docker compose ps -q worker); do
  read -r d phases < <(scripts/docker-worker-start.py "$c" "$(healthy_at "$c")")
  name=$(docker inspect -f '{{.Name}}' "$c" | tr -d /)
  note "worker time to healthy ($name): $d s ($phases)"
  if [ "$d" != none ] && awk -v d="$d" 'BEGIN{exit !(d <= 5)}'; then continue; fi
  # The first start competes with the rest of the project starting on the
  # same two cores; the budget is for a worker (re)started on a running node.
  read -r d phases < <(restart_time "$c")
  note "worker time to healthy after a restart ($name): $d s ($phases)"
  if [ "$d" = none ] || ! awk -v d="$d" 'BEGIN{exit !(d <= 5)}'; then bad "$name: healthy after $d s (> 5 s; $phases)"; fi
done

# Runtime hardening, read from the running containers.
docker inspect $(docker compose ps -q) | python3 -c '
import json, sys
bad = 0
for c in json.load(sys.stdin):
    n, h, cfg = c["Name"].strip("/"), c["HostConfig"], c["Config"]
    svc = cfg["Labels"].get("com.docker.compose.service")
    def fail(msg):
        global bad
        bad += 1
        print(f"docker-test: FAIL: {n}: {msg}", file=sys.stderr)
    if not h.get("ReadonlyRootfs"): fail("root file system not read-only")
    capdrop, ports = h.get("CapDrop"), h.get("PortBindings")
    if capdrop != ["ALL"]: fail(f"cap_drop {capdrop}")
    if "no-new-privileges:true" not in (h.get("SecurityOpt") or []): fail("no no-new-privileges")
    if not h.get("Memory"): fail("no memory limit")
    if not h.get("NanoCpus"): fail("no CPU limit")
    if not h.get("PidsLimit"): fail("no pids limit")
    if h["RestartPolicy"]["Name"] not in ("always", "unless-stopped", "on-failure"): fail("no restart policy")
    if c["State"].get("Health", {}).get("Status") != "healthy": fail("not healthy")
    if bool(ports) != (svc == "frontend"): fail(f"published ports {ports}")
    for b in [b for bs in (ports or {}).values() for b in (bs or [])]:
        if b.get("HostIp") != "127.0.0.1": fail("published on %s, not 127.0.0.1" % (b.get("HostIp") or "all interfaces"))
    if svc != "nats" and (cfg.get("User") or "0").split(":")[0] in ("", "0", "root"): fail("runs as root")
sys.exit(1 if bad else 0)' || bad "runtime hardening"

net=${project}_backend
nats_image=$(docker compose config --format json | jq -r .services.nats.image)
# (-auth=none: the gateway refuses to start without API keys before it dials NATS.)
out=$(timeout 60 docker run --rm --network "$net" -e NATS_URL=nats://nats:4222 -e GATEWAY_AUTH=none "gateway:$VERSION" 2>&1) &&
  bad "NATS accepted a client without credentials"
grep -qi authorization <<<"$out" || bad "no authorization error without credentials: $(tail -2 <<<"$out")"
out=$(timeout 60 docker run --rm --network "$net" -e NATS_URL=nats://nats:4222 -e NATS_USER=batchinfer -e NATS_PASSWORD=wrong "gateway:$VERSION" 2>&1) &&
  bad "NATS accepted a wrong password"
if docker run --rm --network "$net" --entrypoint wget "$nats_image" -q -T 3 -O /dev/null http://nats:8222/healthz >/dev/null 2>&1; then
  bad "the NATS monitoring port answers other containers"
fi

# nginx: headers on every location, caching, gzip, SPA fallback, proxy, WebSocket.
auth=(-H "Authorization: Bearer bik_development_key_public_do_not_use_in_production") # deploy/secrets/api_keys.dev
hdr() { curl -fsS -o /dev/null -D - "${auth[@]}" "${@:2}" "$base$1" | tr -d '\r'; }
asset=$(curl -fsS "$base/" | grep -o '/assets/[^"]*\.js' | sed -n 1p)
for path in / /healthz /jobs/some-job "$asset" /v1/models /v2 /v2/models/digits; do
  h=$(hdr "$path") || { bad "GET $path"; continue; }
  for want in "content-security-policy: .*default-src 'self'" "content-security-policy: .*frame-ancestors 'none'" \
              "content-security-policy: .*connect-src 'self';" \
              "x-content-type-options: nosniff" "referrer-policy: no-referrer"; do
    grep -qiE "^$want" <<<"$h" || bad "GET $path: no '$want'"
  done
done
hdr / | grep -qi '^cache-control: no-cache' || bad "index.html is not no-cache"
# the Open Inference Protocol reaches the gateway, not the SPA
curl -fsS "$base/v2" | jq -e '.extensions | index("binary_tensor_data")' >/dev/null || bad "GET /v2 through nginx is not the gateway's"
hdr "$asset" | grep -qi '^cache-control: .*max-age=31536000.*immutable' || bad "$asset is not cached for a year"
hdr "$asset" -H 'Accept-Encoding: gzip' | grep -qi '^content-encoding: gzip' || bad "$asset is not gzipped"
curl -fsS "$base/jobs/some-job" | grep -q '<div id="app">' || bad "no SPA fallback"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/assets/missing.js")" = 404 ] || bad "a missing asset is not a 404"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 --http1.1 -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
  -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H "Origin: $base" "$base/v1/ws" || true)
[ "$code" = 101 ] || bad "WebSocket upgrade through nginx: HTTP $code"
docker compose exec -T frontend nginx -t >/dev/null 2>&1 || bad "nginx -t in the running frontend"
# Behind nginx the audit log names the client (the trusted proxy's
# X-Forwarded-For), with nginx as `via`; the gateway is refused the dev key
# without ALLOW_DEV_KEY (checked by the lint and the Go tests).
curl -s -o /dev/null -H 'Authorization: Bearer bik_not_a_key' "$base/v1/models" || true
for _ in $(seq 1 20); do
  line=$(docker compose logs --no-log-prefix --no-color gateway 2>/dev/null | grep '"message":"authentication failed"' | tail -1 | sed 's/^[^{]*//')
  [ -n "$line" ] && break
  sleep 0.5
done
jq -e '.via != null and .remote != null and .remote != (.via | split(":")[0])' <<<"$line" >/dev/null 2>&1 ||
  bad "the audit log does not name the client behind nginx: $line"

# ------------------------------------------------------- 5b. worker-lite
# A LiteRT worker joins the TensorFlow workers on the same queue (compose.yaml
# runs one; compose.test.yaml holds it back for the steps that time the
# TensorFlow workers alone): a job's chunks go to both kinds, every item once.
log "worker-lite beside the TensorFlow workers"
t=$(date +%s)
if WORKER_LITE_REPLICAS=1 docker compose up -d --no-build --wait --wait-timeout 120 worker-lite >/dev/null 2>&1; then
  lite_host=$(docker inspect -f '{{.Config.Hostname}}' "$(docker compose ps -q worker-lite | sed -n 1p)")
  body=$work/lite-job.json
  jq -s '{model: "digits", inputs: [range(240) as $_ | .[]]}' model/testdata/digits_sample.ndjson >"$body" # 12,000 items: 12 chunks of 1024
  id=$(curl -fsS "${auth[@]}" -H 'Content-Type: application/json' --data-binary "@$body" "$base/v1/jobs" | jq -r .job.id)
  st=
  for _ in $(seq 1 120); do
    st=$(curl -fsS "${auth[@]}" "$base/v1/jobs/$id") || true
    [ "$(jq -r '.done + .failed' <<<"$st" 2>/dev/null)" = 12000 ] && break
    sleep 1
  done
  [ "$(jq -r .done <<<"$st")" = 12000 ] || bad "worker-lite step: job $id did not finish: $st"
  # Workers announce their item counts every 5 s: wait for the counts to add up.
  lite_items=0 tf_items=0
  for _ in $(seq 1 30); do
    cluster=$(curl -fsS "${auth[@]}" "$base/v1/cluster") || cluster='{"workers":[]}'
    lite_items=$(jq --arg h "$lite_host" '[.workers[] | select(.host == $h) | .items_total] | add // 0' <<<"$cluster")
    tf_items=$(jq --arg h "$lite_host" '[.workers[] | select(.host != $h) | .items_total] | add // 0' <<<"$cluster")
    [ $((lite_items + tf_items)) -ge 12000 ] && break
    sleep 1
  done
  [ "$lite_items" -gt 0 ] || bad "worker-lite ran no items of job $id"
  [ "$tf_items" -gt 0 ] || bad "the TensorFlow workers ran no items of job $id"
  note "worker-lite beside 2 TensorFlow workers: 12000 items, $lite_items run by LiteRT, $tf_items by TensorFlow ($(secs "$t") s)"
  WORKER_LITE_REPLICAS=0 docker compose up -d --no-build worker-lite >/dev/null 2>&1 || bad "worker-lite did not stop"
else
  docker compose logs --tail 30 worker-lite >&2
  bad "worker-lite did not become healthy"
fi

# ---------------------------------------------------------------- 6. e2e
if [ "$DOCKER_TEST_E2E" = 1 ]; then
  log "Playwright e2e through nginx ($base)"
  t=$(date +%s)
  (cd frontend && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && E2E_BASE_URL=$base E2E_API_KEY=bik_development_key_public_do_not_use_in_production npm run e2e) || bad "e2e"
  note "e2e through nginx: $(secs "$t") s"
fi

# ---------------------------------------------------------------- 7. faults
if [ "$DOCKER_TEST_FAULTS" = 1 ]; then
  log "fault tests"
  t=$(date +%s)
  WORKER_ACK_WAIT=5s scripts/docker-faults.sh "$base" || bad "fault tests"
  note "worker kill + NATS restart mid-job: $(secs "$t") s"
fi

if [ "$DOCKER_TEST_KEEP" = 1 ]; then
  info "leaving project $project up at $base (docker compose -p $project down -v)"
  unset COMPOSE_PROJECT_NAME
else
  docker compose down -v --remove-orphans --timeout 10 >/dev/null 2>&1
  unset COMPOSE_PROJECT_NAME
fi

# ---------------------------------------------------------------- 7a. monitoring
if [ "${DOCKER_TEST_MONITORING:-1}" = 1 ]; then
  log "monitoring: Prometheus (deploy/compose.monitoring.yaml) scraping gateway and workers"
  t=$(date +%s)
  (unset COMPOSE_PROJECT_NAME COMPOSE_FILE FRONTEND_PORT NATS_PASSWORD_SECRET; scripts/docker-monitoring-test.sh) || bad "monitoring"
  note "monitoring (Prometheus build, compose up, every replica scraped, rules loaded): $(secs "$t") s"
fi

# ---------------------------------------------------------------- 7b. HA queue
if [ "${DOCKER_TEST_HA:-1}" = 1 ]; then
  log "HA queue: three NATS servers, R3, a server killed and another restarted mid-job"
  t=$(date +%s)
  (unset COMPOSE_PROJECT_NAME COMPOSE_FILE FRONTEND_PORT NATS_PASSWORD_SECRET; scripts/docker-ha-test.sh) || bad "HA queue"
  note "HA queue (3 NATS, kill + restart mid-job, 0 lost / 0 duplicated): $(secs "$t") s"
fi

# ---------------------------------------------------------------- 8. swarm
if [ "$DOCKER_TEST_SWARM" = 1 ]; then
  log "Swarm stack"
  t=$(date +%s)
  (unset COMPOSE_FILE FRONTEND_PORT; scripts/docker-swarm-test.sh) || bad "swarm"
  note "swarm deploy + scale + rolling update: $(secs "$t") s"
  t=$(date +%s)
  (unset COMPOSE_FILE FRONTEND_PORT; scripts/docker-autoscale-test.sh) || bad "autoscaler on swarm"
  note "swarm autoscaler (backlog up to 3 workers, back to 1, exactly once): $(secs "$t") s"
fi

# ---------------------------------------------------------------- summary
note "total: $(secs "$t_start") s"
mkdir -p .cache/docker-test
{
  echo "# docker-test $(date -u +%Y-%m-%dT%H:%M:%SZ) ($VERSION, $REVISION, $(nproc) CPUs)"
  for s in "${summary[@]}"; do echo "- $s"; done
  echo "- failures: $fails"
} >.cache/docker-test/summary.md
log "summary"
cat .cache/docker-test/summary.md >&2
[ "$fails" = 0 ] || die "$fails check(s) failed"
info "all passed"
