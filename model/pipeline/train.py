"""Trains, exports and verifies the served models.

Run from model/ (the Makefile's `make models` does this):

    python -m pipeline.train --out ../models [--only digits,breast_cancer,mobilenet_bench,dense_bench]

Each model is written to <out>/<name>/<version>/ as a TensorFlow SavedModel with a
`serving_default` signature, plus metadata.json and MODEL_CARD.md, and reloaded to
check its signature keys and test accuracy; digits and breast_cancer also get their
model.tflite (pipeline/tflite.py), checked against the SavedModel. Test fixtures for the Go side are written
to --testdata (default: model/testdata) for the models trained in this run.
By default the committed models are built: digits and breast_cancer; the
benchmark-only mobilenet_bench and dense_bench are built only when named with --only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "models"
DEFAULT_TESTDATA = HERE.parent / "testdata"

MODELS = ("digits", "breast_cancer", "mobilenet_bench", "dense_bench")
DEFAULT_MODELS = ("digits", "breast_cancer")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m pipeline.train", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="models root (default: model/models)")
    p.add_argument(
        "--only",
        default=",".join(DEFAULT_MODELS),
        help=f"comma-separated models to build, of {','.join(MODELS)} (default: %(default)s)",
    )
    p.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA, help="where to write Go test fixtures")
    p.add_argument("--no-testdata", action="store_true", help="do not write test fixtures")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="TensorFlow intra/inter-op threads (default 1, for bit-for-bit reproducibility; 0 = TF default)",
    )
    a = p.parse_args(argv)
    a.only = [m.strip() for m in a.only.split(",") if m.strip()]
    bad = [m for m in a.only if m not in MODELS]
    if bad or not a.only:
        p.error(f"--only: unknown model(s) {bad}; choose from {','.join(MODELS)}")
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    from . import common

    common.configure_tensorflow(args.threads)

    from . import breast_cancer, dense_bench, digits, mobilenet_bench

    runners = {
        "digits": digits.run,
        "breast_cancer": breast_cancer.run,
        "mobilenet_bench": mobilenet_bench.run,
        "dense_bench": dense_bench.run,
    }
    out = args.out.resolve()
    testdata = None if args.no_testdata else args.testdata.resolve()
    if testdata is not None:
        testdata.mkdir(parents=True, exist_ok=True)

    from . import tflite

    results = []
    for name in args.only:
        t0 = time.monotonic()
        r = runners[name](out, testdata)
        if name in tflite.CHECKED:
            tflite.export(Path(r["path"]))  # model.tflite beside the SavedModel, checked against it
        r["seconds"] = time.monotonic() - t0
        results.append(r)
    if testdata is not None and set(args.only) & set(tflite.CHECKED):
        tflite.write_fixtures(testdata)

    print("exported and verified:")
    for r in results:
        metrics = ", ".join(f"{k}={v:g}" for k, v in r["metrics"].items())
        tensors = ", ".join(f"{k}={v}" for k, v in r["tensors"].items())
        print(f"  {r['name']:<16} {r['size'] / 1024:8.1f} KiB  {r['seconds']:5.1f}s  {r['path']}")
        print(f"  {'':<16} {metrics}")
        print(f"  {'':<16} serving_default: {tensors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
