"""The client of the batchinfer gateway (HTTP API, WebSocket, tus uploads)."""

from __future__ import annotations

import io
import json
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ._errors import APIError, error_from
from ._models import ItemResult, JobLinks, JobStatus, ModelInfo
from ._transfer import download_file, upload_file
from ._watch import Event, watch

T = TypeVar("T")

#: How long calls that are safe to repeat keep trying a gateway that cannot
#: be reached or says it is restarting or busy.
DEFAULT_RETRY_FOR = 60.0

#: Inputs larger than this (bytes) go through the resumable uploads first.
DEFAULT_UPLOAD_THRESHOLD = 32 << 20

CONTENT_TYPES = {".ndjson": "application/x-ndjson", ".jsonl": "application/x-ndjson", ".csv": "text/csv",
                 ".npy": "application/x-npy", ".f32": "application/octet-stream", ".bin": "application/octet-stream"}

Data = Any  # a pandas DataFrame, a numpy array, a path, or a sequence of items


def _temporary(err: Exception) -> bool:
    if isinstance(err, APIError):
        return err.temporary
    return isinstance(err, httpx.TransportError)


class Client:
    """A client of one gateway with one API key.

    ``url`` and ``key`` default to the environment's ``BATCHINFER_URL`` and
    ``BATCHINFER_API_KEY``. Every error the gateway answers is an
    :class:`APIError`. Reads, cancels, predictions, idempotent submissions,
    uploads, downloads and watches are retried for ``retry_for`` seconds
    while the gateway cannot be reached or is busy; uploads, downloads and
    watches go on from where they stopped.
    """

    def __init__(self, url: str | None = None, key: str | None = None, *, retry_for: float = DEFAULT_RETRY_FOR,
                 timeout: float = 300.0, upload_threshold: int = DEFAULT_UPLOAD_THRESHOLD) -> None:
        self.url = (url or os.environ.get("BATCHINFER_URL") or "http://127.0.0.1:8000").rstrip("/")
        self.key = key if key is not None else os.environ.get("BATCHINFER_API_KEY", "")
        self.retry_for = retry_for
        self.upload_threshold = upload_threshold
        headers = {"User-Agent": "batchinfer-python/1.0.0"}
        if self.key:
            headers["Authorization"] = "Bearer " + self.key
        self.headers = headers
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- plumbing

    def retrying(self, f: Callable[[], T], retry: bool = True) -> T:
        """Run f until it succeeds, fails for good, or retry_for has passed
        since its first failure."""
        until = None
        wait = 0.1
        while True:
            try:
                return f()
            except (APIError, httpx.TransportError) as err:
                if not retry or not _temporary(err):
                    raise
                now = time.monotonic()
                until = until or now + self.retry_for
                pause = err.retry_after if isinstance(err, APIError) and err.retry_after else wait * random.uniform(0.75, 1.25)
                if now + pause > until:
                    raise
                time.sleep(pause)
                wait = min(wait * 2, 2.0)

    def request(self, method: str, path: str, *, retry: bool = True, **kw: Any) -> httpx.Response:
        """One call of the API: its answer when 2xx, else an APIError."""
        def once() -> httpx.Response:
            r = self.http.request(method, path, **kw)
            if r.status_code // 100 != 2:
                raise error_from(r)
            return r
        return self.retrying(once, retry)

    def get_json(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None}).json()

    # ---------------------------------------------------------------- models

    def models(self) -> list[ModelInfo]:
        """Every served model version."""
        return [ModelInfo.from_dict(m) for m in self.get_json("/v1/models")["models"]]

    def model(self, name: str) -> list[ModelInfo]:
        """The versions of one model."""
        return [ModelInfo.from_dict(m) for m in self.get_json(f"/v1/models/{name}")["versions"]]

    def predict(self, inputs: Data, model: str, *, version: str | None = None,
                timeout: float | None = None) -> list[ItemResult]:
        """Predict inputs now (at most the gateway's GATEWAY_MAX_SYNC_ITEMS):
        a numpy array of n items, a DataFrame of features, or a sequence of
        items (arrays of numbers, ``{"features": {...}}``, ``{"image": ...}``)."""
        params: dict[str, str] = {}
        if version:
            params["version"] = version
        if timeout:
            params["timeout"] = f"{int(timeout * 1000)}ms"
        body = {"inputs": _items(inputs)}
        r = self.request("POST", f"/v1/models/{model}/predict", params=params, json=body)
        return [ItemResult.from_dict(it) for it in r.json()["items"]]

    # ---------------------------------------------------------------- jobs

    def submit(self, data: Data, model: str, *, version: str | None = None, name: str | None = None,
               priority: str | None = None, deadline: str | None = None, webhook: str | None = None,
               id_column: str | None = None, max_invalid: int | None = None, idempotency_key: str | None = None,
               progress: Callable[[int, int], None] | None = None) -> Job:
        """Queue a job of data: a pandas DataFrame (sent as CSV, its columns
        the model's features), a numpy array (.npy), a file path (NDJSON, CSV,
        .npy or raw float32, by its extension) or a sequence of items (JSON).
        An input over ``upload_threshold`` bytes goes through the resumable
        uploads first (tus, with tuspy): a dropped connection or a gateway
        restart resumes it; ``progress(sent, total)`` follows it."""
        q = {"model": model, "version": version, "name": name, "priority": priority, "deadline": deadline,
             "webhook": webhook, "id_column": id_column, "max_invalid": max_invalid}
        params = {k: str(v) for k, v in q.items() if v is not None}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        with _Body(data, self.upload_threshold) as (ct, path, blob):
            if path is not None and (os.path.getsize(path) > self.upload_threshold or ct == ""):
                return self._submit_upload(path, ct, params, headers, progress)
            if path is not None:
                params.setdefault("name", os.path.basename(path))
                with open(path, "rb") as f:
                    r = self.request("POST", "/v1/jobs", retry=False, params=params, headers={**headers, "Content-Type": ct},
                                     content=f)
            else:
                r = self.request("POST", "/v1/jobs", retry=bool(idempotency_key), params=params,
                                 headers={**headers, "Content-Type": ct}, content=blob)
        return self._job(r.json())

    def _submit_upload(self, path: str, ct: str, params: dict[str, str], headers: dict[str, str],
                       progress: Callable[[int, int], None] | None) -> Job:
        upload = upload_file(self, path, ct, progress)
        params = {**params, "upload": upload}
        params.setdefault("name", os.path.basename(path))
        headers = {"Idempotency-Key": "python-" + upload, **headers}
        r = self.request("POST", "/v1/jobs", params=params, headers=headers)
        return self._job(r.json())

    def _job(self, body: dict[str, Any]) -> Job:
        return Job(self, JobStatus.from_dict(body["job"]), JobLinks.from_dict(body["links"]))

    def job(self, id: str) -> Job:
        """A job by its id."""
        body = self.get_json(f"/v1/jobs/{id}")
        return Job(self, JobStatus.from_dict(body), JobLinks.from_dict(body["links"]))

    def jobs(self, *, model: str | None = None, state: Sequence[str] | None = None,
             limit: int | None = None) -> Iterator[JobStatus]:
        """The tenant's jobs, the most recent first, page after page."""
        cursor = None
        while True:
            page = self.get_json("/v1/jobs", model=model, state=",".join(state) if state else None,
                                 limit=limit, cursor=cursor)
            for j in page["jobs"]:
                yield JobStatus.from_dict(j)
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def run(self, data: Data, model: str, *, output: str | os.PathLike[str] | None = None,
            errors: str | os.PathLike[str] | None = None, **submit: Any) -> Job:
        """End to end: submit data, follow the job to its end, then download
        its output file to ``output`` (CSV when it ends in .csv) and, when
        items failed, its errors file (``errors``, else beside the output)."""
        job = self.submit(data, model, **submit)
        job.wait()
        if output is not None:
            out = Path(output)
            job.output_path = job.download(out)
            if job.status.failed > 0:
                err = Path(errors) if errors is not None else out.with_name(out.stem + ".errors" + out.suffix)
                job.errors_path = job.download(err, errors=True)
        return job


class Job:
    """A batch job: its status, its progress over the WebSocket, its files."""

    def __init__(self, client: Client, status: JobStatus, links: JobLinks) -> None:
        self.client = client
        self.status = status
        self.links = links
        self.output_path: Path | None = None
        self.errors_path: Path | None = None

    @property
    def id(self) -> str:
        return self.status.id

    def __repr__(self) -> str:
        s = self.status
        return f"<Job {s.id} {s.state} {s.done}/{s.total} failed={s.failed} skipped={s.skipped}>"

    def refresh(self) -> JobStatus:
        """Read the job's status again."""
        self.status = JobStatus.from_dict(self.client.get_json(f"/v1/jobs/{self.id}"))
        return self.status

    def cancel(self) -> JobStatus:
        """Cancel the job: items not run are skipped."""
        r = self.client.request("POST", f"/v1/jobs/{self.id}/cancel")
        self.status = JobStatus.from_dict(r.json())
        return self.status

    def watch(self, *, after: int = 0, results: bool = True) -> Iterator[Event]:
        """Follow the job over the WebSocket until it ends: ``results``
        events (a chunk's items), ``progress`` (its status), ``reconnect``
        (the connection dropped: a new one resumes after the last sequence,
        so no item is missed or repeated), then ``end``."""
        for ev in watch(self.client, self.id, after=after, results=results):
            if ev.status is not None:
                self.status = ev.status
            yield ev

    def wait(self) -> JobStatus:
        """Follow the job's progress until it ends; its final status."""
        for ev in self.watch(results=False):
            if ev.type == "end":
                break
        return self.status

    def results(self) -> Iterator[ItemResult]:
        """Every result in index order as the items finish (a stream that
        waits for pending items until the job ends)."""
        with self.client.http.stream("GET", f"/v1/jobs/{self.id}/results", params={"format": "ndjson"}) as r:
            if r.status_code != 200:
                r.read()
                raise error_from(r)
            for line in r.iter_lines():
                if line.strip():
                    yield ItemResult.from_dict(json.loads(line))

    def download(self, path: str | os.PathLike[str], *, errors: bool = False, format: str | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Path:
        """Download the finished job's output file (or its errors file) to
        path, CSV when path ends in .csv unless format says; a cut download
        goes on with Range from ``path.part``."""
        p = Path(path)
        fmt = format or ("csv" if p.suffix.lower() == ".csv" else "ndjson")
        which = "errors" if errors else "output"
        download_file(self.client, f"/v1/jobs/{self.id}/{which}", {"format": fmt}, p, progress)
        return p

    def to_pandas(self) -> Any:
        """The finished job's output file as a pandas DataFrame: a row per
        item (index, line, id, status, label, class, score, error, and a
        p_<label> column per class for models of at most 32 classes)."""
        import pandas as pd

        with tempfile.TemporaryDirectory() as d:
            path = self.download(Path(d) / "output.csv")
            return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _items(inputs: Data) -> list[Any]:
    """Items as the API's ItemInput JSON."""
    if hasattr(inputs, "to_dict") and hasattr(inputs, "columns"):  # a DataFrame: features by name
        return [{"features": {str(k): float(v) for k, v in row.items()}} for row in inputs.to_dict(orient="records")]
    if hasattr(inputs, "tolist") and hasattr(inputs, "dtype"):  # a numpy array
        return [_flat(x) for x in inputs.tolist()]
    return [x.tolist() if hasattr(x, "tolist") else x for x in inputs]


def _flat(x: Any) -> Any:
    if isinstance(x, list) and x and isinstance(x[0], list):
        out: list[Any] = []
        for v in x:
            f = _flat(v)
            out.extend(f if isinstance(f, list) else [f])
        return out
    return x


class _Body:
    """A job's data as (content type, file path or None, bytes or None)."""

    def __init__(self, data: Data, threshold: int) -> None:
        self.data = data
        self.threshold = threshold
        self.tmp: str | None = None

    def __enter__(self) -> tuple[str, str | None, bytes | None]:
        d = self.data
        if isinstance(d, (str, os.PathLike)):
            path = os.fspath(d)
            return CONTENT_TYPES.get(os.path.splitext(path)[1].lower(), ""), path, None
        if hasattr(d, "to_csv") and hasattr(d, "columns"):
            return self._spill("text/csv", ".csv", d.to_csv(index=False).encode())
        if hasattr(d, "dtype") and hasattr(d, "shape"):
            import numpy as np

            # uint8 (pixels: a quarter of float32's bytes), float32 and
            # float64 go as they are; any other dtype as float32.
            keep = (np.dtype("|u1"), np.dtype("<f4"), np.dtype("<f8"))
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(d, dtype=d.dtype if d.dtype in keep else np.dtype("<f4")))
            return self._spill("application/x-npy", ".npy", buf.getvalue())
        lines = b"".join(json.dumps(x).encode() + b"\n" for x in _items(d))
        return self._spill("application/x-ndjson", ".ndjson", lines)

    def _spill(self, ct: str, ext: str, blob: bytes) -> tuple[str, str | None, bytes | None]:
        """Small bodies stay in memory; large ones go to a temporary file
        (to be uploaded)."""
        if len(blob) <= self.threshold:
            return ct, None, blob
        fd, self.tmp = tempfile.mkstemp(suffix=ext)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        return ct, self.tmp, None

    def __exit__(self, *exc: object) -> None:
        if self.tmp:
            os.unlink(self.tmp)
