"""Split a validated chunk into valid rows and rejects, from Pandera's lazy failure cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.api.pandas.components import Column
from pandera.backends.pandas.components import ColumnBackend
from pandera.errors import FailureCaseMetadata

from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.core import tricks
from pinpoint_etl.schemas.endpoint import ImportEndpoint


class _ColumnBackend(ColumnBackend):
    """Pandera's column backend, less the summary it builds for every failing column.

    In lazy validation each failing column raises a ``SchemaErrors`` that the frame's backend only
    unpacks (``err.schema_errors``) to build the one summary we read; building the column's own
    (consolidated failure cases, message) was a large share of Pandera's time on a chunk (a process-wide trick: ``core.tricks``). Registered for every ``Column`` checked in a frame: a ``Column`` validated on its
    own would raise ``SchemaErrors`` without ``failure_cases`` (nothing here does that).
    """

    def failure_cases_metadata(self, schema_name, schema_errors) -> FailureCaseMetadata:
        return FailureCaseMetadata(failure_cases=None, message={}, error_counts={})


if tricks.enabled("pandera_column_backend"):
    Column.register_backend(pd.DataFrame, _ColumnBackend, force=True)

_PER_COLUMN = frozenset({"value contains a control character", "value is a JSON object, not text"})


def _reason(column: object, check: object) -> str:
    check = str(check)
    base = cat.base_name(str(column))
    if check.startswith("str_length"):
        limit = check.rstrip(")").rsplit(",", 1)[-1].strip()
        return f"{base} value is longer than {limit} characters"
    if check in _PER_COLUMN:
        return f"{base} {check}"
    return check


def validate_chunk(frame: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Validate ``frame`` lazily; return (valid: a numpy bool per row, reasons per rejected row index).

    Reasons are the schema's messages: they name the field and the rule, never the value,
    so they are safe to show in logs and artifacts.
    """
    try:
        # nothing is coerced or filled in, so in place changes nothing but Pandera's copies of the frame
        ImportEndpoint.validate(frame, lazy=True, inplace=True)
        return np.ones(len(frame), dtype=bool), pd.Series([], dtype=object)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        cases = cases[cases["index"].notna()]
        if cases.empty:  # a schema-wide failure with no row: nothing is row-specific
            raise
        # the error holds the chunk and Pandera's frames, in a reference cycle through its
        # traceback: drop that now, or each worker keeps chunks alive until the cyclic GC runs
        exc.__traceback__ = None
    reasons_by_row: dict[object, list[str]] = {}
    reason_of: dict[tuple, str] = {}  # a row-level check fails once per column of each failing row
    for idx, column, check in zip(cases["index"].tolist(), cases["column"].tolist(), cases["check"].tolist()):
        bucket = reasons_by_row.setdefault(idx, [])
        reason = reason_of.get((column, check))
        if reason is None:
            reason = reason_of[(column, check)] = _reason(column, check)
        if reason not in bucket:
            bucket.append(reason)
    reasons = pd.Series(reasons_by_row, dtype=object)
    return ~frame.index.isin(reasons.index), reasons
