"""Shared helpers for flow and CLI tests: small inputs and parameter sets for the local service."""

from __future__ import annotations

import csv
from pathlib import Path

from pinpoint_etl.flows.params import ImportOptions, SourceParams, TargetParams

HEADER = ["Id", "ChannelType", "Address", "Location.Country", "Demographic.Timezone", "User.UserId",
          "Attributes.Interests", "Attributes.Interests", "Metrics.sessions"]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def good_rows(n: int, start: int = 0) -> list[list[str]]:
    rows = []
    for i in range(start, start + n):
        if i % 2:
            rows.append([f"sms-{i}", "sms", f"(206) 555-{100 + i % 100:04d}", "usa", "america/los_angeles",
                         f"u{i}", "Music", "Books", str(i)])
        else:
            rows.append([f"email-{i}", "EMAIL", f" User{i}@EXAMPLE.com ", "Germany", "Europe/Berlin",
                         f"u{i}", "Travel", "", "1.50"])
    return rows


def target_for(service, **kw) -> TargetParams:
    return TargetParams(application_id=service.application_id, bucket=service.bucket,
                        role_arn=service.import_role_arn, region=service.region, **kw)


def fast_options(**kw) -> ImportOptions:
    base = dict(poll_initial_seconds=0.05, poll_max_seconds=0.2, timeout_seconds=60)
    base.update(kw)
    return ImportOptions(**base)


def sources(*paths) -> SourceParams:
    return SourceParams(sources=[str(p) for p in paths])


def flow_args(src: SourceParams, target: TargetParams, options: ImportOptions) -> dict:
    """``import_endpoints``' keyword arguments (its form groups) carrying these run models' values."""
    from pinpoint_etl.flows.forms import IMPORT_FORM

    return IMPORT_FORM.parameters(src, target, options)
