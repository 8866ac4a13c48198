"""`dense_bench`: an UNTRAINED wide dense net for throughput benchmarks only.

It takes digits' inputs (8x8 grayscale, 0..16) and costs over 100 µs of
TensorFlow per item at batch 256 (~130 µs on a 2-core machine, one thread):
the "model of at least 100 µs per item" of docs/benchmarks.md, where the
serving layer's own cost per item shows against a model's. Generated on
demand (`--only dense_bench`); model/models/*_bench/ is gitignored. Its
weights are random (seeded): its predictions are meaningless.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import common
from .common import Spec

NAME, VERSION = "dense_bench", "1"
WIDTH = 2048  # units of each hidden layer: ~8.5 M multiply-adds per item
LAYERS = 3


def spec() -> Spec:
    return Spec(
        name=NAME,
        version=VERSION,
        description="BENCHMARK ONLY: untrained wide dense net over digits' 8x8 inputs (0..16) with "
        "random seeded weights, over 100 µs of TensorFlow per item. Its predictions are meaningless.",
        kind="image",
        benchmark_only=True,
        input_key="pixels",
        input_shape=[-1, 8, 8, 1],
        input_min=0.0,
        input_max=16.0,
        output_key="probabilities",
        labels=[str(i) for i in range(10)],
        note="8x8 grayscale, 0..16 (digits' scale); untrained benchmark model, predictions are meaningless",
        image={"width": 8, "height": 8, "channels": 1, "invert": True, "range_min": 0, "range_max": 16},
        top_k=3,
        chunk_size=256,
    )


def build_model():
    import tensorflow as tf

    L = tf.keras.layers
    x = inp = tf.keras.Input(shape=(8, 8, 1), name="pixels")
    x = L.Rescaling(1.0 / 16.0, name="rescale_0_16")(x)
    x = L.Flatten()(x)
    for i in range(LAYERS):
        x = L.Dense(WIDTH, activation="relu", name=f"dense_{i}")(x)
    out = L.Dense(10, activation="softmax", name="probabilities")(x)
    return tf.keras.Model(inp, out, name="dense_bench")


def run(out_root: Path, testdata: Path | None) -> dict:
    common.seed_everything()
    model = build_model()
    rng = np.random.default_rng(common.SEED)
    x = rng.integers(0, 17, size=(8, 8, 8, 1)).astype(np.float32)
    return common.export_untrained(model, spec(), out_root, x, model_card)


def model_card(s: Spec) -> str:
    return f"""
# Model card: `dense_bench` version 1 — BENCHMARK ONLY

## What it is
An **untrained** dense network whose weights are random, seeded with 42. It takes the
inputs of `digits` (8x8 grayscale, 0..16) and costs over 100 µs of TensorFlow per item
at batch 256 (~130 µs on a 2-core machine, one thread), so that benchmarks can show the serving layer's own
cost per item against a model's (docs/benchmarks.md). **Its predictions are
meaningless**. `metadata.json` sets `benchmark_only: true`.

## Data
None. The model is not trained.

## Architecture
Input `pixels` float32 `[-1, 8, 8, 1]` of 0..16 -> Rescaling to [0, 1] -> Flatten ->
{LAYERS} x Dense({WIDTH}, relu) -> Dense(10, softmax) output `probabilities` float32
`[-1, 10]` ({s.metrics.get('parameters', 0):,} parameters). Serving signature
`serving_default`: `pixels` -> `probabilities`. Suggested chunk size 256.

## Metrics
None (untrained). The export is checked for shape, finiteness and that each output row
sums to 1.

## Intended use
Throughput benchmarks only. Never show its output as a real classification.

## Limits
Everything: it is random. About 34 MB of weights, so it is not committed
(`model/models/*_bench/` is gitignored).

## How to reproduce
From `model/`: `./setup-venv.sh && .venv/bin/python -m pipeline.train --out models
--only dense_bench --no-testdata`. Exported with tensorflow-cpu 2.18.0.
"""
