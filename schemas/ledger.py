"""The ledger's contract: one record per input row and its fate (``ledger-staging.csv`` / ``ledger.csv``).

Fates: ``staged``, ``rejected``, ``superseded`` while staging; ``imported`` or ``failed`` once the
import jobs are final. ``part``/``part_row`` locate a staged row in its import file; ``detail``
says why (never a raw value).
"""

from __future__ import annotations

import pyarrow as pa

COLUMNS = ("source", "row", "fate", "part", "part_row", "detail")
SCHEMA = pa.schema([("source", pa.string()), ("row", pa.int64()), ("fate", pa.string()), ("part", pa.string()),
                    ("part_row", pa.int64()), ("detail", pa.string())])
