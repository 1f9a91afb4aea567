"""Run ids derived from the inputs' content and the parameters: the same input, the same id.

A source is fingerprinted by what identifies its content: a local file by its bytes, an S3 object by
its ETag and size, an http(s) URL by the ETag or Last-Modified its HEAD answers — and, when HEAD is
refused or names neither, by its bytes (read once more). A source that cannot be read fails the
run (exit 2): never is a bare URL taken for its content, which would make a changed file "the same".
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request

from pinpoint_etl.core.errors import SourceError
from pinpoint_etl.core.masking import scrub
from pinpoint_etl.pinpoint import s3io

_BLOCK = 4 * 1024 * 1024


def _hash_stream(read) -> str:
    digest = hashlib.sha256()
    while block := read(_BLOCK):
        digest.update(block)
    return digest.hexdigest()


def _http_fingerprint(uri: str) -> str:
    try:
        with urllib.request.urlopen(urllib.request.Request(uri, method="HEAD"), timeout=10) as resp:  # noqa: S310
            h = resp.headers
            if h.get("ETag") or h.get("Last-Modified"):
                return f"{uri}|{h.get('ETag')}|{h.get('Last-Modified')}|{h.get('Content-Length')}"
    except (OSError, ValueError):
        pass  # HEAD refused or failed: the content decides
    try:
        with urllib.request.urlopen(uri, timeout=30) as resp:  # noqa: S310 - user-given source URL
            return f"{uri}|sha256:{_hash_stream(resp.read)}"
    except urllib.error.HTTPError as exc:
        raise SourceError(f"cannot read the source: HTTP {exc.code} {exc.reason}", source=scrub(uri)) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SourceError(f"cannot read the source: {reason}", source=scrub(uri)) from None


def _fingerprint(uri: str, s3=None) -> str:
    if s3io.is_s3(uri):
        bucket, key = s3io.split_s3(uri)
        head = s3.head_object(Bucket=bucket, Key=key)
        return f"{uri}|{head.get('ETag')}|{head.get('ContentLength')}"
    if uri.startswith(("http://", "https://")):
        return _http_fingerprint(uri)
    with open(uri, "rb") as fh:
        return f"{os.path.basename(uri)}|{_hash_stream(fh.read)}"


def derive_run_id(sources: list[str], params: dict, *, s3=None) -> str:
    """``r-`` + 16 hex characters of SHA-256 over every source's content fingerprint and the parameters."""
    digest = hashlib.sha256()
    for uri in sources:
        digest.update(_fingerprint(uri, s3).encode())
        digest.update(b"\0")
    digest.update(json.dumps(params, sort_keys=True, default=str).encode())
    return "r-" + digest.hexdigest()[:16]
