"""Pinpoint errors and their wire shape.

AWS sends an error as: HTTP status, an ``x-amzn-ErrorType`` header naming the exception, an
``x-amzn-RequestId`` header, and a JSON ``MessageBody`` ``{"Message": ..., "RequestID": ...}``.
botocore reads the code from the header, so boto3 raises ``ClientError`` with that code.
"""

from __future__ import annotations

import json
import uuid


def new_request_id() -> str:
    """A request id in the form AWS uses (a UUID)."""
    return str(uuid.uuid4())


class PinpointError(Exception):
    """An error answered to the client; subclasses fix the status and the error type."""

    status = 400
    error_type = "BadRequestException"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def response(self, request_id: str | None = None) -> tuple[int, dict[str, str], str]:
        """(status, headers, body) as AWS would send them."""
        request_id = request_id or new_request_id()
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": self.error_type,
            "x-amzn-RequestId": request_id,
        }
        body = json.dumps({"Message": self.message, "RequestID": request_id})
        return self.status, headers, body


class BadRequest(PinpointError):
    status, error_type = 400, "BadRequestException"


class Forbidden(PinpointError):
    status, error_type = 403, "ForbiddenException"


class NotFound(PinpointError):
    status, error_type = 404, "NotFoundException"


class MethodNotAllowed(PinpointError):
    status, error_type = 405, "MethodNotAllowedException"


class PayloadTooLarge(PinpointError):
    status, error_type = 413, "PayloadTooLargeException"


class TooManyRequests(PinpointError):
    status, error_type = 429, "TooManyRequestsException"


class InternalServerError(PinpointError):
    status, error_type = 500, "InternalServerErrorException"


class NotImplementedOperation(PinpointError):
    """An operation of the API model the local service does not implement."""

    status, error_type = 501, "NotImplemented"


class UnknownOperation(PinpointError):
    """A signed request that names no operation the service knows."""

    status, error_type = 400, "UnknownOperationException"


class MissingAuthenticationToken(PinpointError):
    status, error_type = 403, "MissingAuthenticationTokenException"


class InvalidSignature(PinpointError):
    status, error_type = 403, "InvalidSignatureException"


class UnrecognizedClient(PinpointError):
    status, error_type = 403, "UnrecognizedClientException"


ERRORS_BY_TYPE: dict[str, type[PinpointError]] = {
    cls.error_type: cls
    for cls in (BadRequest, Forbidden, NotFound, MethodNotAllowed, PayloadTooLarge,
                TooManyRequests, InternalServerError)
}


def error_from_type(error_type: str, message: str) -> PinpointError:
    """The error class for ``error_type`` (unknown types become a 400 BadRequestException)."""
    return ERRORS_BY_TYPE.get(error_type, BadRequest)(message)
