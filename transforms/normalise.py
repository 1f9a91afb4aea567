"""``normalise``: every rule over one chunk of records, with the number of values each rule changed.

Order: text rules on every column except ``_source``/``_row`` (line breaks/tabs → space, then trim,
blank → missing), then the field rules, each seeing the output of the rules before it:
ChannelType, Location.Country, Address (by the row's normalised channel and country),
coordinates, location text, locale, time zone, platform, make, OptOut, Metrics.*. Normalisers
canonicalise what they can and leave every other value exactly as it was; the schema rejects it.
Last, values a spreadsheet would run as formulas are counted per field (``formula:<field>``, see
``transforms.formula``), not changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from pinpoint_etl.core.errors import ConfigError
from pinpoint_etl.core.memory import release_arrow_memory
from pinpoint_etl.core.catalogue import META_COLS, METRIC_PREFIX, base_name
from pinpoint_etl.transforms.address import normalise_address
from pinpoint_etl.transforms.channel import normalise_channel_type
from pinpoint_etl.transforms.strings import to_arrow
from pinpoint_etl.transforms.formula import PREFIX as FORMULA_PREFIX
from pinpoint_etl.transforms.formula import formula_like, judged
from pinpoint_etl.transforms.demographic import normalise_locale, normalise_make, normalise_platform, normalise_timezone
from pinpoint_etl.transforms.location import (
    country_code,
    normalise_country,
    normalise_latitude,
    normalise_location_text,
    normalise_longitude,
)
from pinpoint_etl.transforms.phone import PHONE_REGIONS
from pinpoint_etl.transforms.text import replace_control_chars, trim
from pinpoint_etl.transforms.values import normalise_metric, normalise_opt_out

#: rule names: the keys of ``NormaliseResult.changes`` (always all present; run order: see module doc)
RULES: tuple[str, ...] = (
    "channel_type", "address_phone", "address_email", "address_push", "country", "lat_lon",
    "location_text", "locale", "timezone", "platform", "make", "opt_out", "metrics",
    "control_chars", "trim",
)

_FIELD_RULES: tuple[tuple[str, str, Callable[[pd.Series], tuple[pd.Series, int]]], ...] = (
    ("Location.Latitude", "lat_lon", normalise_latitude),
    ("Location.Longitude", "lat_lon", normalise_longitude),
    ("Location.Region", "location_text", normalise_location_text),
    ("Location.City", "location_text", normalise_location_text),
    ("Location.PostalCode", "location_text", normalise_location_text),
    ("Demographic.Locale", "locale", normalise_locale),
    ("Demographic.Timezone", "timezone", normalise_timezone),
    ("Demographic.Platform", "platform", normalise_platform),
    ("Demographic.Make", "make", normalise_make),
    ("OptOut", "opt_out", normalise_opt_out),
)


@dataclass
class NormaliseResult:
    """A normalised chunk and the number of values each rule changed."""

    frame: pd.DataFrame  # same index, same columns, normalised
    changes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RULES, 0))
    #: values noted, not changed: formula-like values per field (``formula:<field>``)
    notes: dict[str, int] = field(default_factory=dict)


def phone_region(default_region: str | None) -> str | None:
    """``default_region`` as a phonenumbers region code (``us``, ``USA`` → ``US``); ConfigError if unknown."""
    if default_region is None or not default_region.strip():
        return None
    code = country_code(default_region)
    if code not in PHONE_REGIONS:
        raise ConfigError(f"default region {default_region!r} is not a country with phone numbering "
                          "metadata; give an ISO 3166-1 alpha-2 code such as US or GB")
    return code


def normalise(frame: pd.DataFrame, *, default_region: str | None = None) -> NormaliseResult:
    """Normalise one chunk (text columns with Pinpoint names). The input frame is not modified."""
    region = phone_region(default_region)
    if frame.columns.has_duplicates:
        raise ValueError("normalise() needs unique column names; slots are named X, X#2, …")
    changes = dict.fromkeys(RULES, 0)
    out = frame.copy(deep=False)

    def apply(column: str, rule: str, fn: Callable[[pd.Series], tuple[pd.Series, int]]) -> None:
        values, n = fn(out[column])
        if n:
            out[column] = values
            changes[rule] += n

    for column in frame.columns:
        if column in META_COLS:
            continue
        apply(column, "control_chars", replace_control_chars)
        apply(column, "trim", trim)

    if "ChannelType" in out.columns:
        apply("ChannelType", "channel_type", normalise_channel_type)
    if "Location.Country" in out.columns:
        apply("Location.Country", "country", normalise_country)
    if "Address" in out.columns and "ChannelType" in out.columns:
        country = out["Location.Country"] if "Location.Country" in out.columns else None
        values, counts = normalise_address(out["Address"], out["ChannelType"], country,
                                           default_region=region)
        if any(counts.values()):
            out["Address"] = values
            for rule, n in counts.items():
                changes[rule] += n
        del values
        release_arrow_memory()  # the address rule's temporaries are a chunk's largest
    for column, rule, fn in _FIELD_RULES:
        if column in out.columns:
            apply(column, rule, fn)
    for column in frame.columns:
        if base_name(column).startswith(METRIC_PREFIX):
            apply(column, "metrics", normalise_metric)
    notes: dict[str, int] = {}
    for column in frame.columns:
        if column in META_COLS or not judged(base_name(column)):
            continue
        if n := int(formula_like(to_arrow(out[column])).sum()):
            key = FORMULA_PREFIX + base_name(column)
            notes[key] = notes.get(key, 0) + n
    return NormaliseResult(frame=out, changes=changes, notes=notes)
