"""Helpers of the tests: the repository's test data, the proxy's control."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
TESTDATA = ROOT / "model" / "testdata"


def drop(ms: int = 300) -> None:
    """Cut every connection through the proxy and refuse new ones for ms."""
    urllib.request.urlopen(os.environ["BATCHINFER_TEST_DROP"] + f"?ms={ms}", data=b"").read()


def digit_samples() -> list[dict[str, Any]]:
    return json.loads((TESTDATA / "digits_samples.json").read_text())  # type: ignore[no-any-return]
