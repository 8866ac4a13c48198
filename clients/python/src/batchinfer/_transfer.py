"""Uploads (tus, with tuspy) and downloads that resume."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError, TusUploadFailed

from ._errors import APIError, _code_of_status, error_from

if TYPE_CHECKING:
    from ._client import Client

#: Bytes of one upload request.
CHUNK_SIZE = 8 << 20


def upload_file(client: Client, path: str, content_type: str,
                progress: Callable[[int, int], None] | None = None) -> str:
    """Upload the file at path through the gateway's resumable uploads and
    return the upload's id. tuspy asks for the offset and goes on after a
    failed request (a dropped connection, a gateway restart), retrying for
    the client's retry_for."""
    size = os.path.getsize(path)
    metadata = {"filename": os.path.basename(path)}
    if content_type:
        metadata["filetype"] = content_type
    tus = TusClient(client.url + "/v1/uploads", headers=dict(client.headers))
    retries = max(1, int(client.retry_for))
    uploader = tus.uploader(file_path=path, chunk_size=CHUNK_SIZE, metadata=metadata, retries=retries, retry_delay=1)
    def create() -> str:
        try:
            return str(uploader.create_url())
        except TusCommunicationError as e:
            raise _tus_error(path, e) from e

    try:
        uploader.set_url(client.retrying(create))
        uploader.offset = 0
        while uploader.offset < size:
            uploader.upload_chunk()  # type: ignore[no-untyped-call]
            if progress:
                progress(uploader.offset, size)
    except (TusUploadFailed, TusCommunicationError) as e:
        raise _tus_error(path, e) from e
    return str(uploader.url).rstrip("/").rsplit("/", 1)[-1]


def _tus_error(path: str, e: TusCommunicationError) -> APIError:
    """tuspy's error as an APIError: no answer is unavailable (temporary)."""
    status = e.status_code or 503
    body = e.response_content.decode(errors="replace") if isinstance(e.response_content, bytes) else ""
    try:
        err = json.loads(body)["error"]
        return APIError(err["code"], f"upload of {path}: {err['message']}", status)
    except (ValueError, KeyError, TypeError):
        return APIError(_code_of_status(status), f"upload of {path}: {e}", status)


def download_file(client: Client, path: str, params: dict[str, str], dest: Path,
                  progress: Callable[[int, int], None] | None = None) -> None:
    """Download path to dest: first into dest.part (its ETag in
    dest.part.etag); a cut download, in this call or an earlier one, goes on
    with Range and If-Range; dest appears once complete."""
    part = dest.with_name(dest.name + ".part")
    etag_file = dest.with_name(dest.name + ".part.etag")
    state = {"etag": etag_file.read_text().strip() if etag_file.exists() and part.exists() else ""}
    if not state["etag"]:
        part.write_bytes(b"")

    def once() -> None:
        _fetch(client, path, params, part, etag_file, state, progress)

    client.retrying(once)
    os.replace(part, dest)
    etag_file.unlink(missing_ok=True)


def _fetch(client: Client, path: str, params: dict[str, str], part: Path, etag_file: Path,
           state: dict[str, str], progress: Callable[[int, int], None] | None) -> None:
    have = part.stat().st_size
    headers = {"Range": f"bytes={have}-", "If-Range": state["etag"]} if have and state["etag"] else {}
    with client.http.stream("GET", path, params=params, headers=headers) as r:
        if r.status_code == 416:
            size = r.headers.get("Content-Range", "").rsplit("/", 1)[-1]
            if size.isdigit() and int(size) == have:
                return
            part.write_bytes(b"")
            raise APIError("unavailable", "the file changed since its first bytes: starting over", 503)
        if r.status_code not in (200, 206):
            r.read()
            raise error_from(r)
        mode = "ab" if r.status_code == 206 else "wb"
        if r.status_code == 200:
            state["etag"] = r.headers.get("ETag", "")
            etag_file.write_text(state["etag"])
            have = 0
        total = have + int(r.headers.get("Content-Length", "0"))
        with open(part, mode) as f:
            _copy(r, f, have, total, progress)


def _copy(r: httpx.Response, f: Any, have: int, total: int, progress: Callable[[int, int], None] | None) -> None:
    try:
        for chunk in r.iter_bytes(256 << 10):
            f.write(chunk)
            have += len(chunk)
            if progress:
                progress(have, total)
    except httpx.HTTPError as e:
        f.flush()
        raise httpx.ReadError(f"download cut at byte {have}: {e}") from e
    if have != total:
        raise httpx.ReadError(f"download: {have} of {total} bytes")

