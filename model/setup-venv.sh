#!/usr/bin/env bash
# Creates model/.venv with the pinned training/export requirements.
# Idempotent: skips the install when .venv/.installed holds the sha256 of
# requirements.txt. Uses a pre-fetched TensorFlow wheel from
# .cache/tensorflow/wheel/ when one is there (saves a ~230 MB download).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$venv/.installed" && "$(cat "$venv/.installed")" == "$want" ]]; then
	exit 0
fi

echo "setup-venv: installing Python requirements into $venv (takes a few minutes)" >&2
if [[ ! -x "$venv/bin/python" ]]; then
	"$python" -m venv "$venv"
fi
rm -f "$venv/.installed"
pip=("$venv/bin/python" -m pip --quiet --disable-pip-version-check --no-cache-dir)

# The TensorFlow wheel scripts/tf-env.sh fetched for the Go worker, if any.
local_wheel=()
tf_pin="$(sed -n 's/^tensorflow-cpu==\([0-9.]*\).*/\1/p' "$req" | head -n1)"
if [[ -n "$tf_pin" ]]; then
	shopt -s nullglob
	wheels=("$root"/.cache/tensorflow/wheel/tensorflow_cpu-"$tf_pin"-cp311-*.whl)
	shopt -u nullglob
	local_wheel=("${wheels[@]:0:1}")
fi
"${pip[@]}" install "${local_wheel[@]}" -r "$req"
echo "$want" >"$venv/.installed"
