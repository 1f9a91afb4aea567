"""Which columns an export writes, in which order: the import layout, then (on request) the export-only fields.

The import-ready columns are the documented scalar fields and the custom attributes (a multi-value
attribute's slots as repeated columns), ordered as the import orders its staged files
(``staging.writers.ordered_columns``); ``export_fields`` appends ApplicationId, CohortId, CreationDate,
EffectiveDate and EndpointStatus in that order. An empty export still has a header.
"""

from __future__ import annotations

from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.schemas.exported import EXPORT_ONLY_FIELDS
from pinpoint_etl.staging.writers import ordered_columns

EMPTY_HEADER = ["Id", "ChannelType", "Address"]


def is_import_column(column: str) -> bool:
    """True for columns of the import-ready layout (documented fields and custom attributes)."""
    base = cat.base_name(column)
    if base in cat.SCALAR_FIELDS:
        return column == base
    return base.startswith(cat.CUSTOM_PREFIXES) and len(cat.attribute_key(base)) > 0 and (
        column == base or cat.is_multi_value(base))


def _slot(column: str) -> int:
    return 1 if column == cat.base_name(column) else int(column.rsplit("#", 1)[1])


def output_columns(columns: list[str], export_fields: bool = False) -> list[str]:
    """The columns written, in order (see module docstring)."""
    tail = []
    if export_fields:
        rank = {name: i for i, name in enumerate(EXPORT_ONLY_FIELDS)}
        tail = sorted((c for c in columns if cat.base_name(c) in rank),
                      key=lambda c: (rank[cat.base_name(c)], _slot(c)))
    return ordered_columns([c for c in columns if is_import_column(c)]) + tail or list(EMPTY_HEADER)
