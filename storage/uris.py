"""Locations: local paths, ``s3://bucket/key`` and ``http(s)://`` URLs, named and split."""

from __future__ import annotations

from posixpath import basename
from urllib.parse import urlsplit, urlunsplit

from pinpoint_etl.core.errors import ConfigError

COMPRESSIONS: tuple[str, ...] = (".gz", ".bz2", ".zst")


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def is_http(uri: str) -> bool:
    return uri.lower().startswith(("http://", "https://"))


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` → ``("bucket", "a/b")``."""
    if not is_s3(uri):
        raise ConfigError(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ConfigError(f"no bucket in {uri}")
    return bucket, key


def join(base: str, *parts: str) -> str:
    """Join URI or path segments with single slashes."""
    out = base.rstrip("/")
    for p in parts:
        out = f"{out}/{p.strip('/')}"
    return out


def display_name(uri: str) -> str:
    """How a source is named in ``_source`` and in messages: the URI as given, except that an
    http(s) URL loses its query string, fragment and user:password (presigned URLs carry credentials)."""
    if not is_http(uri):
        return uri
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def uri_path(uri: str) -> str:
    """The path part of a source, used for its extensions (query strings ignored)."""
    return urlsplit(uri).path if is_http(uri) else uri


def split_compression(uri: str) -> tuple[str, str | None]:
    """``data/x.csv.gz`` → (``x.csv``, ``.gz``): the file name without compression extension, and it."""
    name = basename(uri_path(uri).rstrip("/"))
    lowered = name.lower()
    for ext in COMPRESSIONS:
        if lowered.endswith(ext):
            return name[: -len(ext)], ext
    return name, None
