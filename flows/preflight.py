"""What a flow run needs from the machine that runs it (a worker, or ``pinpoint-etl serve``), checked first.

Everything missing is named in one line (an environment variable, or the form field that can
stand in for it), before anything is read or uploaded. Relative local paths are read from the
folder in ``PINPOINT_ETL_DATA_DIR``: a worker runs each flow in a temporary folder, so a path
relative to the flow's working directory would mean nothing.
"""

from __future__ import annotations

import os

from pinpoint_etl.core.errors import ConfigError
from pinpoint_etl.flows.params import SourceParams, TargetParams

DATA_DIR = "PINPOINT_ETL_DATA_DIR"
_REMOTE = ("s3://", "http://", "https://")
_WHERE = "the environment of the worker (or of pinpoint-etl serve)"


def is_relative(path: str) -> bool:
    return not path.startswith(_REMOTE) and not os.path.isabs(os.path.expanduser(path))


def resolve(path: str, what: str) -> str:
    """An absolute path or URI for ``path``: relative local paths are joined to ``PINPOINT_ETL_DATA_DIR``."""
    if not is_relative(path):
        return os.path.expanduser(path) if not path.startswith(_REMOTE) else path
    base = os.environ.get(DATA_DIR, "").strip()
    if not base:
        raise ConfigError(f"{what} {path!r} is a relative path, and {DATA_DIR} is not set in {_WHERE}: set it to "
                          "the folder relative paths are read from, or give an absolute path or an s3:// URI")
    if not os.path.isdir(base):
        raise ConfigError(f"{DATA_DIR}={base} is not a folder on the machine that runs the flow")
    return os.path.join(base, path)


def _field(model, name: str) -> str:
    return f"the form's {model.model_fields[name].title}"


def _aws_missing(target: TargetParams) -> list[str]:
    """AWS region and credentials, unless a prefect-aws credentials block is named (checked when loaded)."""
    if target.credentials_block:
        return []
    import boto3

    session = boto3.session.Session(region_name=target.region or os.environ.get("AWS_REGION")
                                    or os.environ.get("AWS_DEFAULT_REGION") or None)
    missing = []
    if not session.region_name:
        missing.append(f"AWS_REGION (or {_field(TargetParams, 'region')})")
    if session.get_credentials() is None:
        missing.append("AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an "
                       f"instance or task role; or {_field(TargetParams, 'credentials_block')})")
    return missing


def _fail_if(missing: list[str]) -> None:
    if missing:
        raise ConfigError(f"missing {'; '.join(missing)}: set them in {_WHERE} (README: Prefect) "
                          "or fill in the form")


def check_import(src: SourceParams, target: TargetParams) -> SourceParams:
    """The import's source with its relative paths resolved; ConfigError naming everything missing."""
    missing = [f"{var} (or {_field(TargetParams, name)})"
               for name, var in (("application_id", "PINPOINT_APPLICATION_ID"), ("bucket", "PINPOINT_ETL_BUCKET"),
                                 ("role_arn", "PINPOINT_IMPORT_ROLE_ARN"))
               if not getattr(target, name) and not os.environ.get(var)]
    missing += _aws_missing(target)
    _fail_if(missing)
    return src.model_copy(update={
        "sources": [resolve(s, "source") for s in src.sources],
        "mapping_file": resolve(src.mapping_file, "mapping file") if src.mapping_file else None})


def check_export(target: TargetParams, role_arn: str | None, out: str | None) -> str | None:
    """The export's output with a relative path resolved; ConfigError naming everything missing."""
    missing = [f"{var} (or {label})"
               for value, var, label in ((target.application_id, "PINPOINT_APPLICATION_ID",
                                          _field(TargetParams, "application_id")),
                                         (target.bucket, "PINPOINT_ETL_BUCKET", _field(TargetParams, "bucket")),
                                         (role_arn, "PINPOINT_EXPORT_ROLE_ARN", "the form's Export role ARN"))
               if not value and not os.environ.get(var)]
    missing += _aws_missing(target)
    _fail_if(missing)
    return resolve(out, "output") if out else out
