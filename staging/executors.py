"""Where chunk work runs: a thread pool (default) or Dask (a LocalCluster, or an existing scheduler).

Both take picklable ``ChunkTask``s and give back futures of small ``ChunkResult``s. The Dask
runner needs the work folder on a filesystem its workers share (true for a LocalCluster).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from core.errors import ConfigError

Runner = Literal["threads", "dask"]


class ThreadExecutor:
    def __init__(self, workers: int):
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="pinpoint-etl-chunk")
        self.workers = max(1, workers)

    def submit(self, fn, arg):
        return self._pool.submit(fn, arg)

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    def __init__(self, workers: int, address: str | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - dask is an optional extra
            raise ConfigError("the dask runner needs the dask extra: pip install 'pinpoint-etl[dask]'") from None
        self._cluster = None
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


def make_executor(runner: Runner = "threads", workers: int = 2, address: str | None = None):
    """The executor for ``runner``: ``threads`` (default) or ``dask``."""
    if runner == "threads":
        return ThreadExecutor(workers)
    if runner == "dask":
        return DaskExecutor(workers, address)
    raise ConfigError(f"unknown runner {runner!r}: use threads or dask")
