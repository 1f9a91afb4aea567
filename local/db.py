"""The service's embedded store: one SQLite file (stdlib ``sqlite3``) plus a folder of object blobs.

Layout of a data folder::

    DIR/pinpoint-local.sqlite3   apps, endpoints, segments, jobs, events, S3 metadata, IAM journal
    DIR/blobs/xx/<uuid>          the bytes of S3 objects and multipart parts (one file each)
    DIR/credentials.json         the access key, secret and admin token (mode 0600)

Connections come from a small pool (any thread may use one; SQLite's WAL mode lets readers run
while one writer writes). Writes go through :meth:`Database.write`, which serialises writers
with one lock and wraps the block in a transaction (rolled back if it raises). The write-ahead log
is copied into the database by a background thread (not by the committing writer), so a large
import job's commits stay short and the copying runs beside it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

DB_NAME = "pinpoint-local.sqlite3"
SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS apps(
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,
    creation_date TEXT NOT NULL, tags TEXT NOT NULL, settings TEXT, event_stream TEXT);
CREATE TABLE IF NOT EXISTS channels(
    app_id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY(app_id, type));
CREATE TABLE IF NOT EXISTS endpoints(
    seq INTEGER PRIMARY KEY, app INTEGER NOT NULL, id TEXT NOT NULL, user_id TEXT, address TEXT,
    channel TEXT, effective_date TEXT, active INTEGER NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS endpoints_id ON endpoints(app, id);
CREATE INDEX IF NOT EXISTS endpoints_user ON endpoints(app, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS endpoints_address ON endpoints(app, address) WHERE active = 1;
CREATE TABLE IF NOT EXISTS attribute_names(
    app_id TEXT NOT NULL, family TEXT NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY(app_id, family, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS segments(
    app_id TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY(app_id, id));
CREATE TABLE IF NOT EXISTS segment_versions(
    app_id TEXT NOT NULL, segment_id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY(app_id, segment_id, version));
CREATE TABLE IF NOT EXISTS segment_members(
    seg INTEGER NOT NULL, endpoint_id TEXT NOT NULL, version INTEGER NOT NULL, channel TEXT, body TEXT,
    PRIMARY KEY(seg, endpoint_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs(
    app_id TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
    segment_id TEXT, body TEXT NOT NULL, PRIMARY KEY(app_id, id));
CREATE INDEX IF NOT EXISTS jobs_seq ON jobs(app_id, kind, seq);
CREATE TABLE IF NOT EXISTS events(
    seq INTEGER PRIMARY KEY, app_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, event_id TEXT NOT NULL,
    received_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buckets(
    name TEXT PRIMARY KEY, region TEXT NOT NULL, owner TEXT NOT NULL, creation_date TEXT NOT NULL, encryption TEXT);
CREATE TABLE IF NOT EXISTS objects(
    bucket TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    last_modified TEXT NOT NULL, headers TEXT NOT NULL, PRIMARY KEY(bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads(
    id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, initiated TEXT NOT NULL, headers TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parts(
    upload_id TEXT NOT NULL, number INTEGER NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, last_modified TEXT NOT NULL, PRIMARY KEY(upload_id, number));
CREATE TABLE IF NOT EXISTS iam_journal(seq INTEGER PRIMARY KEY, body BLOB NOT NULL, content_type TEXT NOT NULL);
"""
TABLES = ("apps", "channels", "endpoints", "attribute_names", "segments", "segment_versions",
          "segment_members", "jobs", "events", "buckets", "objects", "uploads", "parts", "iam_journal")
POOL_SIZE = 16
CHECKPOINT_EVERY = 0.5  # seconds between background checkpoints


class Database:
    """The SQLite file and blob folder of one service."""

    def __init__(self, folder: Path, *, durable: bool, checkpoints: bool = True):
        self.folder = folder
        self.path = folder / DB_NAME
        self.blobs = folder / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.durable = durable
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self.write_lock = threading.RLock()
        self._local = threading.local()
        with self._connection() as conn:
            conn.executescript(SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            conn.commit()
        self._closing = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if checkpoints:  # one process of those sharing the file copies the log
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, daemon=True,
                                                  name=f"pinpoint-etl-checkpoint-{folder.name}")
            self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            while not self._closing.wait(CHECKPOINT_EVERY):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    time.sleep(CHECKPOINT_EVERY)
        finally:
            conn.close()

    # ------------------------------------------------------------------ connections

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a power cut may lose the last commits, never corrupt the file.
        conn.execute(f"PRAGMA synchronous={'NORMAL' if self.durable else 'OFF'}")
        conn.execute("PRAGMA cache_size=-16384")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpoint thread copies the log
        with self._all_lock:
            self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        held = getattr(self._local, "conn", None)
        if held is not None:  # nested use on one thread: the same connection (and transaction)
            yield held
            return
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = self._open()
        self._local.conn = conn
        try:
            yield conn
        finally:
            self._local.conn = None
            if self._pool.qsize() < POOL_SIZE:
                self._pool.put(conn)
            else:
                with self._all_lock:
                    self._all.remove(conn)
                conn.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (each statement sees the last committed state)."""
        with self._connection() as conn:
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a write transaction: committed at the end, rolled back on an exception."""
        with self.write_lock, self._connection() as conn:
            if conn.in_transaction:  # nested: the outer block commits
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # ------------------------------------------------------------------ blobs

    def new_blob(self) -> tuple[str, Path]:
        """A fresh blob name and its path (the folder exists; the file does not yet)."""
        name = uuid.uuid4().hex
        path = self.blobs / name[:2] / name
        path.parent.mkdir(exist_ok=True)
        return name, path

    def blob_path(self, name: str) -> Path:
        return self.blobs / name[:2] / name

    def drop_blob(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.blob_path(name))

    def sweep_blobs(self) -> int:
        """Delete blob files no object or part refers to (left by a crash); returns how many."""
        with self.read() as conn:
            used = {r[0] for r in conn.execute("SELECT blob FROM objects UNION ALL SELECT blob FROM parts")}
        removed = 0
        for sub in self.blobs.iterdir():
            if not sub.is_dir():
                continue
            for path in sub.iterdir():
                if path.name not in used:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    # ------------------------------------------------------------------ life cycle

    def clear(self) -> None:
        """Delete every row of every table and every blob (reset)."""
        with self.write() as conn:
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        for sub in list(self.blobs.iterdir()):
            shutil.rmtree(sub, ignore_errors=True)

    def close(self) -> None:
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join(10)
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        while not self._pool.empty():
            self._pool.get_nowait()
