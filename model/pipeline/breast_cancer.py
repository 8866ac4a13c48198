"""`breast_cancer`: a small MLP on scikit-learn's Wisconsin diagnostic breast cancer data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import common
from .common import SEED, TEST_SIZE, Spec

NAME, VERSION = "breast_cancer", "1"
EPOCHS = 60
BATCH = 32
SAMPLES_PER_CLASS = 10  # testdata/breast_cancer_samples.json: 10 x 2 classes
CSV_ROWS = 50


def load_frame():
    """The dataset as a pandas DataFrame: 30 feature columns + `target`."""
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer(as_frame=True)
    df = d.frame.copy()
    df["target"] = df["target"].astype(np.int64)
    return df, list(d.feature_names), [str(n) for n in d.target_names]


def feature_summary(train_df, features: list[str], labels: list[str]) -> tuple[list[dict], list[dict]]:
    """What metadata.json says of the inputs, from the training split only:
    per feature its least, greatest and median value, and for each class
    the training case nearest that class's medians (in standard deviations,
    over all features) as an example to try."""
    x = train_df[features].astype(np.float64)
    ranges = [
        {"min": float(x[f].min()), "max": float(x[f].max()), "typical": round(float(x[f].median()), 6)}
        for f in features
    ]
    z = (x - x.mean()) / x.std()
    examples = []
    for c, label in enumerate(labels):
        of_class = train_df["target"] == c
        dist = ((z[of_class] - z[of_class].median()) ** 2).sum(axis=1)
        row = x.loc[dist.idxmin()]
        examples.append({"label": label, "values": [float(v) for v in row]})
    return ranges, examples


def spec(features: list[str], labels: list[str], train_df=None) -> Spec:
    ranges, examples = feature_summary(train_df, features, labels) if train_df is not None else (None, None)
    return Spec(
        name=NAME,
        version=VERSION,
        description="Breast tumour classifier (malignant / benign) from the 30 raw "
        "Wisconsin diagnostic cell-nucleus features; standardisation is inside the model.",
        kind="tabular",
        input_key="features",
        input_shape=[-1, len(features)],
        output_key="probabilities",
        labels=labels,
        features=features,
        # Every feature is a non-negative measurement (sizes, counts, errors).
        input_min=0.0,
        feature_ranges=ranges,
        examples=examples,
        note="30 raw feature values in the order of `features` (scikit-learn "
        "load_breast_cancer units); the model standardises them itself",
        top_k=2,
        chunk_size=256,
    )


def build_model(x_train):
    import tensorflow as tf

    L = tf.keras.layers
    norm = L.Normalization(axis=-1, name="standardise")
    norm.adapt(x_train)  # mean/variance of the training split only
    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=(x_train.shape[1],), name="features"),
            norm,
            L.Dense(16, activation="relu"),
            L.Dropout(0.2, seed=SEED),
            L.Dense(2, activation="softmax", name="probabilities"),
        ],
        name="breast_cancer_mlp",
    )


def run(out_root: Path, testdata: Path | None) -> dict:
    import tensorflow as tf
    from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, roc_auc_score
    from sklearn.model_selection import train_test_split

    common.seed_everything()
    df, features, labels = load_frame()
    train_df, test_df = train_test_split(df, test_size=TEST_SIZE, stratify=df["target"], random_state=SEED)
    x_train = train_df[features].to_numpy(np.float32)
    y_train = train_df["target"].to_numpy()
    x_test = test_df[features].to_numpy(np.float32)
    y_test = test_df["target"].to_numpy()

    model = build_model(x_train)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, shuffle=True, verbose=0)
    keras_probs = model.predict(x_test, batch_size=256, verbose=0)

    s = spec(features, labels, train_df)
    dest = common.export_savedmodel(model, s, out_root)

    _, sig = common.load_serving(dest, s)
    probs = common.predict(sig, s, x_test)
    assert probs.shape == (len(x_test), 2), probs.shape
    np.testing.assert_allclose(probs, keras_probs, atol=1e-5)
    tensors = common.check_session_api(dest, s, x_test, probs)
    pred = probs.argmax(axis=1)
    acc = float(accuracy_score(y_test, pred))
    s.metrics = {
        "test_accuracy": round(acc, 4),
        "test_roc_auc": round(float(roc_auc_score(y_test, probs[:, 1])), 4),
        "test_log_loss": round(float(log_loss(y_test, probs, labels=[0, 1])), 4),
        "train_items": len(x_train),
        "test_items": len(x_test),
    }
    cm = confusion_matrix(y_test, pred)
    counts = df["target"].value_counts().sort_index()
    common.write_metadata_and_card(dest, s, model_card(s, model.count_params(), cm, labels, counts))

    if testdata is not None:
        ok = np.flatnonzero(pred == y_test)
        raw_test = test_df[features].to_numpy(np.float64)  # as in the dataset, not float32-rounded
        samples = []
        for c in range(2):
            for i in [i for i in ok if y_test[i] == c][:SAMPLES_PER_CLASS]:
                samples.append(
                    {
                        "features": [float(v) for v in raw_test[i]],
                        "label": int(y_test[i]),
                        "probabilities": [float(p) for p in probs[i]],
                    }
                )
        common.write_json(testdata / "breast_cancer_samples.json", samples, compact_lists=True)
        # Raw values, header = the 30 feature names, for CSV-upload tests.
        test_df[features].head(CSV_ROWS).to_csv(testdata / "breast_cancer_sample.csv", index=False)
    return {"name": NAME, "path": dest, "metrics": s.metrics, "size": common.dir_size(dest), "tensors": tensors}


def model_card(s: Spec, params: int, cm, labels, counts) -> str:
    m = s.metrics
    return f"""
# Model card: `breast_cancer` version 1

## What it is
A small multilayer perceptron that classifies a breast mass as `malignant` or
`benign` from 30 numeric features computed from a digitised image of a fine-needle
aspirate. Output: softmax probabilities in the order `{labels}` (scikit-learn's
`target_names`).

## Data
scikit-learn's bundled `load_breast_cancer` (Wisconsin Diagnostic Breast Cancer,
569 cases: {counts[0]} malignant, {counts[1]} benign), loaded as a pandas DataFrame.
Stratified split, 25 % test, `random_state=42`: {m['train_items']} training and
{m['test_items']} test cases.

## Architecture
Input `features` float32 `[-1, 30]` of RAW feature values, in the order listed in
`metadata.json` `features` -> Normalization (mean/variance adapted on the training
split only, stored in the model) -> Dense(16, ReLU) -> Dropout(0.2, training only) ->
Dense(2, softmax) = output `probabilities` float32 `[-1, 2]`. {params:,} weights
(including the normalisation statistics). Adam (lr 1e-3), sparse categorical
cross-entropy, {EPOCHS} epochs, batch {BATCH}.

Serving signature `serving_default`: `features` -> `probabilities`.

## Metrics (held-out test split, measured on the exported SavedModel)
- Test accuracy: **{m['test_accuracy']:.4f}**
- Test ROC AUC (benign as positive): {m['test_roc_auc']:.4f}
- Test log loss: {m['test_log_loss']:.4f}

Confusion matrix (rows = true, columns = predicted; malignant, benign):

```
    {cm[0][0]:3d} {cm[0][1]:3d}
    {cm[1][0]:3d} {cm[1][1]:3d}
```

## Intended use
Demonstrations and tests of the batch inference system with tabular input (JSON
arrays of 30 numbers or CSV uploads with the feature names as header).

## Limits
- NOT a medical device and not for diagnosis: a small, old (1995), single-centre
  dataset; no clinical validation, no calibration study.
- Features must be computed exactly as in the original dataset and given in the
  original units; values far outside the training range give unreliable outputs.

## How to reproduce
`make models` (or, from `model/`: `./setup-venv.sh && .venv/bin/python -m pipeline.train
--out models --only breast_cancer`). Seeds are fixed (`tf.keras.utils.set_random_seed(42)`,
op determinism, single-threaded ops), so a rerun with the pinned `requirements.txt` gives
the same weights. Exported with tensorflow-cpu 2.18.0.
"""
