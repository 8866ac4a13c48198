#!/usr/bin/env bash
# Builds the Kubernetes control plane used by scripts/k8s-test.sh from the
# wrapper module deploy/k8s/cluster (its own go.mod: k8s.io/kubernetes, kwok and
# KEDA at pinned versions) into .cache/k8s/<key>/bin and prints that folder.
#
#   k8s        kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
#              kwok in one binary (k8s kubectl ..., or a link named kubectl)
#   keda-operator, keda-adapter   KEDA's own main packages
#
# The key is a hash of what goes into the binaries: the module versions of
# every package linked (go list -deps), the wrapper's main package, the link
# flags and the Go version. A second run builds nothing; so does a change to
# the tests or to anything else in the repository. K8S_CACHE overrides
# .cache/k8s.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mod=deploy/k8s/cluster

# One build at a time: `make test` starts one in the background (nice 19,
# on the CPU the tests leave idle) and test-k8s's waits here for it, then
# finds its result in the cache.
cache=${K8S_CACHE:-$root/.cache/k8s}
mkdir -p "${cache%/*}"
exec 9>"$cache.lock"
flock 9

# Versions stamped into the binaries, as their own release builds do.
kube_version=$(awk '$1 == "k8s.io/kubernetes" {print $2}' "$mod/go.mod")
keda_version=$(awk '$1 == "github.com/kedacore/keda/v2" {print $2}' "$mod/go.mod")
kwok_version=$(awk '$1 == "sigs.k8s.io/kwok" {print $2}' "$mod/go.mod")
[ -n "$kube_version" ] && [ -n "$keda_version" ] && [ -n "$kwok_version" ] ||
  { echo "k8s-build: versions not found in $mod/go.mod" >&2; exit 1; }

major=${kube_version#v}; major=${major%%.*}
minor=${kube_version#v*.}; minor=${minor%%.*}
cv=k8s.io/component-base/version
gv=k8s.io/client-go/pkg/version
kube_ldflags="-s -w"
for pkg in $cv $gv; do
  kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean"
done
kube_ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v}"
kube_ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kube_version#v}"
keda_ldflags="-s -w -X github.com/kedacore/keda/v2/version.Version=${keda_version#v} -X $cv.gitVersion=$kube_version"

keda_pkgs="github.com/kedacore/keda/v2/cmd/operator github.com/kedacore/keda/v2/cmd/adapter"
export CGO_ENABLED=0 GOFLAGS=-mod=readonly
# shellcheck disable=SC2086 # word splitting of the package list is meant
deps=$(cd "$mod" && go list -deps -f '{{with .Module}}{{.Path}}@{{.Version}}{{with .Replace}}=>{{.Path}}@{{.Version}}{{end}}{{end}}' . $keda_pkgs | sort -u)
key=$( {
  echo "$deps"
  cat "$mod"/*.go
  echo "$kube_ldflags" "$keda_ldflags"
  go version
} | sha256sum | cut -c1-16)
out=$cache/$key

# From the KEDA module the programs are built from (copied on every run: it
# is quick): the CRDs its operator serves, and the RBAC that lets the HPA
# controller read external metrics and the adapter delegate authentication.
keda_config() {
  local dir
  dir=$(cd "$mod" && go list -m -f '{{.Dir}}' github.com/kedacore/keda/v2)
  rm -rf "$out/bin/keda"
  mkdir -p "$out/bin/keda/crds" "$out/bin/keda/rbac"
  cp "$dir"/config/crd/bases/*.yaml "$out/bin/keda/crds/"
  cp "$dir"/config/metrics-server/role.yaml "$dir"/config/metrics-server/role_binding.yaml "$out/bin/keda/rbac/"
  chmod -R u+w "$out/bin/keda"
}

if [ -x "$out/bin/k8s" ] && [ -x "$out/bin/keda-operator" ] && [ -x "$out/bin/keda-adapter" ]; then
  keda_config
  echo "$out/bin"
  exit 0
fi

mkdir -p "${out%/*}"
tmp=$(mktemp -d "$out.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
echo "k8s-build: building kubernetes $kube_version, kwok $kwok_version, keda $keda_version into $out (cold: 23 CPU-minutes, 12-15 minutes on 2 idle cores)" >&2
(cd "$mod" && go build -trimpath -ldflags "$kube_ldflags" -o "$tmp/k8s" .)
echo "k8s-build: control plane built after $((SECONDS - start)) s" >&2
(cd "$mod" && go build -trimpath -ldflags "$keda_ldflags" -o "$tmp/keda-operator" github.com/kedacore/keda/v2/cmd/operator)
(cd "$mod" && go build -trimpath -ldflags "$keda_ldflags" -o "$tmp/keda-adapter" github.com/kedacore/keda/v2/cmd/adapter)
echo "k8s-build: built in $((SECONDS - start)) s" >&2
mkdir -p "$out"
rm -rf "$out/bin"
mv "$tmp" "$out/bin"
trap - EXIT
# Builds of other versions are of no use any more.
find "${out%/*}" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +
keda_config
echo "$out/bin"
