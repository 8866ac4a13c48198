#!/usr/bin/env bash
# The compose monitoring override for real (docs/operations.md): builds the
# Prometheus image (deploy/monitoring/Dockerfile.prometheus), starts NATS,
# the gateway, the workers and Prometheus in a throwaway compose project
# with compose.yaml + deploy/compose.monitoring.yaml, and checks that
# Prometheus finds every gateway and worker replica through Docker's DNS,
# scrapes them (the gateway on its ops listener), loads every alert rule,
# and has the gateway's own series. The gateway and worker images must
# exist (VERSION, IMAGE_PREFIX: `make images`); scripts/docker-test.sh runs
# this after its other steps.
set -euo pipefail
cd "$(dirname "$0")/.."

export VERSION=${VERSION:-$(cat VERSION)} IMAGE_PREFIX=${IMAGE_PREFIX:-}
# A throwaway project that publishes nothing but Prometheus on the loopback
# interface: the development keys file will do.
export ALLOW_DEV_KEY=true
project=bimon$$
export COMPOSE_PROJECT_NAME=$project COMPOSE_FILE=compose.yaml:deploy/compose.monitoring.yaml
# A free loopback port for Prometheus (never the default 9090 of a real one).
PROMETHEUS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PROMETHEUS_PORT
prom=http://127.0.0.1:$PROMETHEUS_PORT

log() { printf 'docker-monitoring-test: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; docker compose ps -a >&2 || true; docker compose logs --tail 10 prometheus gateway >&2 || true; exit 1; }
cleanup() { docker compose down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true; }
trap cleanup EXIT

log "building the Prometheus image"
docker compose build prometheus >/dev/null
log "starting nats, gateway, worker, worker-lite, prometheus (project $project)"
docker compose up -d --no-build --wait --wait-timeout 180 nats gateway worker worker-lite prometheus >/dev/null ||
  die "compose up"

want_workers=$(docker compose ps -q worker worker-lite | wc -l)
rules=$(grep -c '^ *- alert: ' deploy/monitoring/prometheus/alerts.yml)
# Targets: every gateway and worker replica up (DNS service discovery refreshes every 15 s).
q() { curl -fsS -G "$prom/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // "none"'; }
ok=0
for _ in $(seq 1 60); do
  gw=$(q 'sum(up{job="gateway"})') wk=$(q 'sum(up{job="worker"})') models=$(q 'count(gateway_model_workers > 0)')
  if [ "$gw" = 1 ] && [ "$wk" = "$want_workers" ] && [ "$models" != none ]; then ok=1; break; fi
  sleep 2
done
[ $ok = 1 ] || die "targets: gateway up $gw (want 1), workers up $wk (want $want_workers), models with workers $models"
loaded=$(curl -fsS "$prom/api/v1/rules" | jq '[.data.groups[].rules[]] | length')
[ "$loaded" = "$rules" ] || die "Prometheus loaded $loaded rules, alerts.yml has $rules"
firing=$(curl -fsS "$prom/api/v1/alerts" | jq -r '[.data.alerts[] | select(.state == "firing") | .labels.alertname] | join(",")')
[ -z "$firing" ] || die "alerts firing on an idle, healthy system: $firing"
log "ok: gateway and $wk workers scraped through Docker DNS, $loaded rules loaded, none firing, $models model(s) served"
