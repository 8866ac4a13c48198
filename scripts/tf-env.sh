#!/usr/bin/env bash
# Fetches the pinned TensorFlow C library and headers into a local cache and
# prints the environment cgo needs to build and run against it.
#
#   eval "$(scripts/tf-env.sh)"     # fetch if needed, then export CGO_* and LD_LIBRARY_PATH
#
# The library comes from the tensorflow-cpu wheel on PyPI (libtensorflow_cc.so.2
# carries the TensorFlow C API; libtensorflow_framework.so.2 is its runtime), the
# same wheel model/requirements.txt pins for training, so the worker links exactly
# the TensorFlow version that exported the SavedModels. Nothing here is committed.
set -euo pipefail

TF_VERSION=2.18.0
# One pinned wheel per architecture (TF_ARCH overrides `uname -m`). On arm64
# the CPU build is the `tensorflow` wheel itself (there is no tensorflow-cpu
# for aarch64); its libtensorflow_cc.so.2 carries the same C API.
case ${TF_ARCH:-$(uname -m)} in
  x86_64|amd64)
    TF_PKG=tensorflow-cpu TF_PLATFORM=manylinux2014_x86_64 TF_SUFFIX=
    TF_WHEEL=tensorflow_cpu-2.18.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
    TF_WHEEL_SHA256=089e71746960ea581dca53401f84b3b99c8537313e337a9e5dbf97036a936f7e ;;
  aarch64|arm64)
    TF_PKG=tensorflow TF_PLATFORM=manylinux2014_aarch64 TF_SUFFIX=-aarch64
    TF_WHEEL=tensorflow-2.18.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl
    TF_WHEEL_SHA256=85f1e7369af6d329b117b52e86093cd1e0458dd5404bf5b665853f873dd00b48 ;;
  *) echo "tf-env: no TensorFlow wheel pinned for $(uname -m) (x86_64 and aarch64 are)" >&2; exit 1 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${TF_CACHE_DIR:-$root/.cache/tensorflow}
dir=$cache/$TF_VERSION$TF_SUFFIX

if [ ! -f "$dir/.complete" ]; then
  mkdir -p "$cache/wheel"
  whl=$cache/wheel/$TF_WHEEL
  if [ ! -f "$whl" ] || ! echo "$TF_WHEEL_SHA256  $whl" | sha256sum -c --status; then
    echo "tf-env: downloading $TF_WHEEL" >&2
    rm -f "$whl"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --python-version 3.11 --platform "$TF_PLATFORM" \
      -d "$cache/wheel" "$TF_PKG==$TF_VERSION" >&2
  fi
  echo "$TF_WHEEL_SHA256  $whl" | sha256sum -c --status || {
    echo "tf-env: checksum mismatch for $whl" >&2; exit 1; }
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/lib" "$dir.tmp/include"
  python3 - "$whl" "$dir.tmp" <<'PY' >&2
import sys, zipfile, os
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        if n in ("tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"):
            dst = os.path.join(out, "lib", os.path.basename(n))
        elif n.startswith("tensorflow/include/tensorflow/c/") or n.startswith("tensorflow/include/tsl/") \
                or n.startswith("tensorflow/include/xla/tsl/c/") \
                or n.startswith("tensorflow/include/tensorflow/core/platform/ctstring") \
                or n.startswith("tensorflow/include/xla/tsl/platform/ctstring"):
            dst = os.path.join(out, "include", n[len("tensorflow/include/"):])
        else:
            continue
        if n.endswith("/"):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with z.open(n) as src, open(dst, "wb") as f:
            f.write(src.read())
PY
  ln -sf libtensorflow_cc.so.2 "$dir.tmp/lib/libtensorflow.so"
  ln -sf libtensorflow_framework.so.2 "$dir.tmp/lib/libtensorflow_framework.so"
  if command -v nm >/dev/null 2>&1; then
    syms=$(nm -D --defined-only "$dir.tmp/lib/libtensorflow_cc.so.2")
    grep -q ' TF_LoadSessionFromSavedModel@' <<<"$syms" || {
      echo "tf-env: C API missing from libtensorflow_cc.so.2" >&2; exit 1; }
  else
    # e.g. a python:3.11-slim build stage (no binutils): the link step checks it.
    echo "tf-env: nm not found, skipping the C API symbol check" >&2
  fi
  touch "$dir.tmp/.complete"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi

cat <<ENV
export TF_DIR="$dir"
export CGO_ENABLED=1
export CGO_CFLAGS="-I$dir/include"
export CGO_LDFLAGS="-L$dir/lib -Wl,-rpath,$dir/lib"
export LD_LIBRARY_PATH="$dir/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export TF_CPP_MIN_LOG_LEVEL=\${TF_CPP_MIN_LOG_LEVEL:-2}
ENV
