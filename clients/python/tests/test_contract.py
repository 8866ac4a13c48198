"""The Python models have exactly the properties of their openapi.yaml schemas."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

import batchinfer

OPENAPI = Path(os.environ.get("BATCHINFER_OPENAPI", Path(__file__).resolve().parents[3] / "api" / "openapi.yaml"))

MODELS = {
    "JobStatus": batchinfer.JobStatus,
    "ItemResult": batchinfer.ItemResult,
    "TopEntry": batchinfer.TopEntry,
    "QueuePosition": batchinfer.QueuePosition,
    "JobLinks": batchinfer.JobLinks,
    "ModelInfo": batchinfer.ModelInfo,
    "TensorSpec": batchinfer.TensorSpec,
}


def schema_properties(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    """A schema's properties and required ones (a oneOf's of all branches;
    required: those every branch requires)."""
    if "oneOf" in schema:
        props: set[str] = set()
        req: set[str] | None = None
        for branch in schema["oneOf"]:
            p, r = schema_properties(branch)
            props |= p
            req = r if req is None else req & r
        return props, req or set()
    return set(schema.get("properties", {})), set(schema.get("required", []))


def json_names(cls: type) -> tuple[set[str], set[str]]:
    """A dataclass's JSON names, and those without a default (required)."""
    names, required = set(), set()
    for f in dataclasses.fields(cls):
        name = f.metadata.get("json", f.name)
        names.add(name)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.add(name)
    return names, required


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_matches_openapi(name: str) -> None:
    schemas = yaml.safe_load(OPENAPI.read_text())["components"]["schemas"]
    props, req = schema_properties(schemas[name])
    names, required = json_names(MODELS[name])
    assert names == props, f"{name}: Python {sorted(names)}, openapi.yaml {sorted(props)}"
    assert required <= req, f"{name}: Python requires {sorted(required - req)} that openapi.yaml does not"
