#!/usr/bin/env bash
# Creates .cache/tuspy-venv with tuspy (a tus client from PyPI, pinned in
# test/system/testdata/tuspy/requirements.txt) for the system tests that
# drive /v1/uploads with it, and prints the venv's python. Idempotent: the
# install is skipped when .installed holds the sha256 of the requirements.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.cache/tuspy-venv"
req="$root/test/system/testdata/tuspy/requirements.txt"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || ! -f "$venv/.installed" || "$(cat "$venv/.installed")" != "$want" ]]; then
	echo "tuspy-venv: installing tuspy into $venv" >&2
	rm -rf "$venv"
	"$python" -m venv "$venv"
	"$venv/bin/python" -m pip --quiet --disable-pip-version-check --no-cache-dir install --no-deps -r "$req" >&2
	echo "$want" >"$venv/.installed"
fi
echo "$venv/bin/python"
