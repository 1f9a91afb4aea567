"""Checking AWS Signature Version 4 on incoming requests, against the service's one key pair.

Both forms are checked: the ``Authorization`` header and presigned URLs (``X-Amz-Signature`` in
the query). The canonical request is rebuilt from the raw request as AWS documents it: the path
as sent (S3) or normalised and encoded once more (every other service), the query re-encoded and
sorted, the signed headers trimmed, and the payload hash from ``x-amz-content-sha256`` or the body.
The signature date must be within 15 minutes of the service's clock; a presigned URL must not
have expired.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

from botocore.utils import normalize_url_path

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class AuthError(Exception):
    """The request is not signed, or not signed with the service's key; ``kind`` says how."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # missing | malformed | unknown_key | signature | expired
        self.message = message


@dataclass(frozen=True)
class Scope:
    """What a request's credential scope names."""

    access_key: str
    date: str
    region: str
    service: str


def _parse_credential(credential: str) -> Scope:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise AuthError("malformed", f"Credential should be scoped to a valid region: {credential!r} is not "
                                     "<key>/<date>/<region>/<service>/aws4_request")
    return Scope(*parts[:4])


def _header_auth(environ: dict[str, Any]) -> tuple[Scope, list[str], str] | None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if not auth:
        return None
    if not auth.startswith(ALGORITHM + " "):
        raise AuthError("malformed", "Authorization header requires the AWS4-HMAC-SHA256 algorithm (SigV4)")
    fields: dict[str, str] = {}
    for part in auth[len(ALGORITHM) + 1:].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    try:
        return _parse_credential(fields["Credential"]), fields["SignedHeaders"].split(";"), fields["Signature"]
    except KeyError as exc:
        raise AuthError("malformed", f"Authorization header requires '{exc.args[0]}' parameter") from None


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for pair in query.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def scope_of(environ: dict[str, Any]) -> Scope | None:
    """The credential scope a request claims (not verified); None if it is unsigned."""
    header = _header_auth(environ)
    if header is not None:
        return header[0]
    for key, value in _query_pairs(environ.get("QUERY_STRING", "")):
        if key == "X-Amz-Credential":
            return _parse_credential(value)
    return None


def _canonical_path(environ: dict[str, Any], service: str) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
    path = raw.split("?", 1)[0] or "/"
    if path.startswith(("http://", "https://")):  # absolute-form request target
        path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
    if service == "s3":
        return path
    return quote(normalize_url_path(path), safe="/~")


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _header_value(environ: dict[str, Any], name: str) -> str | None:
    if name == "host":
        value = environ.get("HTTP_HOST")
    elif name == "content-type":
        value = environ.get("CONTENT_TYPE")
    elif name == "content-length":
        value = environ.get("CONTENT_LENGTH")
    else:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return None if value is None else " ".join(str(value).split())


@lru_cache(maxsize=64)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _parse_time(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise AuthError("malformed", f"X-Amz-Date {value!r} is not in the ISO 8601 basic format "
                                     "(YYYYMMDD'T'HHMMSS'Z')") from None


def verify(environ: dict[str, Any], access_key: str, secret: str, body: bytes | None,
           now: datetime | None = None) -> Scope:
    """The verified scope of a request; AuthError if it is unsigned or not signed with this key.

    ``body`` is needed only when the request carries no ``x-amz-content-sha256`` header.
    """
    now = now or datetime.now(UTC)
    header = _header_auth(environ)
    pairs = _query_pairs(environ.get("QUERY_STRING", ""))
    if header is not None:
        scope, signed_headers, signature = header
        stamp = environ.get("HTTP_X_AMZ_DATE")
        if not stamp:
            raise AuthError("malformed", "Authorization header requires existence of either a 'X-Amz-Date' "
                                         "or a 'Date' header")
        when = _parse_time(stamp)
        payload = environ.get("HTTP_X_AMZ_CONTENT_SHA256")
        if payload is None:
            payload = hashlib.sha256(body or b"").hexdigest()
    else:
        query = dict(pairs)
        if "X-Amz-Signature" not in query:
            raise AuthError("missing", "Missing Authentication Token")
        if query.get("X-Amz-Algorithm") != ALGORITHM:
            raise AuthError("malformed", "X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'")
        scope = _parse_credential(query.get("X-Amz-Credential", ""))
        signed_headers = query.get("X-Amz-SignedHeaders", "host").split(";")
        signature = query["X-Amz-Signature"]
        stamp = query.get("X-Amz-Date", "")
        when = _parse_time(stamp)
        try:
            expires = int(query.get("X-Amz-Expires", "604800"))
        except ValueError:
            raise AuthError("malformed", "X-Amz-Expires should be a number") from None
        if now > when + timedelta(seconds=expires):
            raise AuthError("expired", "Request has expired")
        pairs = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
        payload = environ.get("HTTP_X_AMZ_CONTENT_SHA256") or UNSIGNED_PAYLOAD
    if not hmac.compare_digest(scope.access_key, access_key):
        raise AuthError("unknown_key", "The AWS access key ID you provided does not exist in our records.")
    if scope.date != stamp[:8]:
        raise AuthError("malformed", "The credential scope date does not match the request date")
    if header is not None and abs(now - when) > MAX_SKEW:
        raise AuthError("expired", "Signature expired: the request time is more than 15 minutes away from the "
                                   "server's time")
    headers = []
    for name in signed_headers:
        value = _header_value(environ, name)
        if value is None:
            raise AuthError("signature", f"The request signature we calculated does not match the signature you "
                                         f"provided: the signed header {name!r} is missing")
        headers.append(f"{name}:{value}")
    canonical = "\n".join((
        environ.get("REQUEST_METHOD", "GET").upper(),
        _canonical_path(environ, scope.service),
        _canonical_query(pairs),
        "\n".join(headers) + "\n",
        ";".join(signed_headers),
        payload,
    ))
    to_sign = "\n".join((ALGORITHM, stamp, f"{scope.date}/{scope.region}/{scope.service}/aws4_request",
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()))
    expected = hmac.new(_signing_key(secret, scope.date, scope.region, scope.service), to_sign.encode("utf-8"),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise AuthError("signature", "The request signature we calculated does not match the signature you "
                                     "provided. Check your AWS Secret Access Key and signing method.")
    return scope
