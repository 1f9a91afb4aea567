"""Source specifications (paths, globs, directories, s3:// keys/prefixes/globs, http(s):// URLs) → URIs."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator

from pinpoint_etl.core.errors import ConfigError, SourceError
from pinpoint_etl.storage import objects
from pinpoint_etl.storage.uris import display_name

_GLOB_CHARS = re.compile(r"[*?\[]")


def expand_sources(specs: list[str], *, s3_client=None) -> list[str]:
    """Expand source specifications into the URIs/paths to read, in a stable order.

    * a local path: must be a file (``SourceError("file not found")`` otherwise); a directory means
      every non-hidden file under it, recursively, sorted; ``file://`` is accepted;
    * a local glob (``*``, ``?``, ``[..]``, ``**`` for any depth): matching files, sorted; no match
      is a ``SourceError``;
    * ``s3://bucket/key``: that object (checked with HeadObject when ``s3_client`` is given);
      ``s3://bucket/prefix/`` (trailing slash): every object under it, subfolders included (paged
      listing, sorted, folder markers skipped); ``s3://bucket/dir/*.csv``: a glob on keys (``*``
      and ``?`` stop at ``/``, ``**`` crosses it). Listing needs ``s3_client``;
    * ``http://``/``https://``: kept as given (a 404 shows when the source is read).

    Results keep the order of ``specs`` (expansions sorted within a spec), without duplicates.
    """
    if not specs:
        raise ConfigError("no sources given")
    seen: dict[str, None] = {}
    for spec in specs:
        for uri in _expand(str(spec), s3_client):
            seen.setdefault(uri)
    return list(seen)


def _expand(spec: str, s3_client) -> Iterator[str] | list[str]:
    lowered = spec.lower()
    if lowered.startswith(("http://", "https://")):
        return [spec]
    if lowered.startswith("s3://"):
        return _expand_s3(spec, s3_client)
    if "://" in spec and not lowered.startswith("file://"):
        raise SourceError(f"unsupported scheme {spec.split('://', 1)[0]}:// (use a path, s3:// or http(s)://)",
                          source=display_name(spec))
    return _expand_local(spec[len("file://"):] if lowered.startswith("file://") else spec)


def _expand_local(path: str) -> list[str]:
    if _GLOB_CHARS.search(path):
        found = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
        if not found:
            raise SourceError("no files match this pattern", source=path)
        return found
    if os.path.isdir(path):
        found = sorted(_walk_files(path))
        if not found:
            raise SourceError("no files in this directory", source=path)
        return found
    if not os.path.exists(path):
        raise SourceError("file not found", source=path)
    return [path]


def _walk_files(top: str) -> Iterator[str]:
    """Every file under ``top``, skipping hidden files and folders (names starting with a dot)."""
    for root, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        yield from (os.path.join(root, n) for n in names if not n.startswith("."))


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise SourceError("no bucket in S3 URI", source=uri)
    return bucket, key


def _expand_s3(uri: str, s3_client) -> list[str]:
    bucket, key = _split_s3(uri)
    pattern = _GLOB_CHARS.search(key)
    if key and not key.endswith("/") and not pattern:
        if s3_client is not None:
            _check_object(s3_client, uri)
        return [uri]
    if s3_client is None:
        raise ConfigError(f"listing {uri} needs an S3 client")
    if pattern:
        prefix = key[: pattern.start()]
        regex = _glob_regex(key)
        keys = [k for k in objects.list_keys(s3_client, bucket, prefix, source=uri) if regex.fullmatch(k)]
        if not keys:
            raise SourceError("no S3 objects match this pattern", source=uri)
    else:
        keys = list(objects.list_keys(s3_client, bucket, key, source=uri))
        if not keys:
            raise SourceError("no S3 objects under this prefix", source=uri)
    return [f"s3://{bucket}/{k}" for k in sorted(keys)]


def _check_object(s3_client, uri: str) -> None:
    try:
        objects.head(s3_client, uri)
    except SourceError as err:
        if "no such S3 object" in str(err):
            raise SourceError("no such S3 object (end the URI with / to read every object under a prefix)",
                              source=uri) from None
        raise


def _glob_regex(pattern: str) -> re.Pattern:
    """A key glob as a regex: ``**`` any characters, ``*`` any but ``/``, ``?`` one but ``/``, ``[..]`` a set."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1:end].replace("\\", "\\\\")
            body = "^" + body[1:] if body.startswith("!") else "\\" + body if body.startswith("^") else body
            out.append(f"[{body}]")
            i = end + 1
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)
