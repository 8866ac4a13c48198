#!/usr/bin/env bash
# Builds the project's images, tagged <prefix><name>:<VERSION> and
# <prefix><name>:<git sha> (the sha gets "-dirty" when the tree has changes).
#
#   scripts/docker-images.sh [gateway] [worker] [worker-lite] [frontend] [autoscaler] [models]   (default: all but models)
#
# Environment: VERSION (default: the VERSION file), REVISION (default: git sha),
# CREATED (default: now, RFC 3339), SOURCE (default: git remote origin),
# IMAGE_PREFIX (default: none, e.g. registry.example.com/batchinfer/),
# DOCKER_BUILD_ARGS (extra `docker build` arguments, e.g. --no-cache).
# gateway, worker, worker-lite and frontend are built in parallel by `docker compose build`
# (the same build definitions `docker compose up --build` uses).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(cat VERSION)}
sha=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$sha" != unknown ] && [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then
  sha="$sha-dirty"
fi
REVISION=${REVISION:-$sha}
CREATED=${CREATED:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
SOURCE=${SOURCE:-$(git config --get remote.origin.url 2>/dev/null || echo unknown)}
IMAGE_PREFIX=${IMAGE_PREFIX:-}
export VERSION REVISION CREATED SOURCE IMAGE_PREFIX DOCKER_BUILDKIT=1

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(gateway worker worker-lite frontend autoscaler)

services=() models=0 autoscaler=0
for w in "${want[@]}"; do
  case "$w" in
    gateway|worker|worker-lite|frontend) services+=("$w") ;;
    models) models=1 ;;
    autoscaler) autoscaler=1 ;;
    *) echo "docker-images: unknown image $w (gateway, worker, worker-lite, frontend, autoscaler, models)" >&2; exit 2 ;;
  esac
done

log() { printf 'docker-images: %s\n' "$*" >&2; }

if [ ${#services[@]} -gt 0 ]; then
  log "building ${services[*]} $VERSION (revision $REVISION)"
  # shellcheck disable=SC2086 # DOCKER_BUILD_ARGS is a list of words
  docker compose -f compose.yaml build ${DOCKER_BUILD_ARGS:-} "${services[@]}"
fi
if [ $autoscaler = 1 ]; then
  # Not a compose service: it runs only in the Swarm stack (deploy/stack.autoscaler.yaml).
  log "building autoscaler $VERSION"
  # shellcheck disable=SC2086
  docker build ${DOCKER_BUILD_ARGS:-} \
    --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
    --build-arg CREATED="$CREATED" --build-arg SOURCE="$SOURCE" \
    -f Dockerfile.autoscaler -t "${IMAGE_PREFIX}autoscaler:$VERSION" .
  services+=(autoscaler)
fi
if [ $models = 1 ]; then
  log "building models $VERSION"
  # shellcheck disable=SC2086
  docker build ${DOCKER_BUILD_ARGS:-} \
    --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
    --build-arg CREATED="$CREATED" --build-arg SOURCE="$SOURCE" \
    -t "${IMAGE_PREFIX}batchinfer-models:$VERSION" model
  services+=(batchinfer-models)
fi

for s in "${services[@]}"; do
  if [ "$REVISION" != "$VERSION" ]; then
    docker tag "${IMAGE_PREFIX}$s:$VERSION" "${IMAGE_PREFIX}$s:$REVISION"
  fi
  log "$(docker image inspect -f '{{.Size}}' "${IMAGE_PREFIX}$s:$VERSION" | awk '{printf "%.1f MB", $1/1e6}')  ${IMAGE_PREFIX}$s:$VERSION ${IMAGE_PREFIX}$s:$REVISION"
done
