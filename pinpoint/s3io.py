"""The one module that reads and writes S3 objects (and local files in their place).

Writes stream through smart-open's multipart upload with server-side encryption and the
expected bucket owner on every call; a write that fails part-way aborts the multipart upload,
so no partial object is ever left. Local destinations are written to a temporary file and
renamed, which gives the same all-or-nothing guarantee. Clients are passed in explicitly.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from botocore.exceptions import ClientError

from pinpoint_etl.core.errors import ConfigError, TerminalError
from pinpoint_etl.pinpoint.errors import AWS_EXCEPTIONS, translate

PART_SIZE = 16 * 1024 * 1024


@dataclass(frozen=True)
class WriteOptions:
    """Server-side encryption and ownership settings applied to every object written."""

    sse: str = "AES256"                 # "AES256" or "aws:kms"
    kms_key_id: str | None = None
    expected_owner: str | None = None   # account id; S3 refuses the call if the bucket is not theirs

    def kwargs_for(self, method: str) -> dict:
        kw: dict = {}
        if self.expected_owner:
            kw["ExpectedBucketOwner"] = self.expected_owner
        if method in ("create_multipart_upload", "put_object"):
            kw["ServerSideEncryption"] = self.sse
            if self.kms_key_id:
                kw["SSEKMSKeyId"] = self.kms_key_id
        return kw


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


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


def check_bucket(s3, bucket: str, expected_owner: str | None = None) -> None:
    """Fail with a ConfigError unless ``bucket`` exists, is reachable and (if given) is owned by ``expected_owner``."""
    kw = {"ExpectedBucketOwner": expected_owner} if expected_owner else {}
    try:
        s3.head_bucket(Bucket=bucket, **kw)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            raise ConfigError(f"bucket {bucket} does not exist") from None
        if status == 403:
            owner = f" (expected owner {expected_owner})" if expected_owner else ""
            raise ConfigError(f"bucket {bucket} is not accessible or belongs to another account{owner}") from None
        raise translate(exc, f"checking bucket {bucket}") from None
    except AWS_EXCEPTIONS as exc:
        raise translate(exc, f"checking bucket {bucket}") from None


def transport_params(s3, options: WriteOptions | None = None) -> dict:
    """smart-open transport parameters that use ``s3`` and apply ``options`` to each call."""
    opts = options or WriteOptions()
    methods = ("create_multipart_upload", "upload_part", "complete_multipart_upload",
               "abort_multipart_upload", "put_object", "get_object", "head_object")
    return {"client": s3, "min_part_size": PART_SIZE,
            "client_kwargs": {f"S3.Client.{m}": opts.kwargs_for(m) for m in methods if opts.kwargs_for(m)}}


@contextlib.contextmanager
def open_write(uri: str, *, s3=None, options: WriteOptions | None = None) -> Iterator[BinaryIO]:
    """Open ``uri`` (s3:// or a local path) for binary writing; all or nothing."""
    if is_s3(uri):
        if s3 is None:
            raise ConfigError(f"an S3 client is needed to write {uri}")
        import smart_open  # loaded on first S3 use: local runs need neither it nor boto3

        try:
            with smart_open.open(uri, "wb", transport_params=transport_params(s3, options),
                                 compression="disable") as fh:
                yield fh
        except AWS_EXCEPTIONS as exc:
            raise translate(exc, f"writing {uri}") from None
        except ValueError as exc:  # smart-open wraps a failed CreateMultipartUpload in a ValueError
            if isinstance(exc.__cause__, AWS_EXCEPTIONS):  # its cause says what it was (a 500 is transient)
                raise translate(exc.__cause__, f"writing {uri}") from None
            raise TerminalError(f"writing {uri} failed: {exc}".split(" (")[0]) from None
        return
    path = Path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(uri: str, data: bytes, *, s3=None, options: WriteOptions | None = None) -> int:
    """Write a small object in one go; returns its size."""
    with open_write(uri, s3=s3, options=options) as fh:
        fh.write(data)
    return len(data)


def read_bytes(uri: str, *, s3=None) -> bytes | None:
    """The whole content of a small object or file, or None if it does not exist."""
    if is_s3(uri):
        bucket, key = split_s3(uri)
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise translate(exc, f"reading {uri}") from None
        except AWS_EXCEPTIONS as exc:
            raise translate(exc, f"reading {uri}") from None
    path = Path(uri)
    return path.read_bytes() if path.exists() else None


def open_read(uri: str, *, s3=None, compression: str = "infer_from_extension") -> BinaryIO:
    """Open ``uri`` for binary reading (decompressing by extension unless told otherwise)."""
    import smart_open

    params = {"client": s3} if is_s3(uri) and s3 is not None else {}
    try:
        return smart_open.open(uri, "rb", transport_params=params, compression=compression)
    except AWS_EXCEPTIONS as exc:
        raise translate(exc, f"reading {uri}") from None


def list_objects(s3, prefix_uri: str, *, suffix: str = "", expected_owner: str | None = None) -> list[dict]:
    """Every object under ``prefix_uri`` (all pages) whose key ends with ``suffix``: ``{uri, key, size}``."""
    bucket, prefix = split_s3(prefix_uri)
    kw = {"ExpectedBucketOwner": expected_owner} if expected_owner else {}
    out: list[dict] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, **kw):
            for obj in page.get("Contents", []):
                if obj["Key"].endswith(suffix):
                    out.append({"uri": f"s3://{bucket}/{obj['Key']}", "key": obj["Key"], "size": obj["Size"]})
    except AWS_EXCEPTIONS as exc:
        raise translate(exc, f"listing {prefix_uri}") from None
    return out


def object_encryption(s3, uri: str, *, expected_owner: str | None = None) -> str | None:
    """The server-side encryption S3 stored ``uri`` with (``AES256``, ``aws:kms``...), None if none."""
    bucket, key = split_s3(uri)
    kw = {"ExpectedBucketOwner": expected_owner} if expected_owner else {}
    try:
        return s3.head_object(Bucket=bucket, Key=key, **kw).get("ServerSideEncryption")
    except AWS_EXCEPTIONS as exc:
        raise translate(exc, f"reading the metadata of {uri}") from None


def delete_objects(s3, uris: list[str], *, expected_owner: str | None = None) -> int:
    """Delete S3 objects (batched); returns how many were deleted."""
    by_bucket: dict[str, list[str]] = {}
    for uri in uris:
        b, k = split_s3(uri)
        by_bucket.setdefault(b, []).append(k)
    kw = {"ExpectedBucketOwner": expected_owner} if expected_owner else {}
    n = 0
    for bucket, keys in by_bucket.items():
        for i in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[i:i + 1000]]
            try:
                resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True}, **kw)
            except AWS_EXCEPTIONS as exc:
                raise translate(exc, f"deleting staged objects in {bucket}") from None
            n += len(batch) - len(resp.get("Errors", []))
    return n
