"""Reading, listing, fingerprinting and deleting local files and S3 objects.

Every failure becomes a pipeline error through ``storage.errors.translate``: with ``source=`` named
as an input that cannot be read, otherwise as the operation that failed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from botocore.exceptions import ClientError

from pinpoint_etl.core.errors import ConfigError
from pinpoint_etl.storage.errors import AWS_EXCEPTIONS, translate
from pinpoint_etl.storage.uris import display_name, is_http, is_s3, split_compression, split_s3

#: keys per ListObjectsV2 call (the S3 maximum)
PAGE_SIZE = 1000


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


def open_source(uri: str, transport_params: dict | None = None) -> BinaryIO:
    """Open an input for reading bytes, decompressing by extension; a failure names it as a source
    (``SourceError``, or ``TransientError`` when a retry may help)."""
    _, compression = split_compression(uri)
    try:
        if compression is None and "://" not in uri:
            return open(uri, "rb")  # a plain local file: no need to load smart-open (and boto3, requests)
        import smart_open

        return smart_open.open(uri, "rb", compression=compression or "disable", transport_params=transport_params)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a pipeline error
        raise translate(exc, source=display_name(uri)) from None


def head(s3, uri: str, *, expected_owner: str | None = None) -> dict:
    """HeadObject of an input (its ETag, ContentLength...); a failure names it as a source."""
    bucket, key = split_s3(uri)
    kw = {"ExpectedBucketOwner": expected_owner} if expected_owner else {}
    try:
        return s3.head_object(Bucket=bucket, Key=key, **kw)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a pipeline error
        raise translate(exc, source=uri) from None


def fingerprint(uri: str, *, s3=None) -> str:
    """What identifies an input's content: an S3 object's ETag and size, an http(s) URL's validators
    (``storage.http``), a local file's name and SHA-256."""
    if is_s3(uri):
        found = head(s3, uri)
        return f"{uri}|{found.get('ETag')}|{found.get('ContentLength')}"
    from pinpoint_etl.storage import http  # urllib.request, http.client, email: for the driver's run id only

    if is_http(uri):
        return http.fingerprint(uri)
    try:
        with open(uri, "rb") as fh:
            return f"{os.path.basename(uri)}|{http.hash_stream(fh.read)}"
    except OSError as exc:
        raise translate(exc, source=uri) from None


def list_keys(s3, bucket: str, prefix: str, *, source: str) -> Iterator[str]:
    """Every key under ``prefix`` (paged, ``PAGE_SIZE`` a page), folder markers (``.../``) skipped; a
    failure names ``source`` as an input that cannot be read."""
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": PAGE_SIZE})
        for page in pages:
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    yield obj["Key"]
    except Exception as exc:  # noqa: BLE001 - every failure becomes a pipeline error
        raise translate(exc, source=source) from None


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


def abort_uploads(s3, prefix_uri: str, *, expected_owner: str | None = None) -> int:
    """Abort every multipart upload left open under ``prefix_uri`` (a run killed while uploading);
    returns how many. Only for a prefix no live run writes to."""
    bucket, prefix = split_s3(prefix_uri)
    kw = {"ExpectedBucketOwner": expected_owner} if expected_owner else {}
    n = 0
    try:
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix, **kw):
            for upload in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"], **kw)
                n += 1
    except AWS_EXCEPTIONS as exc:
        raise translate(exc, f"aborting unfinished uploads under {prefix_uri}") from None
    return n


