"""Applying parsed import rows to the store, one transaction per batch — in the service's job thread,
or, for a large file, in a process of its own (:class:`ApplyProcess`).

A large file is worked by two processes beside the service: one parses (``local.import_parse``),
one applies the rules and writes (this module's :func:`_worker`, with its own SQLite connection:
the store's WAL mode lets processes share it). The service process only relays the job's counters,
so it answers API calls at once however busy the job is, and the two cores are both at work.
Nothing here imports moto or the HTTP layers: the spawned process starts light.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pinpoint_etl.local.apps import new_id, now_iso
from pinpoint_etl.local.db import Database
from pinpoint_etl.local.endpoint_store import EndpointBatch
from pinpoint_etl.local.faults import row_failure
from pinpoint_etl.local.import_parse import PieceError, ProcessParser, parse_piece
from pinpoint_etl.local.jobs import Job
from pinpoint_etl.local.row_rules import RowError
from pinpoint_etl.local.segments import SegmentStore

IMPORT_CACHE_KIB = 65536  # SQLite page cache of the connection a large import writes through


@dataclass
class Apply:
    """What applying rows needs, and what it carries from one batch (and piece) to the next."""

    app_id: str
    app_key: int
    register: bool
    seg: int | None  # store key of the job's segment, if any
    pending: int  # the version members added by this job carry until it ends
    fail_rows: int  # fault knob: the first N rows of the job fail
    failures_shape: str = "row"  # fault knob: how a failed row is written (``local.faults.row_failure``)
    rows_seen: int = 0
    added_members: bool = False

    def batch(self, db: Database, job: Job, url: str, rows: list[tuple], names: dict[int, tuple]) -> None:
        """Apply one batch of parsed rows in one transaction, with the job's counters."""
        with db.write() as conn:
            batch = EndpointBatch(conn, self.app_id, self.app_key, now_iso())
            batch.prefetch([r[2] for r in rows if r[0] == "R"],
                           [r[4] for r in rows if r[0] == "R" and r[4]] +
                           [u for r in rows if r[0] == "U" for u in r[2]],
                           [r[5] for r in rows if r[0] == "R" and r[5]])
            members: list[tuple[str, str | None, str | None]] = []
            processed = 0
            for row in rows:
                kind = row[0]
                if kind == "N":
                    names[row[1]] = row[2]
                    continue
                processed += 1
                self.rows_seen += 1
                try:
                    if self.rows_seen <= self.fail_rows:
                        raise RowError("injected fault (fail_rows)")
                    if kind == "E":
                        raise RowError(row[2])
                    if kind == "U":
                        found = []
                        for user_id in row[2]:
                            endpoints = batch.user_endpoints(user_id)
                            if not endpoints:
                                raise RowError(f"no endpoints are registered for user id {user_id!r}")
                            found += endpoints
                        members += [(e.id, e.channel, None) for e in found]
                        continue
                    _, _, endpoint_id, definition, user_id, address, channel, names_index, effective, flags, cohort = row
                    entry = batch.upsert_row(endpoint_id or new_id(), definition, user_id, address, channel,
                                             names.get(names_index, ()), effective, flags, cohort,
                                             request_id=job.id, register=self.register)
                    if self.seg is not None:
                        members.append((entry.id, entry.channel, None if self.register else entry.text()))
                except RowError as exc:
                    endpoint_id = row[2] if kind == "R" else (row[3] if kind == "E" else None)
                    job.add_failure(row_failure(self.failures_shape, url, row[1], endpoint_id or None, str(exc)),
                                    row=True)
            batch.flush()
            if self.seg is not None and members:
                self.added_members = True
                SegmentStore.add_members(conn, self.seg, self.pending, members)
            job.update(total_processed=processed)
            job.save(conn)

    def piece(self, db: Database, job: Job, url: str, path: str, fmt: str, split: bool,
              progress: Callable[[], None] | None = None) -> None:
        """Apply a whole file (``split``: parsed in a separate process), calling ``progress`` after each
        batch; PieceError if it is unreadable."""
        parser = ProcessParser(path, fmt) if split else None
        names: dict[int, tuple] = {}
        try:
            for rows in (parser if parser is not None else parse_piece(path, fmt)):
                if job.cancel.is_set():
                    return
                self.batch(db, job, url, rows, names)
                if progress is not None:
                    progress()
        except RuntimeError as exc:
            raise PieceError(str(exc)) from None
        finally:
            if parser is not None:
                parser.close()


# --------------------------------------------------------------------------- a process of its own

def _worker(spec: dict[str, Any], conn: Any) -> None:
    db = Database(Path(spec["folder"]), durable=spec["durable"], checkpoints=False)
    try:
        with db.read() as c:
            c.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
        job = Job.load(spec["job_seq"], spec["job_body"])
        apply = Apply(**spec["apply"])
        apply.piece(db, job, spec["url"], spec["path"], spec["fmt"], split=True, progress=lambda: conn.send(
            ("progress", job.total_processed, job.total_failures, list(job.failures))))
        conn.send(("done", apply.rows_seen, apply.added_members))
    except PieceError as exc:
        conn.send(("piece", str(exc)))
    except BrokenPipeError:
        return
    except Exception as exc:  # noqa: BLE001 - reported to the job, never a silent death
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        db.close()
        conn.close()


class ApplyProcess:
    """One file applied by a spawned process; ``run`` relays its progress into the service's job."""

    def __init__(self, apply: Apply, job: Job, folder: str, durable: bool, url: str, path: str, fmt: str):
        self.apply, self.job = apply, job
        spec = {"folder": folder, "durable": durable, "job_seq": job.seq, "job_body": job.body(),
                "apply": asdict(apply), "url": url, "path": path, "fmt": fmt}
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe(duplex=False)
        # not a daemon: it starts the parsing process itself. It ends with the service all the same: its
        # next message to a service that is gone fails, and close() terminates it on a stop or cancel.
        self._process = ctx.Process(target=_worker, args=(spec, child), daemon=False, name="pinpoint-etl-import")
        self._process.start()
        child.close()

    def run(self) -> bool:
        """Relay messages until the file is done (True) or the job is cancelled (False); PieceError if
        the file can't be read or the process failed."""
        try:
            while True:
                if self.job.cancel.is_set():
                    return False
                if not self._conn.poll(0.05):
                    if not self._process.is_alive() and not self._conn.poll(0):
                        raise PieceError("the import process ended without an answer")
                    continue
                kind, *payload = self._conn.recv()
                if kind == "progress":
                    processed, failures, entries = payload
                    with self.job.lock:
                        self.job.total_processed, self.job.total_failures, self.job.failures = (
                            processed, failures, entries)
                elif kind == "done":
                    self.apply.rows_seen, added = payload
                    self.apply.added_members = self.apply.added_members or added
                    return True
                elif kind == "piece":
                    raise PieceError(payload[0])
                else:
                    raise PieceError(f"the import process failed: {payload[0]}")
        finally:
            self.close()

    def close(self) -> None:
        self._conn.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(10)
