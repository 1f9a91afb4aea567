"""Faults through the whole CLI against the local service: right exit code, one line, books that balance."""

from __future__ import annotations

import csv
import json
import re

from tests.flows.helpers import good_rows, write_csv
from tests.flows.test_cli import ROOT, run_cli, service_env


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def _balanced(report: dict) -> bool:
    return report["rows_read"] == (report["rows_imported"] + report["rows_rejected"] + report["rows_superseded"]
                                   + report["rows_failed"])


def test_upload_failing_mid_multipart_leaves_nothing_and_imports_nothing(tmp_path, pinpoint_env, s3_client,
                                                                          pinpoint_client):
    pinpoint_env.set_faults("S3:UploadPart", error500=50)
    src = write_csv(tmp_path / "in.csv", good_rows(5))
    out = run_cli("import", str(src), env={**service_env(pinpoint_env), "AWS_MAX_ATTEMPTS": "2"})
    pinpoint_env.clear_faults()
    assert out.returncode == 1
    line = _one_error_line(out.stderr)
    assert "writing s3://" in line and "InternalError" in line
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=pinpoint_env.bucket).get("Contents", [])]
    assert keys == [] and not s3_client.list_multipart_uploads(Bucket=pinpoint_env.bucket).get("Uploads")
    assert pinpoint_client.get_import_jobs(ApplicationId=pinpoint_env.application_id)["ImportJobsResponse"]["Item"] == []


def test_failed_job_exits_1_listing_failures(tmp_path, pinpoint_env):
    pinpoint_env.set_faults("ImportJob", fail_pieces=1)
    src = write_csv(tmp_path / "in.csv", good_rows(4))
    out = run_cli("import", str(src), "--poll-initial", "0.1", "--report", str(tmp_path / "r.json"), "-q",
                  env=service_env(pinpoint_env))
    assert out.returncode == 1, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "failed" and report["rows_failed"] == 4 and _balanced(report)
    (job,) = report["jobs"]
    assert job["status"] == "failed" and job["failed_pieces"] == 1 and job["failures"]


def test_role_that_does_not_exist_fails_the_job_saying_so(tmp_path, pinpoint_env):
    env = service_env(pinpoint_env)
    env["PINPOINT_IMPORT_ROLE_ARN"] = f"arn:aws:iam::{pinpoint_env.account_id}:role/no-such-role"
    src = write_csv(tmp_path / "in.csv", good_rows(2))
    out = run_cli("import", str(src), "--poll-initial", "0.1", "--report", str(tmp_path / "r.json"), "-q", env=env)
    assert out.returncode == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "failed" and _balanced(report) and report["rows_failed"] == 2
    assert any("no-such-role" in f for f in report["jobs"][0]["failures"])


def test_missing_bucket_and_foreign_bucket_fail_before_reading(tmp_path, pinpoint_env):
    missing = tmp_path / "not-read.csv"  # never created: configuration is checked first
    env = {**service_env(pinpoint_env), "PINPOINT_ETL_BUCKET": "no-such-bucket"}
    out = run_cli("import", str(missing), env=env)
    assert out.returncode == 2 and "bucket no-such-bucket does not exist" in _one_error_line(out.stderr)
    out = run_cli("import", str(missing), "--expected-bucket-owner", "999999999999", env=service_env(pinpoint_env))
    assert out.returncode == 2 and "belongs to another account" in _one_error_line(out.stderr)


def test_no_credentials_is_a_clear_error_before_any_source_is_read(tmp_path, pinpoint_env):
    env = {k: v for k, v in service_env(pinpoint_env).items() if not k.startswith("AWS_ACCESS_KEY")
           and not k.startswith("AWS_SECRET")}
    env.update({"AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_CONFIG_FILE": "/dev/null"})
    out = run_cli("import", str(tmp_path / "not-read.csv"), env=env)
    assert out.returncode == 2 and "no AWS credentials found" in _one_error_line(out.stderr)


def _sample_addresses() -> set[str]:
    found = set()
    with open(ROOT / "sample_data/endpoints.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["ChannelType"].strip().upper() in ("EMAIL", "SMS", "VOICE") and len(row["Address"].strip()) > 6:
                found.add(row["Address"].strip())
    for line in (ROOT / "sample_data/endpoints.ndjson").read_text().splitlines():
        rec = json.loads(line)
        if rec.get("ChannelType", "").upper() in ("EMAIL", "SMS", "VOICE") and len(rec.get("Address", "")) > 6:
            found.add(rec["Address"].strip())
    return found


def test_no_unmasked_address_in_a_full_runs_output_or_report(tmp_path, pinpoint_env):
    addresses = _sample_addresses()
    assert len(addresses) > 300
    out = run_cli("import", str(ROOT / "sample_data/endpoints.csv"), str(ROOT / "sample_data/endpoints.ndjson"),
                  "--poll-initial", "0.1", "--report", str(tmp_path / "r.json"),
                  env={**service_env(pinpoint_env), "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr + (tmp_path / "r.json").read_text()
    leaked = [a for a in addresses if a in text]
    assert leaked == []
    phones = {re.sub(r"\D", "", a)[-9:] for a in addresses if "@" not in a}
    runs = {re.sub(r"\D", "", m)[-9:] for m in re.findall(r"\d[\d ().-]{6,}\d", text)}
    assert phones and not (phones & runs)  # no phone number, however formatted
