"""Preloaded by the worker processes' fork server (``staging.executors``): imports the chunk code
and warms it once, so every forked worker starts with the modules imported, the Pandera schema
built and the lookup tables loaded (about 3 s of work per process otherwise).

Pandera imports ``dask.dataframe`` and ``hypothesis`` whenever they are installed (for its Dask
types and data synthesis), which workers never use: 1.2 s and 30 MB of every run. They are hidden
while the fork server warms (Pandera then records them as absent) and importable again after.
The warmed objects are then frozen out of the cyclic GC's reach (``gc.freeze``), so that workers
keep sharing their pages.
"""

import gc
import sys

_UNUSED = ("dask.dataframe", "hypothesis")

_hidden = [name for name in _UNUSED if name not in sys.modules]
for name in _hidden:
    sys.modules[name] = None  # type: ignore[assignment] - makes ``import name`` raise ImportError
try:
    from pinpoint_etl.staging.chunks import warm

    warm()
finally:
    for name in _hidden:
        sys.modules.pop(name, None)
# What the fork server holds now is every worker's too, shared until written. The cyclic GC writes
# to every object it examines, so a worker's full collections copied these pages one by one: the
# tree grew by ~40 MB over a 5M-row run. Frozen, the GC leaves them alone (in every worker).
gc.freeze()
