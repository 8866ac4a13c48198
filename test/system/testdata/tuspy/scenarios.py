"""Drives the gateway's tus endpoint with tuspy, a tus client nobody here
wrote. Run by test/system/tusclient_test.go, which checks what the gateway
stored. Usage: scenarios.py CONFIG.json; prints one JSON object per line, one
per scenario, with what the client saw.

CONFIG: {"endpoint": URL of /v1/uploads, "proxy_endpoint": the same through a
proxy that cuts the first long PATCH, "key": tenant A's key, "other_key":
tenant B's, "file": a file to upload, "scenarios": [names]}.
"""

import base64
import hashlib
import json
import sys
import time

import requests
from tusclient import client as tusclient
from tusclient import request as tusrequest
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.uploader import Uploader


def status_of(err):
    return getattr(err, "status_code", None)


def new_client(endpoint, key):
    return tusclient.TusClient(endpoint, headers={"Authorization": "Bearer " + key})


def offsets_seen(uploader):
    """Records every offset the uploader learns by HEAD."""
    seen = []
    head = uploader.get_offset

    def recording():
        off = head()
        seen.append(off)
        return off

    uploader.get_offset = recording
    return seen


def upload_with_checksum(cfg):
    """Creation with metadata, the file in chunks, each with Upload-Checksum."""
    up = new_client(cfg["endpoint"], cfg["key"]).uploader(
        file_path=cfg["file"], chunk_size=300 * 1024, upload_checksum=True,
        metadata={"filename": "rows.ndjson", "filetype": "application/x-ndjson"})
    up.upload()
    return {"url": up.url, "offset": up.offset}


def resume_after_cut(cfg):
    """The connection dies mid-PATCH (the proxy cuts it); the client HEADs
    the upload and resumes from what the gateway kept."""
    up = new_client(cfg["proxy_endpoint"], cfg["key"]).uploader(
        file_path=cfg["file"], chunk_size=64 << 20, retries=3, retry_delay=1)
    seen = offsets_seen(up)
    up.upload()
    return {"url": up.url, "offset": up.offset, "heads": seen}


def checksum_mismatch(cfg):
    """A body whose Upload-Checksum is wrong: 460, nothing kept."""
    def wrong(self, chunk):
        digest = hashlib.sha1(chunk + b"x").digest()
        self._request_headers["upload-checksum"] = "sha1 " + base64.b64encode(digest).decode()

    right = tusrequest.BaseTusRequest.add_checksum
    tusrequest.BaseTusRequest.add_checksum = wrong
    up = new_client(cfg["endpoint"], cfg["key"]).uploader(file_path=cfg["file"], chunk_size=100 * 1024, upload_checksum=True)
    try:
        up.upload_chunk()
        return {"error": "no error"}
    except TusUploadFailed as err:
        return {"url": up.url, "status": status_of(err), "offset": up.get_offset()}
    finally:
        tusrequest.BaseTusRequest.add_checksum = right


def terminate(cfg):
    """Termination: DELETE, then the upload is not found."""
    up = new_client(cfg["endpoint"], cfg["key"]).uploader(file_path=cfg["file"], chunk_size=100 * 1024)
    up.upload(stop_at=100 * 1024)
    resp = requests.delete(up.url, headers=up.get_headers())
    try:
        up.get_offset()
        return {"delete": resp.status_code, "error": "still there"}
    except TusCommunicationError as err:
        return {"delete": resp.status_code, "head": status_of(err)}


def wrong_tenant(cfg):
    """Tenant B cannot resume tenant A's upload: it is not found."""
    a = new_client(cfg["endpoint"], cfg["key"]).uploader(file_path=cfg["file"], chunk_size=100 * 1024)
    a.upload(stop_at=100 * 1024)
    try:
        new_client(cfg["endpoint"], cfg["other_key"]).uploader(file_path=cfg["file"], url=a.url)
        return {"error": "tenant B resumed tenant A's upload"}
    except TusCommunicationError as err:
        return {"url": a.url, "status": status_of(err), "offset": a.get_offset()}


def expiry(cfg):
    """An abandoned upload expires: its HEAD fails (410, then 404 once swept)."""
    up = new_client(cfg["endpoint"], cfg["key"]).uploader(file_path=cfg["file"], chunk_size=100 * 1024)
    up.upload(stop_at=100 * 1024)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            up.get_offset()
        except TusCommunicationError as err:
            return {"url": up.url, "status": status_of(err)}
        time.sleep(0.1)
    return {"error": "did not expire"}


def limits(cfg):
    """Unfinished uploads past the tenant's limit: 429 with Retry-After."""
    c = new_client(cfg["endpoint"], cfg["key"])
    made = []
    try:
        for _ in range(10):
            up = c.uploader(file_path=cfg["file"])
            made.append(up.create_url())
        return {"error": "no limit", "made": len(made)}
    except TusCommunicationError as err:
        raw = requests.post(cfg["endpoint"], headers={**up.get_url_creation_headers()})
        return {"made": len(made), "status": status_of(err), "retry_after": raw.headers.get("Retry-After"), "body": raw.json()}


SCENARIOS = {f.__name__: f for f in [upload_with_checksum, resume_after_cut, checksum_mismatch, terminate, wrong_tenant, expiry, limits]}


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    for name in cfg["scenarios"]:
        try:
            out = SCENARIOS[name](cfg)
        except Exception as err:  # reported, the Go test fails on it
            out = {"error": "%s: %s" % (type(err).__name__, err)}
        out["scenario"] = name
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
