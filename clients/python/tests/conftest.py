"""The system under test: a gateway started by test/system/python_test.go,
which sets BATCHINFER_URL and BATCHINFER_API_KEY (and a proxy that can cut
the connections: BATCHINFER_TEST_PROXY, BATCHINFER_TEST_DROP)."""

from __future__ import annotations

import os

import pytest

import batchinfer


@pytest.fixture(scope="session")
def client() -> batchinfer.Client:
    if not os.environ.get("BATCHINFER_URL"):
        pytest.skip("BATCHINFER_URL is not set: run through test/system (make test)")
    return batchinfer.Client(retry_for=30)


@pytest.fixture(scope="session")
def proxied() -> batchinfer.Client:
    url = os.environ.get("BATCHINFER_TEST_PROXY")
    if not url:
        pytest.skip("BATCHINFER_TEST_PROXY is not set")
    return batchinfer.Client(url, retry_for=30, upload_threshold=1)
