"""Translate botocore/S3 failures into the pipeline's two error bases, in one place.

Transient: throttling (429), 5xx, a refused or reset connection, a read timeout, a connection closed
before the answer. Among those, an *unclear* answer (5xx, read timeout, closed connection) may come
from a call the service carried out: a create must look for what it made before trying again.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError as BotoConnectionError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
)

from pinpoint_etl.core.errors import PipelineError, TerminalError, TransientError
from pinpoint_etl.core.masking import scrub

_TRANSIENT_CODES = frozenset({
    "TooManyRequestsException", "ThrottlingException", "Throttling", "SlowDown", "RequestTimeout",
    "InternalServerErrorException", "InternalError", "ServiceUnavailable", "ServiceUnavailableException",
})


class UnclearAnswer(TransientError):
    """No answer, or a 5xx: the call may or may not have been carried out."""


def is_transient(exc: BaseException) -> bool:
    """429, 5xx, timeouts and connection problems may succeed later; everything else will not."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = exc.response.get("Error", {}).get("Code", "")
        return status == 429 or status >= 500 or code in _TRANSIENT_CODES
    return isinstance(exc, (BotoConnectionError, HTTPClientError, ConnectionError, TimeoutError))


def is_unclear(exc: BaseException) -> bool:
    """True when the request may have reached the service and been carried out: a 5xx answer, a read
    timeout, a connection closed or reset before the answer. Not a refused or timed-out connect (the
    request was never sent) and not a 429 (refused before any work)."""
    if isinstance(exc, ClientError):
        return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ConnectionRefusedError)):
        return False
    return isinstance(exc, (HTTPClientError, BotoConnectionError, ConnectionError, TimeoutError))


def describe(exc: BaseException) -> str:
    """A one-line, masked description of an AWS failure."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return scrub(f"{err.get('Code', 'Error')} (HTTP {status}): {err.get('Message', '')}".strip())
    return scrub(f"{type(exc).__name__}: {exc}")


def translate(exc: BaseException, what: str, **context) -> PipelineError:
    """Wrap an AWS exception as an UnclearAnswer, TransientError or TerminalError naming ``what`` failed."""
    if isinstance(exc, PipelineError):
        return exc
    if is_unclear(exc):
        cls = UnclearAnswer
    else:
        cls = TransientError if is_transient(exc) else TerminalError
    return cls(f"{what} failed: {describe(exc)}", **context)


AWS_EXCEPTIONS = (ClientError, BotoCoreError, ConnectionError, TimeoutError)
