"""Translate botocore/S3 failures into the pipeline's two error bases, in one place."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError

from pinpoint_etl.core.errors import PipelineError, TerminalError, TransientError
from pinpoint_etl.core.masking import scrub

_TRANSIENT_CODES = frozenset({
    "TooManyRequestsException", "ThrottlingException", "Throttling", "SlowDown", "RequestTimeout",
    "InternalServerErrorException", "InternalError", "ServiceUnavailable", "ServiceUnavailableException",
})


def is_transient(exc: BaseException) -> bool:
    """429, 5xx and connection problems may succeed later; everything else will not."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = exc.response.get("Error", {}).get("Code", "")
        return status == 429 or status >= 500 or code in _TRANSIENT_CODES
    return isinstance(exc, (BotoConnectionError, ConnectionError, TimeoutError))


def describe(exc: BaseException) -> str:
    """A one-line, masked description of an AWS failure."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return scrub(f"{err.get('Code', 'Error')} (HTTP {status}): {err.get('Message', '')}".strip())
    return scrub(f"{type(exc).__name__}: {exc}")


def translate(exc: BaseException, what: str, **context) -> PipelineError:
    """Wrap an AWS exception as a TransientError or TerminalError naming ``what`` failed."""
    if isinstance(exc, PipelineError):
        return exc
    cls = TransientError if is_transient(exc) else TerminalError
    return cls(f"{what} failed: {describe(exc)}", **context)


AWS_EXCEPTIONS = (ClientError, BotoCoreError, ConnectionError, TimeoutError)
