"""The extract stage's entry points: a source's column names, and its records in chunks.

Each chunk is an Arrow table of text columns (a missing value or empty CSV cell is null; as a
DataFrame, pandas ``str`` dtype with NaN, so ``pd.isna`` is True) named as in the catalogue
(dotted names, slot names ``X#2`` for repeated CSV headers and JSON arrays), plus ``_source``
(dictionary-encoded, categorical in pandas: the URI as given, see ``storage.uris.display_name``) and
``_row`` (int64: the 1-based record number after the CSV header, the NDJSON line number, or the
JSON array element index). Memory is bounded by ``chunk_rows``, not by the file. Records that are
not CSV/JSON come as ``sources.malformed.MalformedBatch`` items between the tables
(``ReadOptions.on_malformed="reject"``, the default). Every failure is a ``PipelineError`` (``SourceError``, or ``TransientError`` when a retry may help) with a
one-line message naming the source and, where known, row and field.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import replace

import pyarrow as pa

from pinpoint_etl.core.errors import PipelineError, SourceError
from pinpoint_etl.core.catalogue import META_COLS
from pinpoint_etl.sources.csv_pieces import CsvPiece, can_split, split_csv
from pinpoint_etl.sources.csv_reader import read_csv_header, read_csv_tables
from pinpoint_etl.sources.json_reader import read_json_tables
from pinpoint_etl.sources.malformed import MalformedBatch
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.storage.errors import translate
from pinpoint_etl.storage.uris import display_name, split_compression

_BY_EXTENSION = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".ndjson": "ndjson",
                 ".jsonl": "ndjson"}


def resolve(uri: str, options: ReadOptions) -> tuple[str, ReadOptions]:
    """The format to read ``uri`` with (``csv``/``json``/``ndjson``) and the options to use.

    A ``.tsv`` file read with the default comma delimiter is read with a tab.
    """
    name, _ = split_compression(uri)
    ext = posixpath.splitext(name)[1].lower()
    fmt = options.format
    if fmt == "auto":
        fmt = _BY_EXTENSION.get(ext)
        if fmt is None:
            shown = f"extension {ext}" if ext else "a file name without extension"
            raise SourceError(f"cannot tell the format from {shown}: use .csv, .tsv, .json, .ndjson or .jsonl "
                              "(optionally .gz/.bz2/.zst), or pass format=csv|json|ndjson", source=display_name(uri))
    if fmt == "csv" and ext == ".tsv" and options.delimiter == ",":
        options = replace(options, delimiter="\t")
    return fmt, options


def read_header(uri: str, options: ReadOptions, *, transport_params: dict | None = None) -> list[str]:
    """The source's column names, to plan the column mapping before anything is uploaded.

    CSV: the header, stripped, repeats turned into slot names. JSON/NDJSON: there is no header, so
    this is the union of flattened names over the first chunk (``options.chunk_rows`` records);
    names first seen later in the file are not included. An empty JSON array gives ``[]``.
    """
    fmt, options = resolve(uri, options)
    try:
        if fmt == "csv":
            return read_csv_header(uri, options, transport_params)
        chunks = read_json_tables(uri, options, transport_params, ndjson=fmt == "ndjson")
        try:
            first = next((c for c in chunks if not isinstance(c, MalformedBatch)), None)
        finally:
            chunks.close()
        return [] if first is None else [c for c in first.column_names if c not in META_COLS]
    except PipelineError:
        raise
    except Exception as exc:  # noqa: BLE001 - nothing but pipeline errors leaves the extract stage
        raise translate(exc, source=display_name(uri), codec=options.codec) from None


def read_tables(uri: str, options: ReadOptions, *, transport_params: dict | None = None,
                pieces: bool = False) -> Iterator[pa.Table | CsvPiece | MalformedBatch]:
    """Stream ``uri``'s records as tagged Arrow tables of at most ``options.chunk_rows`` rows, and batches
    of malformed records (see module docstring): what the pipeline spills for its chunk workers.

    ``pieces``: a plain local UTF-8 CSV file is given as ``CsvPiece``s instead (record-aligned byte
    ranges that ``sources.csv_pieces.read_piece`` parses where the chunk is worked), as far as its
    quoting allows (see ``sources.csv_pieces``). ``transport_params`` go to ``smart_open.open``
    (``{"client": s3_client}`` for s3://). A CSV with a header and no rows, or an empty JSON array,
    yields no chunk at all.
    """
    fmt, options = resolve(uri, options)
    if fmt == "csv" and pieces and can_split(uri, options):
        chunks = split_csv(uri, options)
    elif fmt == "csv":
        chunks = read_csv_tables(uri, options, transport_params)
    else:
        chunks = read_json_tables(uri, options, transport_params, ndjson=fmt == "ndjson")
    try:
        yield from chunks
    except PipelineError:
        raise
    except Exception as exc:  # noqa: BLE001 - nothing but pipeline errors leaves the extract stage
        raise translate(exc, source=display_name(uri), codec=options.codec) from None
    finally:
        chunks.close()
