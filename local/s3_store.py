"""In-process access to moto's S3 backend (what Pinpoint does with the role it assumed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.s3.models import FakeDeleteMarker, s3_backends
from moto.utilities.utils import get_partition


class S3Problem(Exception):
    """The S3 location can't be used; the message says why."""


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` → (bucket, key); ValueError if it is not an S3 URL."""
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise ValueError(f"{url!r} is not an S3 URL (expected s3://bucket-name/folder-name/file-name)")
    bucket, _, key = url[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"{url!r} has no bucket name")
    return bucket, key


def _backend(account_id: str, region: str) -> Any:
    return s3_backends[account_id][get_partition(region)]


def _bucket(account_id: str, region: str, bucket: str) -> Any:
    backend = _backend(account_id, region)
    if bucket not in backend.buckets:
        raise S3Problem(f"bucket {bucket} does not exist")
    return backend.buckets[bucket]


def list_objects(account_id: str, region: str, bucket: str, key: str) -> list[S3Object]:
    """The object named ``key`` if it exists, else every object under the folder ``key``.

    A folder includes all its subfolders; ``key`` "" means the whole bucket. Folder marker
    objects (keys ending in "/") are skipped.
    """
    fake_bucket = _bucket(account_id, region, bucket)
    items = {name: obj for name, obj in list(fake_bucket.keys.items())
             if not isinstance(obj, FakeDeleteMarker)}
    if key and not key.endswith("/") and key in items:
        return [S3Object(bucket, key, items[key].size)]
    prefix = key if not key or key.endswith("/") else key + "/"
    return [S3Object(bucket, name, obj.size) for name, obj in sorted(items.items())
            if name.startswith(prefix) and not name.endswith("/")]


def read_object(account_id: str, region: str, obj: S3Object) -> bytes:
    fake_bucket = _bucket(account_id, region, obj.bucket)
    fake_key = fake_bucket.keys.get(obj.key)
    if fake_key is None or isinstance(fake_key, FakeDeleteMarker):
        raise S3Problem(f"{obj.url} no longer exists")
    return fake_key.value


def bucket_exists(account_id: str, region: str, bucket: str) -> bool:
    return bucket in _backend(account_id, region).buckets


def write_object(account_id: str, region: str, bucket: str, key: str, data: bytes) -> None:
    _bucket(account_id, region, bucket)
    _backend(account_id, region).put_object(bucket, key, data)
