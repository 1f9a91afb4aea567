"""Record today's export outputs (flows/export_run.py at main 9653384) for the byte-for-byte comparison.

Run once, before the export was rebuilt as stages:

    .venv/bin/python tests/export/make_baseline.py

It starts the local service in-process, imports sample_data/ (CSV and NDJSON) through the import run,
seeds a few more endpoints through UpdateEndpointsBatch (formula-looking text, many slots, unicode,
coordinates with two decimals, large metrics), then runs the export for each case below and keeps,
under tests/export/baseline/CASE/, Pinpoint's raw ``.gz`` files and the output file. A crafted raw
file (off-model values a real export may still hold: metric text, an unreadable line, control
characters) goes through the same post-job code as run_export. The comparison test feeds the kept raw
files through the new stages and compares the outputs byte for byte.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "export" / "baseline"

EXTRA = [
    {"Id": "formula-1", "ChannelType": "EMAIL", "Address": "formula.one@example.com",
     "Attributes": {"Note": ["=HYPERLINK(\"http://x.example/?q=1\",\"click\")", "+cmd|' /C calc'!A0",
                             "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3", "-2", "+447700900123"]},
     "User": {"UserId": "uf1", "UserAttributes": {"Nick": ["=1+2"], "Phone": ["+44 7700 900123"]}}},
    {"Id": "many-slots", "ChannelType": "CUSTOM", "Address": "crm-contact-0001",
     "Attributes": {"Tags": [f"t{i}" for i in range(1, 13)]}, "Metrics": {"big": 1e20, "tiny": 1.5e-07,
                                                                        "neg": -3.0, "int": 7.0}},
    {"Id": "coords-1", "ChannelType": "SMS", "Address": "+12065550177",
     "Location": {"Latitude": 47.61, "Longitude": -0.0, "Country": "US"}},
    {"Id": "coords-2", "ChannelType": "SMS", "Address": "+12065550178",
     "Location": {"Latitude": 90.0, "Longitude": 180.0}, "Metrics": {"ltv": 1631.56}},
    {"Id": "quotes,comma", "ChannelType": "EMAIL", "Address": "q.c@example.com", "OptOut": "ALL",
     "Attributes": {"Company": ["ExampleCorp, \"Inc.\""], "Emoji": ["🎉 ünïcödé"]},
     "Demographic": {"Platform": "ios", "Locale": "de_DE", "Timezone": "Europe/Berlin"}},
]

CRAFTED = [
    '{"Id":"c1","ChannelType":"EMAIL","Address":"c1@example.com","Metrics":{"n":"n/a","m":2.5},'
    '"Location":{"Latitude":"north","Longitude":12.25},"EndpointStatus":"ACTIVE","CohortId":"7"}',
    'this line is not JSON',
    '["an", "array"]',
    '{"Id":"c2","ChannelType":"SMS","Address":"+12065550190","OptOut":null,"User":{},"Location":{},'
    '"Attributes":{"Tab":["a\\tb"],"Nl":["x\\ny"],"Q":["say \\"hi\\""]},"Metrics":{"n":3}}',
    '',
    '{"Id":"c3","ChannelType":"EMAIL","Address":"c3@example.com","Metrics":{"n":1e16,"k":-0.5},'
    '"Location":{"Latitude":1e-07,"Longitude":200.0},"Surprise":{"Deep":{"er":"x"}},"RequestId":"r3"}',
]

# (case, format, export_fields, records per raw file, chunk rows)
CASES = [
    ("csv", "csv", False, 97, 100),
    ("ndjson", "ndjson", False, 1000, 50_000),
    ("parquet", "parquet", False, 97, 100),
    ("csv-export-fields", "csv", True, 1000, 50_000),
]


def main() -> int:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    from pinpoint_etl.flows.export_run import ExportOptions, run_export
    from pinpoint_etl.flows.import_run import configure_target, run_import
    from pinpoint_etl.flows.params import ImportOptions, SourceParams, TargetParams
    from pinpoint_etl.flows.runtime import Runtime
    from pinpoint_etl.local.server import start_local_service

    service = start_local_service(port=0)
    os.environ.update(service.env())
    try:
        tp = TargetParams(application_id=service.application_id, bucket=service.bucket, region=service.region,
                          role_arn=service.import_role_arn)
        src = SourceParams(sources=[str(ROOT / "sample_data" / "endpoints.csv"),
                                    str(ROOT / "sample_data" / "endpoints.ndjson")])
        fast = dict(poll_initial_seconds=0.05, poll_max_seconds=0.2, timeout_seconds=120)
        rep = run_import(src, tp, ImportOptions(**fast), Runtime(), target=configure_target(tp))
        print("import:", rep.status, rep.rows_imported, "imported", rep.rows_rejected, "rejected")
        s3 = service._client("s3")
        service._client("pinpoint").update_endpoints_batch(ApplicationId=service.application_id,
                                                          EndpointBatchRequest={"Item": EXTRA})
        if OUT.exists():
            shutil.rmtree(OUT)
        for case, fmt, export_fields, per_file, chunk in CASES:
            service.set_faults("ExportJob", records_per_file=per_file)
            target = TargetParams(application_id=service.application_id, bucket=service.bucket,
                                  region=service.region)
            folder = OUT / case
            (folder / "raw").mkdir(parents=True)
            out = folder / f"endpoints.{fmt}"
            rep = run_export(target, ExportOptions(role_arn=service.export_role_arn, out=str(out), format=fmt,
                                                   export_fields=export_fields, chunk_rows=chunk, keep_raw=True,
                                                   **fast), Runtime())
            assert rep.status == "succeeded", rep.errors
            for obj in rep.exported:
                bucket, _, key = obj["uri"][5:].partition("/")
                (folder / "raw" / key.rsplit("/", 1)[1]).write_bytes(
                    s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            (folder / "books.json").write_text(json.dumps(_books(rep), indent=2, ensure_ascii=False) + "\n")
            print(case, rep.rows_read, "read", rep.rows_written, "written", len(rep.exported), "raw files")
        service.clear_faults()
        _crafted(service, s3)
    finally:
        service.stop()
    return 0


def _books(rep) -> dict:
    return {k: getattr(rep, k) for k in ("rows_read", "rows_written", "rows_with_anomalies", "lines_unreadable",
                                         "anomalies", "fields_dropped", "endpoint_status", "format")}


def _crafted(service, s3) -> None:
    """The crafted raw file through run_export's post-job code (the job itself cannot produce it)."""
    from pyarrow import feather

    from pinpoint_etl.flows import export_run as er
    from pinpoint_etl.flows.runtime import Runtime
    from pinpoint_etl.pinpoint.s3io import WriteOptions
    from pinpoint_etl.schemas import catalogue as cat
    from pinpoint_etl.schemas.exported import EXPORT_ONLY_FIELDS

    raw = gzip.compress(("\n".join(CRAFTED) + "\n").encode("utf-8"), mtime=0)
    key = "crafted/part-00000.gz"
    s3.put_object(Bucket=service.bucket, Key=key, Body=raw)
    for fmt in ("csv", "ndjson", "parquet"):
        for export_fields in (False, True):
            case = f"crafted-{fmt}" + ("-export-fields" if export_fields else "")
            folder = OUT / case
            (folder / "raw").mkdir(parents=True)
            (folder / "raw" / "part-00000.gz").write_bytes(raw)
            out = folder / f"endpoints.{fmt}"
            opts = er.ExportOptions(out=str(out), format=fmt, export_fields=export_fields, chunk_rows=2)
            report = er.ExportReport(run_id="x-crafted", status="failed", target="t", application_id="a",
                                     segment_id=None, segment_version=None, format=fmt, export_prefix="p")
            with tempfile.TemporaryDirectory() as tmp:
                reader = er._Reader(report, opts, Path(tmp), Runtime())
                reader.read(f"s3://{service.bucket}/{key}", s3)
                reader.flush()
                col = reader.collected
                keep = [c for c in col.columns if er.is_import_column(c)
                        or (opts.export_fields and cat.base_name(c) in EXPORT_ONLY_FIELDS)]
                columns = er.ordered_columns(keep) or ["Id", "ChannelType", "Address"]
                report.fields_dropped = {c: n for c, n in sorted(col.field_counts.items()) if n and c not in columns}
                writer = er._OutputWriter(str(out), fmt, columns, col.non_numeric, s3, WriteOptions())
                for path in col.spills:
                    writer.write(feather.read_table(path).to_pandas())
                report.files = [writer.close()]
            report.rows_written = report.files[0]["rows"]
            (folder / "books.json").write_text(json.dumps(_books(report), indent=2, ensure_ascii=False) + "\n")
            print(case, report.rows_read, "read", report.rows_written, "written")


if __name__ == "__main__":
    sys.exit(main())
