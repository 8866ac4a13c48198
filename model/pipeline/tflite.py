"""Exports `model.tflite` beside each SavedModel and writes the parity fixtures.

Run from model/ (`make tflite` does this; `make models` runs it after training):

    python -m pipeline.tflite --models models [--only digits,breast_cancer]

Each models/<name>/<version>/saved_model.pb is converted with the pinned
TensorFlow's TFLite converter, float32 and TFLite builtin ops only (what the
LiteRT worker runs), from its `serving_default` signature, so the TFLite model
has the same signature keys. The result is checked against the SavedModel with
TensorFlow's own TFLite interpreter before it replaces model.tflite.

Fixtures for the Go parity tests (model/testdata):
  digits_all.txt            all 1,797 scikit-learn digits: "label 64-base-17-chars" a line
  breast_cancer_test.csv    the 143-item test split (raw features, then label)
  unsupported_op.tflite     a tiny model with a custom op LiteRT does not have
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import common

HERE = Path(__file__).resolve().parent
CHECKED = ("digits", "breast_cancer")  # the models export() has check inputs for
DIGITS17 = "0123456789abcdefg"  # digits pixel values are integers 0..16


def convert(version_dir: Path) -> bytes:
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_saved_model(str(version_dir), signature_keys=["serving_default"])
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    conv.optimizations = []  # float32: scores must match the SavedModel within 1e-5
    return conv.convert()


def check(version_dir: Path, tflite: bytes, x: np.ndarray, atol: float = 1e-5) -> float:
    """Runs x through the SavedModel and the TFLite model; returns the largest
    difference, failing over atol or on a different class."""
    import tensorflow as tf

    sig = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    (in_key,) = sig.structured_input_signature[1].keys()
    (out_key,) = sig.structured_outputs.keys()
    want = sig(**{in_key: tf.constant(x)})[out_key].numpy()

    runner = tf.lite.Interpreter(model_content=tflite).get_signature_runner("serving_default")
    got = runner(**{in_key: x})[out_key]
    diff = float(np.abs(got - want).max())
    if diff > atol or (got.argmax(axis=1) != want.argmax(axis=1)).any():
        raise SystemExit(f"{version_dir}: TFLite differs from the SavedModel by {diff:g}")
    return diff


def digits_inputs():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.float32)[..., np.newaxis], d.target


def breast_cancer_test():
    from sklearn.model_selection import train_test_split

    from . import breast_cancer

    df, features, _ = breast_cancer.load_frame()
    _, test_df = train_test_split(df, test_size=common.TEST_SIZE, stratify=df["target"], random_state=common.SEED)
    return test_df, features


def write_fixtures(testdata: Path) -> None:
    x, y = digits_inputs()
    lines = [f"{label} " + "".join(DIGITS17[int(v)] for v in img.reshape(-1)) for img, label in zip(x, y)]
    (testdata / "digits_all.txt").write_text("\n".join(lines) + "\n")
    test_df, features = breast_cancer_test()
    test_df[features + ["target"]].to_csv(testdata / "breast_cancer_test.csv", index=False)
    (testdata / "unsupported_op.tflite").write_bytes(flex_model())


def flex_model() -> bytes:
    """A serving_default [-1, 4] -> [-1, 4] model whose only op is a custom op,
    Erfinv, that no TFLite runtime has built in."""
    import tempfile

    import tensorflow as tf

    class Erfinv(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def serve(self, x):
            return {"y": tf.raw_ops.Erfinv(x=x)}

    m = Erfinv()
    with tempfile.TemporaryDirectory() as tmp:
        tf.saved_model.save(m, tmp, signatures={"serving_default": m.serve})
        conv = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=["serving_default"])
        conv.allow_custom_ops = True
        return conv.convert()


def inputs_for(name: str) -> np.ndarray:
    if name == "digits":
        return digits_inputs()[0]
    if name == "breast_cancer":
        test_df, features = breast_cancer_test()
        return test_df[features].to_numpy(np.float32)
    raise SystemExit(f"no check inputs for {name}")


def export(version_dir: Path) -> Path:
    """Converts version_dir's SavedModel, checks it and writes model.tflite."""
    tflite = convert(version_dir)
    diff = check(version_dir, tflite, inputs_for(version_dir.parent.name))
    out = version_dir / "model.tflite"
    tmp = out.with_suffix(".tflite.tmp")
    tmp.write_bytes(tflite)
    tmp.rename(out)
    print(f"  {out}  {len(tflite) / 1024:.1f} KiB, max |TFLite - SavedModel| = {diff:.2g}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pipeline.tflite", description=__doc__.split("\n")[0])
    p.add_argument("--models", type=Path, default=HERE.parent / "models", help="models root")
    p.add_argument("--only", default=",".join(CHECKED), help="comma-separated models")
    p.add_argument("--testdata", type=Path, default=HERE.parent / "testdata", help="where to write Go test fixtures")
    p.add_argument("--no-testdata", action="store_true", help="do not write test fixtures")
    args = p.parse_args(argv)
    common.configure_tensorflow(1)
    for name in [n.strip() for n in args.only.split(",") if n.strip()]:
        for version_dir in sorted((args.models / name).iterdir()):
            if (version_dir / "saved_model.pb").is_file():
                export(version_dir)
    if not args.no_testdata:
        write_fixtures(args.testdata)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
