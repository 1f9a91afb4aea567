"""What a flow run checks first on the machine that runs it (pure: environment and paths only)."""

from __future__ import annotations

import pytest

from pinpoint_etl.core.errors import ConfigError
from pinpoint_etl.flows.params import TargetParams
from pinpoint_etl.flows.preflight import check_export, resolve


def test_relative_paths_resolve_against_the_data_dir_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PINPOINT_ETL_DATA_DIR", str(tmp_path))
    assert resolve("in/a.csv", "source") == str(tmp_path / "in/a.csv")
    assert resolve("s3://b/k.csv", "source") == "s3://b/k.csv" and resolve("/abs.csv", "source") == "/abs.csv"
    monkeypatch.setenv("PINPOINT_ETL_DATA_DIR", str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="nope is not a folder"):
        resolve("a.csv", "source")


def test_export_preflight_names_the_export_role_and_resolves_the_output(tmp_path, monkeypatch):
    env = {"PINPOINT_APPLICATION_ID": "app", "PINPOINT_ETL_BUCKET": "b", "AWS_REGION": "eu-west-1",
           "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "PINPOINT_ETL_DATA_DIR": str(tmp_path)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PINPOINT_EXPORT_ROLE_ARN", raising=False)
    with pytest.raises(ConfigError) as info:
        check_export(TargetParams(), None, "out.csv")
    assert str(info.value).startswith("missing PINPOINT_EXPORT_ROLE_ARN (or the form's Export role ARN):")
    assert check_export(TargetParams(), "arn:aws:iam::111122223333:role/x", "out/") == str(tmp_path / "out") + "/"
