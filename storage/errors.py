"""The one translator of I/O failures into the pipeline's two error bases (``core.errors``).

Every failure met reading or writing a local file, an S3 object or an http(s) URL, or calling an AWS
API through botocore (S3 and Pinpoint alike), goes through :func:`translate`:

* **transient** (``TransientError``, exit 1, retried): HTTP 429 and throttling codes, 5xx, a refused
  or reset connection to a service, a connect or read timeout, a connection closed before the answer.
  Among those an **unclear** answer (``UnclearAnswer``: a 5xx, a read timeout, a connection closed or
  reset) may come from a call the service carried out: a create must look for what it made first.
* **terminal** (``TerminalError``, exit 2, not retried): any other 4xx (403 and 404 with a clear
  message), a missing or unreadable file, corrupt or undecodable data, a full disk (naming the file),
  missing credentials — and an http(s) *source* on a port where nothing listens (the URL names no
  input: an unreadable input, not an outage).

With ``source=`` the failure is one of reading an input, reported as a ``SourceError`` naming it;
otherwise as ``"<what> failed: <code> (HTTP <status>): <message>"``. Messages are masked (``scrub``)
and never quote file contents or a URL's query string (presigned URLs carry credentials).
"""

from __future__ import annotations

import errno
import gzip
import re
import sys
import zlib
from typing import Literal

from botocore import exceptions as bce

from pinpoint_etl.core.errors import PipelineError, SourceError, TerminalError, TransientError
from pinpoint_etl.core.masking import scrub

Kind = Literal["unclear", "transient", "terminal"]

_TRANSIENT_CODES = frozenset({
    "TooManyRequestsException", "ThrottlingException", "Throttling", "SlowDown", "RequestTimeout",
    "InternalServerErrorException", "InternalError", "ServiceUnavailable", "ServiceUnavailableException",
    "RequestTimeTooSkewed",
})
_NOT_FOUND = {"NoSuchKey": "no such S3 object", "NoSuchBucket": "no such S3 bucket", "404": "no such S3 object",
              "NotFound": "no such S3 object"}
_DENIED = frozenset({"AccessDenied", "403", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId",
                     "SignatureDoesNotMatch", "ExpiredToken"})
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_URL_QUERY = re.compile(r"(https?://[^\s?#'\"]+)[?#][^\s'\"]*")

AWS_EXCEPTIONS = (bce.ClientError, bce.BotoCoreError, ConnectionError, TimeoutError)


class UnclearAnswer(TransientError):
    """No answer, or a 5xx: the call may or may not have been carried out."""


def _status(exc: BaseException) -> int:
    return (getattr(exc, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode") or 0


def _code(exc: BaseException) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


def _http_status(exc: BaseException) -> int | None:
    """The status of an http(s) answer that was an error (requests or urllib), else None."""
    urllib_error = sys.modules.get("urllib.error")  # loaded where a URL was fingerprinted (storage.http)
    if urllib_error is not None and isinstance(exc, urllib_error.HTTPError):
        return exc.code
    requests = sys.modules.get("requests")  # loaded only where an http(s) source was opened
    if requests is not None and isinstance(exc, requests.HTTPError):
        return exc.response.status_code if exc.response is not None else 0
    return None


def _refused(exc: BaseException) -> bool:
    """Nothing listens at the address (the request was never sent)."""
    if isinstance(exc, ConnectionRefusedError):
        return True
    reason = getattr(exc, "reason", None)  # urllib.error.URLError
    if isinstance(reason, ConnectionRefusedError):
        return True
    requests = sys.modules.get("requests")
    return requests is not None and isinstance(exc, requests.ConnectionError) and "refused" in str(exc).lower()


def _connection_trouble(exc: BaseException) -> bool:
    requests = sys.modules.get("requests")
    if requests is not None and isinstance(exc, (requests.ConnectionError, requests.Timeout,
                                                 requests.exceptions.ChunkedEncodingError)):
        return True
    urllib_error = sys.modules.get("urllib.error")
    if urllib_error is not None and isinstance(exc, urllib_error.URLError) \
            and not isinstance(exc, urllib_error.HTTPError):
        return isinstance(exc.reason, (OSError, TimeoutError))
    return isinstance(exc, (bce.ConnectionError, bce.HTTPClientError, ConnectionError, TimeoutError))


def classify(exc: BaseException) -> Kind:
    """Whether a retry may help (``transient``), may help but the call may have been carried out
    (``unclear``: a 5xx, a read timeout, a connection closed or reset before the answer), or cannot
    help (``terminal``). A refused or timed-out connect was never sent and a 429 was refused before
    any work: transient, not unclear."""
    if isinstance(exc, bce.ClientError):
        status = _status(exc)
        if status >= 500:
            return "unclear"
        return "transient" if status == 429 or _code(exc) in _TRANSIENT_CODES else "terminal"
    status = _http_status(exc)
    if status is not None:
        return "unclear" if status >= 500 else "transient" if status == 429 else "terminal"
    if not _connection_trouble(exc):
        return "terminal"
    if _refused(exc) or isinstance(exc, (bce.EndpointConnectionError, bce.ConnectTimeoutError)):
        return "transient"  # never sent: clear
    return "unclear"


def describe(exc: BaseException) -> str:
    """A one-line, masked description of a failure."""
    if isinstance(exc, bce.ClientError):
        err = exc.response.get("Error", {})
        return scrub(f"{err.get('Code', 'Error')} (HTTP {_status(exc) or None}): {err.get('Message', '')}".strip())
    return scrub(f"{type(exc).__name__}: {exc}")


def no_space(exc: BaseException, where: str) -> BaseException:
    """A full disk (or quota) as a one-line TerminalError naming the file; other errors unchanged."""
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
        return TerminalError(f"writing {where} failed: {exc.strerror}")
    return exc


def codec_label(codec: str) -> str:
    """``utf-8-sig`` → ``utf-8``: how an encoding is named in messages."""
    return "utf-8" if codec in ("utf-8", "utf-8-sig") else codec


def decode_error(source: str, codec: str, byte: int | None, *, row: int | None = None,
                 field: str | None = None, where: str = "") -> SourceError:
    """The error for undecodable bytes, with a hint for the usual UTF-8-vs-cp1252 mix-up."""
    shown = f" (byte 0x{byte:02x})" if byte is not None else ""
    hint = "; pass the file's encoding (e.g. cp1252, latin-1) if it is not utf-8" if codec_label(codec) == "utf-8" else ""
    return SourceError(f"invalid {codec_label(codec)}{where}{shown}{hint}", source=source, row=row, field=field)


def _unwrap(exc: BaseException) -> BaseException:
    """The AWS failure smart-open wrapped (in ``backend_error`` or as the cause of a ValueError)."""
    backend = getattr(exc, "backend_error", None) or exc.__cause__
    if isinstance(backend, AWS_EXCEPTIONS) and not isinstance(exc, AWS_EXCEPTIONS):
        return backend
    return exc


def translate(exc: BaseException, what: str = "", *, source: str | None = None, codec: str = "utf-8",
              **context) -> PipelineError:
    """``exc`` as an ``UnclearAnswer``, ``TransientError`` or ``TerminalError`` (a ``SourceError`` when
    reading ``source``); ``what`` names the operation that failed (see the module docstring)."""
    if isinstance(exc, PipelineError):
        return exc
    exc = _unwrap(exc)
    full = no_space(exc, source or what)
    if full is not exc:
        return full  # type: ignore[return-value]
    kind = classify(exc)
    if source is None:
        cls = {"unclear": UnclearAnswer, "transient": TransientError, "terminal": TerminalError}[kind]
        return cls(f"{what} failed: {describe(exc)}", **context)
    if kind == "terminal" or _refused(exc) and not isinstance(exc, bce.BotoCoreError):
        return _unreadable(exc, source, codec, **context)
    cls = UnclearAnswer if kind == "unclear" else TransientError
    return cls(f"{_transient_reason(exc)}, may succeed if retried", source=source, **context)


def _transient_reason(exc: BaseException) -> str:
    if isinstance(exc, bce.ClientError):
        return f"S3 request failed ({_code(exc) or _status(exc)})"
    status = _http_status(exc)
    if status is not None:
        return f"HTTP request failed (HTTP {status})"
    if isinstance(exc, bce.BotoCoreError):
        return "connection to S3 failed"
    return "connection failed"


def _unreadable(exc: BaseException, source: str, codec: str, **context) -> PipelineError:
    """A source that cannot be read, and why, as a one-line ``SourceError``."""
    if isinstance(exc, bce.ClientError):
        code, status = _code(exc), _status(exc)
        if code in _NOT_FOUND or status == 404:
            return SourceError(_NOT_FOUND.get(code, "no such S3 object"), source=source, **context)
        if code in _DENIED or status == 403:
            return SourceError(f"access denied by S3 ({code or status})", source=source, **context)
        return SourceError(f"S3 request failed: {scrub(code or str(status))}", source=source, **context)
    status = _http_status(exc)
    if status is not None:
        reason = {404: "not found", 403: "access denied"}.get(status, "HTTP request failed")
        return SourceError(f"{reason} (HTTP {status})", source=source, **context)
    if _refused(exc):
        return SourceError("cannot read the source: connection refused (nothing listens there)", source=source,
                           **context)
    if isinstance(exc, bce.NoCredentialsError):
        return SourceError("no AWS credentials to read S3", source=source, **context)
    reason = _LOCAL_REASONS.get(type(exc)) or next(
        (text for cls, text in _LOCAL_REASONS.items() if isinstance(exc, cls)), None)
    if reason:
        return SourceError(reason, source=source, **context)
    if type(exc).__name__ == "ZstdError":
        return SourceError("corrupt zstd data", source=source, **context)
    if isinstance(exc, UnicodeDecodeError):
        return decode_error(source, codec, exc.object[exc.start] if exc.object else None)
    text = scrub(_URL_QUERY.sub(r"\1", " ".join(str(exc).split())))[:200] or type(exc).__name__
    return SourceError(f"cannot read: {text}", source=source, **context)


_LOCAL_REASONS: dict[type, str] = {
    FileNotFoundError: "file not found",
    IsADirectoryError: "is a directory, not a file",
    PermissionError: "permission denied",
    EOFError: "compressed stream ended early (file truncated?)",
    gzip.BadGzipFile: "not a gzip file (or corrupt gzip header)",
    zlib.error: "corrupt gzip data",
}
