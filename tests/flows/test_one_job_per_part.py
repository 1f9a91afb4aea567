"""Exactly one import job per staged part, whatever happens to the answers: lost CreateImportJob
answers (the local service's drop knob), two identical runs started together, a resume after many
other jobs. The CLI as a user runs it, against the local service over HTTP."""

from __future__ import annotations

import json
import subprocess

from tests.flows.helpers import good_rows, write_csv
from tests.flows.test_cli import run_cli, service_env
from tests.flows.test_interrupts import _cli, _wait_for


def _jobs(client, app) -> list[dict]:
    out, token = [], None
    while True:
        kw = {"Token": token} if token else {}
        body = client.get_import_jobs(ApplicationId=app, PageSize="100", **kw)["ImportJobsResponse"]
        out += body["Item"]
        token = body.get("NextToken")
        if not token:
            return out


def test_a_lost_create_answer_leaves_one_job_that_the_run_finds_and_follows(tmp_path, pinpoint_env, pinpoint_client):
    pinpoint_env.set_faults("CreateImportJob", drop=1)  # the job is created, its answer never arrives
    src = write_csv(tmp_path / "in.csv", good_rows(5))
    out = run_cli("import", str(src), "--poll-initial", "0.1", "--report", str(tmp_path / "r.json"),
                  env=service_env(pinpoint_env))
    assert out.returncode == 0, out.stderr
    (job,) = _jobs(pinpoint_client, pinpoint_env.application_id)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "succeeded" and report["rows_imported"] == 5 and report["rows_failed"] == 0
    assert [j["id"] for j in report["jobs"]] == [job["Id"]]
    assert "no clear answer" in out.stderr and f"job {job['Id']}" in out.stderr


def test_a_create_read_timeout_leaves_one_job(tmp_path, pinpoint_env, pinpoint_client):
    pinpoint_env.set_faults("CreateImportJob", drop=1, drop_delay=3)
    src = write_csv(tmp_path / "in.csv", good_rows(4))
    out = run_cli("import", str(src), "--poll-initial", "0.1", "--report", str(tmp_path / "r.json"), "-q",
                  env={**service_env(pinpoint_env), "PINPOINT_ETL_READ_TIMEOUT": "1"})
    assert out.returncode == 0, out.stderr
    assert len(_jobs(pinpoint_client, pinpoint_env.application_id)) == 1
    assert json.loads((tmp_path / "r.json").read_text())["rows_imported"] == 4


def test_two_identical_runs_started_together_share_one_job_and_the_second_says_so(tmp_path, pinpoint_env,
                                                                                 pinpoint_client):
    pinpoint_env.set_faults("CreateImportJob", latency=0.5)
    src = write_csv(tmp_path / "in.csv", good_rows(6))
    procs = [_cli("import", str(src), "--poll-initial", "0.1", "--report", str(tmp_path / f"r{i}.json"),
                  env=service_env(pinpoint_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    (job,) = _jobs(pinpoint_client, pinpoint_env.application_id)
    reports = [json.loads((tmp_path / f"r{i}.json").read_text()) for i in range(2)]
    assert [[j["id"] for j in r["jobs"]] for r in reports] == [[job["Id"]], [job["Id"]]]
    assert all(r["rows_imported"] == 6 for r in reports)
    waited = [err for _, err in outs if "another process is running this run" in err]
    assert len(waited) == 1 and f"by job {job['Id']}" in waited[0] and "reusing it, no new job" in waited[0]


def test_a_resume_finds_its_job_after_more_than_200_other_jobs(tmp_path, pinpoint_env, pinpoint_client):
    app = pinpoint_env.application_id
    assert pinpoint_env.admin("POST", "/_local/config", {"max_concurrent_jobs": 50, "state_delay": 0.01})[0] == 200
    pinpoint_env.set_faults("ImportJob", state_delay=3600)
    src = write_csv(tmp_path / "in.csv", good_rows(3))
    proc = _cli("import", str(src), "--poll-initial", "0.1", "-q", env=service_env(pinpoint_env),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _jobs(pinpoint_client, app) or proc.poll() is not None, 120, "the import job")
    finally:
        proc.kill()
        proc.wait()
    for i in range(201):  # other imports, newer than ours
        pinpoint_client.create_import_job(ApplicationId=app, ImportJobRequest={
            "S3Url": f"s3://{pinpoint_env.bucket}/elsewhere/{i}.csv", "RoleArn": pinpoint_env.import_role_arn,
            "Format": "CSV"})
    pinpoint_env.clear_faults()
    out = run_cli("import", str(src), "--poll-initial", "0.1", "--report", str(tmp_path / "r.json"), "-q",
                  env=service_env(pinpoint_env))
    assert out.returncode == 0, out.stderr
    ours = [j for j in _jobs(pinpoint_client, app) if "/elsewhere/" not in j["Definition"]["S3Url"]]
    assert len(ours) == 1
    assert json.loads((tmp_path / "r.json").read_text())["jobs"][0]["id"] == ours[0]["Id"]
