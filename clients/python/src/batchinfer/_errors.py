"""Errors of the gateway, as raised by the client."""

from __future__ import annotations

from typing import Any

import httpx


class APIError(Exception):
    """An error answer of the gateway: its stable ``code`` (``unknown_model``,
    ``invalid_input``, ...), the ``message`` naming the problem, the HTTP
    ``status``, itemised ``details`` and, for limits, ``retry_after`` seconds."""

    def __init__(self, code: str, message: str, status: int, details: list[dict[str, Any]] | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details or []
        self.retry_after = retry_after

    @property
    def temporary(self) -> bool:
        """Retrying later may succeed (the gateway restarting, busy, at a rate)."""
        return self.code in _TEMPORARY or self.status in (502, 504)


_TEMPORARY = frozenset({"unavailable", "not_ready", "busy", "queue_full", "rate_limited", "too_many_connections"})


def error_from(resp: httpx.Response) -> APIError:
    """The APIError an answer that is not a success stands for."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    retry = resp.headers.get("Retry-After")
    retry_after = float(retry) if retry and retry.isdigit() else None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        e = body["error"]
        return APIError(str(e.get("code", "internal")), str(e.get("message", "")), resp.status_code,
                        e.get("details"), retry_after)
    text = resp.text.strip()[:500] if body is None else str(body.get("error") if isinstance(body, dict) else body)
    return APIError(_code_of_status(resp.status_code), text or resp.reason_phrase, resp.status_code, None, retry_after)


def _code_of_status(status: int) -> str:
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
            410: "expired", 413: "body_too_large", 429: "rate_limited", 502: "unavailable", 503: "unavailable",
            504: "timeout", 507: "insufficient_storage"}.get(status, "internal" if status >= 500 else "bad_request")
