"""Exports end to end against the local service over HTTP: formats, destinations, segments, the
round trip through the import flow, job history paging, a failed export job, and Pinpoint's raw files
(encrypted at rest, deleted after download unless kept)."""

from __future__ import annotations

import gzip
import json

import pytest

from pinpoint_etl.core.errors import JobFailedError
from pinpoint_etl.export.run import run_export
from pinpoint_etl.flows.export_target import configure_export_target
from pinpoint_etl.flows.runtime import Runtime
from pinpoint_etl.pinpoint.jobs import PollPolicy, create_export_job, create_import_job, list_jobs, poll_job
from tests.flows.helpers import fast_options, flow_args, sources, target_for

from tests.flows.export_helpers import (SAMPLE_CSV, EXPECTED, ENDPOINTS, seed, export_target, export_args, fast, export, keys_under, read_output, csv_records, check_ndjson, check_parquet, CHECKS)


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet"])
def test_whole_application_exports_to_a_local_folder_and_to_s3(fmt, tmp_path, pinpoint_env, pinpoint_client,
                                                                s3_client):
    seed(pinpoint_client, pinpoint_env.application_id)
    # two endpoints per exported file and per chunk: several .gz files, columns that differ between chunks
    pinpoint_env.set_faults("ExportJob", records_per_file=2)
    local = export(pinpoint_env, format=fmt, out=f"{tmp_path}/out/", chunk_rows=2, keep_raw=True)
    remote = export(pinpoint_env, format=fmt, out=f"s3://{pinpoint_env.bucket}/backups/endpoints.{fmt}")
    for rep in (local, remote):
        assert rep.status == "succeeded", rep.errors
        assert (rep.rows_read, rep.rows_written, rep.rows_with_anomalies) == (5, 5, 0)
        assert len(rep.exported) == 3 and all(o["uri"].endswith(".gz") for o in rep.exported)
        assert rep.exported[0]["uri"].startswith(f"s3://{pinpoint_env.bucket}/pinpoint-etl/{rep.run_id}/export/")
        assert rep.job["status"] == "completed" and rep.job["total_processed"] == 5
        assert rep.fields_dropped == {f: 5 for f in ("ApplicationId", "CohortId", "CreationDate", "EffectiveDate",
                                                     "EndpointStatus")}
        assert rep.endpoint_status == {"ACTIVE": 5}
        (out,) = rep.files
        assert out["rows"] == 5 and out["bytes"] == len(read_output(out["uri"], s3_client))
        CHECKS[fmt](read_output(out["uri"], s3_client))
    assert local.files[0]["uri"] == str(tmp_path / "out" / f"endpoints-{local.run_id}.{fmt}")
    lines = gzip.decompress(read_output(local.exported[0]["uri"], s3_client)).decode().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["Id"] == "sms-1"  # Pinpoint's raw gzip NDJSON, kept
    assert local.raw_kept and not remote.raw_kept  # by default the raw files go once the output is written
    assert not [k for k in keys_under(s3_client, pinpoint_env.bucket, f"pinpoint-etl/{remote.run_id}/")
                if k.endswith(".gz")]
    assert remote.files[0]["uri"] == f"s3://{pinpoint_env.bucket}/backups/endpoints.{fmt}"
    report = json.loads(read_output(f"s3://{pinpoint_env.bucket}/pinpoint-etl/{remote.run_id}/report.json",
                                    s3_client))
    assert report["status"] == "succeeded" and report["job"]["id"] == remote.job["id"]


def test_export_fields_and_anomalies_are_reported_never_dropped(tmp_path, pinpoint_env, pinpoint_client, s3_client):
    empty = export(pinpoint_env, out=str(tmp_path / "empty.csv"))  # no endpoints yet: no .gz file, a header
    assert empty.status == "succeeded" and (empty.rows_read, empty.rows_written, empty.exported) == (0, 0, [])
    assert (tmp_path / "empty.csv").read_text() == "Id,ChannelType,Address\n"
    seed(pinpoint_client, pinpoint_env.application_id, ENDPOINTS[:2] + [
        {"Id": "odd", "ChannelType": "EMAIL", "Address": "not-an-email", "Location": {"Latitude": 47.61}}])
    rep = export(pinpoint_env, out=str(tmp_path / "all.csv"), export_fields=True, keep_raw=False)
    assert rep.status == "succeeded" and rep.rows_written == 3 and rep.rows_with_anomalies == 1
    assert rep.anomalies == {"Address is not a valid email address for EMAIL": 1,
                             "Location.Latitude is not a number in -90..90 with one decimal (the import form)": 1}
    assert rep.anomaly_examples[0]["reasons"] and rep.anomaly_examples[0]["source"].endswith(".gz")
    header, recs = csv_records((tmp_path / "all.csv").read_bytes())
    assert header[-5:] == ["ApplicationId", "CohortId", "CreationDate", "EffectiveDate", "EndpointStatus"]
    assert recs["odd"]["Location.Latitude"] == ["47.61"] and recs["odd"]["EndpointStatus"] == ["ACTIVE"]
    assert rep.fields_dropped == {}
    # --delete-raw: Pinpoint's raw files are gone, the report stays
    assert keys_under(s3_client, pinpoint_env.bucket, f"pinpoint-etl/{rep.run_id}/") == \
        [f"pinpoint-etl/{rep.run_id}/report.json"]


def _import_job(pinpoint_env, pinpoint_client, s3_client, key: str, rows: list[str], **kw):
    body = "Id,ChannelType,Address,User.UserId\n" + "\n".join(rows) + "\n"
    s3_client.put_object(Bucket=pinpoint_env.bucket, Key=key, Body=body.encode())
    job = create_import_job(pinpoint_client, pinpoint_env.application_id, s3_url=f"s3://{pinpoint_env.bucket}/{key}",
                            role_arn=pinpoint_env.import_role_arn, **kw)
    return poll_job(pinpoint_client, pinpoint_env.application_id, job.id, "import",
                    policy=PollPolicy(initial=0.05, max_interval=0.2, timeout=60))


def test_segment_export_latest_and_a_given_version(tmp_path, pinpoint_env, pinpoint_client, s3_client):
    first = _import_job(pinpoint_env, pinpoint_client, s3_client, "in/seg1.csv",
                        ["seg-1,EMAIL,one@example.com,u1", "seg-2,SMS,+12065550102,u2"],
                        define_segment=True, segment_name="vip")
    segment_id = first.definition["SegmentId"]
    _import_job(pinpoint_env, pinpoint_client, s3_client, "in/seg2.csv", ["seg-3,EMAIL,three@example.com,u3"],
                segment_id=segment_id)
    seed(pinpoint_client, pinpoint_env.application_id)  # endpoints outside the segment
    latest = export(pinpoint_env, segment_id=segment_id, out=str(tmp_path / "latest.csv"))
    v1 = export(pinpoint_env, segment_id=segment_id, segment_version=1, format="ndjson",
                out=str(tmp_path / "v1.ndjson"))
    assert latest.status == v1.status == "succeeded"
    assert set(csv_records((tmp_path / "latest.csv").read_bytes())[1]) == {"seg-1", "seg-2", "seg-3"}
    assert {json.loads(x)["Id"] for x in (tmp_path / "v1.ndjson").read_text().splitlines()} == {"seg-1", "seg-2"}
    assert latest.job["id"] != v1.job["id"] and (latest.segment_id, v1.segment_version) == (segment_id, 1)
    jobs = list(list_jobs(pinpoint_client, pinpoint_env.application_id, "export", segment_id=segment_id, page_size=1))
    assert {j.id for j in jobs} == {latest.job["id"], v1.job["id"]}


def _endpoints(pinpoint_client, app: str, ids) -> dict[str, dict]:
    """GetEndpoint of every id (8 at once), without EffectiveDate (the time of the last update)."""
    from concurrent.futures import ThreadPoolExecutor

    def get(endpoint_id):
        ep = pinpoint_client.get_endpoint(ApplicationId=app, EndpointId=endpoint_id)["EndpointResponse"]
        return endpoint_id, {k: v for k, v in ep.items() if k != "EffectiveDate"}

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(get, sorted(ids)))


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_round_trip_sample_data_import_export_reimport(tmp_path, pinpoint_env, pinpoint_client):
    from pinpoint_etl.flows.export_flow import export_endpoints
    from pinpoint_etl.flows.import_flow import import_endpoints

    app = pinpoint_env.application_id
    first = import_endpoints(**flow_args(sources(SAMPLE_CSV), target_for(pinpoint_env), fast_options()))
    assert first["status"] == "succeeded" and first["rows_imported"] == EXPECTED["rows_valid"]
    # a file to import again unchanged is exported --no-csv-safe: csv_safe quotes a push token starting with "-"
    safe = export_endpoints(**export_args(export_target(pinpoint_env), fast(
        role_arn=pinpoint_env.export_role_arn, out=str(tmp_path / "safe.csv"))))
    assert safe["formulas_neutralised"] == {"Address": 1} and "--no-csv-safe" in safe["warnings"][0]
    out = tmp_path / "export.csv"
    rep = export_endpoints(**export_args(export_target(pinpoint_env), fast(role_arn=pinpoint_env.export_role_arn,
                                                                          out=str(out), csv_safe=False)))
    assert rep["status"] == "succeeded" and rep["rows_written"] == EXPECTED["rows_valid"]
    assert rep["anomalies"] == {} and rep["formulas_neutralised"] == {} and rep["warnings"] == []
    _header, recs = csv_records(out.read_bytes())
    # the same endpoints, with the normalised (and, for duplicate Ids, the winning) values
    rejected = {r["id"] for r in EXPECTED["rejected"] if r.get("id")}
    assert len(recs) == EXPECTED["rows_valid"] and not rejected & set(recs)
    for messy in EXPECTED["messy"]:
        for change in messy["changes"]:
            if change["expected"] not in (None, ""):
                assert change["expected"] in recs[messy["id"]].get(change["field"], []), (messy["id"], change)
    for dup in EXPECTED["duplicates"]:
        assert recs[dup["id"]][dup["field"]] == [dup["new"]], dup
    # the exported values are those Pinpoint holds
    before = _endpoints(pinpoint_client, app, recs)
    for endpoint_id, ep in list(before.items())[:50]:
        rec = recs[endpoint_id]
        assert rec["Address"] == [ep["Address"]] and rec["ChannelType"] == [ep["ChannelType"]]
        for name, values in ep.get("Attributes", {}).items():
            assert rec[f"Attributes.{name}"] == values
    # importing the export again changes nothing
    again = import_endpoints(**flow_args(sources(out), target_for(pinpoint_env), fast_options()))
    assert again["status"] == "succeeded" and again["rows_imported"] == EXPECTED["rows_valid"]
    assert again["rows_rejected"] == 0 and again["normalised"] == {k: 0 for k in again["normalised"]}
    assert _endpoints(pinpoint_client, app, recs) == before


def test_job_history_pages_past_one_page(pinpoint_env, pinpoint_client, s3_client):
    app = pinpoint_env.application_id
    created = [create_export_job(pinpoint_client, app, s3_url_prefix=f"s3://{pinpoint_env.bucket}/hist/{i}/",
                                 role_arn=pinpoint_env.export_role_arn).id for i in range(7)]
    s3_client.put_object(Bucket=pinpoint_env.bucket, Key="hist/in.csv",
                         Body=b"Id,ChannelType,Address\nh1,EMAIL,h1@example.com\n")
    imports = [create_import_job(pinpoint_client, app, s3_url=f"s3://{pinpoint_env.bucket}/hist/in.csv",
                                 role_arn=pinpoint_env.import_role_arn).id for _ in range(5)]
    exports = [j.id for j in list_jobs(pinpoint_client, app, "export", page_size=3)]
    assert sorted(exports) == sorted(created) and len(exports) == 7  # three pages, each job once
    assert exports == created[::-1]  # newest first
    listed_imports = [j.id for j in list_jobs(pinpoint_client, app, "import", page_size=2)]
    assert sorted(listed_imports) == sorted(imports) and len(listed_imports) == 5
    assert [j.id for j in list_jobs(pinpoint_client, app, "export", page_size=2, limit=3)] == created[::-1][:3]
    assert all(j.kind == "export" for j in list_jobs(pinpoint_client, app, "export", page_size=4))


def test_failed_export_job_fails_the_run_naming_the_job(tmp_path, pinpoint_env, pinpoint_client):
    seed(pinpoint_client, pinpoint_env.application_id)
    pinpoint_env.set_faults("ExportJob", fail_pieces=1)
    rep = export(pinpoint_env, out=str(tmp_path / "x.csv"))
    assert rep.status == "failed" and rep.exit_code == 1 and rep.files == [] and rep.rows_written == 0
    assert rep.job["status"] == "failed" and rep.job["failed_pieces"] == 1
    assert f"job {rep.job['id']}" in rep.errors[0] and "FAILED" in rep.errors[0]
    assert not (tmp_path / "x.csv").exists()


def test_export_timeout_names_the_job(tmp_path, pinpoint_env):
    pinpoint_env.set_faults("ExportJob", state_delay=3600)
    try:
        rep = export(pinpoint_env, out=str(tmp_path / "x.csv"), timeout_seconds=1.0)
    finally:
        pinpoint_env.clear_faults()
    assert rep.status == "failed" and rep.job["status"] == "timed_out"
    assert "did not finish within 1 s" in rep.errors[0] and rep.job["id"] in rep.errors[0]


def test_configuration_errors_fail_before_any_job(pinpoint_env, monkeypatch):
    from pinpoint_etl.core.errors import ConfigError, TerminalError

    monkeypatch.delenv("PINPOINT_EXPORT_ROLE_ARN", raising=False)
    with pytest.raises(ConfigError, match="export role"):
        configure_export_target(export_target(pinpoint_env), fast())
    with pytest.raises(ConfigError, match="segment_version needs a segment_id"):
        configure_export_target(export_target(pinpoint_env), fast(role_arn=pinpoint_env.export_role_arn,
                                                                  segment_version=2))
    with pytest.raises(TerminalError, match="CreateExportJob .* failed: NotFoundException"):
        export(pinpoint_env, segment_id="nope")


@pytest.mark.usefixtures("prefect_harness")
def test_flow_publishes_artifacts_and_fails_on_a_failed_job(tmp_path, pinpoint_env, pinpoint_client):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import ArtifactSort

    from pinpoint_etl.flows.export_flow import ANOMALIES_KEY, JOBS_KEY, PROGRESS_KEY, SUMMARY_KEY, export_endpoints

    seed(pinpoint_client, pinpoint_env.application_id)
    opts = fast(role_arn=pinpoint_env.export_role_arn, format="parquet", out=str(tmp_path / "e.parquet"))
    rep = export_endpoints(**export_args(export_target(pinpoint_env), opts))
    assert rep["status"] == "succeeded" and rep["rows_written"] == 5
    check_parquet((tmp_path / "e.parquet").read_bytes())
    with get_client(sync_client=True) as client:
        keys = {a.key for a in client.read_artifacts(sort=ArtifactSort.UPDATED_DESC, limit=50) if a.key}
    assert {SUMMARY_KEY, ANOMALIES_KEY, JOBS_KEY, PROGRESS_KEY} <= keys

    pinpoint_env.set_faults("ExportJob", fail_pieces=1)
    state = export_endpoints(**export_args(export_target(pinpoint_env), opts), return_state=True)
    assert state.is_failed()
    with pytest.raises(JobFailedError, match=r"job [0-9a-f]{32}: export job ended FAILED"):
        state.result()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_export_deployment_runs_when_triggered_through_the_api(tmp_path, pinpoint_env, pinpoint_client):
    import asyncio
    import threading

    from prefect.deployments import run_deployment
    from prefect.runner import Runner

    from pinpoint_etl.flows.deployments import runner_deployments
    from pinpoint_etl.flows.export_flow import export_endpoints

    seed(pinpoint_client, pinpoint_env.application_id)
    # prefect.yaml's export deployment (scheduled, shipped inactive, with a time zone) if it is there
    export_deps = [d for d in runner_deployments() if d.flow_name == "export_endpoints"]
    for dep in export_deps:
        assert dep.schedules and all(s.active is False and s.schedule.timezone for s in dep.schedules)
    dep = export_deps[0] if export_deps else export_endpoints.to_deployment(name="export")
    runner = Runner(name="pinpoint-etl-export-test", query_seconds=1, prefetch_seconds=1)
    runner.add_deployment(dep)
    thread = threading.Thread(target=lambda: asyncio.run(runner.start()), daemon=True)
    thread.start()
    out = tmp_path / "dep.ndjson"
    params = {"target": {"application_id": pinpoint_env.application_id, "bucket": pinpoint_env.bucket,
                         "role_arn": pinpoint_env.export_role_arn},
              "options": {"format": "ndjson", "out": str(out)},
              "advanced": {"region": pinpoint_env.region, "poll_initial_seconds": 0.1, "poll_max_seconds": 0.5}}
    try:
        run = run_deployment(f"export_endpoints/{dep.name}", parameters=params, timeout=240, poll_interval=1)
    finally:
        runner.stop()
    assert run.state.is_completed(), run.state
    check_ndjson(out.read_bytes())


def test_raw_files_are_encrypted_at_rest_as_the_bucket_asks(pinpoint_env, pinpoint_client, s3_client, tmp_path):
    """Issue #15: Pinpoint's .gz files were stored unencrypted. CreateExportJob has no encryption setting: the
    bucket's default encryption is how one asks, and S3 applies SSE-S3 where a bucket has none."""
    seed(pinpoint_client, pinpoint_env.application_id)
    pinpoint_env.set_faults("ExportJob", records_per_file=2)

    def raw_encryption(rep):
        assert rep.status == "succeeded" and rep.raw_kept and len(rep.exported) == 3
        stored = [s3_client.head_object(Bucket=pinpoint_env.bucket, Key=f["uri"].split("/", 3)[3]).get(
            "ServerSideEncryption") for f in rep.exported]
        assert [f["sse"] for f in rep.exported] == stored and not rep.warnings
        return set(stored)

    assert raw_encryption(export(pinpoint_env, out=str(tmp_path / "a.csv"), keep_raw=True)) == {"AES256"}
    s3_client.put_bucket_encryption(Bucket=pinpoint_env.bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/pinpoint"}}]})
    assert raw_encryption(export(pinpoint_env, out=str(tmp_path / "b.csv"), keep_raw=True)) == {"aws:kms"}


def test_a_failed_jobs_pieces_are_deleted_too(pinpoint_env, pinpoint_client, s3_client, tmp_path):
    seed(pinpoint_client, pinpoint_env.application_id)
    pinpoint_env.set_faults("ExportJob", records_per_file=2, fail_pieces=1)  # pieces 2 and 3 are written
    rep = export(pinpoint_env, out=str(tmp_path / "x.csv"))
    assert rep.status == "failed" and rep.job["completed_pieces"] == 2 and not rep.raw_kept
    assert keys_under(s3_client, pinpoint_env.bucket, f"pinpoint-etl/{rep.run_id}/") == \
        [f"pinpoint-etl/{rep.run_id}/report.json"]


def test_unreadable_lines_keep_the_raw_files_and_say_so(pinpoint_env, pinpoint_client, s3_client, tmp_path):
    seed(pinpoint_client, pinpoint_env.application_id)
    run_id = "x-20261123t101010-0badf11e"
    s3_client.put_object(Bucket=pinpoint_env.bucket, Key=f"pinpoint-etl/{run_id}/export/zz/part-00000.gz",
                         Body=gzip.compress(b'{"Id":"z1","ChannelType":"CUSTOM","Address":"z"}\nnot json\n'))
    opts = fast(role_arn=pinpoint_env.export_role_arn, out=str(tmp_path / "x.csv"))
    rep = run_export(configure_export_target(export_target(pinpoint_env), opts), opts, Runtime(), run_id=run_id)
    assert rep.status == "partial" and (rep.rows_written, rep.lines_unreadable) == (6, 1) and rep.raw_kept
    assert "could not be written" in rep.errors[0]
    plain, kept = rep.warnings  # the file put here without encryption, and why the raw files stay
    assert "1 raw export file(s) under" in plain and "without server-side encryption" in plain and "are kept" in kept
    assert len([k for k in keys_under(s3_client, pinpoint_env.bucket, f"pinpoint-etl/{run_id}/export/")]) == 2


def test_a_failed_delete_is_a_warning_and_the_report_is_still_written(pinpoint_env, pinpoint_client, s3_client,
                                                                     tmp_path):
    seed(pinpoint_client, pinpoint_env.application_id)
    pinpoint_env.set_faults("S3:DeleteObjects", error500=50)
    rep = export(pinpoint_env, out=str(tmp_path / "x.csv"))
    pinpoint_env.clear_faults()
    assert rep.status == "succeeded" and rep.raw_kept and rep.errors == []
    assert "could not delete the raw export files" in rep.warnings[0]
    stored = json.loads(read_output(f"s3://{pinpoint_env.bucket}/pinpoint-etl/{rep.run_id}/report.json", s3_client))
    assert stored["warnings"] == rep.warnings and stored["status"] == "succeeded"
