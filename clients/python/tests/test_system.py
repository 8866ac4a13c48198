"""The package, installed from its wheel, against the real system."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import batchinfer
from batchinfer import APIError

from helpers import TESTDATA, digit_samples, drop


def test_predict_numpy_array(client: batchinfer.Client) -> None:
    s = digit_samples()[:8]
    x = np.array([d["pixels"] for d in s], dtype=np.float32).reshape(-1, 8, 8, 1)
    items = client.predict(x, model="digits", timeout=5)
    assert [it.index for it in items] == list(range(8))
    assert sum(it.class_ == d["label"] for it, d in zip(items, s)) >= 7
    assert all(it.ok and it.probabilities is not None and len(it.probabilities) == 10 for it in items)
    assert items[0].top is not None and items[0].top[0].label == items[0].label


def test_errors_carry_code_and_status(client: batchinfer.Client) -> None:
    with pytest.raises(APIError) as e:
        client.predict([[0.0] * 64], model="nope")
    assert (e.value.code, e.value.status) == ("unknown_model", 404)
    with pytest.raises(APIError) as e:
        client.predict([[1.0, 2.0]], model="digits")
    assert (e.value.code, e.value.status) == ("invalid_input", 400) and e.value.details
    with pytest.raises(APIError) as e:
        batchinfer.Client(client.url, "bik_wrong").models()
    assert (e.value.code, e.value.status) == ("unauthorized", 401)


def test_dataframe_job_watched_then_as_pandas(client: batchinfer.Client) -> None:
    df = pd.read_csv(TESTDATA / "breast_cancer_sample.csv")
    job = client.submit(df, model="breast_cancer", name="sample")
    seen: list[int] = []
    for ev in job.watch():
        seen += [it.index for it in ev.items]
    assert sorted(seen) == list(range(len(df)))
    assert job.status.state == "completed" and job.status.done == len(df)
    out = job.to_pandas()
    assert len(out) == len(df) and set(out["status"]) == {"ok"}
    assert {"index", "label", "class", "score", "p_malignant", "p_benign"} <= set(out.columns)
    assert list(out["class"]) == [it.class_ for it in job.results()]


def test_ndarray_and_items_jobs(client: batchinfer.Client) -> None:
    x = np.array([d["pixels"] for d in digit_samples()], dtype=np.float64)
    job = client.submit(x, model="digits")
    assert job.wait().state == "completed" and job.status.done == len(x)
    items = client.submit([[0.0] * 64, [1.0, 2.0]], model="digits", max_invalid=1)
    st = items.wait()
    assert (st.done, st.failed) == (1, 1)
    ids = {j.id for j in client.jobs(model="digits", limit=2)}
    assert {job.id, items.id} <= ids


def test_ndarray_dtypes_give_the_same_predictions(client: batchinfer.Client) -> None:
    """uint8 goes one byte a value; float16 and big-endian arrays as float32."""
    px = np.array([d["pixels"] for d in digit_samples()], dtype=np.float32)
    want = [r.class_ for r in client.submit(px, model="digits").results()]
    for dt in (np.uint8, np.float16, np.dtype(">f4"), np.int64):
        job = client.submit(px.astype(dt), model="digits")
        assert [r.class_ for r in job.results()] == want, dt


def drop_at_a_third() -> Callable[[int, int], None]:
    """A progress callback that cuts the connections once, a third in."""
    done: list[bool] = []

    def progress(sent: int, total: int) -> None:
        if not done and total > 0 and sent > total // 3:
            done.append(True)
            drop()
    return progress


def test_submit_upload_watch_download_resume(proxied: batchinfer.Client, tmp_path: Path) -> None:
    """A file over the upload threshold goes up with tus; the connections
    are cut during the upload, the watch and the download; every step goes
    on, and the files hold every item once."""
    rows = [d["pixels"] for d in digit_samples()] * 300
    rows[10] = [1, 2]  # one invalid row
    src = tmp_path / "rows.ndjson"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    job = proxied.submit(src, model="digits", max_invalid=5, progress=drop_at_a_third())
    seen: list[int] = []
    reconnects = 0
    for n, ev in enumerate(job.watch()):
        if n == 2:
            drop()
        reconnects += ev.type == "reconnect"
        seen += [it.index for it in ev.items]
    assert sorted(seen) == list(range(len(rows))) and reconnects >= 1
    assert (job.status.state, job.status.done, job.status.failed) == ("completed", len(rows) - 1, 1)
    out = job.download(tmp_path / "out.ndjson", progress=drop_at_a_third())
    lines = out.read_text().splitlines()
    assert len(lines) == len(rows) and json.loads(lines[10])["error"]
    assert not (tmp_path / "out.ndjson.part").exists()


def test_run_end_to_end(client: batchinfer.Client, tmp_path: Path) -> None:
    src = tmp_path / "rows.csv"
    src.write_text((TESTDATA / "breast_cancer_sample.csv").read_text() + "1,2\n")
    job = client.run(src, model="breast_cancer", output=tmp_path / "predictions.csv", max_invalid=1)
    assert job.output_path is not None and job.errors_path is not None
    assert job.errors_path.name == "predictions.errors.csv"
    out = pd.read_csv(job.output_path)
    assert len(out) == job.status.total and (out["status"] == "failed").sum() == 1
