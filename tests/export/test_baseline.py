"""The export stages write, byte for byte, what the single-module export wrote (flows/export_run.py at main
9653384) from the same raw files: tests/export/baseline/ holds Pinpoint's raw ``.gz`` files of four export
jobs of sample_data + edge endpoints and a crafted off-model file, with the outputs and books of that code
(recorded by tests/export/make_baseline.py, in git history at commit f646f33). With ``csv_safe`` on, only
formula-looking cells differ, each by a leading quote."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from pinpoint_etl.export.csv_safe import is_formula
from pinpoint_etl.export.options import ExportOptions
from pinpoint_etl.export.report import ExportReport
from pinpoint_etl.export.run import export_files
from pinpoint_etl.flows.runtime import Runtime

BASELINE = Path(__file__).parent / "baseline"
# case → (format, export_fields, chunk rows), as make_baseline.py ran them
CASES = {"csv": ("csv", False, 100), "ndjson": ("ndjson", False, 50_000), "parquet": ("parquet", False, 100),
         "csv-export-fields": ("csv", True, 50_000),
         **{f"crafted-{fmt}{suffix}": (fmt, bool(suffix), 2) for fmt in ("csv", "ndjson", "parquet")
            for suffix in ("", "-export-fields")}}
BOOKS = ("rows_read", "rows_written", "rows_with_anomalies", "lines_unreadable", "anomalies", "fields_dropped",
         "endpoint_status", "format")


def _export(case: str, out: Path, **kw) -> ExportReport:
    fmt, export_fields, chunk_rows = CASES[case]
    raw = sorted(str(p) for p in (BASELINE / case / "raw").glob("*.gz"))
    opts = ExportOptions(format=fmt, export_fields=export_fields, chunk_rows=chunk_rows, **kw)
    report = ExportReport(run_id="x-baseline", status="failed", target="t", application_id="a", segment_id=None,
                          segment_version=None, format=fmt, export_prefix="p")
    export_files(raw, str(out), opts, report, Runtime())
    return report


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_and_books_are_those_of_the_single_module_export(case, tmp_path):
    fmt = CASES[case][0]
    out = tmp_path / f"endpoints.{fmt}"
    report = _export(case, out, csv_safe=False)
    assert out.read_bytes() == (BASELINE / case / f"endpoints.{fmt}").read_bytes()
    books = json.loads((BASELINE / case / "books.json").read_text())
    assert {k: getattr(report, k) for k in BOOKS} == books
    assert report.files == [{"uri": str(out), "rows": books["rows_written"], "bytes": out.stat().st_size}]


@pytest.mark.parametrize("case", ["csv", "crafted-csv-export-fields"])
def test_csv_safe_only_prefixes_formula_looking_cells(case, tmp_path):
    report = _export(case, tmp_path / "safe.csv")
    safe = list(csv.reader(io.StringIO((tmp_path / "safe.csv").read_text(encoding="utf-8"))))
    plain = list(csv.reader(io.StringIO((BASELINE / case / "endpoints.csv").read_text(encoding="utf-8"))))
    assert safe[0] == plain[0] and len(safe) == len(plain)
    changed = 0
    for s_row, p_row in zip(safe[1:], plain[1:]):
        for s, p in zip(s_row, p_row, strict=True):
            assert s == ("'" + p if is_formula(p) else p)
            changed += s != p
    assert changed == sum(report.formulas_neutralised.values())
    if case == "csv":  # the seeded formula-looking values; E.164 numbers and plain negatives stay
        assert changed >= 5 and report.formulas_neutralised["Attributes.Note"] == 4
        assert "'=HYPERLINK" in (tmp_path / "safe.csv").read_text() and ',"+447700900123",' in \
            (tmp_path / "safe.csv").read_text()
