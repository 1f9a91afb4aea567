"""ChannelType: case-insensitive onto Pinpoint's enum (reference §6.2)."""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from pinpoint_etl.core.catalogue import CHANNEL_TYPES
from pinpoint_etl.transforms.strings import map_unique, set_predicate

#: spellings seen in the wild → enum value (keys upper-case, separators as "_")
CHANNEL_ALIASES: dict[str, str] = {
    "FCM": "GCM",          # Firebase Cloud Messaging is the GCM channel in Pinpoint
    "E_MAIL": "EMAIL",
    "MAIL": "EMAIL",
    "INAPP": "IN_APP",
}
_SEP = re.compile(r"[\s\-]+")
_CHANNELS = frozenset(CHANNEL_TYPES)


@lru_cache(maxsize=1024)
def canonical_channel(value: str) -> str:
    """Enum spelling of ``value`` (trimmed, any case, '-' or ' ' for '_'), or ``value`` unchanged."""
    key = _SEP.sub("_", value.strip()).upper()
    if key in _CHANNELS:
        return key
    return CHANNEL_ALIASES.get(key, value)


def normalise_channel_type(series: pd.Series) -> tuple[pd.Series, int]:
    """Map ChannelType values onto the enum; unknown values are left as they are."""
    return map_unique(series, canonical_channel)


def is_channel_type(series: pd.Series) -> pd.Series:
    """True where the value is exactly one of the enum values (missing → True)."""
    return set_predicate(series, _CHANNELS)
