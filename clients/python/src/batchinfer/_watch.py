"""Following a job over the WebSocket, resuming by sequence after a drop."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from ._errors import APIError
from ._models import ItemResult, JobStatus

if TYPE_CHECKING:
    from ._client import Client


@dataclass
class Event:
    """What happened to a watched job: ``results`` (a chunk's ``items``,
    its ``seq``), ``progress`` (``status``), ``reconnect`` (the connection
    dropped, ``error`` says why; the next resumes after ``seq``) or ``end``
    (``status``; ``seq`` is the job's last)."""

    type: str
    job: str
    seq: int = 0
    chunk: int = 0
    items: list[ItemResult] = field(default_factory=list)
    status: JobStatus | None = None
    error: str | None = None


def _ws_url(url: str) -> str:
    if url.startswith("https://"):
        return "wss://" + url[len("https://"):] + "/v1/ws"
    return "ws://" + url.removeprefix("http://") + "/v1/ws"


def watch(client: Client, job: str, *, after: int = 0, results: bool = True) -> Iterator[Event]:
    """Events of job until its end; a dropped connection is resumed after
    the last sequence on a new one, giving up when the gateway has said
    nothing for the client's retry_for."""
    last = after
    at_last: set[int] = set()  # the chunks delivered with the last seq
    heard = time.monotonic()
    wait = 0.1
    while True:
        try:
            with _dial(client) as ws:
                ws.send(json.dumps({"type": "subscribe", "job": job, "after": last, "results": results}))
                for m in _messages(ws):
                    heard, wait = time.monotonic(), 0.1
                    ev = _event(job, m)
                    if ev is None:
                        continue
                    if ev.type == "results":
                        if ev.seq < last or (ev.seq == last and ev.chunk in at_last):
                            continue
                        if ev.seq > last:
                            last, at_last = ev.seq, set()
                        at_last.add(ev.chunk)
                    yield ev
                    if ev.type == "end":
                        return
        except (ConnectionClosed, OSError, TimeoutError, InvalidStatus, WebSocketException, APIError) as e:
            _resumable(e)
            if time.monotonic() - heard > client.retry_for:
                raise
            yield Event("reconnect", job, seq=last, error=str(e))
            time.sleep(wait * random.uniform(0.75, 1.25))
            wait = min(wait * 2, 2.0)


def _dial(client: Client) -> ClientConnection:
    return connect(_ws_url(client.url), additional_headers=client.headers, open_timeout=10, max_size=64 << 20)


def _messages(ws: ClientConnection) -> Iterator[dict[str, Any]]:
    hello = json.loads(ws.recv(timeout=10))
    timeout = 2 * hello.get("heartbeat_ms", 15000) / 1000 + 5
    while True:
        m = json.loads(ws.recv(timeout=timeout))
        if m.get("type") == "error":
            e = APIError(m.get("code", "internal"), m.get("message", ""), 0, m.get("details"),
                         (m.get("retry_after_ms") or 0) / 1000 or None)
            raise e
        yield m


def _resumable(e: Exception) -> None:
    """Raise e unless a new connection may get further."""
    if isinstance(e, APIError) and not e.temporary:
        raise e
    if isinstance(e, InvalidStatus) and e.response.status_code in (401, 403, 404):
        raise APIError("unauthorized" if e.response.status_code != 404 else "not_found",
                       f"websocket refused: HTTP {e.response.status_code}", e.response.status_code) from e
    if isinstance(e, ConnectionClosed) and e.rcvd is not None and e.rcvd.code == 4401:
        raise APIError("unauthorized", "websocket closed: credentials refused (4401)", 401) from e


def _event(job: str, m: dict[str, Any]) -> Event | None:
    t = m.get("type")
    if m.get("job") not in (None, job):
        return None
    status = JobStatus.from_dict(m["status"]) if isinstance(m.get("status"), dict) else None
    if t == "results":
        return Event("results", job, seq=int(m["seq"]), chunk=int(m.get("chunk", 0)),
                     items=[ItemResult.from_dict(it) for it in m.get("items", [])])
    if t in ("progress", "subscribed"):
        return Event("progress", job, status=status)
    if t == "end":
        return Event("end", job, seq=int(m.get("last_seq", 0)), status=status)
    return None
