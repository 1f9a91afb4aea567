"""The import flow end to end under the Prefect test harness, against the local service over HTTP."""

from __future__ import annotations

import pytest

from pinpoint_etl.core.errors import JobFailedError
from pinpoint_etl.flows.import_flow import import_endpoints
from tests.flows.helpers import fast_options, good_rows, sources, target_for, write_csv

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _artifact_keys():
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        return {a.key for a in client.read_artifacts(sort=ArtifactSort.UPDATED_DESC, limit=50) if a.key}


def test_import_succeeds_and_endpoints_are_normalised(tmp_path, pinpoint_env, pinpoint_client):
    src = write_csv(tmp_path / "in.csv", good_rows(6) + [["", "SMS", "", "US", "", "", "", "", ""]])
    report = import_endpoints(source=sources(src), target=target_for(pinpoint_env),
                              options=fast_options(define_segment=True, segment_name="flow-test"))
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
    report = import_endpoints(source=sources(src), target=target_for(pinpoint_env), options=fast_options())
    assert report["status"] == "partial"
    assert (report["rows_imported"], report["rows_failed"]) == (4, 1)
    assert report["jobs"][0]["status"] == "completed_with_failures"
    assert len(report["jobs"][0]["failures"]) == 1 and "row 5" in report["jobs"][0]["failures"][0]
    assert report["rows_read"] == report["rows_imported"] + report["rows_rejected"] + report["rows_superseded"] \
        + report["rows_failed"]


def test_failed_job_fails_the_flow_run_with_rows_counted_as_failed(tmp_path, pinpoint_env):
    pinpoint_env.set_faults("ImportJob", fail_pieces=1)
    src = write_csv(tmp_path / "in.csv", good_rows(3))
    state = import_endpoints(source=sources(src), target=target_for(pinpoint_env), options=fast_options(),
                             return_state=True)
    assert state.is_failed()
    with pytest.raises(JobFailedError, match="run r-"):
        state.result()


def test_throttling_and_500s_are_retried(tmp_path, pinpoint_env):
    pinpoint_env.set_faults("CreateImportJob", throttle=2, error500=1)
    pinpoint_env.set_faults("GetImportJob", throttle=3)
    src = write_csv(tmp_path / "in.csv", good_rows(3))
    report = import_endpoints(source=sources(src), target=target_for(pinpoint_env), options=fast_options())
    assert report["status"] == "succeeded" and report["rows_imported"] == 3 and len(report["jobs"]) == 1


def test_polling_timeout_names_the_job_and_how_to_resume(tmp_path, pinpoint_env):
    pinpoint_env.set_faults("ImportJob", state_delay=3600)
    src = write_csv(tmp_path / "in.csv", good_rows(2))
    state = import_endpoints(source=sources(src), target=target_for(pinpoint_env),
                             options=fast_options(timeout_seconds=1.5), return_state=True)
    assert state.is_failed()
    with pytest.raises(JobFailedError) as info:
        state.result()
    msg = str(info.value)
    assert "did not finish within 1.5 s" in msg and "job " in msg and "re-run the same command" in msg
    pinpoint_env.clear_faults()


def test_more_than_one_part_makes_several_jobs(tmp_path, pinpoint_env):
    src = write_csv(tmp_path / "in.csv", good_rows(40))
    report = import_endpoints(source=sources(src), target=target_for(pinpoint_env),
                              options=fast_options(max_job_bytes=1024))
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
    state = import_endpoints(source=source, target=target_for(pinpoint_env), options=fast_options(), return_state=True)
    report = state.result()
    assert (report["rows_read"], report["rows_imported"], report["rows_rejected"]) == (2501, 2500, 1)
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    chunk_runs = [r for r in runs if r.name.startswith("stage-chunk-")]
    assert len(chunk_runs) == 3 and all(r.state.is_completed() for r in chunk_runs)


def test_aws_access_through_a_prefect_aws_credentials_block(tmp_path, pinpoint_env, monkeypatch):
    from prefect_aws import AwsCredentials

    AwsCredentials(aws_access_key_id="block-key", aws_secret_access_key="block-secret",
                   region_name=pinpoint_env.region).save("pinpoint-etl-test", overwrite=True)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # only the block can provide credentials now
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    src = write_csv(tmp_path / "in.csv", good_rows(2))
    report = import_endpoints(source=sources(src), target=target_for(pinpoint_env, credentials_block="pinpoint-etl-test"),
                              options=fast_options())
    assert report["status"] == "succeeded" and report["rows_imported"] == 2
    with pytest.raises(Exception, match="no AWS credentials found"):
        import_endpoints(source=sources(src), target=target_for(pinpoint_env), options=fast_options())
