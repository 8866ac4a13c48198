# Helpers for the single-node Swarm tests (scripts/docker-swarm-test.sh,
# scripts/docker-autoscale-test.sh); sourced, not run. They use the caller's
# $stack, $base, $work, $NATS_SECRET_NAME, $API_KEYS_SECRET_NAME and its log
# and die functions; swarm_test_key sets $test_key and $auth (curl
# arguments) and exports NATS_TLS_SECRET_PREFIX.

# swarm_test_key: a key of this test's own (the stack refuses the public
# development key) for tenant test, operator.
swarm_test_key() {
  test_key=bik_test_$(openssl rand -hex 16)
  auth=(-H "Authorization: Bearer $test_key")
  export NATS_TLS_SECRET_PREFIX=${stack}_nats_tls
}

# swarm_enter: join a swarm to test in. A fresh engine becomes a one-node
# swarm (left again by swarm_remove_stack); an engine already in a swarm is
# refused unless SWARM_TEST_REUSE=1.
swarm_enter() {
  created_swarm=0 had_gwbridge=0
  docker network inspect docker_gwbridge >/dev/null 2>&1 && had_gwbridge=1
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = active ]; then
    [ "${SWARM_TEST_REUSE:-0}" = 1 ] || die "this engine is already in a swarm; set SWARM_TEST_REUSE=1 to deploy a test stack into it"
  else
    log "docker swarm init --advertise-addr 127.0.0.1"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    created_swarm=1
  fi
}

# swarm_remove_stack: remove the stack, its volume and secrets, and wait
# until its containers and network are gone; leave a swarm swarm_enter made.
swarm_remove_stack() {
  log "removing stack $stack"
  docker stack rm "$stack" >/dev/null 2>&1
  for _ in $(seq 1 60); do
    [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$stack")" ] && break
    sleep 1
  done
  for _ in $(seq 1 20); do
    docker network inspect "${stack}_backend" >/dev/null 2>&1 || break
    sleep 1
  done
  docker volume rm "${stack}_nats-data" >/dev/null 2>&1
  docker secret rm "$NATS_SECRET_NAME" "$API_KEYS_SECRET_NAME" \
    "${NATS_TLS_SECRET_PREFIX}_ca" "${NATS_TLS_SECRET_PREFIX}_cert" "${NATS_TLS_SECRET_PREFIX}_key" >/dev/null 2>&1
  if [ "$created_swarm" = 1 ]; then
    log "docker swarm leave --force"
    docker swarm leave --force >/dev/null 2>&1
    [ "$had_gwbridge" = 1 ] || docker network rm docker_gwbridge >/dev/null 2>&1
  fi
}

# swarm_deploy: create the stack's secrets (a random NATS password, the
# test's key, NATS certificates made for the test) and deploy it with
# $STACK_OVERRIDES; sets t0.
swarm_deploy() {
  printf '%s' "s$(openssl rand -hex 20)" | docker secret create "$NATS_SECRET_NAME" - >/dev/null
  printf 'test %s role=operator id=swarm-test rate=100000 burst=100000\n' "$(printf '%s' "$test_key" | sha256sum | cut -d' ' -f1)" >"$work/api_keys"
  docker secret create "$API_KEYS_SECRET_NAME" "$work/api_keys" >/dev/null
  scripts/nats-certs.sh "$work/nats-tls" 2>/dev/null
  docker secret create "${NATS_TLS_SECRET_PREFIX}_ca" "$work/nats-tls/ca.pem" >/dev/null
  docker secret create "${NATS_TLS_SECRET_PREFIX}_cert" "$work/nats-tls/server.pem" >/dev/null
  docker secret create "${NATS_TLS_SECRET_PREFIX}_key" "$work/nats-tls/server-key.pem" >/dev/null
  t0=$(date +%s)
  scripts/docker-swarm.sh deploy "$stack" >/dev/null
}

# swarm_converged: every service of the stack runs its replica count, and
# the gateway serves the digits model.
swarm_converged() {
  local line
  while read -r line; do
    set -- ${line/\// }
    [ "$1" = "$2" ] || return 1
  done < <(docker service ls --filter "label=com.docker.stack.namespace=$stack" --format '{{.Replicas}}')
  curl -fsS --max-time 5 "${auth[@]}" "$base/v1/models" 2>/dev/null | jq -e '[.models[] | select(.name == "digits" and .ready)] | length == 1' >/dev/null
}

# swarm_wait_converged: wait up to 4 minutes for swarm_converged, and log
# how long the deploy took.
swarm_wait_converged() {
  for _ in $(seq 1 120); do swarm_converged && break; sleep 2; done
  swarm_converged || { docker stack ps --no-trunc "$stack" >&2; die "stack $stack did not converge"; }
  log "stack $stack up in $(($(date +%s) - t0)) s: $(docker service ls --filter "label=com.docker.stack.namespace=$stack" --format '{{.Name}}={{.Replicas}}' | tr '\n' ' ')"
}
