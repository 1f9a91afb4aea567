"""The output file, written from the spilled chunks all or nothing (``storage.write.open_write``), local or ``s3://``.

CSV and NDJSON use the import's encoders (``staging.writers``: repeated headers for slots, nested objects
and arrays, metrics as JSON numbers; ``lenient``: a number field holding text stays text). CSV values a
spreadsheet would run are neutralised (``export.csv_safe``) unless ``csv_safe`` is off. Parquet has one
column per slot; metrics and coordinates are doubles unless some value is not a number.
"""

from __future__ import annotations

import pyarrow as pa

from pinpoint_etl.export.csv_safe import neutralise_array
from pinpoint_etl.export.options import ExportFormat
from pinpoint_etl.export.records import is_number_column
from pinpoint_etl.storage.uris import is_s3
from pinpoint_etl.storage.write import open_write
from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.staging.writers import csv_header, csv_rows, ndjson_rows
from pinpoint_etl.transforms.values import parse_number


def parquet_schema(columns: list[str], non_numeric: set[str]) -> pa.Schema:
    return pa.schema([pa.field(c, pa.float64() if is_number_column(c) and c not in non_numeric else pa.string())
                      for c in columns])


def _parquet_table(table: pa.Table, schema: pa.Schema) -> pa.Table:
    arrays = []
    for f in schema:
        if f.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, type=f.type))
            continue
        column = table.column(f.name).combine_chunks()
        if pa.types.is_floating(f.type):
            enc = column.dictionary_encode()
            numbers = pa.array([parse_number(v) for v in enc.dictionary.to_pylist()], type=pa.float64())
            arrays.append(numbers.take(enc.indices))
        else:
            arrays.append(column.cast(pa.string()))
    return pa.Table.from_arrays(arrays, schema=schema)


class OutputWriter:
    """One output file in ``fmt``; ``write`` each chunk (Arrow), then ``close`` (or ``abort``)."""

    def __init__(self, uri: str, fmt: ExportFormat, columns: list[str], non_numeric: set[str], s3, write_options,
                 *, csv_safe: bool = True):
        self.uri, self.fmt, self.columns, self.csv_safe = uri, fmt, columns, csv_safe
        self.rows = 0
        self.bytes = 0
        self.neutralised: dict[str, int] = {}
        self._cm = open_write(uri, s3=s3 if is_s3(uri) else None, options=write_options)
        self._fh = self._cm.__enter__()
        self._parquet = None
        if fmt == "csv":
            self._emit(csv_header(columns))
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            self._schema = parquet_schema(columns, non_numeric)
            self._counter = _CountingFile(self._fh)
            self._parquet = pq.ParquetWriter(self._counter, self._schema, compression="zstd")

    def _emit(self, data: bytes) -> None:
        self._fh.write(data)
        self.bytes += len(data)

    def write(self, table: pa.Table) -> None:
        if self.fmt == "csv":
            self._emit(csv_rows(self._safe(table) if self.csv_safe else table, self.columns))
        elif self.fmt == "ndjson":
            self._emit(ndjson_rows(table, self.columns, lenient=True))
        else:
            self._parquet.write_table(_parquet_table(table, self._schema))
        self.rows += table.num_rows

    def _safe(self, table: pa.Table) -> pa.Table:
        for i, name in enumerate(table.column_names):
            if name in self.columns:
                column, n = neutralise_array(table.column(i))
                if n:
                    table = table.set_column(i, name, column)
                    base = cat.base_name(name)
                    self.neutralised[base] = self.neutralised.get(base, 0) + n
        return table

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
