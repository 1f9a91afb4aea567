"""S3 buckets and objects of the local service: metadata in SQLite, bytes in blob files on disk.

Objects are written a block at a time from the request stream to a new blob file (MD5 and, when
the client sent one, SHA-256 computed on the way), then recorded in one transaction; the blob of
an overwritten or deleted object is removed after the commit. A multipart upload keeps one blob
per part; completing it concatenates the parts on disk (``os.copy_file_range`` where the kernel
has it), so no object is ever held in memory. Import and export jobs read and write through the
same functions (what Pinpoint does with the role it assumed).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from pinpoint_etl.local.db import Database

COPY_BLOCK = 1 << 20
MIN_PART_SIZE = 5 * 1024 * 1024  # S3: every part but the last is at least 5 MiB


class S3Problem(Exception):
    """The S3 location can't be used; the message says why."""


class S3Error(Exception):
    """An S3 error answer: HTTP status, S3 error code, message and extra XML fields."""

    def __init__(self, status: int, code: str, message: str, **extra: str):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=bucket)


def no_such_key(key: str) -> S3Error:
    return S3Error(404, "NoSuchKey", "The specified key does not exist.", Key=key)


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int
    etag: str = ""
    last_modified: str = ""
    blob: str = ""
    headers: str = "{}"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def header_map(self) -> dict[str, str]:
        return json.loads(self.headers)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` → (bucket, key); ValueError if it is not an S3 URL."""
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise ValueError(f"{url!r} is not an S3 URL (expected s3://bucket-name/folder-name/file-name)")
    bucket, _, key = url[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"{url!r} has no bucket name")
    return bucket, key


def now_s3() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _copy_range(src: BinaryIO, dst: BinaryIO, size: int) -> None:
    """Copy ``size`` bytes between two freshly opened files, in the kernel where possible."""
    if hasattr(os, "copy_file_range"):
        try:
            while size:
                done = os.copy_file_range(src.fileno(), dst.fileno(), min(size, 1 << 30))
                if done == 0:
                    break
                size -= done
        except OSError:
            pass  # not supported between these files: the rest is copied below
    while size:
        block = src.read(min(COPY_BLOCK, size))
        if not block:
            break
        dst.write(block)
        size -= len(block)


class S3Store:
    """Buckets, objects and multipart uploads of one service."""

    def __init__(self, db: Database, account_id: str, region: str):
        self.db = db
        self.account_id = account_id
        self.region = region

    # ------------------------------------------------------------------ buckets

    def create_bucket(self, bucket: str, region: str | None = None) -> bool:
        """Create ``bucket``; False if it already exists."""
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM buckets WHERE name = ?", (bucket,)).fetchone():
                return False
            conn.execute("INSERT INTO buckets VALUES (?, ?, ?, ?, NULL)",
                         (bucket, region or self.region, self.account_id, now_s3()))
        return True

    def bucket(self, bucket: str) -> dict[str, str] | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT name, region, owner, creation_date FROM buckets WHERE name = ?",
                               (bucket,)).fetchone()
        return dict(zip(("name", "region", "owner", "creation_date"), row)) if row else None

    def encryption(self, bucket: str) -> dict[str, str] | None:
        """The bucket's default encryption (``SSEAlgorithm``, ``KMSMasterKeyID``, ``BucketKeyEnabled``)."""
        self.require_bucket(bucket)
        with self.db.read() as conn:
            row = conn.execute("SELECT encryption FROM buckets WHERE name = ?", (bucket,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def set_encryption(self, bucket: str, rule: dict[str, str] | None) -> None:
        self.require_bucket(bucket)
        with self.db.write() as conn:
            conn.execute("UPDATE buckets SET encryption = ? WHERE name = ?",
                         (json.dumps(rule) if rule else None, bucket))

    def sse_headers(self, bucket: str, headers: dict[str, str], fallback: str | None = None) -> dict[str, str]:
        """``headers`` with the bucket's default encryption where they ask for none (else ``fallback``:
        what S3 applies to every new object since 2023, SSE-S3, for writers that follow it)."""
        if "x-amz-server-side-encryption" in headers:
            return headers
        rule = self.encryption(bucket)
        if rule:
            out = {**headers, "x-amz-server-side-encryption": rule["SSEAlgorithm"]}
            if rule.get("KMSMasterKeyID"):
                out["x-amz-server-side-encryption-aws-kms-key-id"] = rule["KMSMasterKeyID"]
            if rule.get("BucketKeyEnabled"):
                out["x-amz-server-side-encryption-bucket-key-enabled"] = "true"
            return out
        return {**headers, "x-amz-server-side-encryption": fallback} if fallback else headers

    def bucket_exists(self, bucket: str) -> bool:
        return self.bucket(bucket) is not None

    def require_bucket(self, bucket: str) -> dict[str, str]:
        found = self.bucket(bucket)
        if found is None:
            raise no_such_bucket(bucket)
        return found

    def buckets(self) -> list[dict[str, str]]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT name, region, owner, creation_date FROM buckets ORDER BY name").fetchall()
        return [dict(zip(("name", "region", "owner", "creation_date"), r)) for r in rows]

    def delete_bucket(self, bucket: str) -> None:
        with self.db.write() as conn:
            self.require_bucket(bucket)
            if conn.execute("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", (bucket,)).fetchone():
                raise S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", BucketName=bucket)
            for (upload_id,) in conn.execute("SELECT id FROM uploads WHERE bucket = ?", (bucket,)).fetchall():
                self._drop_upload(conn, upload_id)
            conn.execute("DELETE FROM buckets WHERE name = ?", (bucket,))

    # ------------------------------------------------------------------ objects

    def head(self, bucket: str, key: str) -> S3Object | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT size, etag, last_modified, blob, headers FROM objects "
                               "WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
        return S3Object(bucket, key, *row) if row else None

    def write_blob(self, chunks: Iterable[bytes], sha256: str | None = None) -> tuple[str, int, str]:
        """Stream ``chunks`` into a new blob; (blob name, size, MD5 hex). ``sha256``: the hex digest
        the client declared for the payload (S3Error XAmzContentSHA256Mismatch if it differs)."""
        name, path = self.db.new_blob()
        md5 = hashlib.md5()  # noqa: S324 - S3's ETag, not security
        sha = hashlib.sha256() if sha256 else None
        size = 0
        try:
            with open(path, "wb") as fh:
                for chunk in chunks:
                    if chunk:
                        fh.write(chunk)
                        md5.update(chunk)
                        if sha is not None:
                            sha.update(chunk)
                        size += len(chunk)
            if sha is not None and sha.hexdigest() != sha256:
                raise S3Error(400, "XAmzContentSHA256Mismatch",
                              "The provided 'x-amz-content-sha256' header does not match what was computed.",
                              ClientComputedContentSHA256=sha256, S3ComputedContentSHA256=sha.hexdigest())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return name, size, md5.hexdigest()

    def put_object(self, bucket: str, key: str, chunks: Iterable[bytes], headers: dict[str, str], *,
                   sha256: str | None = None, if_none_match: str | None = None,
                   if_match: str | None = None) -> S3Object:
        """Store an object from a stream of byte chunks; the conditions are checked at commit."""
        self.require_bucket(bucket)
        blob, size, md5 = self.write_blob(chunks, sha256)
        try:
            return self._record(bucket, key, blob, size, f'"{md5}"', headers, if_none_match, if_match)
        except BaseException:
            self.db.drop_blob(blob)
            raise

    def _record(self, bucket: str, key: str, blob: str, size: int, etag: str, headers: dict[str, str],
                if_none_match: str | None, if_match: str | None) -> S3Object:
        obj = S3Object(bucket, key, size, etag, now_s3(), blob, json.dumps(headers, sort_keys=True))
        with self.db.write() as conn:
            if not conn.execute("SELECT 1 FROM buckets WHERE name = ?", (bucket,)).fetchone():
                raise no_such_bucket(bucket)
            row = conn.execute("SELECT blob, etag FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
            _check_write_conditions(row[1] if row else None, if_none_match, if_match, key)
            conn.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (bucket, key, blob, size, etag, obj.last_modified, obj.headers))
        if row and row[0] != blob:
            self.db.drop_blob(row[0])
        return obj

    def open(self, obj: S3Object) -> BinaryIO:
        """The object's bytes as a binary file (S3Problem if it has gone)."""
        try:
            return open(self.db.blob_path(obj.blob), "rb")
        except FileNotFoundError:
            raise S3Problem(f"{obj.url} no longer exists") from None

    def blob_path(self, obj: S3Object) -> str:
        return str(self.db.blob_path(obj.blob))

    def delete_object(self, bucket: str, key: str) -> bool:
        """Delete one object; True if it existed (deleting a missing key is not an error in S3)."""
        with self.db.write() as conn:
            self.require_bucket(bucket)
            row = conn.execute("SELECT blob FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
            if row:
                conn.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
        if row:
            self.db.drop_blob(row[0])
        return bool(row)

    def copy_object(self, src_bucket: str, src_key: str, bucket: str, key: str,
                    headers: dict[str, str] | None) -> S3Object:
        """Copy an object (``headers`` None keeps the source's metadata)."""
        self.require_bucket(src_bucket)
        src = self.head(src_bucket, src_key)
        if src is None:
            raise no_such_key(src_key)
        name, path = self.db.new_blob()
        with self.open(src) as fin, open(path, "wb") as fout:
            _copy_range(fin, fout, src.size)
        try:
            return self._record(bucket, key, name, src.size, src.etag,
                                src.header_map() if headers is None else headers, None, None)
        except BaseException:
            self.db.drop_blob(name)
            raise

    def list_objects(self, bucket: str, prefix: str = "", after: str = "") -> Iterator[S3Object]:
        """Objects of ``bucket`` whose key starts with ``prefix``, key order, from after ``after``."""
        self.require_bucket(bucket)
        with self.db.read() as conn:
            cursor = conn.execute(
                "SELECT key, size, etag, last_modified, blob, headers FROM objects WHERE bucket = ? AND key > ? "
                "AND key >= ? ORDER BY key", (bucket, after, prefix))
            for key, *rest in cursor:
                if not key.startswith(prefix):
                    break
                yield S3Object(bucket, key, *rest)

    def objects_at(self, bucket: str, key: str) -> list[S3Object]:
        """The object named ``key`` if it exists, else every object under the folder ``key``.

        A folder includes all its subfolders; ``key`` "" means the whole bucket. Folder marker
        objects (keys ending in "/") are skipped.
        """
        if not self.bucket_exists(bucket):
            raise S3Problem(f"bucket {bucket} does not exist")
        if key and not key.endswith("/"):
            single = self.head(bucket, key)
            if single is not None:
                return [single]
        prefix = key if not key or key.endswith("/") else key + "/"
        return [o for o in self.list_objects(bucket, prefix) if not o.key.endswith("/")]

    # ------------------------------------------------------------------ multipart

    def create_upload(self, bucket: str, key: str, headers: dict[str, str]) -> str:
        self.require_bucket(bucket)
        upload_id = os.urandom(24).hex()
        with self.db.write() as conn:
            conn.execute("INSERT INTO uploads VALUES (?, ?, ?, ?, ?)",
                         (upload_id, bucket, key, now_s3(), json.dumps(headers, sort_keys=True)))
        return upload_id

    def upload(self, bucket: str, upload_id: str) -> dict[str, Any]:
        self.require_bucket(bucket)
        with self.db.read() as conn:
            row = conn.execute("SELECT key, initiated, headers FROM uploads WHERE id = ? AND bucket = ?",
                               (upload_id, bucket)).fetchone()
        if row is None:
            raise S3Error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be "
                          "invalid, or the upload may have been aborted or completed.", UploadId=upload_id)
        return {"key": row[0], "initiated": row[1], "headers": json.loads(row[2])}

    def put_part(self, bucket: str, upload_id: str, number: int, chunks: Iterable[bytes],
                 sha256: str | None = None) -> str:
        """Store one part; returns its ETag."""
        self.upload(bucket, upload_id)
        if not 1 <= number <= 10000:
            raise S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
        blob, size, md5 = self.write_blob(chunks, sha256)
        etag = f'"{md5}"'
        with self.db.write() as conn:
            if not conn.execute("SELECT 1 FROM uploads WHERE id = ?", (upload_id,)).fetchone():
                self.db.drop_blob(blob)
                raise S3Error(404, "NoSuchUpload", "The specified upload does not exist.", UploadId=upload_id)
            old = conn.execute("SELECT blob FROM parts WHERE upload_id = ? AND number = ?",
                               (upload_id, number)).fetchone()
            conn.execute("INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?)",
                         (upload_id, number, blob, size, etag, now_s3()))
        if old:
            self.db.drop_blob(old[0])
        return etag

    def parts(self, upload_id: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT number, blob, size, etag, last_modified FROM parts WHERE upload_id = ? "
                                "ORDER BY number", (upload_id,)).fetchall()
        return [dict(zip(("number", "blob", "size", "etag", "last_modified"), r)) for r in rows]

    def uploads(self, bucket: str, prefix: str = "") -> list[dict[str, str]]:
        self.require_bucket(bucket)
        with self.db.read() as conn:
            rows = conn.execute("SELECT id, key, initiated FROM uploads WHERE bucket = ? ORDER BY key, initiated",
                                (bucket,)).fetchall()
        return [{"id": r[0], "key": r[1], "initiated": r[2]} for r in rows if r[1].startswith(prefix)]

    def complete_upload(self, bucket: str, upload_id: str, wanted: list[tuple[int, str]], *,
                        if_none_match: str | None = None) -> S3Object:
        """Concatenate the listed parts (number, ETag) into the object, on disk; S3's checks apply."""
        upload = self.upload(bucket, upload_id)
        if not wanted:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate "
                          "against our published schema")
        have = {p["number"]: p for p in self.parts(upload_id)}
        numbers = [n for n, _ in wanted]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list "
                          "must be specified in order by part number.")
        chosen = []
        for number, etag in wanted:
            part = have.get(number)
            if part is None or part["etag"].strip('"') != etag.strip('"'):
                raise S3Error(400, "InvalidPart", "One or more of the specified parts could not be found. The part "
                              "may not have been uploaded, or the specified entity tag may not match the part's "
                              "entity tag.", PartNumber=str(number), ETag=etag)
            chosen.append(part)
        for part in chosen[:-1]:
            if part["size"] < MIN_PART_SIZE:
                raise S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed "
                              "object size.", ProposedSize=str(part["size"]), MinSizeAllowed=str(MIN_PART_SIZE),
                              PartNumber=str(part["number"]), ETag=part["etag"])
        name, path = self.db.new_blob()
        digests = hashlib.md5()  # noqa: S324 - S3's multipart ETag
        size = 0
        try:
            with open(path, "wb") as out:
                for part in chosen:
                    with open(self.db.blob_path(part["blob"]), "rb") as src:
                        _copy_range(src, out, part["size"])
                    digests.update(bytes.fromhex(part["etag"].strip('"')))
                    size += part["size"]
            etag = f'"{digests.hexdigest()}-{len(chosen)}"'
            obj = self._record(bucket, upload["key"], name, size, etag, upload["headers"], if_none_match, None)
        except BaseException:
            self.db.drop_blob(name)
            raise
        with self.db.write() as conn:
            self._drop_upload(conn, upload_id)
        return obj

    def abort_upload(self, bucket: str, upload_id: str) -> None:
        self.upload(bucket, upload_id)
        with self.db.write() as conn:
            self._drop_upload(conn, upload_id)

    def _drop_upload(self, conn: Any, upload_id: str) -> None:
        blobs = [r[0] for r in conn.execute("SELECT blob FROM parts WHERE upload_id = ?", (upload_id,))]
        conn.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
        conn.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))
        for blob in blobs:
            self.db.drop_blob(blob)


def _check_write_conditions(current_etag: str | None, if_none_match: str | None, if_match: str | None,
                            key: str) -> None:
    if if_none_match is not None and if_none_match.strip() == "*" and current_etag is not None:
        raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                      Condition="If-None-Match")
    if if_match is not None:
        if current_etag is None:
            raise no_such_key(key)
        if if_match.strip() not in ("*", current_etag, current_etag.strip('"')):
            raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not "
                          "hold", Condition="If-Match")

