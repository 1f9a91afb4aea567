"""The import flow end to end under the Prefect test harness, against the local service over HTTP."""

from __future__ import annotations

import re

import pytest

from pinpoint_etl.core.errors import JobFailedError
from pinpoint_etl.flows.import_flow import import_endpoints
from tests.flows.helpers import fast_options, flow_args, good_rows, sources, target_for, write_csv

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _artifact_keys():
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        return {a.key for a in client.read_artifacts(sort=ArtifactSort.UPDATED_DESC, limit=50) if a.key}


def test_import_succeeds_and_endpoints_are_normalised(tmp_path, pinpoint_env, pinpoint_client):
    src = write_csv(tmp_path / "in.csv", good_rows(6) + [["", "SMS", "", "US", "", "", "", "", ""]])
    report = import_endpoints(**flow_args(sources(src), target_for(pinpoint_env),
                                         fast_options(segment_name="flow-test")))
    assert report["status"] == "succeeded"
    assert (report["rows_read"], report["rows_imported"], report["rows_rejected"], report["rows_failed"]) == (7, 6, 1, 0)
    assert report["jobs"][0]["status"] == "completed" and report["jobs"][0]["total_processed"] == 6
    ep = pinpoint_client.get_endpoint(ApplicationId=pinpoint_env.application_id, EndpointId="sms-1")["EndpointResponse"]
    assert ep["Address"] == "+12065550101" and ep["ChannelType"] == "SMS" and ep["Location"]["Country"] == "US"
    assert ep["Demographic"]["Timezone"] == "America/Los_Angeles"
    assert ep["Attributes"]["Interests"] == ["Music", "Books"]
    email = pinpoint_client.get_endpoint(ApplicationId=pinpoint_env.application_id,
                                         EndpointId="email-0")["EndpointResponse"]
    assert email["Address"] == "User0@example.com" and email["Location"]["Country"] == "DE"
    segs = pinpoint_client.get_segments(ApplicationId=pinpoint_env.application_id)["SegmentsResponse"]["Item"]
    assert [s["ImportDefinition"]["Size"] for s in segs if s["Name"] == "flow-test"] == [6]
    assert {"pinpoint-etl-run-summary", "pinpoint-etl-rejects-by-reason", "pinpoint-etl-jobs",
            "pinpoint-etl-job-progress"} <= _artifact_keys()


def test_rows_failing_at_pinpoint_make_the_run_partial(tmp_path, pinpoint_env, pinpoint_client):
    # u-full already has 15 SMS endpoints in the project: Pinpoint refuses a 16th SMS endpoint.
    app = pinpoint_env.application_id
    for start in (0, 10):
        pinpoint_client.update_endpoints_batch(ApplicationId=app, EndpointBatchRequest={"Item": [
            {"Id": f"pre-{i}", "ChannelType": "SMS", "Address": f"+1206555{1000 + i:04d}", "User": {"UserId": "u-full"}}
            for i in range(start, min(start + 10, 15))]})
    rows = good_rows(4) + [["sms-extra", "SMS", "+12065550199", "US", "", "u-full", "", "", ""]]
    src = write_csv(tmp_path / "in.csv", rows)
    report = import_endpoints(**flow_args(sources(src), target_for(pinpoint_env), fast_options()))
    assert report["status"] == "partial"
    assert (report["rows_imported"], report["rows_failed"]) == (4, 1)
    assert report["jobs"][0]["status"] == "completed_with_failures"
    assert len(report["jobs"][0]["failures"]) == 1 and "row 5" in report["jobs"][0]["failures"][0]
    assert report["rows_read"] == report["rows_imported"] + report["rows_rejected"] + report["rows_superseded"] \
        + report["rows_failed"]


def test_failed_job_fails_the_flow_run_with_rows_counted_as_failed(tmp_path, pinpoint_env):
    pinpoint_env.set_faults("ImportJob", fail_pieces=1)
    src = write_csv(tmp_path / "in.csv", good_rows(3))
    state = import_endpoints(**flow_args(sources(src), target_for(pinpoint_env), fast_options()),
                             return_state=True)
    assert state.is_failed()
    with pytest.raises(JobFailedError, match="run r-"):
        state.result()


def test_throttling_and_500s_are_retried(tmp_path, pinpoint_env):
    pinpoint_env.set_faults("CreateImportJob", throttle=2, error500=1)
    pinpoint_env.set_faults("GetImportJob", throttle=3)
    src = write_csv(tmp_path / "in.csv", good_rows(3))
    report = import_endpoints(**flow_args(sources(src), target_for(pinpoint_env), fast_options()))
    assert report["status"] == "succeeded" and report["rows_imported"] == 3 and len(report["jobs"]) == 1


def test_polling_timeout_names_the_job_and_how_to_resume(tmp_path, pinpoint_env):
    pinpoint_env.set_faults("ImportJob", state_delay=3600)
    src = write_csv(tmp_path / "in.csv", good_rows(2))
    state = import_endpoints(**flow_args(sources(src), target_for(pinpoint_env), fast_options(timeout_seconds=1.5)),
                             return_state=True)
    assert state.is_failed()
    with pytest.raises(JobFailedError) as info:
        state.result()
    msg = str(info.value)
    assert "did not finish within 1.5 s" in msg and "job " in msg and "re-run the same command" in msg
    pinpoint_env.clear_faults()


def test_more_than_one_part_makes_several_jobs(tmp_path, pinpoint_env):
    src = write_csv(tmp_path / "in.csv", good_rows(40))
    report = import_endpoints(**flow_args(sources(src), target_for(pinpoint_env), fast_options(max_job_bytes=1024)))
    assert len(report["staged"]) >= 3 and len(report["jobs"]) == len(report["staged"])
    assert all(s["bytes"] <= 1024 for s in report["staged"])
    assert report["rows_imported"] == 40 and report["status"] == "succeeded"


@pytest.mark.parametrize("runner", ["dask", "processes"])
def test_chunk_work_runs_as_prefect_tasks_on_dask_or_worker_processes(runner, tmp_path, pinpoint_env,
                                                                    pinpoint_client):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from pinpoint_etl.flows.params import SourceParams

    src = write_csv(tmp_path / "in.csv", good_rows(2500) + [["bad", "SMS", "+1 000", "US", "", "", "", "", ""]])
    source = SourceParams(sources=[str(src)], chunk_rows=1000, runner=runner, workers=2)
    state = import_endpoints(**flow_args(source, target_for(pinpoint_env), fast_options()), return_state=True)
    report = state.result()
    assert (report["rows_read"], report["rows_imported"], report["rows_rejected"]) == (2501, 2500, 1)
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    chunk_runs = [r for r in runs if r.name.startswith("stage-chunk-")]
    assert len(chunk_runs) == 3 and all(r.state.is_completed() for r in chunk_runs)


def test_aws_access_through_a_prefect_aws_credentials_block(tmp_path, pinpoint_env, monkeypatch):
    from prefect_aws import AwsCredentials

    AwsCredentials(aws_access_key_id=pinpoint_env.access_key_id, aws_secret_access_key=pinpoint_env.secret_access_key,
                   region_name=pinpoint_env.region).save("pinpoint-etl-test", overwrite=True)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # only the block can provide credentials now
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    src = write_csv(tmp_path / "in.csv", good_rows(2))
    report = import_endpoints(**flow_args(sources(src), target_for(pinpoint_env, credentials_block="pinpoint-etl-test"),
                                         fast_options()))
    assert report["status"] == "succeeded" and report["rows_imported"] == 2
    with pytest.raises(Exception, match="missing AWS credentials"):
        import_endpoints(**flow_args(sources(src), target_for(pinpoint_env), fast_options()))


def _run_records(flow_run_id):
    """(log records, artifacts by key, task run names) of one flow run, read back from the API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return logs, {a.key: a for a in artifacts}, sorted(t.name for t in tasks)


def test_a_successful_run_logs_no_error_and_its_artifacts_name_the_segment_jobs_and_rules(tmp_path, pinpoint_env):
    import json

    src = write_csv(tmp_path / "in.csv", good_rows(6))
    args = flow_args(sources(src), target_for(pinpoint_env), fast_options(segment_name="artifact-test"))
    state = import_endpoints(**args, return_state=True)
    assert state.is_completed()
    logs, artifacts, tasks = _run_records(state.state_details.flow_run_id)
    assert [(r.level, r.message) for r in logs if r.level >= 30 or "Traceback" in r.message] == []
    assert tasks == ["import part-00001", "stage-chunk-0"]
    statuses = [re.search(r"job \w+ \(part-00001\): (\w+)", r.message).group(1) for r in logs
                if re.search(r"job \w+ \(part-00001\): ", r.message)]
    assert statuses and statuses[-1] == "COMPLETED" and len(statuses) == len(set(statuses))  # each once
    report = state.result()
    (job,) = report["jobs"]
    summary = artifacts["pinpoint-etl-run-summary"].data
    assert f"Segment: **artifact-test**, id `{job['segment_id']}` — created by this import" in summary
    assert "phone number written in international form" in summary and "address_phone" not in summary
    assert "Re-run" not in summary
    (row,) = json.loads(artifacts["pinpoint-etl-jobs"].data)
    assert row["part"] == "part-00001" and row["id"] == job["id"] and row["reused"] == "no"
    assert row["created"] and row["completed"] and row["s3_url"].endswith("/import/part-00001.csv")
    progress = artifacts["pinpoint-etl-job-progress"]
    assert progress.task_run_id is None and float(progress.data) == 100.0  # on the flow run, not a task run

    again = import_endpoints(**args, return_state=True)  # the same input: the earlier job is taken over
    assert again.is_completed() and again.result()["jobs"][0]["id"] == job["id"]
    logs, artifacts, _ = _run_records(again.state_details.flow_run_id)
    text = "\n".join(r.message for r in logs)
    assert f"part-00001 was imported before by job {job['id']}" in text and "--force" not in text
    assert 'the flow parameter "Import again" (options.force) imports again' in text
    summary = artifacts["pinpoint-etl-run-summary"].data
    assert "1 of 1 import job(s) were taken over from the earlier run" in summary
    assert "created when this input was first imported" in summary
    assert json.loads(artifacts["pinpoint-etl-jobs"].data)[0]["reused"] == "yes"

    more = write_csv(tmp_path / "more.csv", good_rows(2, start=10))  # into the existing segment: named by GetSegment
    state = import_endpoints(**flow_args(sources(more), target_for(pinpoint_env),
                                         fast_options(segment_id=job["segment_id"])), return_state=True)
    _, artifacts, _ = _run_records(state.state_details.flow_run_id)
    assert (f"Segment: **artifact-test**, id `{job['segment_id']}` — the imported endpoints were added to it"
            in artifacts["pinpoint-etl-run-summary"].data)


def test_a_run_missing_its_environment_fails_first_in_one_line_naming_it(tmp_path, pinpoint_env, s3_client,
                                                                         monkeypatch):
    for var in ("PINPOINT_ETL_BUCKET", "PINPOINT_IMPORT_ROLE_ARN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    src = write_csv(tmp_path / "in.csv", good_rows(2))
    before = s3_client.list_objects_v2(Bucket=pinpoint_env.bucket).get("KeyCount", 0)
    target = target_for(pinpoint_env).model_copy(update={"bucket": None, "role_arn": None})
    state = import_endpoints(**flow_args(sources(src), target, fast_options()), return_state=True)
    assert state.is_failed()
    message = state.message
    assert "\n" not in message
    for named in ("PINPOINT_ETL_BUCKET (or the form's Staging bucket)",
                  "PINPOINT_IMPORT_ROLE_ARN (or the form's Import role ARN)", "AWS credentials"):
        assert named in message
    assert "PINPOINT_APPLICATION_ID" not in message and "AWS_REGION" not in message  # those are there
    logs, _, tasks = _run_records(state.state_details.flow_run_id)
    assert [r.message for r in logs if r.level >= 40] == [message] and tasks == []
    assert not any("Traceback" in r.message for r in logs)
    assert s3_client.list_objects_v2(Bucket=pinpoint_env.bucket).get("KeyCount", 0) == before


def test_relative_sources_are_read_from_the_data_dir_not_the_working_directory(tmp_path, pinpoint_env,
                                                                              monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "in.csv", good_rows(2))
    monkeypatch.chdir(tmp_path)  # a relative path that would also resolve here must not be read from here
    monkeypatch.delenv("PINPOINT_ETL_DATA_DIR", raising=False)
    args = flow_args(sources("data/in.csv"), target_for(pinpoint_env), fast_options())
    state = import_endpoints(**args, return_state=True)
    assert state.is_failed() and "source 'data/in.csv' is a relative path" in state.message
    assert "PINPOINT_ETL_DATA_DIR is not set" in state.message
    monkeypatch.setenv("PINPOINT_ETL_DATA_DIR", str(data))
    args = flow_args(sources("in.csv"), target_for(pinpoint_env), fast_options())
    report = import_endpoints(**args)
    assert report["status"] == "succeeded" and report["rows_imported"] == 2
