# Container targets (docs/docker.md). Included by the Makefile, whose VERSION
# (the VERSION file) and REVISION (git sha) they use.
#
#   make images          gateway, worker, worker-lite, frontend, autoscaler images: NAME:VERSION and NAME:<git sha>
#   make compose-up      the whole system at http://localhost:8080
#   make test-docker     build, inspect and run them for real (compose, e2e, faults, swarm)

VERSION      ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0-dev)
IMAGE_PREFIX ?=
STACK        ?= batchinfer
DOCKER_ENV    = VERSION=$(VERSION) IMAGE_PREFIX=$(IMAGE_PREFIX)
SHARED_DOCKER = ../shared/docker

.PHONY: images
images: ## build the gateway, worker, worker-lite, frontend and autoscaler images (tags VERSION and git sha)
	$(DOCKER_ENV) scripts/docker-images.sh gateway worker worker-lite frontend autoscaler

.PHONY: models-image
models-image: ## build the model training image (python:3.11-slim, model/requirements.txt)
	$(DOCKER_ENV) scripts/docker-images.sh models

.PHONY: models-docker
models-docker: models-image ## train and export the models in Docker (no local Python needed)
	docker run --rm --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
	  --user "$$(id -u):$$(id -g)" -v "$(CURDIR)/model:/work" \
	  $(IMAGE_PREFIX)batchinfer-models:$(VERSION) --out models $(ARGS)

.PHONY: docker-lint
docker-lint: ## hadolint the Dockerfiles, validate compose.yaml and deploy/stack.yaml
	scripts/docker-lint.sh

.PHONY: test-docker
test-docker: ## container tests: build, inspect, compose + e2e via nginx, faults, swarm
	$(DOCKER_ENV) scripts/docker-test.sh

.PHONY: test-docker-ha
test-docker-ha: ## the HA queue alone: 3 NATS servers, R3, a server killed and another restarted mid-job (docs/scaling.md)
	$(DOCKER_ENV) scripts/docker-ha-test.sh

.PHONY: compose-up
compose-up: ## docker compose up --build: the whole system at http://localhost:8080 (the public development key allowed unless API_KEYS_SECRET is set)
	$(DOCKER_ENV) REVISION=$(REVISION) $(if $(API_KEYS_SECRET),,ALLOW_DEV_KEY=true) docker compose up --build --detach --wait
	@echo "up: http://localhost:$${FRONTEND_PORT:-8080}"

.PHONY: compose-monitoring-up
compose-monitoring-up: ## compose-up plus Prometheus (deploy/compose.monitoring.yaml) at http://127.0.0.1:9090
	$(DOCKER_ENV) REVISION=$(REVISION) $(if $(API_KEYS_SECRET),,ALLOW_DEV_KEY=true) docker compose -f compose.yaml -f deploy/compose.monitoring.yaml up --build --detach --wait
	@echo "up: http://localhost:$${FRONTEND_PORT:-8080}, Prometheus http://127.0.0.1:$${PROMETHEUS_PORT:-9090}"

.PHONY: compose-down
compose-down: ## stop the compose system (keeps the NATS volume; -v to drop it)
	$(DOCKER_ENV) docker compose down $(ARGS)

.PHONY: swarm-deploy
swarm-deploy: ## deploy deploy/stack.yaml as stack STACK (images must be reachable by every node)
	$(DOCKER_ENV) scripts/docker-swarm.sh deploy $(STACK)

.PHONY: swarm-rm
swarm-rm: ## remove stack STACK
	scripts/docker-swarm.sh rm $(STACK)

.PHONY: docker-env
docker-env: ## on the build machines: start Docker Engine and build base-image stand-ins
	$(SHARED_DOCKER)/ensure-engine
	$(SHARED_DOCKER)/ensure-base-images --project .
