#!/usr/bin/env bash
# Deploys or removes the Swarm stack (deploy/stack.yaml).
#
#   scripts/docker-swarm.sh deploy [STACK]    (default stack name: batchinfer)
#   scripts/docker-swarm.sh rm [STACK]
#
# deploy: names the Swarm configs after their files' digests (configs are
# immutable; a changed file rolls the services that use it), checks that the
# NATS secret exists, labels the only node of a one-node swarm for NATS if no
# node has the label yet, then runs `docker stack deploy`.
#
# Environment: VERSION (default: the VERSION file), IMAGE_PREFIX (registry
# path of the images, e.g. registry.example.com/batchinfer/), FRONTEND_PORT,
# NATS_SECRET_NAME (default batchinfer_nats_password), NATS_TLS_SECRET_PREFIX
# (default batchinfer_nats_tls: secrets PREFIX_ca, _cert, _key), STACK_OVERRIDES
# (extra compose files, colon-separated, e.g. deploy/stack.test.yaml),
# RESOLVE_IMAGE (always|changed|never; default always, never for local images).
set -euo pipefail
cd "$(dirname "$0")/.."

cmd=${1:?usage: docker-swarm.sh deploy|rm [STACK]}
stack=${2:-batchinfer}
log() { printf 'docker-swarm: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = active ] ||
  die "this engine is not in a swarm (docker swarm init, see docs/docker.md)"

case "$cmd" in
deploy)
  export VERSION=${VERSION:-$(cat VERSION)}
  export NATS_SECRET_NAME=${NATS_SECRET_NAME:-batchinfer_nats_password}
  export NATS_CONF_DIGEST NGINX_CONF_DIGEST NATS_TLS_CONF_DIGEST NATS_MAIN_CONF_DIGEST NATS_CLUSTER_CONF_DIGEST
  NATS_CONF_DIGEST=$(sha256sum deploy/nats/nats.conf | cut -c1-12)
  NATS_TLS_CONF_DIGEST=$(sha256sum deploy/nats/tls.conf | cut -c1-12)
  NATS_MAIN_CONF_DIGEST=$(sha256sum deploy/nats/nats-tls.conf | cut -c1-12)
  NATS_CLUSTER_CONF_DIGEST=$(sha256sum deploy/nats/cluster.conf | cut -c1-12)
  NGINX_CONF_DIGEST=$(sha256sum frontend/nginx/default.conf | cut -c1-12)
  docker secret inspect "$NATS_SECRET_NAME" >/dev/null 2>&1 || die "no secret $NATS_SECRET_NAME; create it with:
  openssl rand -hex 24 | tr -d '\\n' | docker secret create $NATS_SECRET_NAME -"
  export NATS_TLS_SECRET_PREFIX=${NATS_TLS_SECRET_PREFIX:-batchinfer_nats_tls}
  for k in ca cert key; do
    docker secret inspect "${NATS_TLS_SECRET_PREFIX}_$k" >/dev/null 2>&1 || die "no secret ${NATS_TLS_SECRET_PREFIX}_$k (NATS is TLS only); make them with:
  scripts/nats-certs.sh /secure/nats-tls && for f in ca:ca.pem cert:server.pem key:server-key.pem; do
    docker secret create ${NATS_TLS_SECRET_PREFIX}_\${f%%:*} /secure/nats-tls/\${f#*:}; done"
  done
  export API_KEYS_SECRET_NAME=${API_KEYS_SECRET_NAME:-batchinfer_api_keys}
  docker secret inspect "$API_KEYS_SECRET_NAME" >/dev/null 2>&1 || die "no secret $API_KEYS_SECRET_NAME; create it from your keys file
  (deploy/secrets/api_keys.example shows the format): docker secret create $API_KEYS_SECRET_NAME /secure/api_keys"
  if [ -z "$(docker node ls -q --filter node.label=batchinfer.nats=true)" ]; then
    if [ "$(docker node ls -q | wc -l)" = 1 ]; then
      log "labelling the only node for NATS (batchinfer.nats=true)"
      docker node update --label-add batchinfer.nats=true "$(docker node ls -q)" >/dev/null
    else
      die "no node is labelled for NATS: docker node update --label-add batchinfer.nats=true <node>"
    fi
  fi
  files=(-c deploy/stack.yaml)
  IFS=: read -r -a extra <<<"${STACK_OVERRIDES:-}"
  for f in "${extra[@]}"; do [ -n "$f" ] && files+=(-c "$f"); done
  log "deploying $stack: ${IMAGE_PREFIX:-}{gateway,worker,frontend}:$VERSION"
  docker stack deploy --detach=true --resolve-image "${RESOLVE_IMAGE:-always}" "${files[@]}" "$stack"
  ;;
rm)
  docker stack rm "$stack"
  ;;
*)
  die "unknown command $cmd (deploy, rm)"
  ;;
esac
