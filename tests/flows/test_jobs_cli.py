"""``pinpoint-etl export`` and ``pinpoint-etl jobs`` as a user runs them: a subprocess over HTTP."""

from __future__ import annotations

import json

from pinpoint_etl.pinpoint.jobs import create_export_job
from tests.flows.test_cli import run_cli, service_env
from tests.flows.export_helpers import ENDPOINTS, check_csv, check_ndjson, check_parquet, seed


def export_env(service) -> dict:
    return {**service_env(service), "PINPOINT_EXPORT_ROLE_ARN": service.export_role_arn}


def test_help_for_export_and_jobs():
    for args in (["export"], ["jobs"]):
        out = run_cli(*args, "--help")
        assert out.returncode == 0, out.stderr
        assert "Usage" in out.stdout


def test_export_from_the_cli_and_jobs_list_shows_the_jobs(tmp_path, pinpoint_env, pinpoint_client, s3_client):
    seed(pinpoint_client, pinpoint_env.application_id)
    env = export_env(pinpoint_env)
    create_export_job(pinpoint_client, pinpoint_env.application_id, s3_url_prefix=f"s3://{pinpoint_env.bucket}/old/",
                      role_arn=pinpoint_env.export_role_arn)
    csv_out = run_cli("export", "--out", str(tmp_path / "e.csv"), "--report", str(tmp_path / "r.json"),
                      "--poll-initial", "0.05", "--poll-max", "0.2", "-q", env=env)
    assert csv_out.returncode == 0, csv_out.stderr
    check_csv((tmp_path / "e.csv").read_bytes())
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "succeeded" and report["rows_written"] == len(ENDPOINTS)
    assert report["files"][0]["uri"] == str(tmp_path / "e.csv") and report["job"]["status"] == "completed"
    listed = run_cli("jobs", "list", "--type", "export", "--json", "--page-size", "1", env=env)
    assert listed.returncode == 0, listed.stderr
    jobs = json.loads(listed.stdout)
    assert len(jobs) == 2 and len({j["id"] for j in jobs}) == 2  # two pages of one job each, newest first
    assert jobs[0]["id"] == report["job"]["id"] and jobs[0]["total_processed"] == 5
    assert all(j["type"] == "export" and j["status"] == "completed" for j in jobs)

    table = run_cli("jobs", "list", "--limit", "1", env={**env, "COLUMNS": "250"})
    assert table.returncode == 0, table.stderr
    assert jobs[0]["id"] in table.stdout and jobs[1]["id"] not in table.stdout
    assert "COMPLETED (completed)" in table.stdout and "1/1" in table.stdout


def test_export_command_writes_ndjson_to_a_folder_and_parquet_to_s3(tmp_path, pinpoint_env, pinpoint_client,
                                                                     s3_client):
    """The same ``export`` command in-process (typer's runner; spares a Python start-up per format)."""
    import typer
    from typer.testing import CliRunner

    from pinpoint_etl.flows import cli
    from pinpoint_etl.flows.cli_export import register

    app = typer.Typer()
    register(app, guard=cli._guard, write_report=cli._write_report, err=cli.err)
    seed(pinpoint_client, pinpoint_env.application_id)
    env, runner = export_env(pinpoint_env), CliRunner()
    fast = ["--poll-initial", "0.05", "--poll-max", "0.2", "-q"]
    nd = runner.invoke(app, ["export", "--out", f"{tmp_path}/folder/", "--format", "ndjson", *fast], env=env)
    assert nd.exit_code == 0, nd.output
    (nd_file,) = (tmp_path / "folder").iterdir()
    assert nd_file.suffix == ".ndjson"
    check_ndjson(nd_file.read_bytes())
    uri = f"s3://{pinpoint_env.bucket}/cli/e.parquet"  # format from the extension
    pq_run = runner.invoke(app, ["export", "--out", uri, "--report", str(tmp_path / "r.json"), *fast], env=env)
    assert pq_run.exit_code == 0, pq_run.output
    check_parquet(s3_client.get_object(Bucket=pinpoint_env.bucket, Key="cli/e.parquet")["Body"].read())
    assert json.loads((tmp_path / "r.json").read_text())["format"] == "parquet"


def test_jobs_list_pages_and_jobs_show(tmp_path, pinpoint_env, pinpoint_client):
    app = pinpoint_env.application_id
    ids = [create_export_job(pinpoint_client, app, s3_url_prefix=f"s3://{pinpoint_env.bucket}/h/{i}/",
                             role_arn=pinpoint_env.export_role_arn).id for i in range(5)]
    env = export_env(pinpoint_env)
    out = run_cli("jobs", "list", "--json", "--page-size", "2", "--limit", "100", env=env)
    assert out.returncode == 0, out.stderr
    assert [j["id"] for j in json.loads(out.stdout)] == ids[::-1]
    shown = run_cli("jobs", "show", ids[0], "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    job = json.loads(shown.stdout)
    assert job["id"] == ids[0] and job["type"] == "export"
    assert job["definition"]["S3UrlPrefix"] == f"s3://{pinpoint_env.bucket}/h/0/"
    missing = run_cli("jobs", "show", "deadbeef" * 4, env=env)
    assert missing.returncode == 2 and "deadbeef" * 4 in missing.stderr and "Traceback" not in missing.stderr


def test_failed_export_job_exits_1_naming_the_job(tmp_path, pinpoint_env, pinpoint_client):
    seed(pinpoint_client, pinpoint_env.application_id)
    pinpoint_env.set_faults("ExportJob", fail_pieces=1)
    out = run_cli("export", "--out", str(tmp_path / "e.csv"), "--report", str(tmp_path / "r.json"), "-q",
                  "--poll-initial", "0.05", "--poll-max", "0.2", env=export_env(pinpoint_env))
    assert out.returncode == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "failed" and report["job"]["status"] == "failed"
    assert f"job {report['job']['id']}" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "e.csv").exists()


def test_export_configuration_errors_exit_2(tmp_path, pinpoint_env):
    env = service_env(pinpoint_env)  # no export role
    out = run_cli("export", "--out", str(tmp_path / "e.csv"), env=env)
    assert out.returncode == 2 and "PINPOINT_EXPORT_ROLE_ARN" in out.stderr
    out = run_cli("export", "--out", str(tmp_path / "e.csv"), env={"AWS_CONFIG_FILE": "/dev/null",
                                                                   "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    assert out.returncode == 2 and "No AWS target configured" in out.stderr


def test_export_csv_is_spreadsheet_safe_by_default_and_keeps_raw_files_only_when_asked(tmp_path, pinpoint_env,
                                                                                      pinpoint_client, s3_client):
    """Issue #15: --csv-safe is on for CSV (--no-csv-safe turns it off); --keep-raw keeps Pinpoint's .gz files."""
    import csv
    import io

    import typer
    from typer.testing import CliRunner

    from pinpoint_etl.flows import cli
    from pinpoint_etl.flows.cli_export import register

    app = typer.Typer()
    register(app, guard=cli._guard, write_report=cli._write_report, err=cli.err)
    pinpoint_client.update_endpoints_batch(ApplicationId=pinpoint_env.application_id, EndpointBatchRequest={"Item": [
        {"Id": "f1", "ChannelType": "SMS", "Address": "+447700900123", "Metrics": {"delta": -2.0},
         "Attributes": {"Note": ['=HYPERLINK("http://x.example","x")', "-2+3", "-2", "@SUM(1)"]}}]})
    env, runner = export_env(pinpoint_env), CliRunner()
    fast = ["--poll-initial", "0.05", "--poll-max", "0.2", "-q"]

    def run(name, *flags):
        result = runner.invoke(app, ["export", "--out", str(tmp_path / f"{name}.csv"), "--report",
                                     str(tmp_path / f"{name}.json"), *fast, *flags], env=env)
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO((tmp_path / f"{name}.csv").read_text(encoding="utf-8"))))
        header, (row,) = rows[0], rows[1:]
        cells = {h: row[i] for i, h in enumerate(header) if h != "Attributes.Note"}
        notes = [v for h, v in zip(header, row) if h == "Attributes.Note"]
        return json.loads((tmp_path / f"{name}.json").read_text()), cells, notes

    report, cells, notes = run("safe", "--keep-raw")
    assert notes == ["'=HYPERLINK(\"http://x.example\",\"x\")", "'-2+3", "-2", "'@SUM(1)"]
    assert (cells["Address"], cells["Metrics.delta"]) == ("+447700900123", "-2")  # numbers are no formulas
    assert report["formulas_neutralised"] == {"Attributes.Note": 3} and report["raw_kept"] is True
    assert all(s3_client.head_object(Bucket=pinpoint_env.bucket, Key=f["uri"].split("/", 3)[3])
               for f in report["exported"])
    report, cells, notes = run("plain", "--no-csv-safe")
    assert notes == ['=HYPERLINK("http://x.example","x")', "-2+3", "-2", "@SUM(1)"]
    assert report["formulas_neutralised"] == {} and report["raw_kept"] is False
    assert not [o for o in s3_client.list_objects_v2(Bucket=pinpoint_env.bucket, Prefix=f"pinpoint-etl/"
                                                     f"{report['run_id']}/").get("Contents", [])
                if o["Key"].endswith(".gz")]
