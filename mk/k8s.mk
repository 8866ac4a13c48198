# Kubernetes manifests (deploy/k8s/README.md): checked offline, then applied to
# a real control plane. Included by the Makefile; also works alone:
# make -f mk/k8s.mk test-k8s
#
#   make test-k8s                 1. the offline validator: render every overlay
#                                 (kustomize API), what only it can check (nats.conf
#                                 parsed by nats-server, policies, images, cross-object
#                                 consistency), the fixtures under
#                                 deploy/k8s/validate/testdata/reject rejected;
#                                 2. scripts/k8s-test.sh: every overlay applied to
#                                 etcd + kube-apiserver + controller-manager + scheduler
#                                 with kwok nodes and KEDA, and checked as it runs
#   make k8s-build                build (or find in .cache/k8s) those programs
#   make k8s-render OVERLAY=prod  print an overlay (dev, prod, prod-hpa, or a path)
#   make k8s-check OVERLAY=PATH   check an overlay of your own (e.g. a site overlay)
#
# The validator (deploy/k8s/validate) and the control plane's build and test
# (deploy/k8s/cluster) are Go modules of their own, so the Kubernetes
# dependencies stay out of the main module; their first run downloads them
# through the Go module proxy. The control plane's first build takes 23
# CPU-minutes (12-15 minutes on 2 idle cores); it is kept in .cache/k8s.

K8S_DIR      ?= deploy/k8s
K8S_VALIDATE := $(K8S_DIR)/validate
K8S_GO       ?= go
OVERLAY      ?= dev
# A bare name is one of deploy/k8s/overlays; anything with a slash is a path.
K8S_OVERLAY   = $(abspath $(if $(findstring /,$(OVERLAY)),$(OVERLAY),$(K8S_DIR)/overlays/$(OVERLAY)))

.PHONY: test-k8s
test-k8s: ## Kubernetes manifests: the offline validator, then every overlay on a real control plane (kwok nodes, KEDA)
	cd $(K8S_VALIDATE) && $(K8S_GO) vet ./... && $(K8S_GO) test -count=1 ./...
	scripts/k8s-test.sh

.PHONY: k8s-build
k8s-build: ## build kube-apiserver, controller-manager, scheduler, kubectl, kwok and KEDA into .cache/k8s (once)
	@scripts/k8s-build.sh

.PHONY: k8s-render
k8s-render: ## print a rendered overlay (OVERLAY=dev|prod|prod-hpa or a path)
	@cd $(K8S_VALIDATE) && $(K8S_GO) run . render $(K8S_OVERLAY)

.PHONY: k8s-check
k8s-check: ## check one overlay (OVERLAY=dev|prod|prod-hpa or a path, e.g. your site overlay)
	cd $(K8S_VALIDATE) && $(K8S_GO) run . check $(K8S_OVERLAY)
