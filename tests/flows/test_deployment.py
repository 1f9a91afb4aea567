"""prefect.yaml, the flows' parameter forms, and `pinpoint-etl serve` (served names, refusal, signals).

The forms are checked on the schema ``prefect deploy`` sends (``parameter_schema`` of the flow; the
production test checks the deployed one is that schema), against how the Prefect UI renders it:
a property's label is its title (or its definition's), ``anyOf`` is a toggle, descriptions are text.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from pinpoint_etl.flows.deployments import PREFECT_YAML, runner_deployments
from tests.flows.helpers import good_rows, write_csv

ROOT = Path(__file__).resolve().parents[2]

# the tuning knobs of each flow: on the form only inside the collapsed "advanced" group
IMPORT_TUNING = {"chunk_rows", "runner", "workers", "dask_address", "max_job_bytes", "max_concurrent_jobs",
                 "poll_initial_seconds", "poll_max_seconds", "timeout_seconds", "staged_format", "keep_staged",
                 "register_endpoints", "prefix", "region", "credentials_block", "expected_bucket_owner", "sse",
                 "kms_key_id"}
EXPORT_TUNING = {"chunk_rows", "poll_initial_seconds", "poll_max_seconds", "timeout_seconds", "keep_raw", "prefix",
                 "region", "credentials_block", "expected_bucket_owner", "sse", "kms_key_id"}


def _schema(flow) -> dict:
    from prefect.utilities.callables import parameter_schema

    return parameter_schema(flow).model_dump_for_openapi()


def _definition(schema: dict, prop: dict) -> dict:
    return schema["definitions"][prop["$ref"].rsplit("/", 1)[-1]]


def _label(schema: dict, prop: dict) -> str | None:
    """The label the UI shows: the property's title, else its definition's (the UI merges them)."""
    return prop.get("title") or (_definition(schema, prop).get("title") if "$ref" in prop else None)


def _walk(schema: dict):
    """(where, property) for every property: top level, then every field of every definition."""
    for name, prop in schema["properties"].items():
        yield name, prop
    for def_name, definition in schema["definitions"].items():
        for name, prop in definition.get("properties", {}).items():
            yield f"{def_name}.{name}", prop


def check_form(schema: dict, tuning: set[str], business_first: list[str]) -> None:
    props = schema["properties"]
    assert sorted(props, key=lambda n: props[n]["position"]) == [*business_first, "advanced"]
    # the advanced group is collapsed: a toggle of "Defaults" (null, listing them) and the model
    adv = props["advanced"]
    assert adv["title"] == "Advanced settings" and adv["default"] is None
    defaults, custom = adv["anyOf"]
    assert defaults["type"] == "null" and defaults["title"] == "Defaults"
    advanced_def = _definition(schema, custom)
    assert set(advanced_def["properties"]) == tuning
    for field in advanced_def["properties"].values():
        assert f"{field['title']}: " in defaults["description"]
    # tuning knobs appear nowhere else
    for name in business_first:
        fields = set(_definition(schema, props[name])["properties"])
        assert not fields & tuning, (name, fields & tuning)
    for where, prop in _walk(schema):
        assert _label(schema, prop), f"{where} has no title"
        assert prop.get("description", "").strip(), f"{where} has no description"
        assert not re.search(r"[<>]", prop["description"]), f"{where}: {prop['description']!r} renders as markup"
        if where != "advanced":  # optional text is a plain text input, not a "str | None" toggle
            assert "anyOf" not in prop and prop.get("type") != "null", where
    for definition in schema["definitions"].values():
        positions = sorted(p["position"] for p in definition["properties"].values())
        assert positions == list(range(len(positions)))


def test_import_form_puts_business_inputs_first_and_tuning_only_in_the_collapsed_advanced_group():
    from pinpoint_etl.flows.import_flow import import_endpoints

    schema = _schema(import_endpoints)
    check_form(schema, IMPORT_TUNING, ["source", "target", "options"])
    labels = {n: _label(schema, p) for n, p in schema["properties"].items()}
    assert labels == {"source": "What to import", "target": "Where to import", "options": "Import options",
                      "advanced": "Advanced settings"}
    source = _definition(schema, schema["properties"]["source"])["properties"]
    assert [n for n, _ in sorted(source.items(), key=lambda kv: kv[1]["position"])][:2] == ["sources", "mapping"]
    example = re.search(r"Example: (\{.*?\})", source["mapping"]["description"]).group(1)
    assert json.loads(example)["email"] == "Address" and source["mapping"]["examples"]
    assert "PINPOINT_ETL_DATA_DIR" in source["sources"]["description"]  # the base of relative paths
    target = _definition(schema, schema["properties"]["target"])["properties"]
    assert list(target) == ["application_id", "bucket", "role_arn", "segment_name", "segment_id"]
    assert target["bucket"] == {"type": "string", "default": "", "title": "Staging bucket", "position": 1,
                                "description": target["bucket"]["description"]}
    assert "PINPOINT_ETL_BUCKET" in target["bucket"]["description"]


def test_export_form_has_the_same_shape():
    from pinpoint_etl.flows.export_flow import export_endpoints

    schema = _schema(export_endpoints)
    check_form(schema, EXPORT_TUNING, ["target", "options"])
    options = _definition(schema, schema["properties"]["options"])["properties"]
    assert options["segment_version"]["type"] == "integer" and "default" not in options["segment_version"]
    assert "PINPOINT_ETL_DATA_DIR" in options["out"]["description"]  # where a relative output goes


@pytest.mark.parametrize("form", ["IMPORT_FORM", "EXPORT_FORM"])
def test_every_run_parameter_is_on_one_form_group_and_round_trips(form):
    from pinpoint_etl.flows import forms

    flow_form = getattr(forms, form)
    placed = [n for group in flow_form.groups.values() for n in group.model_fields]
    assert len(placed) == len(set(placed))
    for run in flow_form.runs:
        assert set(run.model_fields) <= set(placed) | flow_form.omitted, run
    if form == "IMPORT_FORM":
        from pinpoint_etl.flows.params import ImportOptions, SourceParams, TargetParams

        given = (SourceParams(sources=["a.csv"], runner="threads", default_region="GB"),
                 TargetParams(bucket="b", region="eu-west-1"),
                 ImportOptions(segment_name="s", poll_max_seconds=2, force=True))
        runs = flow_form.run_models(**flow_form.parameters(*given))
        assert runs == given
        assert runs[2].define_segment  # a segment name defines a segment


def test_prefect_yaml_deploys_installed_modules_to_the_process_pool_with_no_pull_step_or_variable():
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint

    text = PREFECT_YAML.read_text()
    assert "{{" not in text and "$" not in text  # no templated (undocumented) variable
    config = yaml.safe_load(text)
    assert config["pull"] == []  # a worker imports the installed package: nothing to pull
    for dep in config["deployments"]:
        assert ":" not in dep["entrypoint"] and dep["entrypoint"].startswith("pinpoint_etl.flows.")
        assert isinstance(load_flow_from_entrypoint(dep["entrypoint"]), Flow)
        assert dep["work_pool"]["name"] == "pinpoint-etl" and not dep["name"].startswith("served-")


def test_served_deployments_have_their_own_names_and_ship_inactive():
    deps = {d.name: d for d in runner_deployments()}
    assert set(deps) == {"served-scheduled-sync", "served-backfill", "served-export"}
    assert all(d.work_pool_name is None for d in deps.values())
    (export,) = deps["served-export"].schedules
    assert export.active is False and export.schedule.timezone == "Europe/London"
    (sched,) = deps["served-scheduled-sync"].schedules
    assert sched.active is False and sched.schedule.timezone == "Europe/London" and sched.schedule.cron == "0 2 * * *"


@pytest.mark.usefixtures("prefect_harness")
def test_serve_refuses_a_name_that_a_work_pool_owns():
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from pinpoint_etl.core.errors import ConfigError
    from pinpoint_etl.flows.deployments import refuse_pool_owned

    served = runner_deployments(names=["backfill"])
    refuse_pool_owned(served)  # nothing owns the name yet
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="refuse-test", type="process"), overwrite=True)
        flow_id = client.create_flow_from_name("import_endpoints")
        dep_id = client.create_deployment(flow_id=flow_id, name="served-backfill", work_pool_name="refuse-test",
                                          entrypoint="pinpoint_etl.flows.import_flow.import_endpoints")
        try:
            with pytest.raises(ConfigError, match="served-backfill belongs to work pool 'refuse-test'"):
                refuse_pool_owned(served)
        finally:
            client.delete_deployment(dep_id)


@pytest.mark.usefixtures("prefect_harness")
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
                         "role_arn": pinpoint_env.import_role_arn},
              "advanced": {"region": pinpoint_env.region, "poll_initial_seconds": 0.1, "poll_max_seconds": 0.5}}
    try:
        run = run_deployment("import_endpoints/served-backfill", parameters=params, timeout=240, poll_interval=1)
    finally:
        runner.stop()
    assert run.state.is_completed(), run.state
    ep = pinpoint_client.get_endpoint(ApplicationId=pinpoint_env.application_id, EndpointId="sms-1")
    assert ep["EndpointResponse"]["Address"] == "+12065550101"


def _ignore_sigint() -> None:  # what a shell does to a background job it starts
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_stops_on_ctrl_c_or_sigterm_even_as_a_background_job(stop, tmp_path):
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "pinpoint_etl.flows.cli", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_ignore_sigint)
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "being served" in line:
                break
        assert any("being served" in line for line in seen), "".join(seen)
        assert any(f"relative sources are read from {ROOT}" in line for line in seen)
        time.sleep(1)  # the runner is polling now
        proc.send_signal(stop)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, "".join(seen) + out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
