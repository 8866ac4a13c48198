#!/usr/bin/env bash
# Fetches the pinned LiteRT runtime (libLiteRt.so, the LiteRT C API) into a
# local cache and prints the environment cgo needs to build and run against it.
#
#   eval "$(scripts/litert-env.sh)"   # fetch if needed, then export CGO_LDFLAGS and LD_LIBRARY_PATH
#
# Run it after scripts/tf-env.sh (which sets CGO_LDFLAGS): it adds to
# CGO_LDFLAGS and LD_LIBRARY_PATH instead of replacing them.
#
# The library comes from the ai-edge-litert wheel on PyPI, pinned by version and
# SHA-256, the way tf-env.sh takes TensorFlow from its wheel. The wheel carries
# no C headers: model/litert declares the part of the C API it uses itself,
# from the published headers of the same LiteRT version (tag v$LITERT_VERSION).
# Nothing here is committed.
set -euo pipefail

LITERT_VERSION=2.2.0
# One pinned wheel per architecture (LITERT_ARCH overrides `uname -m`). Any
# cp3xx wheel carries the same libLiteRt.so; cp311 matches the training venv.
case ${LITERT_ARCH:-$(uname -m)} in
  x86_64|amd64)
    LITERT_PLATFORM=manylinux_2_27_x86_64 LITERT_SUFFIX=
    LITERT_WHEEL=ai_edge_litert-2.2.0-cp311-cp311-manylinux_2_27_x86_64.whl
    LITERT_WHEEL_SHA256=0171f556fffa335281acd7d468de999fd4de32f6bf1a5f14e680676591cef764 ;;
  aarch64|arm64)
    LITERT_PLATFORM=manylinux_2_27_aarch64 LITERT_SUFFIX=-aarch64
    LITERT_WHEEL=ai_edge_litert-2.2.0-cp311-cp311-manylinux_2_27_aarch64.whl
    LITERT_WHEEL_SHA256=808da1d1b3f93f05ce27444bf3d3bed8be928d2779483b5065df226e01c599d5 ;;
  *) echo "litert-env: no LiteRT wheel pinned for $(uname -m) (x86_64 and aarch64 are)" >&2; exit 1 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${LITERT_CACHE_DIR:-$root/.cache/litert}
dir=$cache/$LITERT_VERSION$LITERT_SUFFIX

if [ ! -f "$dir/.complete" ]; then
  mkdir -p "$cache/wheel"
  whl=$cache/wheel/$LITERT_WHEEL
  if [ ! -f "$whl" ] || ! echo "$LITERT_WHEEL_SHA256  $whl" | sha256sum -c --status; then
    echo "litert-env: downloading $LITERT_WHEEL" >&2
    rm -f "$whl"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --python-version 3.11 --platform "$LITERT_PLATFORM" \
      -d "$cache/wheel" "ai-edge-litert==$LITERT_VERSION" >&2
  fi
  echo "$LITERT_WHEEL_SHA256  $whl" | sha256sum -c --status || {
    echo "litert-env: checksum mismatch for $whl" >&2; exit 1; }
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/lib"
  # Only the runtime: the GPU accelerator, the vendor plugins and the Python
  # bindings are not used (the worker runs on the CPU accelerator, which is
  # linked into libLiteRt.so).
  python3 - "$whl" "$dir.tmp" <<'PY' >&2
import sys, zipfile, os
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    with z.open("ai_edge_litert/libLiteRt.so") as src, open(os.path.join(out, "lib/libLiteRt.so"), "wb") as f:
        f.write(src.read())
PY
  if command -v nm >/dev/null 2>&1; then
    syms=$(nm -D --defined-only "$dir.tmp/lib/libLiteRt.so")
    for s in LiteRtCreateCompiledModel LiteRtRunCompiledModel LiteRtCompiledModelResizeInputTensor; do
      grep -q " $s@" <<<"$syms" || { echo "litert-env: $s missing from libLiteRt.so" >&2; exit 1; }
    done
  else
    echo "litert-env: nm not found, skipping the C API symbol check" >&2
  fi
  touch "$dir.tmp/.complete"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi

cat <<ENV
export LITERT_DIR="$dir"
export CGO_ENABLED=1
export CGO_LDFLAGS="-L$dir/lib -Wl,-rpath,$dir/lib\${CGO_LDFLAGS:+ \$CGO_LDFLAGS}"
export LD_LIBRARY_PATH="$dir/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
ENV
