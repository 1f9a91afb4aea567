"""What identifies the content behind an http(s) URL, for run ids.

The ETag or Last-Modified its HEAD answers — and, when HEAD is refused or names neither, the SHA-256
of its bytes (read once more). A URL that cannot be read is a ``SourceError`` (see ``storage.errors``).
"""

from __future__ import annotations

import hashlib
import urllib.request

from pinpoint_etl.storage.errors import translate
from pinpoint_etl.storage.uris import display_name

_BLOCK = 4 * 1024 * 1024


def hash_stream(read) -> str:
    """SHA-256 (hex) of everything ``read(n)`` gives."""
    digest = hashlib.sha256()
    while block := read(_BLOCK):
        digest.update(block)
    return digest.hexdigest()


def fingerprint(uri: str) -> str:
    """``uri|ETag|Last-Modified|Content-Length`` from HEAD, else ``uri|sha256:<hex>`` of its content."""
    try:
        with urllib.request.urlopen(urllib.request.Request(uri, method="HEAD"), timeout=10) as resp:  # noqa: S310
            h = resp.headers
            if h.get("ETag") or h.get("Last-Modified"):
                return f"{uri}|{h.get('ETag')}|{h.get('Last-Modified')}|{h.get('Content-Length')}"
    except (OSError, ValueError):
        pass  # HEAD refused or failed: the content decides
    try:
        with urllib.request.urlopen(uri, timeout=30) as resp:  # noqa: S310 - user-given source URL
            return f"{uri}|sha256:{hash_stream(resp.read)}"
    except Exception as exc:  # noqa: BLE001 - every failure becomes a pipeline error
        raise translate(exc, source=display_name(uri)) from None
