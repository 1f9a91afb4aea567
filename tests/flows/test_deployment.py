"""A deployment from prefect.yaml, served against the test harness and triggered through the API as the UI does."""

from __future__ import annotations

import asyncio
import threading

import pytest

from pinpoint_etl.flows.deployments import runner_deployments
from tests.flows.helpers import good_rows, write_csv

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_prefect_yaml_schedules_ship_inactive_with_a_timezone():
    deps = {d.name: d for d in runner_deployments()}
    assert {"scheduled-sync", "backfill", "export"} <= set(deps)
    (export,) = deps["export"].schedules
    assert export.active is False and export.schedule.timezone == "Europe/London"
    (sched,) = deps["scheduled-sync"].schedules
    assert sched.active is False and sched.schedule.timezone == "Europe/London" and sched.schedule.cron == "0 2 * * *"


def test_every_flow_parameter_field_has_a_description_for_the_ui_form():
    from prefect.utilities.callables import parameter_schema

    from pinpoint_etl.flows.import_flow import import_endpoints

    schema = parameter_schema(import_endpoints)
    assert set(schema.properties) == {"source", "target", "options"}
    for model in ("SourceParams", "TargetParams", "ImportOptions"):
        props = schema.definitions[model]["properties"]
        assert props and all(p.get("description") for p in props.values()), model


def test_served_backfill_deployment_runs_when_triggered_through_the_api(tmp_path, pinpoint_env, pinpoint_client):
    from prefect.deployments import run_deployment
    from prefect.runner import Runner

    src = write_csv(tmp_path / "in.csv", good_rows(3))
    runner = Runner(name="pinpoint-etl-test", query_seconds=1, prefetch_seconds=1)
    for dep in runner_deployments(names=["backfill"]):
        runner.add_deployment(dep)
    thread = threading.Thread(target=lambda: asyncio.run(runner.start()), daemon=True)
    thread.start()
    params = {"source": {"sources": [str(src)]},
              "target": {"application_id": pinpoint_env.application_id, "bucket": pinpoint_env.bucket,
                         "role_arn": pinpoint_env.import_role_arn, "region": pinpoint_env.region},
              "options": {"poll_initial_seconds": 0.1, "poll_max_seconds": 0.5}}
    try:
        run = run_deployment("import_endpoints/backfill", parameters=params, timeout=240, poll_interval=1)
    finally:
        runner.stop()
    assert run.state.is_completed(), run.state
    ep = pinpoint_client.get_endpoint(ApplicationId=pinpoint_env.application_id, EndpointId="sms-1")
    assert ep["EndpointResponse"]["Address"] == "+12065550101"
