"""The README's production path, for real: a Prefect server on loopback, ``prefect deploy --all`` of
prefect.yaml to a process work pool, a worker started in a clean environment built from the README's
worker block, and one backfill run against the local Pinpoint service.

One server, one worker, one flow run: the server's start-up dominates (about 10-25 s).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.flows.test_deployment import IMPORT_TUNING, check_form

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
BASE_ENV = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def readme_worker_block() -> tuple[list[str], list[str]]:
    """The variables (exported or commented-out optional) and the command of the README's worker block."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- worker-environment.*?```bash\n(.*?)```", text, re.S).group(1)
    names = re.findall(r"\b([A-Z][A-Z0-9_]+)=", block)
    (command,) = [line.strip() for line in block.splitlines() if line.strip().startswith("prefect ")]
    return names, command.split()


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """``prefect server start`` on a free loopback port with its own PREFECT_HOME; yields the API URL."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    env = {**os.environ, **BASE_ENV, "PREFECT_HOME": str(home), "PREFECT_SERVER_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = (home / "server.log").open("w")
    proc = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (home / "server.log").read_text()
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _prefect_cli(args: list[str], url: str, home: Path) -> str:
    env = {**os.environ, **BASE_ENV, "PREFECT_API_URL": url, "PREFECT_HOME": str(home)}
    done = subprocess.run([PREFECT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_backfill_runs_on_a_process_worker_set_up_as_the_readme_says(prefect_server, pinpoint_env, pinpoint_client,
                                                                     tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, LogFilter, LogFilterFlowRunId
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.utilities.callables import parameter_schema

    from pinpoint_etl.flows.import_flow import import_endpoints

    url = prefect_server
    client_home = tmp_path / "client"
    # README steps 3 and 4
    _prefect_cli(["work-pool", "create", "pinpoint-etl", "--type", "process"], url, client_home)
    _prefect_cli(["--no-prompt", "deploy", "--all"], url, client_home)

    # README step 5: the worker's environment is the README block's variables and nothing else
    data = tmp_path / "data"
    data.mkdir()
    (data / "crm.csv").write_text("crm_id,channel,contact,country\n"
                                  "c-1,sms,(206) 555-0101,usa\nc-2,EMAIL, Ann@Example.COM ,Germany\n"
                                  "c-3,EMAIL,not-an-address,DE\n")
    svc = pinpoint_env
    values = {"PREFECT_API_URL": url, "AWS_REGION": svc.region, "AWS_ACCESS_KEY_ID": svc.access_key_id,
              "AWS_SECRET_ACCESS_KEY": svc.secret_access_key, "PINPOINT_APPLICATION_ID": svc.application_id,
              "PINPOINT_ETL_BUCKET": svc.bucket, "PINPOINT_IMPORT_ROLE_ARN": svc.import_role_arn,
              "PINPOINT_EXPORT_ROLE_ARN": svc.export_role_arn, "PINPOINT_ETL_DATA_DIR": str(data),
              "AWS_ENDPOINT_URL": svc.endpoint_url}
    names, command = readme_worker_block()
    assert command[:2] == ["prefect", "worker"]
    worker_dir = tmp_path / "worker"
    worker_dir.mkdir()
    env = {name: values[name] for name in names}  # a README variable the test cannot fill fails here
    env.update(PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin", HOME=str(worker_dir),
               PREFECT_HOME=str(worker_dir / ".prefect"), **BASE_ENV,
               PREFECT_WORKER_QUERY_SECONDS="1")  # test speed only: the default polls every 10 s
    worker_log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([PREFECT, *command[1:]], cwd=worker_dir, env=env, stdout=worker_log,
                              stderr=subprocess.STDOUT)
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            with get_client(sync_client=True) as client:
                deployment = client.read_deployment_by_name("import_endpoints/backfill")
            assert deployment.work_pool_name == "pinpoint-etl" and deployment.pull_steps == []
            assert deployment.entrypoint == "pinpoint_etl.flows.import_flow.import_endpoints"
            schema = deployment.parameter_openapi_schema
            assert schema == parameter_schema(import_endpoints).model_dump_for_openapi()
            check_form(schema, IMPORT_TUNING, ["source", "target", "options"])

            # README step 6, as the form would send it: business inputs, blanks left to the worker's environment
            params = {"source": {"sources": ["crm.csv"],
                                 "mapping": {"crm_id": "Id", "channel": "ChannelType", "contact": "Address",
                                             "country": "Location.Country"}},
                      "target": {"application_id": "", "bucket": "", "role_arn": "", "segment_name": "crm-prod",
                                 "segment_id": ""},
                      "advanced": {"poll_initial_seconds": 0.2, "poll_max_seconds": 1.0}}
            run = run_deployment("import_endpoints/backfill", parameters=params, timeout=150, poll_interval=1)
            with get_client(sync_client=True) as client:
                logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
                artifacts = {a.key: a for a in client.read_artifacts(
                    artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))}
    finally:
        worker.terminate()  # SIGTERM: SIGINT may be inherited ignored (a suite run as a background job)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        worker_log.close()
    output = (tmp_path / "worker.log").read_text()
    assert run.state.is_completed(), f"{run.state}\n{output}"
    assert [(r.level, r.message) for r in logs if r.level >= 40] == []
    assert not re.search(r"\| ERROR |Traceback", output), output

    (segment,) = [s for s in pinpoint_client.get_segments(ApplicationId=svc.application_id)["SegmentsResponse"]["Item"]
                  if s["Name"] == "crm-prod"]
    assert segment["ImportDefinition"]["Size"] == 2
    summary = artifacts["pinpoint-etl-run-summary"].data
    assert f"Segment: **crm-prod**, id `{segment['Id']}` — created by this import" in summary
    assert "| imported | 2 |" in summary and "| rejected | 1 |" in summary
    (job,) = json.loads(artifacts["pinpoint-etl-jobs"].data)
    assert job["part"] == "part-00001" and job["status"] == "completed" and job["reused"] == "no"
    assert job["created"] and job["completed"] and job["s3_url"].startswith(f"s3://{svc.bucket}/pinpoint-etl/")
    assert artifacts["pinpoint-etl-job-progress"].task_run_id is None
    ep = pinpoint_client.get_endpoint(ApplicationId=svc.application_id, EndpointId="c-1")["EndpointResponse"]
    assert ep["Address"] == "+12065550101" and ep["Location"]["Country"] == "US"
