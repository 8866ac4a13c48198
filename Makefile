# The one entry point. `make run` starts the whole system (embedded NATS, no
# Docker) on :8000; `make test` runs every test. CI calls these targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0-dev)
REVISION := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION)
TF_ENV    = eval "$$(scripts/tf-env.sh)" && eval "$$(scripts/litert-env.sh)"
LITE_ENV  = eval "$$(scripts/litert-env.sh)"
GO_PKGS   = $$(go list ./... | grep -v /node_modules/)
FRONTEND := frontend

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: tf
tf: ## fetch the pinned TensorFlow and LiteRT C libraries (cached in .cache/)
	@scripts/tf-env.sh >/dev/null
	@scripts/litert-env.sh >/dev/null

.PHONY: build
build: tf ## build bin/gateway (static), bin/worker, bin/worker-lite (LiteRT only), bin/standalone, the CLI bin/batchinfer, and the load tools bin/loadgen, bin/benchload, bin/rawtf
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/gateway ./cmd/batchinfer ./cmd/loadgen ./cmd/benchload
	$(TF_ENV) && go build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/worker ./cmd/standalone ./cmd/rawtf
	$(LITE_ENV) && go build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/worker-lite

.PHONY: python-client
python-client: ## build the Python client's wheel into .cache/pyclient-dist (pinned build venv in .cache/pyclient-venv; make test tests it)
	scripts/pyclient-venv.sh >/dev/null
	@ls .cache/pyclient-dist/*.whl

.PHONY: ui
ui: ## build the web UI into frontend/dist
	cd $(FRONTEND) && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build

.PHONY: run
run: build ui ## run everything: embedded NATS, gateway + UI on :8000, one worker
	$(TF_ENV) && exec ./bin/standalone $(ARGS)

.PHONY: test
test: k8s-build-bg test-go test-ui test-e2e test-docker test-k8s ## every test: Go (race), UI, browser e2e, containers (Docker), Kubernetes (a real control plane)

# The Kubernetes control plane's cold build (23 CPU-minutes) runs beside the
# other tests at the lowest priority, on the CPU they leave idle; test-k8s
# waits for it (scripts/k8s-build.sh holds a lock). Its log: .cache/k8s-build.log.
.PHONY: k8s-build-bg
k8s-build-bg:
	@mkdir -p .cache && (nohup nice -n 19 scripts/k8s-build.sh >.cache/k8s-build.log 2>&1 &)

.PHONY: test-go
test-go: tf ## Go vet and tests with the race detector, real NATS and TensorFlow
	$(TF_ENV) && go vet $(GO_PKGS) && go test -race -count=1 -timeout 20m $(GO_PKGS)
	@# latency ratios are asserted without the race detector, which slows everything several times;
	@# the upload and registry soaks run a fraction of their cycles under it, and in full here, as do the 100,000-item output file test and the 1,000,000-item dataset (about 40 s)
	$(TF_ENV) && go test -count=1 -timeout 20m -run 'TestFloodingTenantDoesNotSlowOthers|TestUploadSoakReturnsToBaseline|TestRegistrySoakReturnsToBaseline|TestDatasetOutputAndErrorsFiles|TestMillionItemDataset' ./test/system ./internal/store

.PHONY: test-monitoring
test-monitoring: tf ## deploy/monitoring alone (part of test-go): promtool on the alert rules and their unit tests, and on the /metrics of a live gateway and worker; dashboard and rules checked against them
	@command -v promtool >/dev/null || { echo "promtool missing: apt-get install prometheus (Debian's package)" >&2; exit 1; }
	$(TF_ENV) && go test -count=1 ./deploy/monitoring

.PHONY: test-ui
test-ui: ## UI type-check, lint, unit tests and production build
	cd $(FRONTEND) && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm test && npm run build

.PHONY: test-e2e
test-e2e: build ui ## Playwright in Chromium against the real standalone system
	scripts/e2e.sh

.PHONY: nats-server
nats-server: ## build bin/nats-server (the version go.mod pins)
	CGO_ENABLED=0 go build -o bin/nats-server github.com/nats-io/nats-server/v2

.PHONY: soak
soak: build nats-server ## load from cmd/loadgen for SOAK_DURATION (45m) at the default settings, past the results store's bound, against NATS, worker, gateway as processes; fails on errors, loss or growth
	scripts/soak.sh

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 20s)
	for t in $$(go test -list 'Fuzz.*' ./gateway/input | grep ^Fuzz); do go test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-20s} ./gateway/input; done
	for t in $$(go test -list 'Fuzz.*' ./gateway/oip | grep ^Fuzz); do go test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-20s} ./gateway/oip; done
	for t in $$(go test -list 'Fuzz.*' ./internal/wire | grep ^Fuzz); do go test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-20s} ./internal/wire; done
	for t in $$(go test -list 'Fuzz.*' ./gateway/output | grep ^Fuzz); do go test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-20s} ./gateway/output; done
	for t in $$(go test -list 'Fuzz.*' ./model | grep ^Fuzz); do go test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-20s} ./model; done

.PHONY: models
models: ## train and export the committed models, SavedModel and model.tflite (Python venv in model/.venv)
	model/setup-venv.sh
	cd model && .venv/bin/python -m pipeline.train --out models

.PHONY: tflite
tflite: ## convert the committed SavedModels to model.tflite (checked against them) and write the parity fixtures
	model/setup-venv.sh
	cd model && .venv/bin/python -m pipeline.tflite --models models

.PHONY: bench-model
bench-model: ## generate the benchmark-only models, MobileNetV2 and a dense net of over 100 µs per item (not committed)
	model/setup-venv.sh
	[ -f model/models/mobilenet_bench/1/saved_model.pb ] || (cd model && .venv/bin/python -m pipeline.train --out models --only mobilenet_bench --no-testdata)
	[ -f model/models/dense_bench/1/saved_model.pb ] || (cd model && .venv/bin/python -m pipeline.train --out models --only dense_bench --no-testdata)

.PHONY: bench
bench: build nats-server ## docs/benchmarks.md: separate processes under load from bin/benchload, next to raw TF (bin/rawtf), same run; datasets of 1M and 10M rows end to end (~15 min, ~31 GB free disk; BENCH_ONLY=..., BENCH_DATASET_ITEMS=...); BENCH_ONLY=fair: docs/scheduling.md
	[[ " $${BENCH_ONLY:-mobilenet} " != *" mobilenet "* && " $${BENCH_ONLY} " != *" dense "* ]] || $(MAKE) bench-model
	scripts/bench.sh

.PHONY: bench-go
bench-go: tf ## Go micro-benchmarks (in-process: input decoding, tensors, follow designs)
	$(TF_ENV) && go test -run '^$$' -bench . -benchtime $${BENCHTIME:-2s} ./model/tfmodel ./model/litert ./model/loader ./gateway/... ./internal/... ./test/system | tee bench.out

include mk/docker.mk
include mk/k8s.mk

.PHONY: clean
clean: ## remove build outputs (keeps the TensorFlow cache)
	rm -rf bin $(FRONTEND)/dist data
