"""Every process-wide performance trick of the pipeline, listed in one place, each one switchable.

A trick changes how a whole process behaves (its imports, its garbage collector, its allocator, a
library's global registry, its exit) to save time or memory; none changes what the pipeline writes.
Each is on unless its environment variable is set (to anything but ``""``/``0``), and
``PINPOINT_ETL_NO_TRICKS=1`` turns them all off — to tell whether a problem comes from one, or to
measure what one gains. What each gains, and how it was measured, is in bench/README.md under
"Process-wide tricks" (``Trick.gain`` names the entry). The switches are read where each trick is
applied, in the process that applies it; worker processes inherit the driver's environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ALL_OFF = "PINPOINT_ETL_NO_TRICKS"


@dataclass(frozen=True)
class Trick:
    name: str
    where: str   # the module that applies it (and reads its switch)
    what: str
    gain: str    # the entry of bench/README.md's "Process-wide tricks" table

    @property
    def switch(self) -> str:
        """The environment variable that turns this trick off."""
        return f"PINPOINT_ETL_NO_{self.name.upper()}"


TRICKS: dict[str, Trick] = {t.name: t for t in (
    Trick("defer_pandas", "sources.frames",
          "pyarrow's first conversion imports pandas to recognise pandas inputs; the CLI lets that first "
          "check find pandas absent, so a driver whose chunks go to worker processes never loads it",
          "defer_pandas"),
    Trick("warm_fork_server", "staging.executors",
          "worker processes fork from a fork server that preloaded and warmed the chunk code "
          "(staging.warm): modules imported, the Pandera schema built, lookup tables loaded once",
          "warm_fork_server"),
    Trick("hide_unused_imports", "staging.warm",
          "while the fork server warms, dask.dataframe and hypothesis are hidden from import (Pandera "
          "imports them whenever installed; workers never use them)",
          "hide_unused_imports"),
    Trick("gc_freeze", "staging.warm",
          "the fork server moves what it warmed out of the cyclic GC's reach (gc.freeze), so that the "
          "workers' collections do not write to, and copy, the pages they share with it",
          "gc_freeze"),
    Trick("pandera_column_backend", "schemas.rejects",
          "Pandera's column backend is replaced process-wide (Column.register_backend) by one that skips "
          "the per-column failure summary the frame's backend only unpacks",
          "pandera_column_backend"),
    Trick("release_memory", "core.memory",
          "freed memory is handed back to the system between steps: Arrow's pool releases its unused "
          "pages and glibc's heap is trimmed (malloc_trim)",
          "release_memory"),
    Trick("fast_exit", "flows.cli",
          "after a validate run the CLI runs the exit handlers and ends with os._exit, skipping the "
          "interpreter's teardown of pandas, pyarrow and Pandera",
          "fast_exit"),
    Trick("cldr_child_process", "transforms.cldr_countries",
          "the table of country names in every CLDR language is built in a child process (reading "
          "babel's locale data leaves its memory in the process that reads it) and cached as JSON",
          "cldr_child_process"),
)}


def _set(var: str) -> bool:
    return os.environ.get(var, "") not in ("", "0")


def enabled(name: str) -> bool:
    """Whether trick ``name`` is on in this process (neither its switch nor ``PINPOINT_ETL_NO_TRICKS`` set)."""
    return not (_set(ALL_OFF) or _set(TRICKS[name].switch))
