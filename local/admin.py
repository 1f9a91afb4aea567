"""Admin routes under ``/_local/`` — every one but ``health`` needs the admin token.

The token is made at each start, printed by ``pinpoint-etl local up`` and kept on the in-process
``LocalService`` (``admin_token``); send it as ``X-Local-Admin-Token: TOKEN`` (or ``Authorization:
Bearer TOKEN``). Without it (or with another) the routes answer 403.

* ``GET /_local/health`` → ``{"status": "ok"}`` (no token needed).
* ``GET /_local/faults`` → ``{"faults": {op: {knob: value}}}``
* ``POST /_local/faults`` with ``{"operation": "GetImportJob", "throttle": 2, ...}`` (or a list of
  such objects, or ``{op: {knob: value}}``) → sets knobs, answers the current faults; 400
  ``{"Message": ...}`` for an unknown operation or knob.
* ``DELETE /_local/faults`` clears every knob (``?operation=X`` clears one operation).
* ``GET /_local/config`` / ``POST /_local/config`` with ``{"max_concurrent_jobs": N, "state_delay":
  seconds, "parse_process_bytes": N}``; a reset restores the start-time values.
* ``POST /_local/reset`` stops every job, clears the faults and every stored thing (apps, endpoints,
  segments, jobs, S3 objects, IAM), seeds again and answers the new seeded ids.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from pinpoint_etl.local.faults import FAULTS, FaultError

PREFIX = "/_local/"
CONFIG_KEYS = {"max_concurrent_jobs": (int, 1), "state_delay": (float, 0), "parse_process_bytes": (int, 0)}


def _read_json(environ: dict[str, Any]) -> Any:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        return json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body is not valid JSON: {exc}") from None


def token_of(environ: dict[str, Any]) -> str:
    token = environ.get("HTTP_X_LOCAL_ADMIN_TOKEN", "")
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if not token and auth.startswith("Bearer "):
        token = auth[len("Bearer "):].strip()
    return token


class Admin:
    """The admin routes of one service."""

    def __init__(self, state: Any, reset: Callable[[], dict[str, Any]]):
        self.state = state
        self.reset = reset

    def __call__(self, environ: dict[str, Any]) -> tuple[int, Any]:
        route = environ.get("PATH_INFO", "")[len(PREFIX):].rstrip("/")
        method = environ.get("REQUEST_METHOD", "GET")
        if route == "health":
            return 200, {"status": "ok"}
        if not hmac.compare_digest(token_of(environ), self.state.admin_token):
            return 403, {"Message": "the admin routes need the token the service printed at start "
                                    "(header X-Local-Admin-Token)"}
        try:
            return self._route(route, method, environ)
        except (FaultError, ValueError, TypeError) as exc:
            return 400, {"Message": str(exc)}

    def _route(self, route: str, method: str, environ: dict[str, Any]) -> tuple[int, Any]:
        if route == "faults":
            if method == "GET":
                return 200, {"faults": FAULTS.snapshot()}
            if method == "POST":
                FAULTS.load(_read_json(environ))
                return 200, {"faults": FAULTS.snapshot()}
            if method == "DELETE":
                operation = parse_qs(environ.get("QUERY_STRING", "")).get("operation")
                FAULTS.clear(operation[0] if operation else None)
                return 200, {"faults": FAULTS.snapshot()}
            return 405, {"Message": f"{method} is not allowed on /_local/faults"}
        if route == "config":
            config = self.state.scheduler.config
            if method == "POST":
                body = _read_json(environ)
                unknown = set(body) - set(CONFIG_KEYS)
                if unknown:
                    raise ValueError(f"unknown config key(s): {', '.join(sorted(unknown))}")
                for key, value in body.items():
                    kind, low = CONFIG_KEYS[key]
                    if isinstance(value, bool) or not isinstance(value, int | float) or value < low or (
                            kind is int and value != int(value)):
                        raise ValueError(f"{key} must be {'an integer' if kind is int else 'a number'} >= {low}")
                    setattr(config, key, kind(value))
            elif method != "GET":
                return 405, {"Message": f"{method} is not allowed on /_local/config"}
            return 200, {"max_concurrent_jobs": config.max_concurrent_jobs, "state_delay": config.state_delay,
                         "parse_process_bytes": config.parse_process_bytes}
        if route == "reset":
            if method != "POST":
                return 405, {"Message": f"{method} is not allowed on /_local/reset"}
            return 200, self.reset()
        return 404, {"Message": f"unknown admin route /_local/{route}"}
