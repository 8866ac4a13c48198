#!/usr/bin/env bash
# Creates .cache/pyclient-venv with what the Python client (clients/python)
# is built, type-checked and tested with: every package pinned in
# clients/python/requirements-test.txt, installed with --no-deps. Then it
# builds the package's wheel there (python -m build, the pinned hatchling,
# no network) into .cache/pyclient-dist and installs it from the wheel, and
# prints the venv's python. The venv is reused while the requirements'
# sha256 is the same; the wheel is built and installed at every run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.cache/pyclient-venv"
dist="$root/.cache/pyclient-dist"
req="$root/clients/python/requirements-test.txt"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || ! -f "$venv/.installed" || "$(cat "$venv/.installed")" != "$want" ]]; then
	echo "pyclient-venv: installing the Python client's build and test packages into $venv" >&2
	rm -rf "$venv"
	"$python" -m venv "$venv"
	"$venv/bin/python" -m pip --quiet --disable-pip-version-check --no-cache-dir install --no-deps -r "$req" >&2
	echo "$want" >"$venv/.installed"
fi
rm -rf "$dist"
"$venv/bin/python" -m build --wheel --no-isolation --outdir "$dist" "$root/clients/python" >&2
rm -rf "$root/clients/python/build"
"$venv/bin/python" -m pip --quiet --disable-pip-version-check install --no-deps --force-reinstall "$dist"/batchinfer-*.whl >&2
echo "$venv/bin/python"
