"""Run ids derived from the inputs' content and the parameters: the same input, the same id.

A source is fingerprinted by what identifies its content (``storage.objects.fingerprint``): a local
file by its bytes, an S3 object by its ETag and size, an http(s) URL by the ETag or Last-Modified its
HEAD answers — and, when HEAD is refused or names neither, by its bytes. A source that cannot be read
fails the run (exit 2; exit 1 when a retry may help): never is a bare URL taken for its content,
which would make a changed file "the same".
"""

from __future__ import annotations

import hashlib
import json

from pinpoint_etl.storage.objects import fingerprint


def derive_run_id(sources: list[str], params: dict, *, s3=None) -> str:
    """``r-`` + 16 hex characters of SHA-256 over every source's content fingerprint and the parameters."""
    digest = hashlib.sha256()
    for uri in sources:
        digest.update(fingerprint(uri, s3=s3).encode())
        digest.update(b"\0")
    digest.update(json.dumps(params, sort_keys=True, default=str).encode())
    return "r-" + digest.hexdigest()[:16]
