"""Reading one import file (a piece) as a stream of checked rows, in batches, never whole.

:func:`parse_piece` yields batches of tuples, one per data row, in file order:

* ``("R", row, id, definition_json, user_id, address, channel, names, effective_date, flags, cohort)``:
  an endpoint definition that passed every rule that needs only the row itself (``names`` indexes
  a ``("N", index, names)`` entry sent before its first use; ``flags`` says which defaulted fields
  the row gave, :data:`HAS_ID` ...; ``cohort`` is the id's CohortId, None without an id);
* ``("U", row, user_ids)``: a row whose only field is ``User.UserId`` (a segment of registered users);
* ``("E", row, reason, id)``: a row that breaks a rule.

Before the first row the whole file is checked once, a block at a time: not compressed (magic
numbers), valid UTF-8, a readable CSV header; otherwise :class:`PieceError` (the piece fails and
no row of it is applied). A malformed CSV record fails as a row and reading goes on.

A large file is parsed in a separate process (:class:`ProcessParser`) so parsing and storing run
on two cores; rows cross a pipe in batches, so memory stays bounded either way. This module
imports no server code: the spawned process loads only it and :mod:`local.row_rules`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import marshal
import multiprocessing
import os
from collections.abc import Iterator
from typing import Any

from pinpoint_etl.local.row_rules import (
    CsvPlan,
    RowError,
    check_record,
    check_size,
    cohort_id,
    definition_json,
    header_problem,
)

BATCH_ROWS = 5000
BLOCK = 1 << 20
HAS_ID, HAS_EFFECTIVE_DATE, HAS_OPT_OUT, HAS_REQUEST_ID, HAS_USER, HAS_STATUS = 1, 2, 4, 8, 16, 32
_FLAG_KEYS = (("Id", HAS_ID), ("EffectiveDate", HAS_EFFECTIVE_DATE), ("OptOut", HAS_OPT_OUT),
              ("RequestId", HAS_REQUEST_ID), ("User", HAS_USER), ("EndpointStatus", HAS_STATUS))
MAGIC_NUMBERS = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd",
                 b"PK\x03\x04": "zip", b"\xfd7zXZ\x00": "xz"}
COMPRESSED_MESSAGE = "compressed files can't be imported; upload uncompressed UTF-8 files"
BOM = b"\xef\xbb\xbf"


class PieceError(Exception):
    """The whole file can't be processed."""


def flags_of(rec: dict[str, Any]) -> int:
    flags = 0
    for key, bit in _FLAG_KEYS:
        if key in rec:
            flags |= bit
    return flags


def check_file(path: str) -> None:
    """PieceError unless the file is uncompressed, valid UTF-8 text (read a block at a time)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        for magic, name in MAGIC_NUMBERS.items():
            if head.startswith(magic):
                raise PieceError(f"{COMPRESSED_MESSAGE} (the file is {name}-compressed)")
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        while True:
            block = fh.read(BLOCK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                raise PieceError(f"the file is not valid UTF-8 (invalid byte at offset "
                                 f"{offset - pending + exc.start})") from None
            if not block:
                return
            offset += len(block)


class _Rows:
    """Turns records into row tuples and keeps the table of attribute-name sets."""

    def __init__(self) -> None:
        self.names: dict[frozenset, int] = {}

    def row(self, out: list, row_no: int, rec: dict[str, Any]) -> None:
        if len(rec) == 1 and "User" in rec and set(rec["User"]) == {"UserId"}:
            out.append(("U", row_no, tuple(rec["User"]["UserId"].split())))
            return
        definition = definition_json(rec)
        check_size(definition)
        names = _names_of(rec)
        index = -1
        if names:
            index = self.names.get(names, -1)
            if index < 0:
                index = self.names[names] = len(self.names)
                out.append(("N", index, tuple(sorted(names))))
        user = rec.get("User")
        endpoint_id = rec.get("Id") or ""
        out.append(("R", row_no, endpoint_id, definition, user.get("UserId") if user else None,
                    rec.get("Address"), rec.get("ChannelType"), index, rec.get("EffectiveDate"), flags_of(rec),
                    cohort_id(endpoint_id) if endpoint_id else None))


def _names_of(rec: dict[str, Any]) -> frozenset:
    names = []
    if "Attributes" in rec:
        names += [("Attributes", n) for n in rec["Attributes"]]
    if "Metrics" in rec:
        names += [("Metrics", n) for n in rec["Metrics"]]
    user = rec.get("User")
    if user and "UserAttributes" in user:
        names += [("UserAttributes", n) for n in user["UserAttributes"]]
    return frozenset(names)


def parse_piece(path: str, fmt: str) -> Iterator[list[tuple]]:
    """Batches of row tuples of the file at ``path`` (``fmt`` CSV or JSON); PieceError first if unreadable."""
    check_file(path)
    with open(path, "rb") as raw:
        if raw.read(3) != BOM:
            raw.seek(0)
        if fmt == "CSV":
            yield from _csv_batches(raw)
        else:
            yield from _json_batches(raw)


def _csv_batches(raw: io.BufferedReader) -> Iterator[list[tuple]]:
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise PieceError("the file is empty (a CSV file needs a header row)") from None
    except csv.Error as exc:
        raise PieceError(f"the header row is not valid CSV: {exc}") from None
    problem = header_problem(header)
    if problem:
        raise PieceError(problem)
    plan = CsvPlan(header)
    rows = _Rows()
    out: list[tuple] = []
    row_no = 0
    blank_ok = len(header) > 1
    while True:
        row_no += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.append(("E", row_no, f"the row is not valid CSV: {exc}", None))
            continue
        if not cells or (blank_ok and cells == [""]):
            continue
        try:
            rows.row(out, row_no, plan.record(cells))
        except RowError as exc:
            out.append(("E", row_no, str(exc), cells[0] if header[0] == "Id" and cells else None))
        if len(out) >= BATCH_ROWS:
            yield out
            out = []
    if out:
        yield out


def _json_batches(raw: io.BufferedReader) -> Iterator[list[tuple]]:
    rows = _Rows()
    out: list[tuple] = []
    for line_no, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append(("E", line_no, f"invalid JSON: {exc}", None))
            continue
        try:
            if not isinstance(obj, dict):
                raise RowError("expected one JSON object per line (one endpoint per object)")
            rows.row(out, line_no, check_record(obj, for_import=True))
        except RowError as exc:
            endpoint_id = obj.get("Id") if isinstance(obj, dict) and isinstance(obj.get("Id"), str) else None
            out.append(("E", line_no, str(exc), endpoint_id))
        if len(out) >= BATCH_ROWS:
            yield out
            out = []
    if out:
        yield out


# --------------------------------------------------------------------------- separate process

def _worker(path: str, fmt: str, conn: Any) -> None:
    try:
        for batch in parse_piece(path, fmt):  # marshal: rows are plain tuples, read back 3x faster than pickle
            conn.send_bytes(marshal.dumps(("rows", batch)))
        conn.send_bytes(marshal.dumps(("end", None)))
    except PieceError as exc:
        conn.send_bytes(marshal.dumps(("piece", str(exc))))
    except BrokenPipeError:
        return
    except Exception as exc:  # noqa: BLE001 - reported to the job, never a silent death
        conn.send_bytes(marshal.dumps(("error", f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


class ProcessParser:
    """``parse_piece`` run in a spawned process; iterate it for the batches, ``close()`` to stop it."""

    def __init__(self, path: str, fmt: str):
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_worker, args=(path, fmt, child), daemon=True,
                                    name=f"pinpoint-etl-parse-{os.path.basename(path)}")
        self._process.start()
        child.close()

    def __iter__(self) -> Iterator[list[tuple]]:
        while True:
            try:
                kind, payload = marshal.loads(self._conn.recv_bytes())
            except EOFError:
                raise RuntimeError("the parsing process ended without an answer") from None
            if kind == "rows":
                yield payload
            elif kind == "end":
                return
            elif kind == "piece":
                raise PieceError(payload)
            else:
                raise RuntimeError(f"the parsing process failed: {payload}")

    def close(self) -> None:
        self._conn.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(5)
