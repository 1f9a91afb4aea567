"""The export run, stage by stage, independent of how it is driven (Prefect flow or CLI).

configure (fail fast) → CreateExportJob (all endpoints, or one segment) into
``s3://BUCKET/PREFIX/RUN_ID/export/`` → poll → list every ``*.gz`` under that prefix → stream
and decompress the NDJSON line by line → flatten to the dotted names → validate leniently →
write CSV (the import-ready layout), NDJSON or Parquet to a local path or ``s3://`` → report.

Two passes keep memory flat whatever the export size, as staging does for imports:

1. every exported file is streamed; records are flattened in chunks of ``chunk_rows``,
   validated (anomalies counted, never dropped) and spilled to a local Arrow file per chunk;
   the set of columns is collected on the way (an export has no header);
2. once every column is known, the spilled chunks are written out in one layout.

Prefect and the console plug in through a :class:`~flows.runtime.Runtime`; a runtime that has a
``publish_export(report)`` method receives the export report (others get one log line).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
from pyarrow import feather
from pydantic import BaseModel, Field

from pinpoint_etl.core.errors import ConfigError, JobTimeoutError, PipelineError, TerminalError, TransientError
from pinpoint_etl.flows.params import TargetParams
from pinpoint_etl.flows.runtime import Runtime
from pinpoint_etl.pinpoint import s3io
from pinpoint_etl.pinpoint.errors import AWS_EXCEPTIONS, translate
from pinpoint_etl.pinpoint.jobs import JobSnapshot, PollPolicy, create_export_job, poll_job, retry_transient
from pinpoint_etl.schemas import catalogue as cat
from pinpoint_etl.schemas.exported import EXPORT_ONLY_FIELDS, anomalies
from pinpoint_etl.staging.writers import csv_header, csv_rows, ndjson_rows
from pinpoint_etl.transforms.values import format_number, parse_number

ExportFormat = Literal["csv", "ndjson", "parquet"]
EXTENSIONS: dict[str, str] = {"csv": ".csv", "ndjson": ".ndjson", "parquet": ".parquet"}
_BY_EXTENSION = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson",
                 ".parquet": "parquet", ".pq": "parquet"}
_COORDINATES = {"Location.Latitude": 90.0, "Location.Longitude": 180.0}
_MAX_EXAMPLES = 20


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
    chunk_rows: int = Field(50_000, ge=1, description="Records per chunk while reading (memory is bounded by this)")
    poll_initial_seconds: float = Field(1.0, gt=0, description="First delay between GetExportJob polls")
    poll_max_seconds: float = Field(30.0, gt=0, description="Longest delay between polls (exponential backoff)")
    timeout_seconds: float = Field(4 * 3600.0, gt=0, description="Give up polling the export job after this long")
    keep_raw: bool = Field(True, description="Keep Pinpoint's raw .gz export files in S3 after a successful run "
                                             "(they hold customer data: deleting them is up to you)")


@dataclass
class ExportPart:
    """What the runtime's ``job_update`` is told about: the job's S3 prefix."""

    uri: str
    rows: int = 0
    bytes: int = 0


@dataclass
class ExportReport:
    """The export run's books and the JSON report (``status``, rows, files, job, anomalies)."""

    run_id: str
    status: Literal["succeeded", "partial", "failed"]
    target: str
    application_id: str
    segment_id: str | None
    segment_version: int | None
    format: str
    export_prefix: str
    rows_read: int = 0
    rows_written: int = 0
    rows_with_anomalies: int = 0
    lines_unreadable: int = 0
    files: list[dict] = field(default_factory=list)
    exported: list[dict] = field(default_factory=list)
    job: dict | None = None
    jobs: list[dict] = field(default_factory=list)
    anomalies: dict[str, int] = field(default_factory=dict)
    anomaly_examples: list[dict] = field(default_factory=list)
    fields_dropped: dict[str, int] = field(default_factory=dict)
    endpoint_status: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    mode: str = "export"
    started: str = ""
    finished: str = ""

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "succeeded" else 1

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def summary_line(self) -> str:
        job = f"job {self.job['id']} {self.job['status']}" if self.job else "no job"
        return (f"run {self.run_id}: export {self.status}: {job}; read {self.rows_read}, wrote {self.rows_written} "
                f"to {', '.join(f['uri'] for f in self.files) or 'nothing'}; "
                f"{self.rows_with_anomalies} with anomalies")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_run_id() -> str:
    """``x-`` + UTC time + 8 random hex characters: every export is a new snapshot."""
    return f"x-{datetime.now(UTC):%Y%m%dt%H%M%S}-{secrets.token_hex(4)}"


# ---------------------------------------------------------------------------------- configuration

def export_role(opts: ExportOptions, target: TargetParams) -> str | None:
    """The export role: ``options.role_arn``, else ``target.role_arn``, else env PINPOINT_EXPORT_ROLE_ARN."""
    return opts.role_arn or target.role_arn or os.environ.get("PINPOINT_EXPORT_ROLE_ARN")


def configure_export_target(t: TargetParams, opts: ExportOptions, *, label: str | None = None):
    """Resolve and check the application, bucket and export role (before any job is created).

    The import run's :func:`~flows.import_run.configure_target` does the checking; only the role
    differs (the export role needs write access to the bucket).
    """
    from pinpoint_etl.flows.import_run import configure_target

    if opts.segment_version is not None and not opts.segment_id:
        raise ConfigError("segment_version needs a segment_id (--segment-id)")
    role = export_role(opts, t)
    if not role:
        raise ConfigError("missing export role ARN (--role-arn / PINPOINT_EXPORT_ROLE_ARN): the IAM role "
                          "Pinpoint assumes to write the export files to the bucket")
    return configure_target(t.model_copy(update={"role_arn": role}), label=label)


def output_uri(opts: ExportOptions, run_base: str, run_id: str) -> str:
    """Where the output goes: the given file, ``endpoints-RUN_ID.EXT`` in a given folder, or the run folder."""
    ext = EXTENSIONS[opts.format]
    if not opts.out:
        return f"{run_base}/endpoints{ext}"
    out = opts.out
    if s3io.is_s3(out):
        s3io.split_s3(out)
        return f"{out}endpoints-{run_id}{ext}" if out.endswith("/") else out
    if out.endswith(("/", os.sep)) or os.path.isdir(out):
        return os.path.join(os.path.abspath(out), f"endpoints-{run_id}{ext}")
    return os.path.abspath(out)


def format_for(out: str | None, fmt: str | None) -> ExportFormat:
    """The output format: as given, else by the output's extension, else csv."""
    if fmt:
        f = fmt.lower()
        if f not in EXTENSIONS:
            raise ConfigError(f"unknown export format {fmt!r}: use csv, ndjson or parquet")
        return f  # type: ignore[return-value]
    ext = os.path.splitext(out or "")[1].lower()
    return _BY_EXTENSION.get(ext, "csv")  # type: ignore[return-value]


# ---------------------------------------------------------------------------------- flattening

def _number_text(name: str, value: float) -> str:
    if name in _COORDINATES:
        one = f"{value:.1f}"
        if float(one) == value:
            return "0.0" if one == "-0.0" else one
    return format_number(value)


def _text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        number = float(value)
        return _number_text(name, number) if math.isfinite(number) else str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _put(out: dict[str, str], name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _put(out, f"{name}.{key}", item)
    elif isinstance(value, list):
        present = [v for v in value if v is not None]
        for i, item in enumerate(present):
            out[cat.slot_name(name, i)] = _text(name, item)
    else:
        out[name] = _text(name, value)


def flatten(record: dict) -> dict[str, str]:
    """One EndpointResponse → flat text columns with dotted names; arrays become slot columns.

    ``{"Attributes": {"Interests": ["a", "b"]}, "Metrics": {"n": 2.0}}`` →
    ``{"Attributes.Interests": "a", "Attributes.Interests#2": "b", "Metrics.n": "2"}``. Numbers use the
    import pipeline's canonical text (coordinates with one decimal), so an export re-imports unchanged.
    """
    out: dict[str, str] = {}
    for key, value in record.items():
        if key in ("Attributes", "Metrics") and isinstance(value, dict):
            for name, item in value.items():
                _put(out, f"{key}.{name}", item)
        elif key == "User" and isinstance(value, dict):
            for name, item in value.items():
                if name == "UserAttributes" and isinstance(item, dict):
                    for attr, vals in item.items():
                        _put(out, f"User.UserAttributes.{attr}", vals)
                else:
                    _put(out, f"User.{name}", item)
        else:
            _put(out, key, value)
    return out


def is_import_column(column: str) -> bool:
    """True for columns of the import-ready layout (documented fields and custom attributes)."""
    base = cat.base_name(column)
    if base in cat.SCALAR_FIELDS:
        return column == base
    return base.startswith(cat.CUSTOM_PREFIXES) and len(cat.attribute_key(base)) > 0 and (
        column == base or cat.is_multi_value(base))


def ordered_columns(columns: list[str]) -> list[str]:
    """Output order: documented fields, custom attributes by name (slots in order), export-only fields."""
    rank = {name: i for i, name in enumerate(cat.SCALAR_FIELDS)}
    tail = {name: len(rank) + 1 + i for i, name in enumerate(EXPORT_ONLY_FIELDS)}

    def key(c: str):
        base = cat.base_name(c)
        slot = 1 if c == base else int(c.rsplit("#", 1)[1])
        return (rank.get(base, tail.get(base, len(rank))), base, slot)

    return sorted(columns, key=key)


# ---------------------------------------------------------------------------------- reading

@dataclass
class _Collected:
    spills: list[Path] = field(default_factory=list)
    columns: dict[str, None] = field(default_factory=dict)
    non_numeric: set[str] = field(default_factory=set)
    field_counts: dict[str, int] = field(default_factory=dict)


def _records(uri: str, s3) -> Iterator[tuple[int, dict | None]]:
    """(line number, record or None when the line is not a JSON object) of one exported file, streamed."""
    try:
        with s3io.open_read(uri, s3=s3) as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    yield number, None
                    continue
                yield number, record if isinstance(record, dict) else None
    except AWS_EXCEPTIONS as exc:
        raise translate(exc, f"reading {uri}") from None
    except (OSError, EOFError) as exc:  # truncated or corrupt gzip
        raise TerminalError(f"reading {uri} failed: {type(exc).__name__}: {exc}") from None


def _frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows)
    return frame.astype({c: "str" for c in frame.columns if frame[c].dtype != "str"})


class _Reader:
    """Pass one: stream, flatten, validate, count and spill, chunk by chunk."""

    def __init__(self, report: ExportReport, opts: ExportOptions, tmp: Path, runtime: Runtime):
        self.report, self.opts, self.tmp, self.runtime = report, opts, tmp, runtime
        self.collected = _Collected()
        self._rows: list[dict[str, str]] = []
        self._where: list[tuple[str, int]] = []

    def read(self, uri: str, s3) -> None:
        for number, record in _records(uri, s3):
            if record is None:
                self.report.lines_unreadable += 1
                reason = "line is not a JSON endpoint object"
                self.report.anomalies[reason] = self.report.anomalies.get(reason, 0) + 1
                if len(self.report.anomaly_examples) < _MAX_EXAMPLES:
                    self.report.anomaly_examples.append({"source": uri, "line": number, "reasons": [reason]})
                continue
            self._rows.append(flatten(record))
            self._where.append((uri, number))
            if len(self._rows) >= self.opts.chunk_rows:
                self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        frame, where = _frame(self._rows), self._where
        self._rows, self._where = [], []
        rep, col = self.report, self.collected
        rep.rows_read += len(frame)
        reasons = anomalies(frame)
        rep.rows_with_anomalies += len(reasons)
        for idx, why in reasons.items():
            for r in why:
                rep.anomalies[r] = rep.anomalies.get(r, 0) + 1
            if len(rep.anomaly_examples) < _MAX_EXAMPLES:
                source, line = where[int(idx)]
                rep.anomaly_examples.append({"source": source, "line": line, "reasons": list(why)})
        if "EndpointStatus" in frame:
            for status, n in frame["EndpointStatus"].value_counts().items():
                rep.endpoint_status[str(status)] = rep.endpoint_status.get(str(status), 0) + int(n)
        for c in frame.columns:
            col.columns.setdefault(c, None)
            base = cat.base_name(c)
            if not is_import_column(c) and c == base:
                col.field_counts[c] = col.field_counts.get(c, 0) + int(frame[c].notna().sum())
            if (base.startswith(cat.METRIC_PREFIX) or base in _COORDINATES) and c not in col.non_numeric:
                values = frame[c].dropna().unique()
                if any(parse_number(str(v)) is None for v in values):
                    col.non_numeric.add(c)
        path = self.tmp / f"chunk-{len(col.spills):06d}.arrow"
        feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), path, compression="uncompressed")
        col.spills.append(path)
        self.runtime.progress("read", rep.rows_read)


# ---------------------------------------------------------------------------------- writing

def _parquet_schema(columns: list[str], non_numeric: set[str]) -> pa.Schema:
    fields = []
    for c in columns:
        base = cat.base_name(c)
        numeric = (base.startswith(cat.METRIC_PREFIX) or base in _COORDINATES) and c not in non_numeric
        fields.append(pa.field(c, pa.float64() if numeric else pa.string()))
    return pa.schema(fields)


def _parquet_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    arrays = []
    for f in schema:
        if f.name not in frame.columns:
            arrays.append(pa.nulls(len(frame), type=f.type))
        elif pa.types.is_floating(f.type):
            arrays.append(pa.array([None if v is None else parse_number(v) for v in
                                    frame[f.name].astype(object).where(frame[f.name].notna(), None)],
                                   type=pa.float64()))
        else:
            arrays.append(pa.array(frame[f.name].astype(object).where(frame[f.name].notna(), None),
                                   type=pa.string()))
    return pa.Table.from_arrays(arrays, schema=schema)


def _nest(record: dict, name: str, value: Any) -> None:
    prefix = next((p for p in cat.CUSTOM_PREFIXES if name.startswith(p)), None)
    parts = prefix.rstrip(".").split(".") + [name[len(prefix):]] if prefix else name.split(".")
    node = record
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _ndjson_lenient(frame: pd.DataFrame, columns: list[str]) -> bytes:
    """NDJSON like :func:`staging.writers.ndjson_rows`, but a number field holding text stays text."""
    present = [c for c in columns if c in frame.columns]
    lines = []
    for values in frame[present].astype(object).where(frame[present].notna(), None).to_dict("records"):
        rec: dict = {}
        for c in present:
            value, base = values[c], cat.base_name(c)
            if value is None:
                continue
            if cat.is_multi_value(base):
                container = rec
                parts = (["Attributes", cat.attribute_key(base)] if base.startswith("Attributes.")
                         else ["User", "UserAttributes", cat.attribute_key(base)])
                for part in parts[:-1]:
                    container = container.setdefault(part, {})
                container.setdefault(parts[-1], []).append(value)
            else:
                if base.startswith(cat.METRIC_PREFIX) or base in _COORDINATES:
                    number = parse_number(value)
                    value = value if number is None else number
                _nest(rec, base, value)
        lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


class _OutputWriter:
    """Writes the spilled chunks to one output file, all or nothing (s3io.open_write)."""

    def __init__(self, uri: str, fmt: ExportFormat, columns: list[str], non_numeric: set[str], s3, write_options):
        self.uri, self.fmt, self.columns, self.non_numeric = uri, fmt, columns, non_numeric
        self.rows = 0
        self.bytes = 0
        self._cm = s3io.open_write(uri, s3=s3 if s3io.is_s3(uri) else None, options=write_options)
        self._fh = self._cm.__enter__()
        self._parquet = None
        if fmt == "csv":
            self._emit(csv_header(columns))
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            self._schema = _parquet_schema(columns, non_numeric)
            self._counter = _CountingFile(self._fh)
            self._parquet = pq.ParquetWriter(self._counter, self._schema, compression="zstd")

    def _emit(self, data: bytes) -> None:
        self._fh.write(data)
        self.bytes += len(data)

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == "csv":
            self._emit(csv_rows(frame, self.columns))
        elif self.fmt == "ndjson":
            if self.non_numeric & set(frame.columns):
                self._emit(_ndjson_lenient(frame, self.columns))
            else:
                self._emit(ndjson_rows(frame, self.columns))
        else:
            self._parquet.write_table(_parquet_table(frame, self._schema))
        self.rows += len(frame)

    def close(self) -> dict:
        if self._parquet is not None:
            self._parquet.close()
            self.bytes = self._counter.written
        self._cm.__exit__(None, None, None)
        return {"uri": self.uri, "rows": self.rows, "bytes": self.bytes}

    def abort(self, exc: BaseException) -> None:
        self._cm.__exit__(type(exc), exc, exc.__traceback__)


class _CountingFile:
    """A write-only file wrapper counting bytes (pyarrow writes Parquet through it)."""

    def __init__(self, fh):
        self._fh, self.written, self.closed = fh, 0, False

    def write(self, data) -> int:
        self._fh.write(data)
        n = len(data) if not isinstance(data, memoryview) else data.nbytes
        self.written += n
        return n

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        pass

    def close(self) -> None:  # the underlying handle is closed by its context manager
        self.closed = True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False


# ---------------------------------------------------------------------------------- the run

def _create_export(target, opts: ExportOptions, prefix_uri: str, run_id: str) -> JobSnapshot:
    return retry_transient(lambda: create_export_job(
        target.clients.pinpoint, target.application_id, s3_url_prefix=prefix_uri, role_arn=target.role_arn,
        segment_id=opts.segment_id, segment_version=opts.segment_version, run_id=run_id), attempts=3)


def _job_error(run_id: str, snap: JobSnapshot) -> str:
    first = f": {snap.failures[0]}" if snap.failures else ""
    more = f" (+{len(snap.failures) - 1} more)" if len(snap.failures) > 1 else ""
    return (f"run {run_id}, job {snap.id}: export job ended {snap.pinpoint_status} "
            f"({snap.failed_pieces} of {snap.total_pieces} pieces failed){first}{more}")


def publish(runtime: Runtime, report: ExportReport) -> None:
    hook = getattr(runtime, "publish_export", None)
    if hook is not None:
        hook(report)
    else:
        runtime.log(report.summary_line())


def run_export(target_params: TargetParams, opts: ExportOptions, runtime: Runtime, *, target=None,
               run_id: str | None = None, spill_dir: str | None = None) -> ExportReport:
    """The whole export: configure, CreateExportJob, poll, read every ``*.gz``, write the output, report."""
    started = _now()
    target = target or configure_export_target(target_params, opts)
    s3 = target.clients.s3
    run_id = run_id or new_run_id()
    run_base = s3io.join(f"s3://{target.bucket}", target.prefix, run_id) if target.prefix \
        else f"s3://{target.bucket}/{run_id}"
    prefix_uri = f"{run_base}/export/"
    out_uri = output_uri(opts, run_base, run_id)
    what = (f"segment {opts.segment_id}" + (f" version {opts.segment_version}" if opts.segment_version else "")
            if opts.segment_id else "every endpoint")
    report = ExportReport(run_id=run_id, status="failed", target=target.label, application_id=target.application_id,
                          segment_id=opts.segment_id, segment_version=opts.segment_version, format=opts.format,
                          export_prefix=prefix_uri, started=started)
    runtime.log(f"run {run_id}: exporting {what} of application {target.application_id} via {target.label} "
                f"to {prefix_uri}")
    part = ExportPart(uri=prefix_uri)
    last: list[JobSnapshot] = []

    def seen(snap: JobSnapshot) -> None:
        last[:] = [snap]
        runtime.job_update(run_id, part, snap)

    final: JobSnapshot | None = None
    try:
        job = _create_export(target, opts, prefix_uri, run_id)
        seen(job)
        policy = PollPolicy(initial=opts.poll_initial_seconds, max_interval=opts.poll_max_seconds,
                            timeout=opts.timeout_seconds)
        final = poll_job(target.clients.pinpoint, target.application_id, job.id, "export", policy=policy,
                         on_update=seen, run_id=run_id)
    except JobTimeoutError as exc:
        if last:
            last[0].state = "timed_out"
        report.errors.append(str(exc))
    except TransientError as exc:  # the job may exist: say which
        report.errors.append(str(exc.with_run(run_id)))
    if last:
        report.job = last[0].as_report()
        report.jobs = [report.job]
    if final is not None and final.state == "failed":
        report.errors.append(_job_error(run_id, final))
    if final is None or final.state == "failed":
        return _finish(report, target, run_base, runtime)

    exported = s3io.list_objects(s3, prefix_uri, suffix=".gz",
                                 expected_owner=target.write_options.expected_owner)
    exported.sort(key=lambda o: o["key"])
    report.exported = [{"uri": o["uri"], "bytes": o["size"]} for o in exported]
    runtime.log(f"run {run_id}: job {final.id} {final.pinpoint_status}: {final.total_processed} endpoints in "
                f"{len(exported)} file(s); writing {opts.format} to {out_uri}")
    with tempfile.TemporaryDirectory(prefix=f"pinpoint-etl-{run_id}-", dir=spill_dir) as tmp:
        reader = _Reader(report, opts, Path(tmp), runtime)
        for obj in exported:
            reader.read(obj["uri"], s3)
        reader.flush()
        col = reader.collected
        keep = [c for c in col.columns if is_import_column(c)
                or (opts.export_fields and cat.base_name(c) in EXPORT_ONLY_FIELDS)]
        columns = ordered_columns(keep) or ["Id", "ChannelType", "Address"]  # an empty export keeps a header
        report.fields_dropped = {c: n for c, n in sorted(col.field_counts.items())
                                 if n and c not in columns}
        writer = _OutputWriter(out_uri, opts.format, columns, col.non_numeric, s3, target.write_options)
        try:
            for path in col.spills:
                writer.write(feather.read_table(path).to_pandas())
                runtime.progress("write", writer.rows)
        except BaseException as exc:
            writer.abort(exc)
            raise
        report.files = [writer.close()]
    report.rows_written = report.files[0]["rows"]
    if final.state == "completed_with_failures" or final.failed_pieces:
        report.errors.append(_job_error(run_id, final))
    if report.lines_unreadable:
        report.errors.append(f"run {run_id}: {report.lines_unreadable} exported line(s) were not JSON endpoint "
                             f"objects and could not be written")
    partial = final.state != "completed" or final.failed_pieces or report.lines_unreadable
    report.status = "partial" if partial else "succeeded"
    if report.status == "succeeded" and not opts.keep_raw and exported:
        s3io.delete_objects(s3, [o["uri"] for o in exported], expected_owner=target.write_options.expected_owner)
    return _finish(report, target, run_base, runtime)


def _finish(report: ExportReport, target, run_base: str, runtime: Runtime) -> ExportReport:
    report.finished = _now()
    try:
        s3io.write_bytes(f"{run_base}/report.json", report.to_json().encode(), s3=target.clients.s3,
                         options=target.write_options)
    except PipelineError as exc:  # the report still reaches the caller
        report.errors.append(f"run {report.run_id}: could not write {run_base}/report.json: {exc}")
    publish(runtime, report)
    return report
