"""A run's claim on its run id: one process at a time stages a run and creates its import jobs.

Claims are small objects ``RUN_FOLDER/claims/NNNNNN.json`` created with S3's conditional write
(``If-None-Match: *``), so of two runs racing for the same number exactly one wins. The newest claim
names the run's owner while the owner lives: it renews the claim every ``renew`` seconds and marks it
``done`` when it ends. An owner is gone when its state says so, when it ran on this host and its
process no longer exists, or when its last renewal is older than ``lease`` (another host).

A run that meets a live owner waits for it to end and then goes on from what it left (manifest and
``jobs.json``: nothing is staged or created twice); a run that meets a dead owner takes over with the
next number, after aborting the uploads the dead owner left open.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

from pinpoint_etl.storage import objects, uris, write
from pinpoint_etl.storage.errors import UnclearAnswer
from pinpoint_etl.pinpoint.stop import pause

ClaimState = Literal["running", "done"]


@dataclass
class Claim:
    number: int
    owner: str
    host: str
    pid: int
    started: float
    renewed: float
    state: ClaimState = "running"

    def alive(self, *, lease: float) -> bool:
        if self.state != "running":
            return False
        if self.host == socket.gethostname():
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                pass
        return time.time() - self.renewed <= lease

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"pid {self.pid} on {self.host}, since {since}"


@dataclass
class Acquired:
    """The claim this run holds, and the owner it waited for or took over from, if any."""

    claim: Claim
    waited_for: Claim | None = None
    took_over_from: Claim | None = None


@dataclass
class RunClaim:
    """Claims under ``base`` (the run folder, s3:// or local)."""

    base: str
    s3: object = None
    options: write.WriteOptions | None = None
    lease: float = 120.0
    renew: float = 20.0
    wait_poll: float = 1.0
    claim: Claim | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _renewer: threading.Thread | None = None

    def _uri(self, number: int) -> str:
        return uris.join(self.base, "claims", f"{number:06d}.json")

    def _read(self, number: int) -> Claim | None:
        data = objects.read_bytes(self._uri(number), s3=self.s3)
        return Claim(**json.loads(data)) if data is not None else None

    def latest(self) -> Claim | None:
        """The newest claim (claims are numbered from 1 without gaps)."""
        if uris.is_s3(self.base):
            keys = [o["key"] for o in objects.list_objects(self.s3, uris.join(self.base, "claims") + "/", suffix=".json",
                                                         expected_owner=self.options.expected_owner
                                                         if self.options else None)]
            numbers = [int(k.rsplit("/", 1)[1][:-5]) for k in keys if k.rsplit("/", 1)[1][:-5].isdigit()]
        else:
            folder = os.path.join(self.base, "claims")
            names = os.listdir(folder) if os.path.isdir(folder) else []
            numbers = [int(n[:-5]) for n in names if n.endswith(".json") and n[:-5].isdigit()]
        for number in sorted(numbers, reverse=True):
            if (found := self._read(number)) is not None:
                return found
        return None

    def acquire(self, on_wait: Callable[[Claim], None] | None = None) -> Acquired:
        """Hold the run id: wait while a live owner holds it, then take the next claim number."""
        waited: Claim | None = None
        while True:
            latest = self.latest()
            if latest is not None and latest.alive(lease=self.lease):
                if waited is None and on_wait is not None:
                    on_wait(latest)
                waited = latest
                pause(self.wait_poll)
                continue
            now = time.time()
            mine = Claim(number=(latest.number if latest else 0) + 1, owner=uuid.uuid4().hex,
                         host=socket.gethostname(), pid=os.getpid(), started=now, renewed=now)
            if self._put_new(mine):
                self.claim = mine
                self._renewer = threading.Thread(target=self._renew_loop, name="pinpoint-etl-claim", daemon=True)
                self._renewer.start()
                dead = latest if latest is not None and latest.state == "running" else None
                return Acquired(claim=mine, waited_for=waited, took_over_from=dead)

    def _put_new(self, mine: Claim) -> bool:
        data = json.dumps(asdict(mine)).encode()
        try:
            return write.put_if_absent(self._uri(mine.number), data, s3=self.s3, options=self.options)
        except UnclearAnswer:  # the write may have happened: it is ours if it holds our owner token
            found = self._read(mine.number)
            return found is not None and found.owner == mine.owner

    def _write(self) -> None:
        write.write_bytes(self._uri(self.claim.number), json.dumps(asdict(self.claim)).encode(), s3=self.s3,
                         options=self.options)

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew):
            self.claim.renewed = time.time()
            try:
                self._write()
            except Exception:  # noqa: BLE001 - the next renewal tries again; the lease is long
                continue

    def release(self, *, keep: bool = True) -> None:
        """Mark the claim done (the next run of this id goes on at once); ``keep=False`` (nothing was
        staged) removes every claim of the run instead, so that a failed run leaves nothing behind."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if self.claim is None or self.claim.state != "running":
            return
        self.claim.state = "done"
        try:
            if keep:
                self._write()
            elif uris.is_s3(self.base):
                objects.delete_objects(self.s3, [o["uri"] for o in objects.list_objects(
                    self.s3, uris.join(self.base, "claims") + "/",
                    expected_owner=self.options.expected_owner if self.options else None)],
                    expected_owner=self.options.expected_owner if self.options else None)
            else:
                shutil.rmtree(os.path.join(self.base, "claims"), ignore_errors=True)
        except Exception:  # noqa: BLE001 - this process ends: its claim is seen dead all the same
            pass
