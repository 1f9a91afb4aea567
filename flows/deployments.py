"""``pinpoint-etl serve``: the deployments of prefect.yaml, served from this process on a laptop.

Production runs ``prefect deploy`` of prefect.yaml to a process work pool and a worker (README:
Prefect). Served deployments are named ``served-NAME`` so they can never be the work pool's
deployments: a served process would otherwise take runs meant for the worker, pause the pool's
deployments when it stops, and leave them without their pull steps. A served name that a work
pool already owns is refused. Relative sources of served runs are read from the project folder
(the one holding prefect.yaml) unless ``PINPOINT_ETL_DATA_DIR`` says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from pinpoint_etl.core.errors import ConfigError
from pinpoint_etl.flows.preflight import DATA_DIR

PROJECT_DIR = Path(__file__).resolve().parent.parent
PREFECT_YAML = PROJECT_DIR / "prefect.yaml"
SERVED_PREFIX = "served-"


def load_flow(entrypoint: str):
    """``pinpoint_etl.flows.import_flow.import_endpoints`` → the flow object."""
    from prefect.utilities.importtools import import_object

    return import_object(entrypoint)


def served_name(name: str) -> str:
    return SERVED_PREFIX + name


def runner_deployments(config_path: Path = PREFECT_YAML, names: list[str] | None = None):
    """RunnerDeployments built from prefect.yaml, under their served names (schedules with time zones and
    their active flags kept; no work pool)."""
    from prefect.schedules import Cron

    if not config_path.is_file():
        raise ConfigError(f"{config_path} not found: pinpoint-etl serve runs from a checkout of the project")
    config = yaml.safe_load(config_path.read_text())
    out = []
    for d in config.get("deployments", []):
        if names and d["name"] not in names:
            continue
        schedules = [Cron(s["cron"], timezone=s.get("timezone"), active=s.get("active", True))
                     for s in d.get("schedules") or [] if "cron" in s]
        out.append(load_flow(d["entrypoint"]).to_deployment(
            name=served_name(d["name"]), description=d.get("description"), tags=[*(d.get("tags") or []), "served"],
            parameters=d.get("parameters") or {}, schedules=schedules or None))
    return out


def refuse_pool_owned(deployments) -> None:
    """ConfigError if a work pool owns a deployment of one of these names (serving would take it over)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        for dep in deployments:
            try:
                existing = client.read_deployment_by_name(f"{dep.flow_name}/{dep.name}")
            except ObjectNotFound:
                continue
            if existing.work_pool_name:
                raise ConfigError(f"deployment {dep.flow_name}/{dep.name} belongs to work pool "
                                  f"{existing.work_pool_name!r}: pinpoint-etl serve will not take it over "
                                  f"(delete it with `prefect deployment delete {dep.flow_name}/{dep.name}` "
                                  "if it should be served)")


def serve_all(limit: int = 4, names: list[str] | None = None) -> None:
    """Serve every deployment in prefect.yaml (as ``served-NAME``) until Ctrl-C or SIGTERM."""
    from prefect import serve

    os.environ.setdefault(DATA_DIR, str(PROJECT_DIR))  # flow runs are child processes: they inherit it
    deployments = runner_deployments(names=names)
    refuse_pool_owned(deployments)
    print(f"# relative sources are read from {os.environ[DATA_DIR]} ({DATA_DIR})", flush=True)
    serve(*deployments, limit=limit)
