"""What to export, where to write it and how the export job is watched (a flow parameter model)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, Field

from pinpoint_etl.core.errors import ConfigError
from pinpoint_etl.storage import uris

ExportFormat = Literal["csv", "ndjson", "parquet"]
EXTENSIONS: dict[str, str] = {"csv": ".csv", "ndjson": ".ndjson", "parquet": ".parquet"}
_BY_EXTENSION = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson",
                 ".parquet": "parquet", ".pq": "parquet"}


class ExportOptions(BaseModel):
    """What to export, where to write it and how the export job is watched."""

    segment_id: str | None = Field(None, description="Export only the endpoints of this segment "
                                                     "(default: every endpoint of the application)")
    segment_version: int | None = Field(None, ge=1, description="Version of the segment to export "
                                                                "(default: the latest); needs segment_id")
    role_arn: str | None = Field(None, description="IAM role Pinpoint assumes to write the export files "
                                                   "to the bucket; env PINPOINT_EXPORT_ROLE_ARN")
    out: str | None = Field(None, description="Local path or s3:// URI of the output file; a folder "
                                              "(ending in /) gets endpoints-RUN_ID.EXT; default: "
                                              "s3://BUCKET/PREFIX/RUN_ID/endpoints.EXT")
    format: ExportFormat = Field("csv", description="csv (import-ready, can be imported again unchanged), "
                                                    "ndjson (Pinpoint's JSON import format) or parquet")
    export_fields: bool = Field(False, description="Also write the export-only fields ApplicationId, CohortId, "
                                                   "CreationDate, EffectiveDate and EndpointStatus (the output "
                                                   "can then not be imported as it is)")
    csv_safe: bool = Field(True, description="CSV only: write a value a spreadsheet would run as a formula "
                                             "(=, +, -, @, TAB or CR first, and not a plain number) with a "
                                             "leading single quote; off keeps every value exactly as Pinpoint "
                                             "holds it")
    chunk_rows: int = Field(50_000, ge=1, description="Records per chunk while reading (memory is bounded by this)")
    poll_initial_seconds: float = Field(1.0, gt=0, description="First delay between GetExportJob polls")
    poll_max_seconds: float = Field(30.0, gt=0, description="Longest delay between polls (exponential backoff)")
    timeout_seconds: float = Field(4 * 3600.0, gt=0, description="Give up polling the export job after this long")
    keep_raw: bool = Field(False, description="Keep Pinpoint's raw .gz export files in S3 (customer data; by "
                                              "default they are deleted once the output is written)")


def format_for(out: str | None, fmt: str | None) -> ExportFormat:
    """The output format: as given, else by the output's extension, else csv."""
    if fmt:
        f = fmt.lower()
        if f not in EXTENSIONS:
            raise ConfigError(f"unknown export format {fmt!r}: use csv, ndjson or parquet")
        return f  # type: ignore[return-value]
    ext = os.path.splitext(out or "")[1].lower()
    return _BY_EXTENSION.get(ext, "csv")  # type: ignore[return-value]


def output_uri(opts: ExportOptions, run_base: str, run_id: str) -> str:
    """Where the output goes: the given file, ``endpoints-RUN_ID.EXT`` in a given folder, or the run folder."""
    ext = EXTENSIONS[opts.format]
    if not opts.out:
        return f"{run_base}/endpoints{ext}"
    out = opts.out
    if uris.is_s3(out):
        uris.split_s3(out)
        return f"{out}endpoints-{run_id}{ext}" if out.endswith("/") else out
    if out.endswith(("/", os.sep)) or os.path.isdir(out):
        return os.path.join(os.path.abspath(out), f"endpoints-{run_id}{ext}")
    return os.path.abspath(out)
