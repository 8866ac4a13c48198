#!/usr/bin/env bash
# Creates .cache/oip-venv with the Open Inference Protocol clients from PyPI
# (tritonclient[http] and KServe's SDK, every package pinned in
# test/system/testdata/oip/requirements.txt) for the system test that drives
# /v2 with them, and prints the venv's python. Idempotent: the install is
# skipped when .installed holds the sha256 of the requirements.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.cache/oip-venv"
req="$root/test/system/testdata/oip/requirements.txt"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || ! -f "$venv/.installed" || "$(cat "$venv/.installed")" != "$want" ]]; then
	echo "oip-venv: installing tritonclient and kserve into $venv" >&2
	rm -rf "$venv"
	"$python" -m venv "$venv"
	"$venv/bin/python" -m pip --quiet --disable-pip-version-check --no-cache-dir install --no-deps -r "$req" >&2
	echo "$want" >"$venv/.installed"
fi
echo "$venv/bin/python"
