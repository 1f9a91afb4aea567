"""The WSGI front of the service: admin routes, signature checks, CORS, and dispatch by service.

Every request but ``/_local/health`` and an allowed CORS preflight must be signed (SigV4) with the
service's access key — unless the service runs ``insecure``, when unsigned requests are taken as
Pinpoint (paths under ``/v1/``) or S3. The credential scope names the service: ``mobiletargeting``
→ the Pinpoint API (:mod:`local.pinpoint_app`), ``s3`` → :mod:`local.s3_api`, ``iam``/``sts`` →
moto (:mod:`local.iam`). Refusals leave in the protocol of the service asked (S3 and IAM/STS as
XML, everything else as the JSON error shape); nothing ever answers an HTML page:

* unsigned → 403 ``MissingAuthenticationTokenException``; another access key → 403
  ``UnrecognizedClientException`` (S3 ``InvalidAccessKeyId``); a wrong signature → 403
  ``InvalidSignatureException`` (S3 ``SignatureDoesNotMatch``); a malformed Authorization → 400
  ``IncompleteSignatureException``; a service the local service does not offer → 400
  ``UnknownServiceException``; moto's own API (``/moto-api/``) → 404.

CORS headers are sent only for the origins given at start (``cors_origins``; ``*`` for any), with
preflight (OPTIONS) answered for them; otherwise every ``Access-Control-*`` header is removed.

The ``drop`` fault knob (any operation) is carried out here: the request is served, then the
connection is closed without the answer (after ``drop_delay`` seconds).
"""

from __future__ import annotations

import json
import logging
import socket
import time
from typing import Any

from pinpoint_etl.local import pinpoint_app, sigv4
from pinpoint_etl.local.admin import PREFIX, Admin
from pinpoint_etl.local.errors import new_request_id
from pinpoint_etl.local.faults import FAULTS
from pinpoint_etl.local.iam import IamService
from pinpoint_etl.local.limits import MAX_PAYLOAD_BYTES
from pinpoint_etl.local.s3_api import REASONS, Answer, S3Api, drain, error_answer
from pinpoint_etl.local.s3_store import S3Error

log = logging.getLogger(__name__)
SERVICES = ("mobiletargeting", "s3", "iam", "sts")
EXPOSED = ("x-amzn-RequestId", "x-amzn-ErrorType", "x-amz-request-id", "x-amz-id-2", "ETag", "Content-Range",
           "x-amz-server-side-encryption", "x-amz-bucket-region")
S3_AUTH = {"missing": (403, "AccessDenied"), "unknown_key": (403, "InvalidAccessKeyId"),
           "signature": (403, "SignatureDoesNotMatch"), "expired": (403, "AccessDenied"),
           "malformed": (400, "AuthorizationHeaderMalformed")}
QUERY_AUTH = {"missing": (403, "MissingAuthenticationToken"), "unknown_key": (403, "InvalidClientTokenId"),
              "signature": (403, "SignatureDoesNotMatch"), "expired": (403, "SignatureDoesNotMatch"),
              "malformed": (400, "IncompleteSignature")}
JSON_AUTH = {"missing": (403, "MissingAuthenticationTokenException"), "unknown_key": (403, "UnrecognizedClientException"),
             "signature": (403, "InvalidSignatureException"), "expired": (403, "InvalidSignatureException"),
             "malformed": (400, "IncompleteSignatureException")}


def _reason(status: int) -> str:
    return f"{status} {REASONS.get(status, 'OK')}"


def json_error(status: int, error_type: str, message: str) -> tuple[int, dict[str, str], bytes]:
    request_id = new_request_id()
    body = json.dumps({"Message": message, "RequestID": request_id}).encode()
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": error_type,
                    "x-amzn-RequestId": request_id}, body


def query_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    request_id = new_request_id()
    body = (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>").encode()
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body


class LocalMiddleware:
    """The whole service as one WSGI application."""

    def __init__(self, state: Any, admin: Admin):
        self.state = state
        self.admin = admin
        self.s3 = S3Api(state.s3, state.account_id)
        self.iam: IamService = state.iam
        self.origins = tuple(state.cors_origins)

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        origin = environ.get("HTTP_ORIGIN")
        allowed = origin if origin and ("*" in self.origins or origin in self.origins) else None

        def respond(status: int | str, headers: dict[str, str] | list, body: Any,
                    preflight: dict[str, str] | None = None) -> Any:
            pairs = list(headers.items()) if isinstance(headers, dict) else list(headers)
            pairs = [(k, v) for k, v in pairs if not k.lower().startswith("access-control-")]
            if allowed:
                pairs += [("Access-Control-Allow-Origin", allowed), ("Vary", "Origin"),
                          ("Access-Control-Expose-Headers", ", ".join(EXPOSED)), *(preflight or {}).items()]
            if isinstance(body, bytes) and not any(k.lower() == "content-length" for k, _ in pairs):
                pairs.append(("Content-Length", str(len(body))))
            start_response(status if isinstance(status, str) else _reason(status), pairs)
            return [body] if isinstance(body, bytes) else body

        FAULTS.answer_dropped()  # a mark left by an earlier request on this thread is forgotten
        try:
            answer = self._handle(environ, respond, allowed)
        except Exception as exc:  # noqa: BLE001 - never a traceback page
            log.exception("unhandled error in the local service")
            return respond(*json_error(500, "InternalServerErrorException", f"Internal server error: {exc!r}"))
        delay = FAULTS.answer_dropped()
        if delay is None:
            return answer
        for _ in answer:  # the work is done; the answer is lost
            pass
        if hasattr(answer, "close"):
            answer.close()
        time.sleep(delay)
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("fault knob drop: the answer is lost")  # werkzeug: connection dropped

    def _handle(self, environ: dict[str, Any], respond: Any, allowed: str | None) -> Any:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith(PREFIX):
            status, payload = self.admin(environ)
            return respond(status, {"Content-Type": "application/json"}, json.dumps(payload).encode())
        if method == "OPTIONS" and allowed:
            asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "*")
            return respond(200, {}, b"", {"Access-Control-Allow-Methods": "GET, PUT, POST, DELETE, HEAD",
                                          "Access-Control-Allow-Headers": asked, "Access-Control-Max-Age": "600"})
        if path.startswith("/moto-api"):
            drain(environ)
            return respond(*json_error(404, "NotFoundException", "moto's API is not served; the admin routes are "
                                                                 "under /_local/"))
        try:
            scope = sigv4.scope_of(environ)
        except sigv4.AuthError as exc:
            drain(environ)
            return respond(*json_error(*JSON_AUTH[exc.kind], exc.message))
        if scope is None and not self.state.insecure:
            drain(environ)
            return respond(*json_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token"))
        service = scope.service if scope else ("mobiletargeting" if path.startswith("/v1/") else "s3")
        if service not in SERVICES:
            drain(environ)
            return respond(*json_error(400, "UnknownServiceException",
                                       f"the local service offers Pinpoint (mobiletargeting), S3, IAM and STS, "
                                       f"not {service!r}"))
        body = b""
        if service != "s3":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > MAX_PAYLOAD_BYTES and service == "mobiletargeting":
                drain(environ)
                return respond(*json_error(413, "PayloadTooLargeException", "Request payload is larger than 7 MB"))
            body = environ["wsgi.input"].read(length) if length else b""
        if not self.state.insecure:
            try:
                sigv4.verify(environ, self.state.access_key_id, self.state.secret_access_key, body)
            except sigv4.AuthError as exc:
                return respond(*self._auth_error(service, exc, environ))
        if service == "mobiletargeting":
            return respond(*pinpoint_app.handle(self.state, environ, body))
        if service == "s3":
            answer: Answer = self.s3(environ)
            drain(environ)  # whatever the operation left unread (trailers of an aws-chunked body)
            return respond(answer.status, answer.headers, answer.body)
        status, headers, data = self.iam(environ, body, service)
        return respond(status, headers, data)

    @staticmethod
    def _auth_error(service: str, exc: sigv4.AuthError, environ: dict[str, Any]) -> tuple[int, Any, Any]:
        if service == "s3":
            drain(environ)
            status, code = S3_AUTH[exc.kind]
            answer = error_answer(S3Error(status, code, exc.message), environ.get("REQUEST_METHOD") == "HEAD")
            return answer.status, answer.headers, answer.body
        if service in ("iam", "sts"):
            return query_error(*QUERY_AUTH[exc.kind], exc.message)
        return json_error(*JSON_AUTH[exc.kind], exc.message)

