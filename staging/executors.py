"""Where chunk work runs: worker processes, a thread pool, or Dask (a LocalCluster, or an existing
scheduler); ``auto`` (the default) picks processes for large or remote inputs and threads otherwise.

All take picklable ``ChunkTask``s and give back futures of small ``ChunkResult``s. Processes use
every core (chunk work is mostly Python and holds the GIL, so threads overlap only its Arrow
parts) but take a few seconds to start warm (bench/README.md); threads start at once. The Dask runner needs the work
folder on a filesystem its workers share (true for a LocalCluster).
"""

from __future__ import annotations

import contextlib
import glob
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Literal

from pinpoint_etl.core.errors import ConfigError, TerminalError

Runner = Literal["auto", "processes", "threads", "dask"]
#: ``auto`` picks processes from this many bytes of input on (compressed files count 5×): below it
#: the start of warm worker processes costs more than the second core gains
AUTO_PROCESS_BYTES = 32 * 2**20
_COMPRESSED = (".gz", ".bz2", ".zst")


def resolve_runner(runner: str, sources: list[str]) -> str:
    """``runner``, with ``auto`` decided by the size of ``sources`` (remote or unknown size → processes)."""
    if runner != "auto":
        return runner
    total = 0
    for spec in sources:
        if "://" in spec and not spec.startswith("file://"):
            return "processes"
        path = spec.removeprefix("file://")
        paths = glob.glob(path, recursive=True) if glob.has_magic(path) else [path]
        if os.path.isdir(path):
            paths = [os.path.join(d, f) for d, _, files in os.walk(path) for f in files]
        for p in paths:
            try:
                total += os.path.getsize(p) * (5 if p.endswith(_COMPRESSED) else 1)
            except OSError:
                continue  # a missing source fails later, with its own message
        if total >= AUTO_PROCESS_BYTES:
            return "processes"
    return "threads"


class ThreadExecutor:
    same_host = True  # chunk work can read local source files (``sources.csv_pieces``)

    def __init__(self, workers: int):
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="pinpoint-etl-chunk")
        self.workers = max(1, workers)

    def submit(self, fn, arg):
        return self._pool.submit(fn, arg)

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


def process_context(start: bool = False):
    """``forkserver`` where the platform has it (safe in a process with threads, unlike ``fork``),
    with ``staging.warm`` preloaded so workers fork warm; else ``spawn``. ``start`` starts the fork
    server now, so it warms up while the caller goes on importing and reading."""
    if sys.platform.startswith("linux"):
        from pinpoint_etl.core import tricks

        ctx = multiprocessing.get_context("forkserver")
        if tricks.enabled("warm_fork_server"):
            ctx.set_forkserver_preload(["pinpoint_etl.staging.warm"])
        if start:
            from multiprocessing import forkserver

            forkserver.ensure_running()
        return ctx
    return multiprocessing.get_context("spawn")


def _started() -> bool:
    return True


def _die_with_fork_server(server_pid: int | None) -> None:
    """Run first in every worker process: the worker dies with the fork server, which dies with the run.

    The kernel sends the worker SIGKILL when the fork server ends (``PR_SET_PDEATHSIG``); and the
    worker lets go of the fork server's "alive" pipe that it inherited, so that the fork server sees
    the pipe close — and ends — as soon as the run's process is gone, even after ``kill -9``."""
    import ctypes
    import signal
    from multiprocessing import forkserver

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if server_pid is not None and os.getppid() != server_pid:
        os._exit(1)  # the fork server ended before the death signal was armed
    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None


class ProcessExecutor:
    """Worker processes. A script that runs the pipeline in-process needs the usual
    ``if __name__ == "__main__":`` guard, as with any process pool."""

    same_host = True

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        ctx = process_context(start=True)
        server_pid = None
        if ctx.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            server_pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                         initializer=_die_with_fork_server, initargs=(server_pid,))
        # fork the workers now rather than on the first chunk, on a thread: forking waits until the
        # fork server has warmed up, and the caller reads its first chunk meanwhile (its
        # first submit waits for the forks); a failure here shows again at that submit
        self._forking = threading.Thread(target=self._fork_all, name="pinpoint-etl-fork", daemon=True)
        self._forking.start()

    def _fork_all(self):
        with contextlib.suppress(Exception):
            for _ in range(self.workers):
                self._pool.submit(_started)

    def submit(self, fn, arg):
        index = getattr(arg, "index", None)
        try:
            return _ProcessFuture(self._pool.submit(fn, arg), index)
        except BrokenProcessPool:  # a worker died before this chunk could be handed over
            raise _dead_worker(index) from None

    def close(self):
        self._forking.join()
        self._pool.shutdown(wait=True, cancel_futures=True)


class _ProcessFuture:
    """A worker's future whose ``result()`` names a dead worker plainly (killed, or out of memory)."""

    def __init__(self, future, index):
        self._future, self._index = future, index

    def result(self, timeout=None):
        try:
            return self._future.result(timeout)
        except BrokenProcessPool:
            raise _dead_worker(self._index) from None


def _dead_worker(index) -> TerminalError:
    what = f"chunk {index}" if index is not None else "a chunk"
    return TerminalError(f"a worker process stopped while staging {what} (killed, or out of memory?); "
                         "re-run, or use --runner threads")


class DaskExecutor:
    def __init__(self, workers: int, address: str | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - dask is an optional extra
            raise ConfigError("the dask runner needs the dask extra: pip install 'pinpoint-etl[dask]'") from None
        self._cluster = None
        self.same_host = not address  # a LocalCluster's workers see this machine's files; a scheduler's may not
        if address:
            self._client = Client(address)
        else:
            self._cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                         dashboard_address=None, host="127.0.0.1")
            self._client = Client(self._cluster)
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})) or workers)

    def submit(self, fn, arg):
        return self._client.submit(fn, arg, pure=False)

    def close(self):
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(runner: Runner = "processes", workers: int = 2, address: str | None = None):
    """The executor for ``runner`` (resolved: ``processes``, ``threads`` or ``dask``)."""
    if runner == "processes":
        return ProcessExecutor(workers)
    if runner == "threads":
        return ThreadExecutor(workers)
    if runner == "dask":
        return DaskExecutor(workers, address)
    raise ConfigError(f"unknown runner {runner!r}: use auto, processes, threads or dask")
