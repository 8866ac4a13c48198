"""`mobilenet_bench`: an UNTRAINED MobileNetV2 for throughput benchmarks only.

Generated on demand (`--only mobilenet_bench`); model/models/*_bench/ is gitignored.
Its weights are random (seeded): its predictions are meaningless.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import common
from .common import Spec

NAME, VERSION = "mobilenet_bench", "1"
SIZE = 224
CLASSES = 1000


def spec() -> Spec:
    return Spec(
        name=NAME,
        version=VERSION,
        description="BENCHMARK ONLY: untrained MobileNetV2 (224x224 RGB, 1000 classes) with "
        "random seeded weights, for throughput and latency tests. Its predictions are meaningless.",
        kind="image",
        benchmark_only=True,
        input_key="image",
        input_shape=[-1, SIZE, SIZE, 3],
        input_min=0.0,
        input_max=255.0,
        output_key="probabilities",
        labels=[f"class_{i}" for i in range(CLASSES)],
        note="224x224 RGB, 0..255 per channel; untrained benchmark model, predictions are meaningless",
        image={"width": SIZE, "height": SIZE, "channels": 3, "invert": False, "range_min": 0, "range_max": 255},
        top_k=5,
        chunk_size=8,
        max_batch=4,
    )


def build_model():
    import tensorflow as tf

    inp = tf.keras.Input(shape=(SIZE, SIZE, 3), name="image")
    x = tf.keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale_0_255")(inp)  # -> [-1, 1]
    base = tf.keras.applications.MobileNetV2(
        input_shape=(SIZE, SIZE, 3), weights=None, classes=CLASSES, classifier_activation="softmax"
    )
    return tf.keras.Model(inp, base(x), name="mobilenet_bench")


def run(out_root: Path, testdata: Path | None) -> dict:
    common.seed_everything()
    model = build_model()
    rng = np.random.default_rng(common.SEED)
    x = rng.uniform(0, 255, size=(4, SIZE, SIZE, 3)).astype(np.float32)
    return common.export_untrained(model, spec(), out_root, x, model_card)


def model_card(s: Spec) -> str:
    return f"""
# Model card: `mobilenet_bench` version 1 — BENCHMARK ONLY

## What it is
An **untrained** `tf.keras.applications.MobileNetV2` (224x224x3 input, 1000 classes,
`weights=None`) whose weights are random, seeded with 42. It exists only to give the
batch inference system a realistic, compute-heavy model for throughput and latency
benchmarks. **Its predictions are meaningless**; the labels `class_0`..`class_999` are
placeholders. `metadata.json` sets `benchmark_only: true`.

## Data
None. The model is not trained.

## Architecture
Input `image` float32 `[-1, 224, 224, 3]` of 0..255 RGB values -> Rescaling to [-1, 1]
-> MobileNetV2 (alpha 1.0, {s.metrics.get('parameters', 0):,} parameters) -> softmax output
`probabilities` float32 `[-1, 1000]`. Serving signature `serving_default`: `image` ->
`probabilities`. Suggested chunk size 8.

## Metrics
None (untrained). The export is checked for shape, finiteness and that each output row
sums to 1.

## Intended use
Load and throughput tests only. Never show its output as a real classification.

## Limits
Everything: it is random. About 14 MB of weights, so it is not committed
(`model/models/*_bench/` is gitignored).

## How to reproduce
From `model/`: `./setup-venv.sh && .venv/bin/python -m pipeline.train --out models
--only mobilenet_bench`. Exported with tensorflow-cpu 2.18.0.
"""
