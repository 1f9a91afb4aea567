"""Run ids: an http source is fingerprinted by what identifies its content, never by its bare URL, and a
source that cannot be read fails the run with exit 2 — over real HTTP servers on loopback."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest
from pinpoint_etl.core.errors import SourceError, TransientError
from pinpoint_etl.staging.run_id import derive_run_id

from tests.flows.test_cli import run_cli


class _NoHead(http.server.BaseHTTPRequestHandler):
    """Serves ``body`` on GET and refuses HEAD (as some servers and signed URLs do)."""

    body = b""

    def do_HEAD(self):
        self.send_error(405)

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def no_head_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoHead)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_source_whose_head_is_refused_is_fingerprinted_by_its_content(no_head_server):
    url = f"http://127.0.0.1:{no_head_server.server_port}/endpoints.csv"
    _NoHead.body = b"Id,ChannelType,Address\na,EMAIL,a@example.com\n"
    first = derive_run_id([url], {})
    assert derive_run_id([url], {}) == first  # same content, same id
    _NoHead.body = b"Id,ChannelType,Address\nb,EMAIL,b@example.com\n"
    assert derive_run_id([url], {}) != first  # changed content at the same URL: another run


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_http_source_fails_closed():
    with pytest.raises(SourceError, match="cannot read the source"):
        derive_run_id([f"http://127.0.0.1:{_closed_port()}/endpoints.csv"], {})


def test_validate_of_an_http_source_on_a_closed_port_exits_2_with_one_line(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/endpoints.csv"
    out = run_cli("validate", url, "--out", str(tmp_path / "out"), "-q")
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert out.returncode == 2 and len(errors) == 1 and "endpoints.csv" in errors[0], out.stderr
    assert "Traceback" not in out.stderr



def _foreign_owner(s3_client):
    """Every HeadObject of ``s3_client`` names another account as the bucket's owner: S3 (and the local
    service) answer 403 AccessDenied."""
    def add_owner(params, **_):
        params["ExpectedBucketOwner"] = "999999999999"
        return params

    s3_client.meta.events.register("provide-client-params.s3.HeadObject", add_owner)
    return s3_client


def test_an_s3_source_refused_with_403_is_an_unreadable_input_named_in_one_line(pinpoint_env, s3_client):
    uri = f"s3://{pinpoint_env.bucket}/in/endpoints.csv"
    s3_client.put_object(Bucket=pinpoint_env.bucket, Key="in/endpoints.csv", Body=b"Id\na\n")
    assert derive_run_id([uri], {}, s3=s3_client).startswith("r-")
    with pytest.raises(SourceError, match=rf"{uri}: access denied by S3 \(403\)") as info:
        derive_run_id([uri], {}, s3=_foreign_owner(s3_client))
    assert info.value.exit_code == 2


def test_a_throttled_s3_head_is_transient(pinpoint_env, s3_client):
    uri = f"s3://{pinpoint_env.bucket}/in/endpoints.csv"
    s3_client.put_object(Bucket=pinpoint_env.bucket, Key="in/endpoints.csv", Body=b"Id\na\n")
    pinpoint_env.set_faults("S3:HeadObject", error500=5)
    with pytest.raises(TransientError, match=rf"{uri}: S3 request failed \(500\), may succeed if retried"):
        derive_run_id([uri], {}, s3=s3_client)
