#!/usr/bin/env python3
"""Scans every layer of an image for files that must never ship.

    docker save IMAGE | scripts/docker-scan-layers.py IMAGE

Streams the `docker save` archive (no extraction to disk), opens each member
that is itself a tar archive (a layer, in the legacy or the OCI layout) and
lists its entries. Forbidden: any `.git` path component, `.env` / `.env.*`
files, source maps (`*.map`), and files that look like credentials (private
keys, .npmrc/.netrc/.git-credentials, the NATS password secret). Whiteouts
(`.wh.*`) are ignored. Prints the offending paths and exits 1 if any.
"""
import posixpath
import re
import sys
import tarfile

FORBIDDEN = [
    (re.compile(r"(^|/)\.git(/|$)"), ".git"),
    (re.compile(r"(^|/)\.env(\.[^/]*)?$"), ".env file"),
    (re.compile(r"\.map$"), "source map"),
    (re.compile(r"(^|/)(id_rsa|id_ecdsa|id_ed25519|\.npmrc|\.netrc|\.git-credentials|\.pypirc)$"), "credentials"),
    (re.compile(r"(^|/)nats_password[^/]*$"), "NATS secret"),
]
# Certificates are fine; a private key in a .pem/.key/.p12 file is not.
KEYFILE = re.compile(r"\.(pem|key|crt|p12|pfx)$")


def scan_layer(fileobj, layer, hits):
    n = 0
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as t:
            for e in t:
                n += 1
                p = e.name.lstrip("./")
                base = posixpath.basename(p)
                if base.startswith(".wh."):
                    continue
                if KEYFILE.search(p) and e.isfile():
                    data = t.extractfile(e).read(1 << 20) if e.size else b""
                    if b"PRIVATE KEY" in data or p.endswith((".p12", ".pfx")):
                        hits.append((layer, p, "private key"))
                    continue
                for rx, what in FORBIDDEN:
                    if rx.search(p):
                        hits.append((layer, p, what))
                        break
    except tarfile.ReadError:
        return None  # not a tar: manifest, config, index
    return n


def main():
    image = sys.argv[1] if len(sys.argv) > 1 else "image"
    hits, layers, entries = [], 0, 0
    with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as outer:
        for m in outer:
            if not m.isfile():
                continue
            if not (m.name.endswith("layer.tar") or m.name.startswith("blobs/")):
                continue
            f = outer.extractfile(m)
            n = scan_layer(f, m.name, hits)
            if n is not None:
                layers += 1
                entries += n
    for layer, p, what in hits:
        print(f"{image}: {what}: /{p} (layer {layer})")
    print(f"{image}: scanned {layers} layers, {entries} entries, {len(hits)} forbidden", file=sys.stderr)
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
