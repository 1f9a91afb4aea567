"""Run ids derived from the inputs' content and the parameters: the same input, the same id."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request

from pinpoint_etl.pinpoint import s3io


def _fingerprint(uri: str, s3=None) -> str:
    if s3io.is_s3(uri):
        bucket, key = s3io.split_s3(uri)
        head = s3.head_object(Bucket=bucket, Key=key)
        return f"{uri}|{head.get('ETag')}|{head.get('ContentLength')}"
    if uri.startswith(("http://", "https://")):
        req = urllib.request.Request(uri, method="HEAD")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - user-given source URL
                h = resp.headers
                return f"{uri}|{h.get('ETag')}|{h.get('Last-Modified')}|{h.get('Content-Length')}"
        except OSError:
            return uri
    digest = hashlib.sha256()
    with open(uri, "rb") as fh:
        while block := fh.read(4 * 1024 * 1024):
            digest.update(block)
    return f"{os.path.basename(uri)}|{digest.hexdigest()}"


def derive_run_id(sources: list[str], params: dict, *, s3=None) -> str:
    """``r-`` + 16 hex characters of SHA-256 over every source's content fingerprint and the parameters."""
    digest = hashlib.sha256()
    for uri in sources:
        digest.update(_fingerprint(uri, s3).encode())
        digest.update(b"\0")
    digest.update(json.dumps(params, sort_keys=True, default=str).encode())
    return "r-" + digest.hexdigest()[:16]
