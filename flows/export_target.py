"""The export's target: the import's checked target (application, bucket, clients) with the export role."""

from __future__ import annotations

import os

from pinpoint_etl.core.errors import ConfigError
from pinpoint_etl.export.options import ExportOptions
from pinpoint_etl.flows.import_run import Target, configure_target
from pinpoint_etl.flows.params import TargetParams


def export_role(opts: ExportOptions, target: TargetParams) -> str | None:
    """The export role: ``options.role_arn``, else ``target.role_arn``, else env PINPOINT_EXPORT_ROLE_ARN."""
    return opts.role_arn or target.role_arn or os.environ.get("PINPOINT_EXPORT_ROLE_ARN")


def configure_export_target(t: TargetParams, opts: ExportOptions, *, label: str | None = None) -> Target:
    """Resolve and check the application, bucket and export role, before any job is created (the export
    role needs write access to the bucket; everything else is checked as for an import)."""
    if opts.segment_version is not None and not opts.segment_id:
        raise ConfigError("segment_version needs a segment_id (--segment-id)")
    role = export_role(opts, t)
    if not role:
        raise ConfigError("missing export role ARN (--role-arn / PINPOINT_EXPORT_ROLE_ARN): the IAM role "
                          "Pinpoint assumes to write the export files to the bucket")
    return configure_target(t.model_copy(update={"role_arn": role}), label=label)
