"""The CLI as a user runs it: a subprocess, talking HTTP to the local service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.flows.helpers import good_rows, write_csv

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, env=None, timeout=180):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PINPOINT_"))}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "pinpoint_etl.flows.cli", *args], cwd=ROOT, env=base, capture_output=True,
                          text=True, timeout=timeout)


def service_env(service):
    return {**service.env(), "PINPOINT_APPLICATION_ID": service.application_id,
            "PINPOINT_ETL_BUCKET": service.bucket, "PINPOINT_IMPORT_ROLE_ARN": service.import_role_arn}


def test_help_for_every_command():
    for args in ([], ["import"], ["validate"], ["local", "up"], ["serve"], ["export"], ["jobs", "list"]):
        out = run_cli(*args, "--help")
        assert out.returncode == 0, out.stderr
        assert "Usage" in out.stdout and len(out.stdout.splitlines()) > 5


def test_validate_writes_import_files_and_report(tmp_path):
    src = write_csv(tmp_path / "in.csv", good_rows(5) + [["x", "SMS", "+1 000", "US", "", "", "", "", ""]])
    out = run_cli("validate", str(src), "--out", str(tmp_path / "out"), "--report", str(tmp_path / "r.json"), "-q")
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["rows_read"], report["rows_valid"], report["rows_rejected"]) == (6, 5, 1)
    part = Path(report["staged"][0]["uri"])
    text = part.read_bytes()
    assert not text.startswith(b"\xef\xbb\xbf")
    assert text.splitlines()[0].decode().startswith("Id,ChannelType,Address")
    rejects = [json.loads(line) for line in Path(report["rejects"]["uri"]).read_text().splitlines()]
    assert rejects[0]["row"] == 6 and rejects[0]["source"] == str(src)
    assert any("phone" in r for r in rejects[0]["reasons"])


def test_validate_on_worker_processes_ends_with_its_output_written_and_its_spill_folder_gone(tmp_path):
    # validate leaves the interpreter without its teardown: everything must be flushed and removed before
    src = write_csv(tmp_path / "in.csv", good_rows(7) + [["x", "SMS", "+1 000", "US", "", "", "", "", ""]])
    spill = tmp_path / "tmp"
    spill.mkdir()
    out = run_cli("validate", str(src), "--out", str(tmp_path / "out"), "--report", str(tmp_path / "r.json"),
                  "--runner", "processes", env={"TMPDIR": str(spill)})
    assert out.returncode == 0, out.stderr
    shown = out.stdout + out.stderr
    assert "succeeded" in shown and "rows read" in shown  # the summary table reached the pipe
    assert json.loads((tmp_path / "r.json").read_text())["rows_read"] == 8
    assert (tmp_path / "out" / "import" / "part-00001.csv").read_text().count("\n") == 8  # header + 7 rows
    assert list(spill.iterdir()) == []


def test_import_against_the_local_service(tmp_path, pinpoint_env, pinpoint_client):
    src = write_csv(tmp_path / "in.csv", good_rows(4))
    out = run_cli("import", str(src), "--report", str(tmp_path / "r.json"), "--poll-initial", "0.1", "-q",
                  env=service_env(pinpoint_env))
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "succeeded" and report["rows_imported"] == 4
    assert pinpoint_client.get_endpoint(ApplicationId=pinpoint_env.application_id,
                                        EndpointId="sms-3")["EndpointResponse"]["Address"] == "+12065550103"


def test_import_without_target_uses_the_bundled_service_and_says_so(tmp_path):
    src = write_csv(tmp_path / "in.csv", good_rows(2))
    out = run_cli("import", str(src), "--poll-initial", "0.1", env={"AWS_CONFIG_FILE": "/dev/null",
                                                                     "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines()[0].startswith("No AWS target configured: using the bundled local")


def test_unknown_columns_fail_before_upload_with_one_line(tmp_path, pinpoint_env, s3_client):
    src = write_csv(tmp_path / "in.csv", [["a", "EMAIL", "a@example.com", "x"]],
                    header=["Id", "ChannelType", "Address", "fav_color"])
    out = run_cli("import", str(src), env=service_env(pinpoint_env))
    assert out.returncode == 2
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "fav_color" in errors[0] and "--map" in errors[0] and "Traceback" not in out.stderr
    assert s3_client.list_objects_v2(Bucket=pinpoint_env.bucket).get("KeyCount", 0) == 0


def test_missing_file_is_exit_2_one_line(tmp_path):
    out = run_cli("validate", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and "nope.csv" in out.stderr and "Traceback" not in out.stderr


def test_bad_configuration_fails_before_reading(tmp_path, pinpoint_env):
    src = write_csv(tmp_path / "in.csv", good_rows(1))
    env = service_env(pinpoint_env)
    env["PINPOINT_IMPORT_ROLE_ARN"] = "not-a-role"
    out = run_cli("import", str(src), env=env)
    assert out.returncode == 2 and "not an IAM role ARN" in out.stderr


def test_killed_run_resumes_its_job_without_a_second_job_or_upload(tmp_path, pinpoint_env, pinpoint_client):
    import signal
    import time

    app = pinpoint_env.application_id
    pinpoint_env.set_faults("ImportJob", state_delay=3600)
    src = write_csv(tmp_path / "in.csv", good_rows(3))
    env = {**os.environ, **service_env(pinpoint_env)}
    proc = subprocess.Popen([sys.executable, "-m", "pinpoint_etl.flows.cli", "import", str(src), "--poll-initial", "0.1", "-q"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not pinpoint_client.get_import_jobs(ApplicationId=app)["ImportJobsResponse"]["Item"]:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    pinpoint_env.clear_faults()
    out = run_cli("import", str(src), "--poll-initial", "0.1", "--report", str(tmp_path / "r.json"),
                  env=service_env(pinpoint_env))
    assert out.returncode == 0, out.stderr
    assert "resuming without staging or uploading again" in out.stderr
    jobs = pinpoint_client.get_import_jobs(ApplicationId=app)["ImportJobsResponse"]["Item"]
    assert len(jobs) == 1 and jobs[0]["JobStatus"] == "COMPLETED"
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["jobs"][0]["id"] == jobs[0]["Id"] and report["rows_imported"] == 3
    # and a third run of the same input after success creates no job either
    again = run_cli("import", str(src), "--poll-initial", "0.1", "-q", env=service_env(pinpoint_env))
    assert again.returncode == 0, again.stderr
    assert len(pinpoint_client.get_import_jobs(ApplicationId=app)["ImportJobsResponse"]["Item"]) == 1
