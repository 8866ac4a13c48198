"""Shared helpers: reproducibility, SavedModel export, metadata and verification."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEED = 42
TEST_SIZE = 0.25


def configure_tensorflow(threads: int = 1) -> None:
    """Makes TensorFlow deterministic. Must run before TensorFlow executes any op."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # oneDNN may reorder float sums
    import tensorflow as tf

    if threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.config.experimental.enable_op_determinism()
    tf.get_logger().setLevel("ERROR")


def seed_everything(seed: int = SEED) -> None:
    """Resets every random generator; called before each model so that
    `--only x` gives the same model as a full run."""
    import tensorflow as tf

    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow


@dataclass
class Spec:
    """What the exported serving signature looks like (and metadata.json says)."""

    name: str
    version: str
    description: str
    kind: str  # "image" or "tabular"
    input_key: str
    input_shape: list[int]  # including the batch dimension, -1
    output_key: str
    labels: list[str]
    top_k: int
    chunk_size: int
    input_min: float | None = None
    input_max: float | None = None
    features: list[str] | None = None
    note: str = ""
    image: dict[str, Any] | None = None
    benchmark_only: bool = False
    max_batch: int = 0  # largest batch worth running (0: the worker's limits)
    # Tabular models: per input value {min, max, typical} of the training
    # split, and real training inputs to try ({label, values}).
    feature_ranges: list[dict[str, float]] | None = None
    examples: list[dict[str, Any]] | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    def metadata(self, tf_version: str) -> dict[str, Any]:
        inp: dict[str, Any] = {"key": self.input_key, "dtype": "float32", "shape": self.input_shape}
        if self.input_min is not None:
            inp["min"] = self.input_min
        if self.input_max is not None:
            inp["max"] = self.input_max
        m: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "kind": self.kind,
        }
        if self.benchmark_only:
            m["benchmark_only"] = True
        m["signature"] = "serving_default"
        m["input"] = inp
        m["output"] = {"key": self.output_key, "dtype": "float32", "shape": [-1, len(self.labels)]}
        m["labels"] = self.labels
        if self.features is not None:
            m["features"] = self.features
        if self.feature_ranges:
            m["feature_ranges"] = self.feature_ranges
        if self.examples:
            m["examples"] = self.examples
        pre: dict[str, Any] = {}
        if self.note:
            pre["note"] = self.note
        if self.image is not None:
            pre["image"] = self.image
        m["preprocessing"] = pre
        m["top_k"] = self.top_k
        m["chunk_size"] = self.chunk_size
        if self.max_batch:
            m["max_batch"] = self.max_batch
        if self.metrics:
            m["metrics"] = self.metrics
        m["tensorflow_version"] = tf_version
        return m


def validate_metadata(m: dict[str, Any]) -> None:
    """Mirrors model.Metadata.Validate in model/metadata.go."""
    import re

    pat = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
    errs = []
    for k in ("name", "version"):
        if not pat.match(m[k]):
            errs.append(f"{k} {m[k]!r} invalid")
    if m["kind"] not in ("image", "tabular"):
        errs.append("bad kind")
    for t in ("input", "output"):
        s = m[t]
        if not s["key"] or s["dtype"] != "float32":
            errs.append(f"{t}: bad key/dtype")
        if len(s["shape"]) < 2 or s["shape"][0] != -1 or any(d <= 0 for d in s["shape"][1:]):
            errs.append(f"{t}: bad shape {s['shape']}")
    item = 1
    for d in m["input"]["shape"][1:]:
        item *= d
    if len(m["output"]["shape"]) != 2 or len(m["labels"]) != m["output"]["shape"][1]:
        errs.append("labels do not match output classes")
    if m["kind"] == "tabular" and len(m.get("features") or []) != item:
        errs.append("features do not match input size")
    img = m["preprocessing"].get("image")
    if img is not None:
        if img["width"] * img["height"] * img["channels"] != item:
            errs.append("preprocessing.image does not match input size")
        if img["channels"] not in (1, 3):
            errs.append("preprocessing.image.channels must be 1 or 3")
    if m.get("top_k", 0) < 0 or m.get("chunk_size", 0) < 0 or m.get("max_batch", 0) < 0:
        errs.append("negative top_k/chunk_size/max_batch")
    errs += _example_errors(m, item)
    if errs:
        raise ValueError(f"invalid metadata for {m['name']}: " + "; ".join(errs))


def _example_errors(m: dict[str, Any], item: int) -> list[str]:
    """Mirrors Metadata.checkExamples in model/examples.go."""
    import math

    lo, hi = m["input"].get("min"), m["input"].get("max")

    def bad(v: float) -> bool:
        return not math.isfinite(v) or (lo is not None and v < lo) or (hi is not None and v > hi)

    errs = []
    ranges = m.get("feature_ranges") or []
    if ranges and len(ranges) != item:
        errs.append("feature_ranges do not match input size")
    for i, r in enumerate(ranges):
        if any(bad(r[k]) for k in ("min", "typical", "max")) or not r["min"] <= r["typical"] <= r["max"]:
            errs.append(f"feature_ranges[{i}] invalid: {r}")
    examples = m.get("examples") or []
    if len(examples) > 16:
        errs.append("more than 16 examples")
    for i, e in enumerate(examples):
        if e["label"] not in m["labels"] or len(e["values"]) != item or any(bad(v) for v in e["values"]):
            errs.append(f"examples[{i}] invalid")
    return errs


def export_savedmodel(keras_model, spec: Spec, out_root: Path) -> Path:
    """Exports keras_model as a SavedModel with one `serving_default` signature
    {spec.input_key: float32 spec.input_shape} -> {spec.output_key: probabilities}.

    A plain tf.Module with an explicit input_signature is saved (rather than a
    Keras export) so the signature keys are exactly the ones in metadata.json.
    The directory is written next to its destination and renamed into place.
    """
    import tensorflow as tf

    shape = [None] + list(spec.input_shape[1:])
    in_key, out_key = spec.input_key, spec.output_key

    model = keras_model

    class Serving(tf.Module):
        def __init__(self):
            super().__init__(name=f"{spec.name}_serving")
            # Track the model's own variables only (not the Keras object, which
            # would drag its optimizer state into the checkpoint).
            self.model_variables = [getattr(v, "value", v) for v in model.variables]

        @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32, name=in_key)])
        def serve(self, x):
            return {out_key: tf.identity(model(x, training=False), name=out_key)}

    module = Serving()
    assert all(isinstance(v, tf.Variable) for v in module.model_variables)
    dest = out_root / spec.name / spec.version
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tf.saved_model.save(module, str(tmp), signatures={"serving_default": module.serve})
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def load_serving(path: Path, spec: Spec):
    """Reloads an exported SavedModel and checks its signature keys."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    sig = loaded.signatures["serving_default"]
    _, kwargs = sig.structured_input_signature
    if set(kwargs) != {spec.input_key}:
        raise AssertionError(f"{spec.name}: signature inputs {sorted(kwargs)} != [{spec.input_key}]")
    ts = kwargs[spec.input_key]
    if ts.dtype != tf.float32 or ts.shape.as_list() != [None] + spec.input_shape[1:]:
        raise AssertionError(f"{spec.name}: signature input spec {ts}")
    if set(sig.structured_outputs) != {spec.output_key}:
        raise AssertionError(f"{spec.name}: signature outputs {sorted(sig.structured_outputs)} != [{spec.output_key}]")
    return loaded, sig


def check_session_api(path: Path, spec: Spec, x, expected, atol: float = 1e-5) -> dict[str, str]:
    """Runs the SavedModel the way the Go worker does (TF1 session API, as the C
    API's TF_LoadSessionFromSavedModel): feed and fetch the signature's tensor
    names from the MetaGraphDef. Returns {key: tensor name}."""
    import numpy as np
    import tensorflow as tf

    with tf.Graph().as_default() as g, tf.compat.v1.Session(graph=g) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], str(path))
        sig = meta.signature_def["serving_default"]
        in_name = sig.inputs[spec.input_key].name
        out_name = sig.outputs[spec.output_key].name
        got = sess.run(out_name, feed_dict={in_name: np.asarray(x, dtype=np.float32)})
    np.testing.assert_allclose(got, expected, atol=atol)
    return {spec.input_key: in_name, spec.output_key: out_name}


def predict(sig, spec: Spec, x, batch: int = 256):
    """Runs the serving signature in chunks; returns float32 probabilities."""
    import numpy as np
    import tensorflow as tf

    outs = []
    for i in range(0, len(x), batch):
        xb = tf.constant(np.asarray(x[i : i + batch], dtype=np.float32))
        outs.append(sig(**{spec.input_key: xb})[spec.output_key].numpy())
    return np.concatenate(outs, axis=0)


def write_json(path: Path, obj: Any, compact_lists: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if compact_lists:
        # One item per line: readable diffs, still small.
        assert isinstance(obj, list)
        text = "[\n" + ",\n".join(json.dumps(o, separators=(",", ":")) for o in obj) + "\n]\n"
    else:
        text = json.dumps(obj, indent=2) + "\n"
    path.write_text(text)


def write_metadata_and_card(dest: Path, spec: Spec, card: str) -> dict[str, Any]:
    import tensorflow as tf

    m = spec.metadata(tf.__version__)
    validate_metadata(m)
    write_json(dest / "metadata.json", m)
    (dest / "MODEL_CARD.md").write_text(card.strip() + "\n")
    return m


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def export_untrained(keras_model, spec: Spec, out_root: Path, x, card: Callable[[Spec], str]) -> dict[str, Any]:
    """Exports a benchmark-only model whose weights are random, checks it on x
    (one probability row per input, each summing to 1, the same through the
    SavedModel, Keras and the session API) and writes its metadata and
    card(spec), with its parameter count as its metric."""
    import numpy as np

    dest = export_savedmodel(keras_model, spec, out_root)
    _, sig = load_serving(dest, spec)
    probs = predict(sig, spec, x)
    assert probs.shape == (len(x), len(spec.labels)), probs.shape
    assert np.all(np.isfinite(probs)), "non-finite outputs"
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(probs, keras_model.predict(x, verbose=0), atol=1e-5)
    tensors = check_session_api(dest, spec, x, probs, atol=1e-4)
    spec.metrics = {"parameters": int(keras_model.count_params())}
    write_metadata_and_card(dest, spec, card(spec))
    return {"name": spec.name, "path": dest, "metrics": spec.metrics, "size": dir_size(dest), "tensors": tensors}
