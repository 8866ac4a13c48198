"""`digits`: a small CNN on scikit-learn's 8x8 handwritten digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import common
from .common import SEED, TEST_SIZE, Spec

NAME, VERSION = "digits", "1"
EPOCHS = 60
DROPOUT = 0.5
BATCH = 32
SAMPLES_PER_CLASS = 2  # testdata/digits_samples.json: 2 x 10 classes
NDJSON_ITEMS = 50
PNG_LABEL = 7
PNG_SCALE = 4  # digits_7.png is 32x32: each dataset pixel is a 4x4 block


def spec() -> Spec:
    return Spec(
        name=NAME,
        version=VERSION,
        description="Handwritten digit classifier (0-9) for 8x8 grayscale images on the "
        "scikit-learn digits scale (0 = background, 16 = full ink). Small CNN.",
        kind="image",
        input_key="pixels",
        input_shape=[-1, 8, 8, 1],
        input_min=0.0,
        input_max=16.0,
        output_key="probabilities",
        labels=[str(i) for i in range(10)],
        note="8x8 grayscale, 0 = background, 16 = full ink (scikit-learn digits scale)",
        image={"width": 8, "height": 8, "channels": 1, "invert": True, "range_min": 0, "range_max": 16},
        top_k=3,
        chunk_size=1024,
    )


def load_data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = d.images.astype(np.float32)[..., np.newaxis]  # (1797, 8, 8, 1), 0..16
    y = d.target.astype(np.int64)
    return train_test_split(x, y, test_size=TEST_SIZE, stratify=y, random_state=SEED)


def build_model():
    import tensorflow as tf

    L = tf.keras.layers
    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=(8, 8, 1), name="pixels"),
            L.Rescaling(1.0 / 16.0, name="rescale_0_16"),
            L.Conv2D(16, 3, padding="same", activation="relu"),
            L.Conv2D(32, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(32, 3, padding="same", activation="relu"),
            L.Flatten(),
            L.Dropout(DROPOUT, seed=SEED),
            L.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="digits_cnn",
    )


def run(out_root: Path, testdata: Path | None) -> dict:
    import tensorflow as tf
    from sklearn.metrics import accuracy_score, confusion_matrix, log_loss

    common.seed_everything()
    x_train, x_test, y_train, y_test = load_data()
    model = build_model()
    model.compile(
        optimizer=tf.keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, shuffle=True, verbose=0)
    keras_probs = model.predict(x_test, batch_size=256, verbose=0)

    s = spec()
    dest = common.export_savedmodel(model, s, out_root)

    # Verify the exported SavedModel, not the in-memory Keras model.
    _, sig = common.load_serving(dest, s)
    probs = common.predict(sig, s, x_test)
    assert probs.shape == (len(x_test), 10), probs.shape
    np.testing.assert_allclose(probs, keras_probs, atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    tensors = common.check_session_api(dest, s, x_test[:64], probs[:64])
    pred = probs.argmax(axis=1)
    acc = float(accuracy_score(y_test, pred))
    if acc < 0.97:
        raise SystemExit(f"digits: test accuracy {acc:.4f} below the required 0.97")
    s.metrics = {
        "test_accuracy": round(acc, 4),
        "test_log_loss": round(float(log_loss(y_test, probs, labels=list(range(10)))), 4),
        "train_items": len(x_train),
        "test_items": len(x_test),
    }
    cm = confusion_matrix(y_test, pred)
    common.write_metadata_and_card(dest, s, model_card(s, model.count_params(), cm))

    if testdata is not None:
        write_testdata(testdata, sig, s, x_test, y_test, probs)
    return {"name": NAME, "path": dest, "metrics": s.metrics, "size": common.dir_size(dest), "tensors": tensors}


def write_testdata(testdata: Path, sig, s: Spec, x_test, y_test, probs) -> None:
    import tensorflow as tf

    pred = probs.argmax(axis=1)
    ok = np.flatnonzero(pred == y_test)

    samples = []
    for c in range(10):
        for i in [i for i in ok if y_test[i] == c][:SAMPLES_PER_CLASS]:
            samples.append(
                {
                    "pixels": [float(v) for v in x_test[i].reshape(-1)],
                    "label": int(y_test[i]),
                    "probabilities": [float(p) for p in probs[i]],
                }
            )
    common.write_json(testdata / "digits_samples.json", samples, compact_lists=True)

    # One input item per line, as the API takes it: a bare array of 64 numbers.
    lines = [
        "[" + ",".join(str(int(v)) for v in x_test[i].reshape(-1)) + "]" for i in range(NDJSON_ITEMS)
    ]
    (testdata / "digits_sample.ndjson").write_text("\n".join(lines) + "\n")

    # A test-split 7, drawn dark-on-light as a 32x32 8-bit grayscale PNG. The Go
    # preprocessing (area-resize to 8x8, invert, scale 0..255 -> 0..16) maps it
    # back to (almost exactly) the dataset values; check the model agrees.
    for i in ok:
        if y_test[i] != PNG_LABEL:
            continue
        img = np.rint(255.0 - x_test[i, :, :, 0] * (255.0 / 16.0)).astype(np.uint8)
        big = np.kron(img, np.ones((PNG_SCALE, PNG_SCALE), dtype=np.uint8))
        back = (255.0 - big.reshape(8, PNG_SCALE, 8, PNG_SCALE).mean(axis=(1, 3))) * (16.0 / 255.0)
        p = common.predict(sig, s, back.reshape(1, 8, 8, 1))
        if int(p.argmax()) != PNG_LABEL or p.max() < 0.9:
            continue
        png = tf.io.encode_png(tf.constant(big[..., np.newaxis])).numpy()
        (testdata / f"digits_{PNG_LABEL}.png").write_bytes(png)
        common.write_json(testdata / "images.json", [{"file": f"digits_{PNG_LABEL}.png", "label": PNG_LABEL}])
        break
    else:
        raise SystemExit("digits: no suitable test image for the PNG fixture")


def model_card(s: Spec, params: int, cm) -> str:
    m = s.metrics
    cm_rows = "\n".join("    " + " ".join(f"{v:3d}" for v in row) for row in cm)
    return f"""
# Model card: `digits` version 1

## What it is
A small convolutional network that classifies 8x8 grayscale images of handwritten
digits into the ten classes `0`..`9`. Output: softmax probabilities.

## Data
scikit-learn's bundled `load_digits` (UCI optical recognition of handwritten digits,
1,797 images of 8x8 pixels, values 0..16, 0 = background, 16 = full ink).
Stratified split, 25 % test, `random_state=42`: {m['train_items']} training and
{m['test_items']} test images. No augmentation.

## Architecture
Input `pixels` float32 `[-1, 8, 8, 1]` of raw 0..16 values -> Rescaling(1/16) ->
Conv2D(16, 3x3, ReLU) -> Conv2D(32, 3x3, ReLU) -> MaxPool(2) -> Conv2D(32, 3x3, ReLU) ->
Flatten -> Dropout({DROPOUT}, training only) -> Dense(10, softmax) = output `probabilities`
float32 `[-1, 10]`. {params:,} parameters. Adam (lr 1e-3), sparse categorical
cross-entropy, {EPOCHS} epochs, batch {BATCH}. Epochs and dropout were picked from a
handful of settings; there is no separate validation split, so the test accuracy below is
slightly optimistic.

Serving signature `serving_default`: `pixels` -> `probabilities`.

## Metrics (held-out test split, measured on the exported SavedModel)
- Test accuracy: **{m['test_accuracy']:.4f}**
- Test log loss: {m['test_log_loss']:.4f}

Confusion matrix (rows = true 0..9, columns = predicted 0..9):

```
{cm_rows}
```

## Intended use
Demonstrations and tests of the batch inference system: JSON/NDJSON arrays of 64
values, or small images of a single digit (the worker converts them: grayscale,
area-resize to 8x8, invert dark-on-light, scale 0..255 to 0..16).

## Limits
- Trained on 1,347 tiny, centred, size-normalised digits from a few dozen writers;
  photographs, off-centre or thin strokes, or digits that do not fill the frame
  will be misclassified far more often than the test accuracy suggests.
- Always predicts one of 0..9; there is no "not a digit" class, and probabilities are
  not calibrated for out-of-distribution inputs.
- Inputs outside 0..16 are not meaningful.

## How to reproduce
`make models` (or, from `model/`: `./setup-venv.sh && .venv/bin/python -m pipeline.train
--out models --only digits`). Seeds are fixed (`tf.keras.utils.set_random_seed(42)`, op
determinism, single-threaded ops), so a rerun with the pinned `requirements.txt` gives
the same weights. Exported with tensorflow-cpu 2.18.0.
"""
