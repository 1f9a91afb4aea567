"""Writing local files and S3 objects, all or nothing, with the run's encryption settings.

Writes stream through smart-open's multipart upload with server-side encryption and the
expected bucket owner on every call; a write that fails part-way aborts the multipart upload,
so no partial object is ever left. Local destinations are written to a temporary file and
renamed, which gives the same all-or-nothing guarantee. Clients are passed in explicitly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from botocore.exceptions import ClientError

from pinpoint_etl.core.errors import ConfigError, PipelineError, TerminalError
from pinpoint_etl.storage.errors import AWS_EXCEPTIONS, describe, no_space, translate
from pinpoint_etl.storage.objects import delete_objects
from pinpoint_etl.storage.uris import is_s3, split_s3

PART_SIZE = 16 * 1024 * 1024
log = logging.getLogger("pinpoint_etl")


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


def transport_params(s3, options: WriteOptions | None = None) -> dict:
    """smart-open transport parameters that use ``s3`` and apply ``options`` to each call."""
    opts = options or WriteOptions()
    methods = ("create_multipart_upload", "upload_part", "complete_multipart_upload",
               "abort_multipart_upload", "put_object", "get_object", "head_object")
    return {"client": s3, "min_part_size": PART_SIZE,
            "client_kwargs": {f"S3.Client.{m}": opts.kwargs_for(m) for m in methods if opts.kwargs_for(m)}}


def _terminate(fh, uri: str, attempts: int = 3) -> None:
    """Abort the multipart upload of a smart-open writer, also after a failed CompleteMultipartUpload.
    An abort is idempotent: it is tried again (beyond botocore's own retries) before giving up."""
    terminate = getattr(fh, "terminate", None)
    for attempt in range(attempts if terminate is not None else 0):
        try:
            terminate()
            return
        except Exception as exc:  # noqa: BLE001 - the run's first error is the one to report
            if attempt == attempts - 1:
                log.warning("could not abort the multipart upload of %s: %s", uri, describe(exc))


@contextlib.contextmanager
def open_write(uri: str, *, s3=None, options: WriteOptions | None = None,
               outputs: "Outputs | None" = None) -> Iterator[BinaryIO]:
    """Open ``uri`` (s3:// or a local path) for binary writing; all or nothing.

    An S3 object exists once its multipart upload completes, when the block ends; any failure aborts
    the upload (also a failed completion). A local file is written under a temporary name and renamed
    when the block ends — or, with ``outputs``, only by ``outputs.commit()``.
    """
    if is_s3(uri):
        if s3 is None:
            raise ConfigError(f"an S3 client is needed to write {uri}")
        import smart_open  # loaded on first S3 use: local runs need neither it nor boto3

        try:
            fh = smart_open.open(uri, "wb", transport_params=transport_params(s3, options), compression="disable")
        except AWS_EXCEPTIONS as exc:
            raise translate(exc, f"writing {uri}") from None
        except ValueError as exc:  # smart-open wraps a failed CreateMultipartUpload in a ValueError
            if isinstance(exc.__cause__, AWS_EXCEPTIONS):  # its cause says what it was (a 500 is transient)
                raise translate(exc.__cause__, f"writing {uri}") from None
            raise TerminalError(f"writing {uri} failed: {exc}".split(" (")[0]) from None
        try:
            yield fh
            fh.close()  # completes the upload
        except BaseException as exc:
            _terminate(fh, uri)
            if isinstance(exc, AWS_EXCEPTIONS):
                raise translate(exc, f"writing {uri}") from None
            raise
        if outputs is not None:
            outputs.written(uri)
        return
    path = Path(uri)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise no_space(exc, str(path)) from None
    raw = os.fdopen(fd, "wb")
    try:
        yield _Checked(raw, str(path))
    except BaseException:  # the caller's error (another file's full disk too): passed on as it is
        with contextlib.suppress(OSError):
            raw.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    try:
        raw.close()  # the last bytes are flushed here: the disk may be full now
        if outputs is None:
            os.replace(tmp, path)
        else:
            outputs.pending(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise no_space(exc, str(path)) from None


class _Checked:
    """A local file whose failed writes name it: a full disk is a one-line error about this file."""

    def __init__(self, fh, path: str):
        self._fh, self._path = fh, path

    def write(self, data) -> int:
        try:
            return self._fh.write(data)
        except OSError as exc:
            raise no_space(exc, self._path) from None

    def __getattr__(self, name):
        return getattr(self._fh, name)


class Outputs:
    """The files of one run, which appear together or not at all.

    Local files keep temporary names (``.NAME.XXXXXX`` beside them) until :meth:`commit` renames them,
    in the order they were written (the manifest last); :meth:`discard` removes them. S3 has no rename:
    an object is complete when closed, so :meth:`discard` deletes the objects written (the manifest,
    written last, is what marks a staging complete).
    """

    def __init__(self, *, s3=None, options: WriteOptions | None = None):
        self.s3, self.options = s3, options
        self._lock = threading.Lock()
        self._local: list[tuple[str, Path]] = []
        self._objects: list[str] = []

    def open(self, uri: str):
        return open_write(uri, s3=self.s3, options=self.options, outputs=self)

    def write_bytes(self, uri: str, data: bytes) -> int:
        with self.open(uri) as fh:
            fh.write(data)
        return len(data)

    def pending(self, tmp: str, path: Path) -> None:
        with self._lock:
            self._local.append((tmp, path))

    def written(self, uri: str) -> None:
        with self._lock:
            self._objects.append(uri)

    def commit(self) -> None:
        """Give every local file its name (S3 objects have theirs already)."""
        with self._lock:
            local, self._local, self._objects = self._local, [], []
        for tmp, path in local:
            os.replace(tmp, path)

    def discard(self) -> None:
        """Remove everything written (best effort: a failure is logged, the run's own error is reported)."""
        with self._lock:
            local, objects, self._local, self._objects = self._local, self._objects, [], []
        for tmp, _ in local:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if objects:
            try:
                delete_objects(self.s3, objects, expected_owner=self.options.expected_owner if self.options else None)
            except PipelineError as exc:
                log.warning("could not delete the objects of a failed run: %s", exc)


def write_bytes(uri: str, data: bytes, *, s3=None, options: WriteOptions | None = None) -> int:
    """Write a small object in one go; returns its size."""
    with open_write(uri, s3=s3, options=options) as fh:
        fh.write(data)
    return len(data)


def put_if_absent(uri: str, data: bytes, *, s3=None, options: WriteOptions | None = None) -> bool:
    """Create a small object only if none exists at ``uri`` (S3 ``If-None-Match: *``); False if one does."""
    if not is_s3(uri):
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return True
    bucket, key = split_s3(uri)
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*",
                      **(options or WriteOptions()).kwargs_for("put_object"))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict") \
                or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (409, 412):
            return False
        raise translate(exc, f"writing {uri}") from None
    except AWS_EXCEPTIONS as exc:
        raise translate(exc, f"writing {uri}") from None
    return True
