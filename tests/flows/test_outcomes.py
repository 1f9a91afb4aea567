"""Outcomes you can trust, through the CLI against the local service: the report's counts are the
ledger's, failures Pinpoint does not attribute to a row are never guessed, and a failed run still
reports (and says so in one line, also with -q)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest

from tests.flows.helpers import good_rows, write_csv
from tests.flows.test_cli import run_cli, service_env


def _ledger(s3, bucket: str, report: dict) -> list[dict]:
    key = report["ledger"]["uri"].split(f"s3://{bucket}/", 1)[1]
    return list(csv.DictReader(io.StringIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())))


def _import(tmp_path, service, rows: int, *extra) -> tuple[int, dict, str]:
    src = write_csv(tmp_path / "in.csv", good_rows(rows))
    out = run_cli("import", str(src), "--poll-initial", "0.1", "--report", str(tmp_path / "r.json"), "-q", *extra,
                  env=service_env(service))
    return out.returncode, json.loads((tmp_path / "r.json").read_text()), out.stderr


def test_150_failures_of_which_pinpoint_names_100_report_what_the_ledger_says(tmp_path, pinpoint_env, s3_client):
    """The reproduction of issue 14: the report said failed 150 / imported 150 while ledger.csv said
    failed 100 / imported 200. Now 100 rows are failed, the other 200 uncertain, and the report's
    counts are computed from those fates."""
    pinpoint_env.set_faults("ImportJob", fail_rows=150)
    code, report, stderr = _import(tmp_path, pinpoint_env, 300)
    assert code == 1
    fates = Counter(r["fate"] for r in _ledger(s3_client, pinpoint_env.bucket, report))
    assert fates == {"failed": 100, "uncertain": 200}
    assert report["ledger"]["counts"] == dict(fates)
    assert (report["rows_failed"], report["rows_failed_attributed"], report["rows_failed_unattributed"],
            report["rows_imported"], report["rows_uncertain"]) == (150, 100, 50, 150, 200)
    assert report["status"] == "partial"
    assert "150 failed at Pinpoint: 100 attributed to rows, 50 not attributable" in stderr


@pytest.mark.parametrize("shape", ["file", "endpoint", "text"])
def test_failures_that_name_no_row_are_not_attributed_to_any(tmp_path, pinpoint_env, s3_client, shape):
    pinpoint_env.set_faults("ImportJob", fail_rows=2, failures_shape=shape)
    code, report, _ = _import(tmp_path, pinpoint_env, 5)
    assert code == 1
    ledger = _ledger(s3_client, pinpoint_env.bucket, report)
    assert Counter(r["fate"] for r in ledger) == {"uncertain": 5}
    assert all("without naming them" in r["detail"] for r in ledger)
    assert (report["rows_failed"], report["rows_failed_attributed"], report["rows_failed_unattributed"],
            report["rows_imported"]) == (2, 0, 2, 3)


def test_failures_that_name_their_rows_fail_exactly_those_rows(tmp_path, pinpoint_env, s3_client):
    pinpoint_env.set_faults("ImportJob", fail_rows=2)  # the local service's own shape: file and row
    code, report, stderr = _import(tmp_path, pinpoint_env, 5)
    ledger = _ledger(s3_client, pinpoint_env.bucket, report)
    assert code == 1 and Counter(r["fate"] for r in ledger) == {"failed": 2, "imported": 3}
    assert {int(r["part_row"]) for r in ledger if r["fate"] == "failed"} == {1, 2}
    assert (report["rows_failed_attributed"], report["rows_failed_unattributed"]) == (2, 0)
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and report["run_id"] in errors[0]  # -q still says why, in one line


def test_a_failed_delete_of_the_staged_files_after_success_still_writes_the_report(tmp_path, pinpoint_env):
    pinpoint_env.set_faults("S3:DeleteObjects", error500=20)
    src = write_csv(tmp_path / "in.csv", good_rows(4))
    out = run_cli("import", str(src), "--poll-initial", "0.1", "--report", str(tmp_path / "r.json"), "-q",
                  env={**service_env(pinpoint_env), "AWS_MAX_ATTEMPTS": "1"})
    pinpoint_env.clear_faults()
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "succeeded" and report["rows_imported"] == 4
    assert len(report["warnings"]) == 1 and "not deleted" in report["warnings"][0]
