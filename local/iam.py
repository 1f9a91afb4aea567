"""IAM and STS: moto's implementation, with IAM's changes kept in the store so they survive a restart.

Every IAM request that changes something (an action not starting with Get, List, Simulate or
Generate) and succeeds is appended to the ``iam_journal`` table; a service opening the same data
folder replays the journal into moto before it answers anything. moto's state is process-wide:
two services in one process share their IAM and STS state (and a reset of one clears both).
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs

from pinpoint_etl.local.db import Database

READ_ONLY = ("Get", "List", "Simulate", "Generate")


def _moto_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


class IamService:
    """Passes IAM/STS requests to moto and journals IAM's changes."""

    def __init__(self, db: Database):
        self.db = db
        self.app = _moto_app()

    def __call__(self, environ: dict[str, Any], body: bytes, service: str) -> tuple[str, list, bytes]:
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status = captured["status"]
        if service == "iam" and status.startswith("2"):
            action = (parse_qs(body.decode("utf-8", "replace")).get("Action") or [""])[0]
            if action and not action.startswith(READ_ONLY):
                with self.db.write() as conn:
                    conn.execute("INSERT INTO iam_journal(body, content_type) VALUES (?, ?)",
                                 (body, environ.get("CONTENT_TYPE", "application/x-www-form-urlencoded")))
        return status, captured["headers"], data

    def call(self, action: str, **params: str) -> tuple[str, bytes]:
        """An IAM call made by the service itself (seeding), journalled like any other."""
        from urllib.parse import urlencode

        body = urlencode({"Action": action, "Version": "2010-05-08", **params}).encode()
        status, _, data = self(_environ(body, "application/x-www-form-urlencoded"), body, "iam")
        return status, data

    def replay(self) -> int:
        """Apply the journal to moto (at start); returns how many calls were replayed."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT body, content_type FROM iam_journal ORDER BY seq").fetchall()
        for body, content_type in rows:
            environ = _environ(body, content_type)
            environ["wsgi.input"] = io.BytesIO(body)
            chunks = self.app(environ, lambda status, headers, exc_info=None: (lambda data: None))
            for _ in chunks:
                pass
        return len(rows)

    @staticmethod
    def reset() -> None:
        """Forget every IAM and STS resource (moto's process-wide state)."""
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        iam_backends.reset()
        sts_backends.reset()


def _environ(body: bytes, content_type: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0),
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)), "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": ("AWS4-HMAC-SHA256 Credential=LOCAL/20000101/us-east-1/iam/aws4_request, "
                               "SignedHeaders=host, Signature=0"),
    }
