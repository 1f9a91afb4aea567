"""Start the local Pinpoint-compatible service, in a background thread or in the foreground.

``start_local_service()`` serves it from a background thread on a loopback port and seeds one
application, one bucket and two IAM roles; ``serve_forever()`` is the foreground variant used by
``pinpoint-etl local up``. With ``data_dir`` the store lives in that folder and survives a
restart (same application id, credentials, endpoints, segments, jobs, objects, IAM roles);
without it, in a temporary folder removed when the service stops.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pinpoint_etl.local.admin import Admin
from pinpoint_etl.local.faults import FAULTS
from pinpoint_etl.local.jobs import JobConfig
from pinpoint_etl.local.middleware import LocalMiddleware
from pinpoint_etl.local.state import ServiceState

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


class LocalServiceError(ValueError):
    """The service can't start (port in use, host not loopback, unusable data folder)."""


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise LocalServiceError(f"refusing to bind {host!r}: the local service only listens on loopback "
                            "(127.0.0.0/8, ::1, localhost)")


@dataclass
class LocalService:
    """A running local service, the resources seeded in it and the secrets to reach it."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    admin_token: str
    data_dir: str
    persistent: bool
    region: str = REGION
    account_id: str = ACCOUNT_ID
    application_id: str = ""
    bucket: str = ""
    import_role_arn: str = ""
    export_role_arn: str = ""
    _server: Any = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _state: Any = field(default=None, repr=False)

    def env(self) -> dict[str, str]:
        """Environment variables that point AWS SDKs and CLIs at this service."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def _use(self, ids: dict[str, str]) -> None:
        self.application_id = ids["application_id"]
        self.bucket = ids["bucket"]
        self.import_role_arn = ids["import_role_arn"]
        self.export_role_arn = ids["export_role_arn"]

    # ------------------------------------------------------------------ admin calls

    def admin(self, method: str, path: str, payload: Any = None, *, token: str | None = None) -> tuple[int, Any]:
        """Call an admin route with the admin token; (status, JSON body)."""
        data = json.dumps(payload).encode() if payload is not None else None
        headers = {"Content-Type": "application/json", "X-Local-Admin-Token": self.admin_token if token is None
                   else token}
        request = urllib.request.Request(self.endpoint_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def _admin_ok(self, method: str, path: str, payload: Any = None) -> Any:
        status, body = self.admin(method, path, payload)
        if status != 200:
            raise ValueError(f"{method} {path} failed with {status}: {body}")
        return body

    def set_faults(self, operation: str, **knobs: Any) -> None:
        """Set fault knobs of one operation (see ``local.faults``)."""
        self._admin_ok("POST", "/_local/faults", {"operation": operation, **knobs})

    def clear_faults(self) -> None:
        self._admin_ok("DELETE", "/_local/faults")

    def reset(self) -> None:
        """Clear all state (apps, endpoints, segments, jobs, objects, IAM, faults) and seed again."""
        self._use(self._admin_ok("POST", "/_local/reset"))

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._state is not None:
            self._state.close()
        if self._server is not None:
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None
        if self._state is not None and not self.persistent:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        self._state = None


def _bind(host: str, port: int, app: Any, quiet: bool) -> Any:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    class RequestHandler(MotoRequestHandler):
        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            if not quiet:
                super().log_request(code, size)

    bind = "127.0.0.1" if host == "localhost" else host
    # the socket is bound here: werkzeug would print two lines and exit 1 on a busy port
    sock = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((bind, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise LocalServiceError(f"port {port} on {bind} is already in use (another `pinpoint-etl local up`?); "
                                    "choose another with --port") from None
        raise LocalServiceError(f"can't listen on {bind}:{port}: {exc.strerror or exc}") from None
    try:
        return make_server(bind, sock.getsockname()[1], app, threaded=True, request_handler=RequestHandler,
                           fd=sock.fileno())
    finally:
        sock.close()  # the server holds its own duplicate of the descriptor


def start_local_service(port: int = 0, host: str = "127.0.0.1", *, data_dir: str | os.PathLike | None = None,
                        max_concurrent_jobs: int | None = None, state_delay: float | None = None,
                        insecure: bool = False, cors_origins: tuple[str, ...] | list[str] = (),
                        quiet: bool = True) -> LocalService:
    """Start the service in a background thread on ``host:port`` (0 = a free port) and seed it.

    ``data_dir``: keep the store there (created if missing) so it survives restarts; None = a
    temporary folder removed by ``stop()``. ``max_concurrent_jobs`` / ``state_delay`` default to
    ``PINPOINT_LOCAL_MAX_CONCURRENT_JOBS`` / ``PINPOINT_LOCAL_STATE_DELAY`` or 2 / 0.2 s;
    ``PINPOINT_LOCAL_FAULTS`` (JSON) presets faults. ``insecure`` accepts unsigned requests and any
    key; ``cors_origins`` are the browser origins that get CORS headers (none by default).
    ``quiet`` silences the per-request access log.
    """
    _check_loopback(host)
    persistent = data_dir is not None
    folder = Path(data_dir) if persistent else Path(tempfile.mkdtemp(prefix="pinpoint-etl-local-"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalServiceError(f"can't use the data folder {folder}: {exc.strerror or exc}") from None
    FAULTS.clear()
    if os.environ.get("PINPOINT_LOCAL_FAULTS"):
        FAULTS.load_json(os.environ["PINPOINT_LOCAL_FAULTS"])
    state = ServiceState(folder, durable=persistent, account_id=ACCOUNT_ID, region=REGION,
                         config=JobConfig.from_env(max_concurrent_jobs, state_delay), insecure=insecure,
                         cors_origins=tuple(cors_origins))
    try:
        admin = Admin(state, state.reset)
        server = _bind(host, port, LocalMiddleware(state, admin), quiet)
    except BaseException:
        state.close()
        if not persistent:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    ids = state.open()
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="pinpoint-etl-local")
    thread.start()
    bind, bound_port = server.server_address[:2]
    shown = f"[{bind}]" if ":" in bind else bind
    service = LocalService(endpoint_url=f"http://{shown}:{bound_port}", access_key_id=state.access_key_id,
                           secret_access_key=state.secret_access_key, admin_token=state.admin_token,
                           data_dir=str(folder), persistent=persistent, _server=server, _thread=thread,
                           _state=state)
    service._use(ids)
    return service


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def serve_forever(port: int = 4566, host: str = "127.0.0.1", max_concurrent_jobs: int | None = None,
                  data_dir: str | None = None, insecure: bool = False, cors_origins: tuple[str, ...] = ()) -> None:
    """Run in the foreground: start, seed, print shell ``export`` lines, block until Ctrl-C or SIGTERM
    (``kill``, ``docker stop``); either stops the service cleanly."""
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C stops it even when started where SIGINT is ignored (a shell's background job, which
        # Python then leaves ignored)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
    # a large import job runs Python in a thread beside the request threads: switch between them
    # often so an API call waits for the interpreter a millisecond at a time, not five
    sys.setswitchinterval(0.001)
    service = start_local_service(port=port, host=host, max_concurrent_jobs=max_concurrent_jobs, quiet=False,
                                  data_dir=data_dir, insecure=insecure, cors_origins=cors_origins)
    try:
        exports = {
            **{k: v for k, v in service.env().items() if k != "AWS_REGION"},
            "PINPOINT_APPLICATION_ID": service.application_id,
            "PINPOINT_ETL_BUCKET": service.bucket,
            "PINPOINT_IMPORT_ROLE_ARN": service.import_role_arn,
            "PINPOINT_EXPORT_ROLE_ARN": service.export_role_arn,
            "PINPOINT_LOCAL_ADMIN_TOKEN": service.admin_token,
        }
        for name, value in exports.items():
            print(f"export {name}={value}")
        sys.stdout.flush()
        kept = (f"data kept in {service.data_dir}" if service.persistent
                else "data discarded on exit; --data-dir DIR keeps it")
        checks = "signatures NOT checked (--insecure)" if insecure else "requests must be signed with these keys"
        print(f"# local Pinpoint service on {service.endpoint_url} ({kept}; {checks}; Ctrl-C to stop)",
              file=sys.stderr, flush=True)
        while True:
            # short sleeps: the kernel may hand the signal to a server thread, and Python acts on it
            # only once the main thread runs again (a long sleep was left to run for up to an hour)
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
