# Kubernetes manifests (deploy/k8s/README.md), rendered and checked offline.
# Included by the Makefile; also works alone: make -f mk/k8s.mk test-k8s
#
#   make test-k8s                 render every overlay in process (kustomize API),
#                                 decode each object strictly, check the policies,
#                                 and check that the fixtures under
#                                 deploy/k8s/validate/testdata/reject are rejected
#   make k8s-render OVERLAY=prod  print an overlay (dev, prod, prod-hpa, or a path)
#   make k8s-check OVERLAY=PATH   check an overlay of your own (e.g. a site overlay)
#
# The validator is a Go module of its own (deploy/k8s/validate/go.mod), so the
# Kubernetes dependencies stay out of the main module; its first run downloads
# them, and the KEDA CRD, through the Go module proxy.

K8S_DIR      ?= deploy/k8s
K8S_VALIDATE := $(K8S_DIR)/validate
K8S_GO       ?= go
OVERLAY      ?= dev
# A bare name is one of deploy/k8s/overlays; anything with a slash is a path.
K8S_OVERLAY   = $(abspath $(if $(findstring /,$(OVERLAY)),$(OVERLAY),$(K8S_DIR)/overlays/$(OVERLAY)))

.PHONY: test-k8s
test-k8s: ## Kubernetes manifests: render every overlay, strict-decode, policy checks, rejected fixtures (offline)
	cd $(K8S_VALIDATE) && $(K8S_GO) vet ./... && $(K8S_GO) test -count=1 ./...

.PHONY: k8s-render
k8s-render: ## print a rendered overlay (OVERLAY=dev|prod|prod-hpa or a path)
	@cd $(K8S_VALIDATE) && $(K8S_GO) run . render $(K8S_OVERLAY)

.PHONY: k8s-check
k8s-check: ## check one overlay (OVERLAY=dev|prod|prod-hpa or a path, e.g. your site overlay)
	cd $(K8S_VALIDATE) && $(K8S_GO) run . check $(K8S_OVERLAY)
