"""Exported files → chunks of flat text columns: the import's flattener and the import's number text.

Pinpoint writes gzip NDJSON, one ``EndpointResponse`` per line. Each file is streamed line by line;
each record goes through the import's flattener (``sources.flatten.ColumnBuilder``: dotted names, slot
columns for arrays, JSON text for what an array nests), a name that is null in every record of a chunk
makes no column, and numbers take the import's canonical text: ``Metrics.*`` through
``transforms.values.normalise_metric`` (``12.0`` → ``12``), coordinates with one decimal where that is
their value exactly (``transforms.location.canonical_coordinate``: ``47.0``, ``-0.0`` → ``0.0``) and their
canonical number text otherwise — never rounded: an export writes what Pinpoint holds, and the check
stage flags a coordinate the import would round. A line that is not a JSON object is handed to
``unreadable(file, line)``, never raised.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from pinpoint_etl.core.errors import TerminalError
from pinpoint_etl.storage import objects
from pinpoint_etl.storage.errors import AWS_EXCEPTIONS, translate
from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.sources.flatten import ColumnBuilder
from pinpoint_etl.sources.frames import to_frame
from pinpoint_etl.transforms.strings import map_unique
from pinpoint_etl.transforms.location import canonical_coordinate
from pinpoint_etl.transforms.values import canonical_number, normalise_metric, parse_number

COORDINATES = ("Location.Latitude", "Location.Longitude")


@dataclass
class Chunk:
    """Flat text columns (pandas' ``str`` dtype, missing = NaN) and each row's file and line number."""

    frame: pd.DataFrame
    where: list[tuple[str, int]]


def is_number_column(column: str) -> bool:
    """Columns whose values are numbers in Pinpoint (doubles): metrics and coordinates."""
    return column.startswith(cat.METRIC_PREFIX) or cat.base_name(column) in COORDINATES


def exact_coordinate(text: str) -> str:
    """One decimal where that is the value exactly (the import form), else the canonical number text."""
    one = canonical_coordinate(text, math.inf)
    return one if one is not None and parse_number(one) == parse_number(text) else canonical_number(text)


def _lines(uri: str, s3) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of one exported file, streamed and decompressed; blank lines skipped."""
    try:
        with objects.open_read(uri, s3=s3) as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    yield number, line
    except AWS_EXCEPTIONS as exc:
        raise translate(exc, f"reading {uri}") from None
    except (OSError, EOFError) as exc:  # truncated or corrupt gzip
        raise TerminalError(f"reading {uri} failed: {type(exc).__name__}: {exc}") from None


def _chunk(table: pa.Table, where: list[tuple[str, int]]) -> Chunk:
    n = table.num_rows
    table = table.select([c for c in table.column_names if table.column(c).null_count < n])
    frame = to_frame(table)
    for c in frame.columns:
        if c.startswith(cat.METRIC_PREFIX):
            frame[c] = normalise_metric(frame[c])[0]
        elif cat.base_name(c) in COORDINATES:
            frame[c] = map_unique(frame[c], exact_coordinate)[0]
    return Chunk(frame, where)


def read_chunks(uris: list[str], s3, chunk_rows: int, unreadable: Callable[[str, int], None]) -> Iterator[Chunk]:
    """Every record of the exported files ``uris``, in order, ``chunk_rows`` at a time."""
    builder = ColumnBuilder()
    where: list[tuple[str, int]] = []
    for uri in uris:
        for number, line in _lines(uri, s3):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                unreadable(uri, number)
                continue
            builder.add(record)
            where.append((uri, number))
            if builder.rows >= chunk_rows:
                yield _chunk(builder.table(), where)
                where = []
    if builder.rows:
        yield _chunk(builder.table(), where)
