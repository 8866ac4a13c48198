"""The API's bodies as typed dataclasses (api/openapi.yaml's schemas).

Each class has exactly the properties of its schema (tests/test_contract.py
checks them against openapi.yaml); ``from_dict`` ignores properties a newer
gateway may add.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


def _build(cls: type[T], d: dict[str, Any], nested: dict[str, Any] | None = None) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kw = {k: v for k, v in d.items() if k in names}
    for k, conv in (nested or {}).items():
        if kw.get(k) is not None:
            kw[k] = conv(kw[k])
    return cls(**kw)


@dataclass
class TopEntry:
    """One of an item's best classes."""

    label: str
    class_: int = field(metadata={"json": "class"})
    score: float

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TopEntry:
        return cls(label=d.get("label", ""), class_=d.get("class", 0), score=d.get("score", 0.0))


@dataclass
class ItemResult:
    """One item's outcome: its class and scores, or its error (``skipped``
    when it was not run)."""

    index: int
    label: str | None = None
    class_: int | None = field(default=None, metadata={"json": "class"})
    score: float | None = None
    top: list[TopEntry] | None = None
    probabilities: list[float] | None = None
    error: str | None = None
    skipped: bool = False
    line: int | None = None
    id: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ItemResult:
        top = d.get("top")
        return cls(
            index=d["index"], label=d.get("label"), class_=d.get("class"), score=d.get("score"),
            top=[TopEntry.from_dict(t) for t in top] if top is not None else None,
            probabilities=d.get("probabilities"), error=d.get("error"), skipped=bool(d.get("skipped", False)),
            line=d.get("line"), id=d.get("id"),
        )


@dataclass
class QueuePosition:
    """Where a queued job stands."""

    items_ahead: int
    estimated_start: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QueuePosition:
        return _build(cls, d)


FINAL_STATES = frozenset({"completed", "cancelled", "failed", "deadline_exceeded", "expired"})


@dataclass
class JobStatus:
    """A job's status: ``total`` items, of which ``done`` succeeded, ``failed``
    failed and ``skipped`` were not run."""

    id: str
    model: str
    version: str
    state: str
    total: int
    done: int
    failed: int
    skipped: int
    chunks: int
    created_at: str
    elapsed_ms: float
    items_per_sec: float
    priority: str = "normal"
    name: str | None = None
    error: str | None = None
    cost: int | None = None
    started_at: str | None = None
    updated_at: str | None = None
    finished_at: str | None = None
    expires_at: str | None = None
    eta_ms: float | None = None
    deadline: str | None = None
    queue: QueuePosition | None = None
    webhook: str | None = None
    ingesting: bool = False
    read: int | None = None

    @property
    def finished(self) -> bool:
        """The job has ended: its output and errors files can be downloaded."""
        return self.state in FINAL_STATES

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JobStatus:
        return _build(cls, d, {"queue": QueuePosition.from_dict})


@dataclass
class JobLinks:
    """Where to follow a job and fetch its files."""

    self: str
    results: str
    output: str
    errors: str
    ws: str

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JobLinks:
        return _build(cls, d)


@dataclass
class TensorSpec:
    key: str
    dtype: str
    shape: list[int]
    min: float | None = None
    max: float | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TensorSpec:
        return _build(cls, d)


@dataclass
class ModelInfo:
    """A model version of the catalogue: its metadata, item size, workers,
    ``source`` (disk or registry) and ``state`` (loading, ready, unserved,
    retiring)."""

    name: str
    version: str
    description: str
    kind: str
    input: TensorSpec
    output: TensorSpec
    labels: list[str]
    preprocessing: dict[str, Any]
    item_size: int
    workers: int
    ready: bool
    benchmark_only: bool = False
    signature: str | None = None
    features: list[str] | None = None
    feature_ranges: list[dict[str, float]] | None = None
    examples: list[dict[str, Any]] | None = None
    top_k: int | None = None
    chunk_size: int | None = None
    max_batch: int | None = None
    metrics: dict[str, float] | None = None
    tensorflow_version: str | None = None
    source: str | None = None
    state: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelInfo:
        return _build(cls, d, {"input": TensorSpec.from_dict, "output": TensorSpec.from_dict})
