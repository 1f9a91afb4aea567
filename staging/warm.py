"""Preloaded by the worker processes' fork server (``staging.executors``): imports the chunk code
and warms it once, so every forked worker starts with the modules imported, the Pandera schema
built and the lookup tables loaded (about 3 s of work per process otherwise)."""

from staging.chunks import warm

warm()
