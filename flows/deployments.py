"""Serve the deployments defined in prefect.yaml from this process (``pinpoint-etl serve``)."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

PREFECT_YAML = Path(__file__).resolve().parent.parent / "prefect.yaml"


def load_flow(entrypoint: str):
    """``flows/import_flow.py:import_endpoints`` → the flow object."""
    path, _, name = entrypoint.partition(":")
    module = importlib.import_module("pinpoint_etl." + path.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def runner_deployments(config_path: Path = PREFECT_YAML, names: list[str] | None = None):
    """RunnerDeployments built from prefect.yaml (schedules with time zones and their active flags kept)."""
    from prefect.schedules import Cron

    config = yaml.safe_load(config_path.read_text())
    out = []
    for d in config.get("deployments", []):
        if names and d["name"] not in names:
            continue
        schedules = [Cron(s["cron"], timezone=s.get("timezone"), active=s.get("active", True))
                     for s in d.get("schedules") or [] if "cron" in s]
        out.append(load_flow(d["entrypoint"]).to_deployment(
            name=d["name"], description=d.get("description"), tags=d.get("tags"),
            parameters=d.get("parameters") or {}, schedules=schedules or None))
    return out


def serve_all(limit: int = 4, names: list[str] | None = None) -> None:
    """Serve every deployment in prefect.yaml until interrupted."""
    from prefect import serve

    serve(*runner_deployments(names=names), limit=limit)
