"""A run's spill folder, and the sweeping of folders left by runs that were killed.

The folder (``pinpoint-etl-spill-RUN-XXXX`` in the temporary directory) holds a lock file that the
run keeps locked (``flock``) while it lives; the kernel drops the lock when the process dies, however
it dies. Each new run first removes every spill folder whose lock it can take: its owner is gone
(``kill -9`` leaves the folder, which can be large, behind).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "pinpoint-etl-spill-"
LOCK_NAME = ".lock"


def sweep(base: str | None = None) -> list[str]:
    """Remove the spill folders under ``base`` whose runs have stopped; returns their paths."""
    base = base or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            fd = os.open(os.path.join(entry.path, LOCK_NAME), os.O_RDONLY)
        except OSError:
            continue  # no lock file: being created right now, or not ours
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its run is alive
        finally:
            os.close(fd)  # also drops the lock just taken
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


@contextlib.contextmanager
def spill_folder(run_id: str, base: str | None = None) -> Iterator[Path]:
    """A fresh spill folder for ``run_id``, locked while the run lives and removed after it (stale ones
    of earlier runs are swept first)."""
    sweep(base)
    path = tempfile.mkdtemp(prefix=f"{PREFIX}{run_id}-", dir=base)
    lock = os.open(os.path.join(path, LOCK_NAME), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield Path(path)
    finally:
        os.close(lock)
        shutil.rmtree(path, ignore_errors=True)
