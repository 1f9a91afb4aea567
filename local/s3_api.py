"""The S3 REST API of the local service (the subset a Pinpoint pipeline uses), over :mod:`local.s3_store`.

Implemented: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
Get/Put/DeleteBucketEncryption (a bucket's default encryption, applied to objects written without
encryption headers, as S3 does), ListObjects(V2)
(prefix, delimiter, paging, ``encoding-type=url``), PutObject, GetObject (one byte range,
If-Match / If-None-Match), HeadObject, CopyObject, DeleteObject, DeleteObjects, multipart uploads
(create, upload part, complete, abort, list uploads, list parts). Any other S3 operation answers
501 ``NotImplemented``. Bodies are streamed both ways (``aws-chunked`` uploads decoded); a payload
whose ``x-amz-content-sha256`` does not match is refused. Server-side encryption headers are
validated, stored and echoed (objects written without them report none, as moto did);
``x-amz-expected-bucket-owner`` naming another account → 403 AccessDenied; a conditional write
(``If-None-Match: *``, ``If-Match``) is checked and made in one step. Fault knobs ``S3:<Operation>``
apply (throttle → 503 SlowDown, error500 → 500 InternalError, latency, drop).
"""

from __future__ import annotations

import base64
import email.utils
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote
from xml.sax.saxutils import escape

from pinpoint_etl.local.errors import new_request_id
from pinpoint_etl.local.faults import FAULTS
from pinpoint_etl.local.s3_store import S3Error, S3Object, S3Store, no_such_bucket, no_such_key

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
BLOCK = 1 << 20
SSE_VALUES = ("AES256", "aws:kms", "aws:kms:dsse")
STORED_HEADERS = ("content-type", "content-encoding", "content-disposition", "content-language", "cache-control",
                  "expires", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                  "x-amz-server-side-encryption-bucket-key-enabled", "x-amz-storage-class")
SSE_HEADERS = ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
               "x-amz-server-side-encryption-bucket-key-enabled")
FAULT_ERRORS = {
    "throttle": (503, "SlowDown", "Please reduce your request rate."),
    "error500": (500, "InternalError", "We encountered an internal error. Please try again."),
}
REASONS = {200: "OK", 204: "No Content", 206: "Partial Content", 304: "Not Modified", 400: "Bad Request",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
           412: "Precondition Failed", 416: "Requested Range Not Satisfiable", 500: "Internal Server Error",
           501: "Not Implemented", 503: "Service Unavailable"}


def _path_style(host: str) -> bool:
    """True unless the Host names a bucket (virtual-hosted addressing, e.g. ``b.localhost``)."""
    if not host or host == "localhost" or ":" in host or host.replace(".", "").isdigit():
        return True
    return host.startswith(("s3.", "s3-"))


def locate(environ: dict[str, Any]) -> tuple[str, str]:
    """(bucket, key) of a request, path-style or virtual-hosted; decoded as UTF-8."""
    raw = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/")))
    path = raw.split("?", 1)[0]
    if path.startswith(("http://", "https://")):
        path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
    path = unquote(path.lstrip("/"))
    host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0].strip("[]")
    if _path_style(host):
        bucket, _, key = path.partition("/")
    else:
        bucket, key = host.split(".", 1)[0], path
    return bucket, key


def operation_name(method: str, query: dict[str, list[str]], bucket: str, key: str, copy: bool) -> str | None:
    """The S3 operation of a request (None if it is not one the service knows by name)."""
    if not bucket:
        return "ListBuckets" if method == "GET" else None
    if key:
        if method == "PUT":
            if "partNumber" in query and "uploadId" in query:
                return "UploadPartCopy" if copy else "UploadPart"
            for sub, name in (("tagging", "PutObjectTagging"), ("acl", "PutObjectAcl"), ("retention", None)):
                if sub in query:
                    return name
            return "CopyObject" if copy else "PutObject"
        if method == "POST":
            if "uploads" in query:
                return "CreateMultipartUpload"
            return "CompleteMultipartUpload" if "uploadId" in query else None
        if method == "DELETE":
            return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
        if method == "GET":
            if "uploadId" in query:
                return "ListParts"
            if "tagging" in query:
                return "GetObjectTagging"
            return "GetObject" if "acl" not in query and "attributes" not in query else None
        return "HeadObject" if method == "HEAD" else None
    if method == "GET":
        if query.get("list-type") == ["2"]:
            return "ListObjectsV2"
        for sub, name in (("location", "GetBucketLocation"), ("uploads", "ListMultipartUploads"),
                          ("versions", "ListObjectVersions"), ("versioning", "GetBucketVersioning"),
                          ("encryption", "GetBucketEncryption"), ("tagging", "GetBucketTagging"),
                          ("policy", "GetBucketPolicy")):
            if sub in query:
                return name
        return "ListObjects"
    if method == "PUT":
        return "PutBucketEncryption" if "encryption" in query else ("CreateBucket" if not query else None)
    if method == "DELETE":
        return "DeleteBucketEncryption" if "encryption" in query else ("DeleteBucket" if not query else None)
    if method == "HEAD":
        return "HeadBucket"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    return None


def http_date(iso: str) -> str:
    when = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ")
    return email.utils.format_datetime(when.replace(tzinfo=UTC), usegmt=True)


def _xml(root: str, body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NS}">{body}</{root}>'.encode()


def _el(name: str, value: Any) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


class Answer:
    """An S3 answer: status, headers, and a body (bytes or an iterable of chunks)."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None,
                 body: bytes | Iterable[bytes] = b""):
        self.status, self.headers, self.body = status, headers or {}, body


def error_answer(err: S3Error, head: bool = False) -> Answer:
    request_id = new_request_id().replace("-", "")[:16].upper()
    extra = "".join(_el(k, v) for k, v in err.extra.items())
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{err.code}</Code>'
            f"<Message>{escape(err.message)}</Message>{extra}<RequestId>{request_id}</RequestId>"
            f"<HostId>{request_id}</HostId></Error>").encode()
    headers = {"Content-Type": "application/xml", "x-amz-request-id": request_id, "x-amz-id-2": request_id}
    return Answer(err.status, headers, b"" if head else body)


class Body:
    """The request body stream, read at most up to its length (its rest can be drained after an error)."""

    def __init__(self, environ: dict[str, Any]):
        self.stream = environ["wsgi.input"]
        try:
            self.remaining = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            self.remaining = 0
        self.terminated = bool(environ.get("wsgi.input_terminated"))
        self.finished = False

    def blocks(self) -> Iterator[bytes]:
        while not self.finished and (self.terminated or self.remaining > 0):
            block = self.stream.read(BLOCK if self.terminated else min(BLOCK, self.remaining))
            if not block:
                break
            self.remaining -= len(block)
            yield block
        self.finished = True


def _body(environ: dict[str, Any]) -> Body:
    if "local.body" not in environ:
        environ["local.body"] = Body(environ)
    return environ["local.body"]


def request_chunks(environ: dict[str, Any]) -> Iterator[bytes]:
    """The request body, a block at a time; ``aws-chunked`` framing decoded."""
    raw = _body(environ).blocks()
    sha = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")
    if sha.startswith("STREAMING-") or "aws-chunked" in environ.get("HTTP_CONTENT_ENCODING", ""):
        yield from _dechunk(raw)
    else:
        yield from raw


def _dechunk(source: Iterator[bytes]) -> Iterator[bytes]:
    buffer = b""
    for block in source:
        buffer += block
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                break
            size = int(buffer[:line_end].split(b";", 1)[0] or b"0", 16)
            if size == 0:
                return  # trailers follow; they are not needed
            if len(buffer) < line_end + 2 + size + 2:
                break
            start = line_end + 2
            yield buffer[start:start + size]
            buffer = buffer[start + size + 2:]
    if buffer.strip():
        raise S3Error(400, "IncompleteBody", "The request body terminated unexpectedly")


def drain(environ: dict[str, Any]) -> None:
    """Read what is left of the request body (the connection stays usable for the next request)."""
    for _ in _body(environ).blocks():
        pass


def _stored_headers(environ: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name in STORED_HEADERS:
        value = environ.get("CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_"))
        if value:
            out[name] = value
    encoding = [e for e in out.get("content-encoding", "").split(",") if e.strip() and e.strip() != "aws-chunked"]
    if encoding:
        out["content-encoding"] = ",".join(encoding)
    else:
        out.pop("content-encoding", None)
    sse = out.get("x-amz-server-side-encryption")
    if sse is not None and sse not in SSE_VALUES:
        raise S3Error(400, "InvalidArgument", "The encryption method specified is not supported",
                      ArgumentName="x-amz-server-side-encryption", ArgumentValue=sse)
    for key, value in environ.items():
        if key.startswith("HTTP_X_AMZ_META_"):
            out["x-amz-meta-" + key[len("HTTP_X_AMZ_META_"):].lower().replace("_", "-")] = value
    return out


def _object_headers(obj: S3Object) -> dict[str, str]:
    stored = obj.header_map()
    headers = {"Content-Type": stored.pop("content-type", "binary/octet-stream"), "ETag": obj.etag,
               "Last-Modified": http_date(obj.last_modified), "Accept-Ranges": "bytes"}
    for name, value in stored.items():
        if name == "x-amz-storage-class" and value == "STANDARD":
            continue
        headers[name] = value
    return headers


def _sse(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k in SSE_HEADERS}


def _parse_range(spec: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a ``bytes=`` range; None to ignore it; S3Error 416 if unsatisfiable."""
    if not spec.startswith("bytes=") or "," in spec:
        return None
    first, _, last = spec[len("bytes="):].partition("-")
    try:
        if not first:
            length = int(last)
            if length <= 0:
                raise ValueError
            return max(0, size - length), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        raise S3Error(416, "InvalidRange", "The requested range is not satisfiable",
                      RangeRequested=spec, ActualObjectSize=str(size))
    return start, min(end, size - 1)


def _file_chunks(store: S3Store, obj: S3Object, start: int, length: int) -> Iterator[bytes]:
    with store.open(obj) as fh:
        fh.seek(start)
        while length > 0:
            block = fh.read(min(BLOCK, length))
            if not block:
                return
            length -= len(block)
            yield block


def _token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode()


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise S3Error(400, "InvalidArgument", "The continuation token provided is incorrect",
                      ArgumentName="continuation-token") from None


class S3Api:
    """Answers S3 requests for one service's store."""

    def __init__(self, store: S3Store, account_id: str):
        self.store = store
        self.account_id = account_id

    def __call__(self, environ: dict[str, Any]) -> Answer:
        method = environ.get("REQUEST_METHOD", "GET")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        bucket, key = locate(environ)
        name = operation_name(method, query, bucket, key, "HTTP_X_AMZ_COPY_SOURCE" in environ)
        head = method == "HEAD"
        try:
            if name:
                drop_delay = FAULTS.call_knob(f"S3:{name}", "drop_delay", 0.0)
                fault, latency = FAULTS.take_call_fault(f"S3:{name}")
                if latency:
                    time.sleep(latency)
                if fault in FAULT_ERRORS:
                    status, code, message = FAULT_ERRORS[fault]
                    raise S3Error(status, code, message)
                if fault == "drop":  # carried out; the middleware then loses the answer
                    FAULTS.drop_answer(drop_delay)
            handler = getattr(self, f"_{name}", None) if name else None
            if handler is None:
                raise S3Error(501, "NotImplemented", f"A header or operation you provided implies functionality "
                              f"that is not implemented: the local service does not implement "
                              f"{name or method + ' ' + environ.get('PATH_INFO', '')}")
            if bucket and self._foreign(environ, bucket):
                raise S3Error(403, "AccessDenied", "Access Denied")
            return handler(environ, query, bucket, key)
        except S3Error as err:
            drain(environ)
            return error_answer(err, head)

    def _foreign(self, environ: dict[str, Any], bucket: str) -> bool:
        expected = environ.get("HTTP_X_AMZ_EXPECTED_BUCKET_OWNER")
        if not expected:
            return False
        found = self.store.bucket(bucket)
        return found is not None and found["owner"] != expected

    # ------------------------------------------------------------------ buckets

    def _ListBuckets(self, environ, query, bucket, key) -> Answer:
        items = "".join(f"<Bucket>{_el('Name', b['name'])}{_el('CreationDate', b['creation_date'])}</Bucket>"
                        for b in self.store.buckets())
        owner = f"<Owner>{_el('ID', self.account_id)}{_el('DisplayName', 'local')}</Owner>"
        return Answer(200, {"Content-Type": "application/xml"}, _xml("ListAllMyBucketsResult",
                                                                    f"{owner}<Buckets>{items}</Buckets>"))

    def _CreateBucket(self, environ, query, bucket, key) -> Answer:
        body = b"".join(request_chunks(environ))
        region = None
        if body.strip():
            try:
                node = ET.fromstring(body).find(f"{{{NS}}}LocationConstraint")
            except ET.ParseError:
                raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed") from None
            region = node.text if node is not None and node.text else None
        if not self.store.create_bucket(bucket, region):
            raise S3Error(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket "
                          "succeeded and you already own it.", BucketName=bucket)
        return Answer(200, {"Location": f"/{bucket}"})

    def _HeadBucket(self, environ, query, bucket, key) -> Answer:
        found = self.store.require_bucket(bucket)
        return Answer(200, {"x-amz-bucket-region": found["region"]})

    def _DeleteBucket(self, environ, query, bucket, key) -> Answer:
        self.store.delete_bucket(bucket)
        return Answer(204)

    def _PutBucketEncryption(self, environ, query, bucket, key) -> Answer:
        try:
            root = ET.fromstring(b"".join(request_chunks(environ)))
        except ET.ParseError:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed") from None
        found = {}
        for name in ("SSEAlgorithm", "KMSMasterKeyID", "BucketKeyEnabled"):
            node = next((n for n in root.iter() if n.tag.rsplit("}", 1)[-1] == name), None)
            if node is not None and node.text:
                found[name] = node.text
        if found.get("SSEAlgorithm") not in SSE_VALUES:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate "
                          "against our published schema")
        found["BucketKeyEnabled"] = found.get("BucketKeyEnabled", "false").lower() == "true"
        self.store.set_encryption(bucket, found)
        return Answer(200)

    def _GetBucketEncryption(self, environ, query, bucket, key) -> Answer:
        rule = self.store.encryption(bucket)
        if not rule:
            raise S3Error(404, "ServerSideEncryptionConfigurationNotFoundError",
                          "The server side encryption configuration was not found", BucketName=bucket)
        default = _el("SSEAlgorithm", rule["SSEAlgorithm"])
        if rule.get("KMSMasterKeyID"):
            default += _el("KMSMasterKeyID", rule["KMSMasterKeyID"])
        body = (f"<Rule><ApplyServerSideEncryptionByDefault>{default}</ApplyServerSideEncryptionByDefault>"
                f"{_el('BucketKeyEnabled', str(bool(rule.get('BucketKeyEnabled'))).lower())}</Rule>")
        return Answer(200, {"Content-Type": "application/xml"}, _xml("ServerSideEncryptionConfiguration", body))

    def _DeleteBucketEncryption(self, environ, query, bucket, key) -> Answer:
        self.store.set_encryption(bucket, None)
        return Answer(204)

    def _GetBucketLocation(self, environ, query, bucket, key) -> Answer:
        region = self.store.require_bucket(bucket)["region"]
        return Answer(200, {"Content-Type": "application/xml"},
                      _xml("LocationConstraint", "" if region == "us-east-1" else escape(region)))

    def _list(self, query: dict[str, list[str]], bucket: str, after: str, max_keys: int,
              ) -> tuple[list[S3Object], list[str], bool, str]:
        """Contents and common prefixes after ``after``: (objects, prefixes, truncated, resume point)."""
        prefix = query.get("prefix", [""])[0]
        delimiter = query.get("delimiter", [""])[0]
        contents: list[S3Object] = []
        prefixes: list[str] = []
        resume = ""
        truncated = False
        skip = after if delimiter and after.endswith(delimiter) else None  # a common prefix listed before
        for obj in self.store.list_objects(bucket, prefix, after):
            if skip is not None and obj.key.startswith(skip):
                continue
            rest = obj.key[len(prefix):]
            common = prefix + rest[:rest.index(delimiter) + len(delimiter)] if delimiter and delimiter in rest else None
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            if common is not None:
                prefixes.append(common)
                skip = resume = common
            else:
                contents.append(obj)
                resume = obj.key
        return contents, prefixes, truncated, resume

    def _max_keys(self, query: dict[str, list[str]]) -> int:
        try:
            value = int(query.get("max-keys", ["1000"])[0])
        except ValueError:
            raise S3Error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range") from None
        return max(0, min(value, 1000))

    def _listing(self, query, contents, prefixes) -> tuple[str, callable]:
        url = query.get("encoding-type", [""])[0] == "url"
        enc = (lambda v: quote(v, safe="/")) if url else (lambda v: v)
        items = "".join(
            f"<Contents>{_el('Key', enc(o.key))}{_el('LastModified', o.last_modified)}{_el('ETag', o.etag)}"
            f"{_el('Size', o.size)}<StorageClass>STANDARD</StorageClass></Contents>" for o in contents)
        items += "".join(f"<CommonPrefixes>{_el('Prefix', enc(p))}</CommonPrefixes>" for p in prefixes)
        head = _el("Prefix", enc(query.get("prefix", [""])[0]))
        if query.get("delimiter", [""])[0]:
            head += _el("Delimiter", enc(query["delimiter"][0]))
        if url:
            head += "<EncodingType>url</EncodingType>"
        return head + items, enc

    def _ListObjectsV2(self, environ, query, bucket, key) -> Answer:
        self.store.require_bucket(bucket)
        max_keys = self._max_keys(query)
        token = query.get("continuation-token", [""])[0]
        start_after = query.get("start-after", [""])[0]
        after = _untoken(token) if token else start_after
        contents, prefixes, truncated, last = self._list(query, bucket, after, max_keys)
        body, enc = self._listing(query, contents, prefixes)
        body = (f"{_el('Name', bucket)}{body}{_el('KeyCount', len(contents) + len(prefixes))}"
                f"{_el('MaxKeys', max_keys)}{_el('IsTruncated', str(truncated).lower())}")
        if token:
            body += _el("ContinuationToken", token)
        if start_after:
            body += _el("StartAfter", enc(start_after))
        if truncated:
            body += _el("NextContinuationToken", _token(last))
        return Answer(200, {"Content-Type": "application/xml"}, _xml("ListBucketResult", body))

    def _ListObjects(self, environ, query, bucket, key) -> Answer:
        self.store.require_bucket(bucket)
        max_keys = self._max_keys(query)
        marker = query.get("marker", [""])[0]
        contents, prefixes, truncated, last = self._list(query, bucket, marker, max_keys)
        body, enc = self._listing(query, contents, prefixes)
        body = (f"{_el('Name', bucket)}{_el('Marker', enc(marker))}{body}{_el('MaxKeys', max_keys)}"
                f"{_el('IsTruncated', str(truncated).lower())}")
        if truncated and query.get("delimiter", [""])[0]:
            body += _el("NextMarker", enc(last))
        return Answer(200, {"Content-Type": "application/xml"}, _xml("ListBucketResult", body))

    # ------------------------------------------------------------------ objects

    def _PutObject(self, environ, query, bucket, key) -> Answer:
        self.store.require_bucket(bucket)
        headers = self.store.sse_headers(bucket, _stored_headers(environ))
        sha = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")
        obj = self.store.put_object(bucket, key, request_chunks(environ), headers,
                                    sha256=sha if len(sha) == 64 else None,
                                    if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
                                    if_match=environ.get("HTTP_IF_MATCH"))
        return Answer(200, {"ETag": obj.etag, **_sse(headers)})

    def _object(self, environ: dict[str, Any], bucket: str, key: str) -> S3Object:
        self.store.require_bucket(bucket)
        obj = self.store.head(bucket, key)
        if obj is None:
            raise no_such_key(key)
        match = environ.get("HTTP_IF_MATCH")
        if match and match.strip() not in ("*", obj.etag, obj.etag.strip('"')):
            raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                          Condition="If-Match")
        return obj

    def _get(self, environ, bucket, key, head: bool) -> Answer:
        obj = self._object(environ, bucket, key)
        headers = _object_headers(obj)
        none_match = environ.get("HTTP_IF_NONE_MATCH")
        if none_match and none_match.strip() in ("*", obj.etag, obj.etag.strip('"')):
            return Answer(304, {"ETag": obj.etag, "Last-Modified": headers["Last-Modified"]})
        start, length, status = 0, obj.size, 200
        spec = environ.get("HTTP_RANGE")
        if spec:
            found = _parse_range(spec, obj.size)
            if found is not None:
                start, last = found
                length, status = last - start + 1, 206
                headers["Content-Range"] = f"bytes {start}-{last}/{obj.size}"
        headers["Content-Length"] = str(length)
        if head:
            return Answer(status, headers)
        return Answer(status, headers, _file_chunks(self.store, obj, start, length))

    def _GetObject(self, environ, query, bucket, key) -> Answer:
        return self._get(environ, bucket, key, head=False)

    def _HeadObject(self, environ, query, bucket, key) -> Answer:
        return self._get(environ, bucket, key, head=True)

    def _DeleteObject(self, environ, query, bucket, key) -> Answer:
        self.store.delete_object(bucket, key)
        return Answer(204)

    def _DeleteObjects(self, environ, query, bucket, key) -> Answer:
        self.store.require_bucket(bucket)
        try:
            root = ET.fromstring(b"".join(request_chunks(environ)))
        except ET.ParseError:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed") from None
        quiet = (root.findtext(f"{{{NS}}}Quiet") or root.findtext("Quiet") or "").lower() == "true"
        keys = [o.findtext(f"{{{NS}}}Key") or o.findtext("Key") or ""
                for o in (root.findall(f"{{{NS}}}Object") or root.findall("Object"))]
        if len(keys) > 1000:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate "
                          "against our published schema")
        done = ""
        for name in keys:
            self.store.delete_object(bucket, name)
            if not quiet:
                done += f"<Deleted>{_el('Key', name)}</Deleted>"
        return Answer(200, {"Content-Type": "application/xml"}, _xml("DeleteResult", done))

    def _CopyObject(self, environ, query, bucket, key) -> Answer:
        source = unquote(environ["HTTP_X_AMZ_COPY_SOURCE"].split("?", 1)[0]).lstrip("/")
        src_bucket, _, src_key = source.partition("/")
        replace = environ.get("HTTP_X_AMZ_METADATA_DIRECTIVE", "COPY") == "REPLACE"
        drain(environ)
        if not self.store.bucket_exists(src_bucket):
            raise no_such_bucket(src_bucket)
        headers = _stored_headers(environ) if replace else None
        obj = self.store.copy_object(src_bucket, src_key, bucket, key, headers)
        body = _xml("CopyObjectResult", _el("LastModified", obj.last_modified) + _el("ETag", obj.etag))
        return Answer(200, {"Content-Type": "application/xml", **_sse(obj.header_map())}, body)

    # ------------------------------------------------------------------ multipart

    def _CreateMultipartUpload(self, environ, query, bucket, key) -> Answer:
        drain(environ)
        self.store.require_bucket(bucket)
        headers = self.store.sse_headers(bucket, _stored_headers(environ))
        upload_id = self.store.create_upload(bucket, key, headers)
        body = _xml("InitiateMultipartUploadResult", _el("Bucket", bucket) + _el("Key", key) + _el("UploadId", upload_id))
        return Answer(200, {"Content-Type": "application/xml", **_sse(headers)}, body)

    def _UploadPart(self, environ, query, bucket, key) -> Answer:
        try:
            number = int(query["partNumber"][0])
        except ValueError:
            raise S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, "
                          "inclusive") from None
        upload_id = query["uploadId"][0]
        sha = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")
        etag = self.store.put_part(bucket, upload_id, number, request_chunks(environ),
                                   sha256=sha if len(sha) == 64 else None)
        return Answer(200, {"ETag": etag, **_sse(self.store.upload(bucket, upload_id)["headers"])})

    def _CompleteMultipartUpload(self, environ, query, bucket, key) -> Answer:
        upload_id = query["uploadId"][0]
        try:
            root = ET.fromstring(b"".join(request_chunks(environ)) or b"<x/>")
        except ET.ParseError:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed") from None
        wanted = []
        for part in root.findall(f"{{{NS}}}Part") or root.findall("Part"):
            number = part.findtext(f"{{{NS}}}PartNumber") or part.findtext("PartNumber") or "0"
            etag = part.findtext(f"{{{NS}}}ETag") or part.findtext("ETag") or ""
            wanted.append((int(number), etag))
        obj = self.store.complete_upload(bucket, upload_id, wanted, if_none_match=environ.get("HTTP_IF_NONE_MATCH"))
        host = environ.get("HTTP_HOST", "localhost")
        body = _xml("CompleteMultipartUploadResult", _el("Location", f"http://{host}/{bucket}/{quote(obj.key)}")
                    + _el("Bucket", bucket) + _el("Key", obj.key) + _el("ETag", obj.etag))
        return Answer(200, {"Content-Type": "application/xml", **_sse(obj.header_map())}, body)

    def _AbortMultipartUpload(self, environ, query, bucket, key) -> Answer:
        self.store.abort_upload(bucket, query["uploadId"][0])
        return Answer(204)

    def _ListMultipartUploads(self, environ, query, bucket, key) -> Answer:
        prefix = query.get("prefix", [""])[0]
        owner = _el("ID", self.account_id) + _el("DisplayName", "local")
        items = "".join(
            f"<Upload>{_el('Key', u['key'])}{_el('UploadId', u['id'])}<Initiator>{owner}</Initiator>"
            f"<Owner>{owner}</Owner><StorageClass>STANDARD</StorageClass>{_el('Initiated', u['initiated'])}</Upload>"
            for u in self.store.uploads(bucket, prefix))
        body = (f"{_el('Bucket', bucket)}<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>"
                f"{_el('Prefix', prefix)}<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>{items}")
        return Answer(200, {"Content-Type": "application/xml"}, _xml("ListMultipartUploadsResult", body))

    def _ListParts(self, environ, query, bucket, key) -> Answer:
        upload_id = query["uploadId"][0]
        upload = self.store.upload(bucket, upload_id)
        parts = self.store.parts(upload_id)
        items = "".join(f"<Part>{_el('PartNumber', p['number'])}{_el('LastModified', p['last_modified'])}"
                        f"{_el('ETag', p['etag'])}{_el('Size', p['size'])}</Part>" for p in parts)
        body = (f"{_el('Bucket', bucket)}{_el('Key', upload['key'])}{_el('UploadId', upload_id)}"
                f"<PartNumberMarker>0</PartNumberMarker>{_el('NextPartNumberMarker', parts[-1]['number'] if parts else 0)}"
                f"<MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>{items}<StorageClass>STANDARD</StorageClass>")
        return Answer(200, {"Content-Type": "application/xml"}, _xml("ListPartsResult", body))
