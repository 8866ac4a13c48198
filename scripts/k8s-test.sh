#!/usr/bin/env bash
# The Kubernetes manifests on a real control plane (deploy/k8s/README.md,
# "Tests"): builds (or takes from .cache/k8s) kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok and KEDA, builds the
# NATS backlog program, and runs deploy/k8s/cluster/clustertest, which starts
# them with Debian's etcd on free loopback ports and applies every overlay.
#
#   K8S_TEST_DIR=/some/dir   keep the cluster's files and logs there
#   K8S_TEST_RUN=REGEXP      run only some steps (go test -run)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v etcd >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "k8s-test: installing etcd-server (Debian)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
  else
    echo "k8s-test: etcd not found; install Debian's etcd-server (apt-get install etcd-server)" >&2
    exit 1
  fi
fi

bin=$(nice -n 10 scripts/k8s-build.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 nice -n 10 go build -o "$tmp/backlog" ./deploy/k8s/backlog

# The build flags of scripts/k8s-build.sh, so that vet and the test reuse the
# Kubernetes packages it compiled instead of compiling them again.
export CGO_ENABLED=0 GOFLAGS=-trimpath
cd deploy/k8s/cluster
nice -n 10 go vet ./...
K8S_BIN=$bin BACKLOG_BIN=$tmp/backlog K8S_TEST_REQUIRED=1 \
  go test -count=1 -timeout 20m -v -run "${K8S_TEST_RUN:-.}" ./clustertest
