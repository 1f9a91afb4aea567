"""The field catalogue moved to ``core.catalogue`` (below both ``schemas`` and ``transforms``, which
both read it). Only the local service (``local/``, being reworked on the ``local-store`` branch, which
gives it its own copy of the documented limits) still imports it from here: delete this file once
that lands."""

from pinpoint_etl.core.catalogue import *  # noqa: F401,F403
