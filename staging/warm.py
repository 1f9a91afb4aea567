"""Preloaded by the worker processes' fork server (``staging.executors``): imports the chunk code
and warms it once, so every forked worker starts with the modules imported, the Pandera schema
built and the lookup tables loaded. Three process-wide tricks (``core.tricks``) live here:

* ``hide_unused_imports``: Pandera imports ``dask.dataframe`` and ``hypothesis`` whenever they are
  installed (for its Dask types and data synthesis), which workers never use. They are hidden while
  the fork server warms (Pandera then records them as absent) and importable again after.
* ``gc_freeze``: the warmed objects are then frozen out of the cyclic GC's reach (``gc.freeze``).
  The cyclic GC writes to every object it examines, so the workers' full collections would copy the
  pages they share with the fork server one by one.
"""

import gc
import sys

from pinpoint_etl.core import tricks

_UNUSED = ("dask.dataframe", "hypothesis")

_hidden = [name for name in _UNUSED if name not in sys.modules] if tricks.enabled("hide_unused_imports") else []
for name in _hidden:
    sys.modules[name] = None  # type: ignore[assignment] - makes ``import name`` raise ImportError
try:
    from pinpoint_etl.staging.chunks import warm

    warm()
finally:
    for name in _hidden:
        sys.modules.pop(name, None)
if tricks.enabled("gc_freeze"):
    gc.freeze()
