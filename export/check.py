"""Pass one's books: each chunk validated leniently, counted, and spilled to a local Arrow file.

Nothing is dropped: every failure of ``schemas.exported`` becomes an anomaly counted per reason (the
first examples name the file and line). On the way the set of columns is collected (an export has no
header), with how many endpoints carry each field the import layout leaves out, and which number
columns hold text (Parquet then writes them as text).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from pyarrow import feather

from pinpoint_etl.export.columns import is_import_column
from pinpoint_etl.export.records import Chunk, is_number_column
from pinpoint_etl.export.report import ExportReport
from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.schemas.exported import anomalies
from pinpoint_etl.transforms.values import parse_number


class Checker:
    """Takes the chunks of pass one; ``spills``, ``columns``, ``non_numeric`` and ``field_counts`` after."""

    def __init__(self, report: ExportReport, tmp: Path):
        self.report, self.tmp = report, tmp
        self.spills: list[Path] = []
        self.columns: dict[str, None] = {}
        self.non_numeric: set[str] = set()
        self.field_counts: dict[str, int] = {}

    def add(self, chunk: Chunk) -> None:
        frame, rep = chunk.frame, self.report
        rep.rows_read += len(frame)
        reasons = anomalies(frame)
        rep.rows_with_anomalies += len(reasons)
        for idx, why in reasons.items():
            source, line = chunk.where[int(idx)]
            rep.anomaly(why, source, line)
        if "EndpointStatus" in frame:
            for status, n in frame["EndpointStatus"].value_counts().items():
                rep.endpoint_status[str(status)] = rep.endpoint_status.get(str(status), 0) + int(n)
        for c in frame.columns:
            self.columns.setdefault(c, None)
            if not is_import_column(c) and c == cat.base_name(c):
                self.field_counts[c] = self.field_counts.get(c, 0) + int(frame[c].notna().sum())
            if is_number_column(c) and c not in self.non_numeric:
                if any(parse_number(str(v)) is None for v in frame[c].dropna().unique()):
                    self.non_numeric.add(c)
        path = self.tmp / f"chunk-{len(self.spills):06d}.arrow"
        feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), path, compression="uncompressed")
        self.spills.append(path)

    def dropped(self, written: list[str]) -> dict[str, int]:
        """Fields some endpoints carry that the output leaves out, with how many carry each."""
        return {c: n for c, n in sorted(self.field_counts.items()) if n and c not in written}
