"""CRM and app-backend exports become endpoints through a mapping spec: the CLI and the Prefect flow,
into the local service over HTTP, read back with GetEndpoint / GetUserEndpoints; reject thresholds."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from pinpoint_etl.core.errors import JobFailedError
from pinpoint_etl.flows.params import SourceParams

from tests.flows.helpers import fast_options, flow_args, target_for
from tests.flows.test_cli import ROOT, run_cli, service_env

DATA = ROOT / "sample_data"
EXPECTED = json.loads((DATA / "crm_expected.json").read_text(encoding="utf-8"))
CRM, CRM_SPEC = DATA / "crm_contacts.csv", DATA / "crm_contacts.mapping.yaml"
APP, APP_SPEC = DATA / "app_users.ndjson", DATA / "app_users.mapping.yaml"


def _get(client, app: str, endpoint_id: str) -> dict | None:
    try:
        return client.get_endpoint(ApplicationId=app, EndpointId=endpoint_id)["EndpointResponse"]
    except client.exceptions.NotFoundException:
        return None


def _user_ids(client, app: str, users: set[str]) -> dict[str, set[str]]:
    out = {}
    for user in users:
        try:
            items = client.get_user_endpoints(ApplicationId=app, UserId=user)["EndpointsResponse"]["Item"]
        except client.exceptions.NotFoundException:
            items = []
        out[user] = {e["Id"] for e in items}
    return out


def _check_endpoints(client, app: str, expected: dict) -> None:
    """Every expected endpoint is in the service with its channel, address, user, country and opt-out."""
    for endpoint_id, want in expected["endpoints"].items():
        got = _get(client, app, endpoint_id)
        assert got is not None, f"endpoint {endpoint_id} (row {want['row']}) was not imported"
        assert (got["ChannelType"], got["Address"], got["User"]["UserId"], got["Location"]["Country"],
                got["OptOut"]) == (want["ChannelType"], want["Address"], want["User.UserId"], want["Location.Country"],
                                   want["OptOut"]), endpoint_id
        for name in ("Attributes.Plan", "Attributes.SignupDate", "Attributes.Tags"):
            if want.get(name):
                value = want[name] if isinstance(want[name], list) else [want[name]]
                assert got["Attributes"][name.split(".", 1)[1]] == value, (endpoint_id, name)
        if want.get("Demographic.Platform"):
            assert got["Demographic"]["Platform"] == want["Demographic.Platform"]


def _check_report(report: dict, expected: dict) -> None:
    n_endpoints = len(expected["endpoints"])
    assert report["unit"] == "endpoints"
    assert report["rows_imported"] == n_endpoints and report["rows_rejected"] == len(expected["rejects"])
    assert report["rows_superseded"] == len(expected["superseded_rows"]) and report["rows_failed"] == 0
    assert report["rows_read"] == report["rows_imported"] + report["rows_rejected"] + report["rows_superseded"]
    rows = report["source_rows"]
    assert rows["read"] == expected["source_rows"] == rows["with_endpoints"] + rows["without_endpoints"]
    assert report["rows_read"] == rows["endpoints"] + rows["without_endpoints"]


def _check_rejects(report: dict, expected: dict) -> None:
    got = sorted((r["row"], r.get("endpoint")) for r in map(json.loads, Path(report["rejects"]["uri"]).read_text(
        encoding="utf-8").splitlines()))
    assert got == sorted((r["row"], r["endpoint"]) for r in expected["rejects"])


def test_crm_csv_through_the_cli_gives_the_expected_endpoints_and_a_rerun_creates_none(tmp_path, pinpoint_env,
                                                                                         pinpoint_client):
    app, expected = pinpoint_env.application_id, EXPECTED["crm_contacts.csv"]
    out = run_cli("import", str(CRM), "--mapping-file", str(CRM_SPEC), "--poll-initial", "0.1", "--keep-staged",
                  "--report", str(tmp_path / "r.json"), "-q", env=service_env(pinpoint_env))
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    _check_report(report, expected)
    _check_endpoints(pinpoint_client, app, expected)
    for row in expected["rejects"]:  # a rejected endpoint never reaches Pinpoint
        if row["endpoint"]:
            customer = next(r for i, r in enumerate(csv.DictReader(CRM.open(encoding="utf-8")), 1) if i == row["row"])
            suffix = {"email": "email", "mobile": "sms"}[row["endpoint"]]
            assert _get(pinpoint_client, app, f"{customer['customer_id']}-{suffix}") is None
    users = {e["User.UserId"] for e in expected["endpoints"].values()}
    before = _user_ids(pinpoint_client, app, users)
    assert before["C1001"] == {"C1001-email", "C1001-sms"} and before["C1011"] == {"C1011-email"}
    assert _get(pinpoint_client, app, "C1002-email")["Address"] == "luca.rossi@example.org"  # the later row won

    again = run_cli("import", str(CRM), "--mapping-file", str(CRM_SPEC), "--poll-initial", "0.1", "--force", "-q",
                    "--report", str(tmp_path / "r2.json"), env=service_env(pinpoint_env))
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "r2.json").read_text())["rows_imported"] == len(expected["endpoints"])
    assert _user_ids(pinpoint_client, app, users) == before  # stable Ids: the second run updated, created none
    jobs = pinpoint_client.get_import_jobs(ApplicationId=app)["ImportJobsResponse"]["Item"]
    assert len(jobs) == 2 and all(j["JobStatus"] == "COMPLETED" for j in jobs)


@pytest.mark.usefixtures("prefect_harness")
def test_nested_app_ndjson_through_the_prefect_flow(tmp_path, pinpoint_env, pinpoint_client):
    from pinpoint_etl.flows.import_flow import import_endpoints

    app, expected = pinpoint_env.application_id, EXPECTED["app_users.ndjson"]
    spec = yaml.safe_load(APP_SPEC.read_text(encoding="utf-8"))  # the spec as the flow's parameter
    source = SourceParams(sources=[str(APP)], mapping_spec=spec)
    report = import_endpoints(**flow_args(source, target_for(pinpoint_env), fast_options()))
    assert report["status"] == "succeeded"
    _check_report(report, expected)
    _check_endpoints(pinpoint_client, app, expected)
    assert len(_user_ids(pinpoint_client, app, {"u-2001"})["u-2001"]) == 2  # email + APNS
    assert _user_ids(pinpoint_client, app, {"u-2006"})["u-2006"] == set()  # no address at all: rejected
    push = next(k for k, v in expected["endpoints"].items() if v["User.UserId"] == "u-2008" and k.startswith("push-"))
    ep = _get(pinpoint_client, app, push)
    assert ep["ChannelType"] == "APNS" and ep["OptOut"] == "ALL" and ep["Metrics"]["sessions"] == 55.0
    assert ep["Demographic"]["Locale"] == "ja_JP" and ep["Attributes"]["Tags"] == ["premium", "jp"]


def test_validate_with_a_spec_reports_endpoints_and_rejects_with_their_source_rows(tmp_path):
    out = run_cli("validate", str(CRM), "--mapping-file", str(CRM_SPEC), "--out", str(tmp_path / "out"),
                  "--report", str(tmp_path / "r.json"))
    assert out.returncode == 0, out.stderr
    assert "source rows read" in out.stderr
    assert "imported" not in out.stderr and "failed at Pinpoint" not in out.stderr  # validate imports nothing
    report = json.loads((tmp_path / "r.json").read_text())
    expected = EXPECTED["crm_contacts.csv"]
    assert (report["rows_valid"], report["rows_rejected"], report["rows_superseded"]) == (
        len(expected["endpoints"]), len(expected["rejects"]), len(expected["superseded_rows"]))
    _check_rejects(report, expected)
    ledger = list(csv.DictReader((tmp_path / "out" / "ledger.csv").open(encoding="utf-8")))
    by_row: dict[int, int] = {}
    for entry in ledger:
        by_row[int(entry["row"])] = by_row.get(int(entry["row"]), 0) + 1
    made = {r: 0 for r in range(1, expected["source_rows"] + 1)}
    for i, row in enumerate(csv.DictReader(CRM.open(encoding="utf-8")), 1):
        made[i] = bool(row["email"].strip()) + bool(row["mobile"].strip())
    assert by_row == {r: max(n, 1) for r, n in made.items()}  # once per endpoint a row produced, else once


def test_a_run_over_its_reject_thresholds_fails_before_any_import_job(tmp_path, pinpoint_env, pinpoint_client):
    app = pinpoint_env.application_id
    out = run_cli("import", str(CRM), "--mapping-file", str(CRM_SPEC), "--max-reject-ratio", "0.05",
                  "--report", str(tmp_path / "r.json"), "-q", env=service_env(pinpoint_env))
    assert out.returncode == 1
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    run_id = json.loads((tmp_path / "r.json").read_text())["run_id"]
    (line,) = errors  # one line, with the numbers
    assert line.startswith(f"error: run {run_id} failed: ") and ("7 of 58 endpoints rejected (12.1%), more than "
                                                                 "--max-reject-ratio 0.05 (5.0%): nothing imported") in line
    assert pinpoint_client.get_import_jobs(ApplicationId=app)["ImportJobsResponse"]["Item"] == []
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "failed" and report["rows_imported"] == 0 and report["jobs"] == []
    assert report["rows_failed"] == report["rows_valid"] == 49  # staged, never imported: the books still balance
    out = run_cli("validate", str(CRM), "--mapping-file", str(CRM_SPEC), "--max-rejects", "6", "--out",
                  str(tmp_path / "v"), "--report", str(tmp_path / "v.json"), "-q")
    assert out.returncode == 1 and "7 of 58 endpoints rejected, more than --max-rejects 6" in out.stderr
    assert json.loads((tmp_path / "v.json").read_text())["status"] == "failed"
    ok = run_cli("validate", str(CRM), "--mapping-file", str(CRM_SPEC), "--max-rejects", "7", "--out",
                 str(tmp_path / "v2"), "-q")
    assert ok.returncode == 0, ok.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_fails_over_its_reject_threshold_without_creating_a_job(pinpoint_env, pinpoint_client):
    from pinpoint_etl.flows.import_flow import import_endpoints

    source = SourceParams(sources=[str(CRM)], mapping_file=str(CRM_SPEC), max_rejects=0)
    state = import_endpoints(**flow_args(source, target_for(pinpoint_env), fast_options()), return_state=True)
    assert state.is_failed()
    with pytest.raises(JobFailedError, match="7 of 58 endpoints rejected, more than --max-rejects 0"):
        state.result()
    assert pinpoint_client.get_import_jobs(ApplicationId=pinpoint_env.application_id)["ImportJobsResponse"]["Item"] == []


def test_a_run_without_any_valid_row_never_succeeds(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("Id,ChannelType,Address\ne1,SMS,+1 000\ne2,EMAIL,someone@\n", encoding="utf-8")
    out = run_cli("validate", str(src), "--out", str(tmp_path / "out"), "--report", str(tmp_path / "r.json"), "-q")
    assert out.returncode == 1
    assert "none of the 2 rows read is valid" in out.stderr
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "failed"


def test_malformed_records_are_rejected_by_default_and_fail_the_run_on_request(tmp_path):
    src = tmp_path / "crm.csv"
    src.write_text("Id,ChannelType,Address\ne1,EMAIL,a@example.com\ne2,EMAIL,b@example.com,extra\n"
                   'e3,EMAIL,"c@example.com\ne4,EMAIL,d@example.com\n', encoding="utf-8")
    out = run_cli("validate", str(src), "--out", str(tmp_path / "out"), "--report", str(tmp_path / "r.json"), "-q")
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["rows_read"], report["rows_valid"], report["rows_rejected"]) == (4, 2, 2)
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.ndjson").read_text().splitlines()]
    assert sorted((r["row"], r["line"], r["raw"]) for r in rejects) == [
        (2, 3, "e2,EMAIL,b@example.com,extra"), (3, 4, 'e3,EMAIL,"c@example.com')]
    failed = run_cli("validate", str(src), "--out", str(tmp_path / "out2"), "--on-malformed", "fail", "-q")
    assert failed.returncode == 2
    (line,) = [ln for ln in failed.stderr.splitlines() if ln.strip()]
    assert line.startswith("error: run r-") and line.endswith(f"{src}, row 2: expected 3 fields, found 4")
