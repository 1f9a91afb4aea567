"""The Pinpoint REST API as the local service sees it: routes from botocore's model, one handler each.

Every operation of the ``pinpoint`` service model (method + request URI, e.g. ``GET
/v1/apps/{application-id}/jobs/import/{job-id}``) is routed; an operation registered here with
:func:`operation` is implemented, any other answers 501 ``NotImplemented``. A path that matches
an operation only under another method answers 405; a path that matches none, 400.
Handlers take a :class:`Call` and return ``(status, payload)`` or raise a ``PinpointError``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote

from pinpoint_etl.local.errors import BadRequest, MethodNotAllowed, NotFound, UnknownOperation

Handler = Callable[["Call"], tuple[int, Any]]
OPERATIONS: dict[str, Handler] = {}
DEFAULT_PAGE_SIZE = 100


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register the handler of a model operation."""
    def register(fn: Handler) -> Handler:
        if name in OPERATIONS:
            raise ValueError(f"operation {name} registered twice")
        if name not in model_operations():
            raise ValueError(f"{name} is not an operation of the pinpoint model")
        OPERATIONS[name] = fn
        return fn
    return register


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    segments: tuple[str | None, ...]  # literal text, or None for a label
    labels: tuple[str, ...]
    response_code: int


@cache
def _model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("pinpoint")


@cache
def model_operations() -> frozenset[str]:
    return frozenset(_model().operation_names)


@cache
def routes() -> tuple[Route, ...]:
    out = []
    for name in _model().operation_names:
        http = _model().operation_model(name).http
        segments, labels = [], []
        for part in http["requestUri"].split("?", 1)[0].strip("/").split("/"):
            if part.startswith("{") and part.endswith("}"):
                segments.append(None)
                labels.append(part[1:-1].rstrip("+"))
            else:
                segments.append(part)
        out.append(Route(name, http["method"], tuple(segments), tuple(labels), http.get("responseCode", 200)))
    # the most literal segments first, so /channels/email wins over a label in that place
    out.sort(key=lambda r: (-len(r.segments), -sum(s is not None for s in r.segments)))
    return tuple(out)


def match(method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
    """The route and label values of a request; MethodNotAllowed / UnknownOperation otherwise."""
    parts = [unquote(p) for p in raw_path.strip("/").split("/")]
    other_methods = False
    best: tuple[Route, dict[str, str]] | None = None
    for route in routes():
        if len(route.segments) != len(parts):
            continue
        if any(lit is not None and lit != part for lit, part in zip(route.segments, parts)):
            continue
        values = [p for lit, p in zip(route.segments, parts) if lit is None]
        if any(not v for v in values):
            continue
        if route.method != method:
            other_methods = True
            continue
        candidate = (route, dict(zip(route.labels, values)))
        if best is None or sum(s is not None for s in route.segments) > sum(s is not None for s in best[0].segments):
            best = candidate
    if best is not None:
        return best
    if other_methods:
        raise MethodNotAllowed(f"{method} is not allowed on {unquote(raw_path)}")
    raise UnknownOperation(f"no Pinpoint operation matches {method} {unquote(raw_path)}")


@dataclass
class Call:
    """One Pinpoint API request, parsed."""

    state: Any  # local.state.ServiceState
    operation: str
    labels: dict[str, str]
    query_string: str
    body: bytes
    request_id: str
    _json: Any = field(default=None, repr=False)

    def label(self, name: str) -> str:
        return self.labels[name]

    def query(self, name: str) -> str | None:
        values = parse_qs(self.query_string, keep_blank_values=True).get(name)
        return values[0] if values else None

    def query_all(self, name: str) -> list[str]:
        return parse_qs(self.query_string, keep_blank_values=True).get(name, [])

    def json(self) -> dict[str, Any]:
        """The JSON object body (400 if it is not one)."""
        if self._json is None:
            try:
                body = json.loads(self.body or b"{}")
            except (ValueError, UnicodeDecodeError) as exc:
                raise BadRequest(f"The request body is not valid JSON: {exc}") from None
            if not isinstance(body, dict):
                raise BadRequest("The request body must be a JSON object")
            self._json = body
        return self._json

    def app_id(self) -> str:
        """The application id of the path, after checking the application exists (404 otherwise)."""
        app_id = self.labels["application-id"]
        if not self.state.apps.exists(app_id):
            raise NotFound("Resource not found")
        return app_id

    def page_size(self) -> int:
        raw = self.query("page-size")
        try:
            size = int(raw) if raw not in (None, "") else DEFAULT_PAGE_SIZE
        except ValueError:
            raise BadRequest(f"Invalid page-size: {raw}") from None
        if size < 1:
            raise BadRequest(f"Invalid page-size: {raw}")
        return size

    def token(self) -> int | None:
        """The position an opaque ``token`` stands for (400 if it is not one of ours)."""
        token = self.query("token")
        return decode_token(token) if token else None


def encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode()


def decode_token(token: str) -> int:
    try:
        kind, _, seq = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "seq":
            raise ValueError
        return int(seq)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"Invalid token: {token}") from None


def paged(items: list[dict[str, Any]], seqs: list[int], size: int, more: bool) -> dict[str, Any]:
    """``{"Item": [...], "NextToken"?}`` for one page (``seqs``: the position of each item)."""
    out: dict[str, Any] = {"Item": items}
    if more and seqs:
        out["NextToken"] = encode_token(seqs[-1])
    return out
