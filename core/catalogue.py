"""The catalogue of Pinpoint endpoint column names used everywhere in the pipeline.

Records travel through the pipeline as flat tables of text columns named with the dotted
names of the Pinpoint import format (``Location.Country``, ``User.UserAttributes.FirstName``).
A multi-value attribute (repeated CSV header, or a JSON array) occupies several *slot*
columns: the first value in ``Attributes.Interests``, the second in ``Attributes.Interests#2``
and so on (``#`` is a character Pinpoint tells users to avoid in attribute names).
Two bookkeeping columns travel with every record: ``_source`` (file) and ``_row``
(1-based data row, or line number for NDJSON).
"""

from __future__ import annotations

import re
from typing import Final

from pinpoint_etl.core.errors import ColumnError

SOURCE_COL: Final = "_source"
ROW_COL: Final = "_row"
META_COLS: Final = (SOURCE_COL, ROW_COL)

CHANNEL_TYPES: Final = (
    "PUSH", "GCM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX",
    "ADM", "SMS", "VOICE", "EMAIL", "BAIDU", "CUSTOM", "IN_APP",
)
PHONE_CHANNELS: Final = frozenset({"SMS", "VOICE"})
PUSH_CHANNELS: Final = frozenset({
    "PUSH", "GCM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "ADM", "BAIDU",
})
OPT_OUT_VALUES: Final = ("ALL", "NONE")

# Scalar fields of the import format (UG-import "Supported attributes"), in output order.
# EndpointStatus and EffectiveDate are deliberately absent: the reference says not to emit them.
SCALAR_FIELDS: Final = (
    "Id", "ChannelType", "Address", "OptOut", "RequestId",
    "Location.Country", "Location.Region", "Location.City", "Location.PostalCode",
    "Location.Latitude", "Location.Longitude",
    "Demographic.AppVersion", "Demographic.Locale", "Demographic.Make", "Demographic.Model",
    "Demographic.ModelVersion", "Demographic.Platform", "Demographic.PlatformVersion",
    "Demographic.Timezone",
    "User.UserId",
)
# Prefixes of custom-attribute families: name after the prefix is user-chosen.
ATTRIBUTE_PREFIXES: Final = ("Attributes.", "User.UserAttributes.")  # lists of strings
METRIC_PREFIX: Final = "Metrics."  # doubles
CUSTOM_PREFIXES: Final = (*ATTRIBUTE_PREFIXES, METRIC_PREFIX)

MAX_ATTRIBUTE_NAME: Final = 50
MAX_ATTRIBUTE_VALUE: Final = 100
MAX_VALUES_PER_ATTRIBUTE: Final = 50
MAX_CUSTOM_ATTRIBUTES: Final = 250
MAX_ENDPOINT_BYTES: Final = 15 * 1024
MAX_ENDPOINTS_PER_USER: Final = 15
MAX_JOB_BYTES: Final = 1024 ** 3

_SCALAR_BY_LOWER: Final = {name.lower(): name for name in SCALAR_FIELDS}
_PREFIX_BY_LOWER: Final = {p.lower(): p for p in CUSTOM_PREFIXES}
_SLOT_RE: Final = re.compile(r"^(?P<base>.+)#(?P<n>[2-9]|[1-9]\d+)$")


def slot_name(base: str, index: int) -> str:
    """Column name of the ``index``-th (0-based) value of multi-value attribute ``base``."""
    return base if index == 0 else f"{base}#{index + 1}"


def base_name(column: str) -> str:
    """The attribute a slot column belongs to (``Attributes.X#3`` → ``Attributes.X``)."""
    m = _SLOT_RE.match(column)
    return m.group("base") if m else column


def is_multi_value(name: str) -> bool:
    """True for attribute families whose values are lists of strings."""
    return name.startswith(ATTRIBUTE_PREFIXES)


def canonical_name(name: str) -> str | None:
    """The Pinpoint spelling of ``name`` matched case-insensitively, or None if it is not one.

    Known fields match whatever their case (``location.country`` → ``Location.Country``); for
    custom attributes the prefix is canonicalised and the user's attribute name kept as is.
    """
    stripped = name.strip()
    lowered = stripped.lower()
    if lowered in _SCALAR_BY_LOWER:
        return _SCALAR_BY_LOWER[lowered]
    for low_prefix, prefix in _PREFIX_BY_LOWER.items():
        if lowered.startswith(low_prefix) and len(stripped) > len(prefix):
            return prefix + stripped[len(prefix):]
    return None


def custom_attribute_names(columns) -> list[str]:
    """Distinct custom attribute names (Attributes/User.UserAttributes/Metrics) among ``columns``."""
    seen: dict[str, None] = {}
    for col in columns:
        base = base_name(col)
        if base.startswith(CUSTOM_PREFIXES):
            seen[base] = None
    return list(seen)


def attribute_key(name: str) -> str:
    """The user-chosen part of a custom attribute name (``Metrics.sessions`` → ``sessions``)."""
    for prefix in CUSTOM_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def check_columns(columns: list[str], *, existing_custom: int = 0) -> None:
    """Column-level rules, checked once per run before anything is uploaded (ColumnError)."""
    too_long = [c for c in custom_attribute_names(columns)
                if len(attribute_key(c)) > MAX_ATTRIBUTE_NAME]
    if too_long:
        names = ", ".join(f"{c} ({len(attribute_key(c))} characters)" for c in too_long[:5])
        raise ColumnError(f"attribute names longer than {MAX_ATTRIBUTE_NAME} characters: {names}; "
                          "rename them with --map SOURCE=Attributes.<shorter name>")
    custom = custom_attribute_names(columns)
    if len(custom) + existing_custom > MAX_CUSTOM_ATTRIBUTES:
        raise ColumnError(f"{len(custom)} custom attributes (Attributes, User.UserAttributes and Metrics) "
                          f"exceed Pinpoint's {MAX_CUSTOM_ATTRIBUTES} per application; "
                          "drop some with --map NAME=-")
