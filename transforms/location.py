"""Location: Country → ISO 3166-1 alpha-2, Latitude/Longitude → one decimal, text fields tidied.

Country lookup (exact table, no fuzzy search): alpha-2 and alpha-3 codes in any case, pycountry's
English ``name``/``official_name``/``common_name``, and :data:`COUNTRY_ALIASES`, compared
case-insensitively with whitespace collapsed, dots optional (``U.S.A.``) and accents optional
(``Cote d'Ivoire``); then the country names of every language CLDR knows (babel: ``Deutschland``,
``España``, ``Österreich``, ``日本``), less the few names two countries share (``Kongo``) or that
more languages use for a region (``Amerika``). Accents are folded with *canonical* decomposition
only and a folded key must be ASCII, so look-alike letters from other scripts (Cyrillic ``А`` in
``Аustria``) or compatibility forms (full-width ``ＵＳ``) never match: such values are left as they
are for the schema to reject. The CLDR table is read on the first value the English table does not
know (built once, in a child process, then cached on disk: ``transforms.cldr_countries``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pycountry

from pinpoint_etl.transforms.strings import (
    bool_series,
    count_changed,
    from_arrow,
    map_unique,
    per_unique,
    replace_where,
    set_predicate,
    to_arrow,
    to_numpy_bool,
)
from pinpoint_etl.transforms.cldr_countries import fold, key
from pinpoint_etl.transforms.text import collapse_whitespace
from pinpoint_etl.transforms.values import parse_number, parse_numbers

#: common names and abbreviations pycountry does not carry → alpha-2
COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB",
    "us": "US", "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states of america": "US",
    "the united states": "US", "the united states of america": "US", "the us": "US", "the usa": "US",
    "russia": "RU", "korea": "KR", "republic of korea": "KR", "korea, south": "KR",
    "korea, north": "KP", "dprk": "KP", "czech republic": "CZ", "the netherlands": "NL",
    "holland": "NL", "ivory coast": "CI", "macedonia": "MK", "turkey": "TR", "swaziland": "SZ",
    "burma": "MM", "cape verde": "CV", "east timor": "TL", "vatican": "VA", "vatican city": "VA",
    "palestine": "PS", "brunei": "BN", "micronesia": "FM", "uae": "AE", "the bahamas": "BS",
    "the gambia": "GM", "macau": "MO", "dr congo": "CD", "drc": "CD",
    "democratic republic of the congo": "CD", "republic of the congo": "CG",
    "congo-kinshasa": "CD", "congo-brazzaville": "CG", "us virgin islands": "VI",
    "u.s. virgin islands": "VI", "british virgin islands": "VG", "falkland islands": "FK",
    "st. lucia": "LC", "st lucia": "LC", "st. kitts and nevis": "KN", "saint kitts": "KN",
    "st. vincent and the grenadines": "VC", "sao tome and principe": "ST",
}


_key, _fold = key, fold


@lru_cache(maxsize=1)
def _country_table() -> dict[str, str]:
    table: dict[str, str] = {}

    def add(name: str | None, code: str) -> None:
        if not name:
            return
        key = _key(name)
        for variant in (key, _fold(key), key.replace(".", "")):
            if variant.isascii() or variant == key:
                table.setdefault(variant, code)

    countries = list(pycountry.countries)
    for c in countries:  # codes win over names
        add(c.alpha_2, c.alpha_2)
        add(c.alpha_3, c.alpha_2)
    for alias, code in COUNTRY_ALIASES.items():
        add(alias, code)
    for c in countries:
        for attr in ("name", "official_name", "common_name"):
            add(getattr(c, attr, None), c.alpha_2)
    return table


@lru_cache(maxsize=1)
def alpha2_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes known to pycountry."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


@lru_cache(maxsize=1)
def _cldr_table() -> dict[str, str]:
    """Country names in every language of CLDR → alpha-2 (``transforms.cldr_countries``)."""
    from pinpoint_etl.transforms.cldr_countries import load

    return load()


@lru_cache(maxsize=4096)
def country_code(text: str) -> str | None:
    """Alpha-2 code for a country code/name/alias (see module docstring), or None."""
    table = _country_table()
    key = _key(text)
    if key in table:
        return table[key]
    for variant in (key.replace(".", ""), _fold(key)):
        if variant.isascii() and variant in table:
            return table[variant]
    if not key:
        return None
    cldr = _cldr_table()
    if key in cldr:
        return cldr[key]
    for variant in (key.replace(".", ""), _fold(key)):
        if variant.isascii() and variant in cldr:
            return cldr[variant]
    return None


def canonical_country(text: str) -> str:
    """Alpha-2 code for ``text``, or ``text`` unchanged if it is not a known country."""
    return country_code(text) or text


def normalise_country(series: pd.Series) -> tuple[pd.Series, int]:
    """Location.Country → ISO 3166-1 alpha-2; unknown values left as they are."""
    return map_unique(series, canonical_country)


def is_country_alpha2(series: pd.Series) -> pd.Series:
    """True where the value is an ISO 3166-1 alpha-2 code (upper case; missing → True)."""
    return set_predicate(series, alpha2_codes())


#: coordinates already written as :func:`canonical_coordinate` writes them ("-0.0" excepted)
_CANONICAL_COORDINATE_RE = {
    90.0: r"^-?(?:[0-9]|[1-8][0-9])\.[0-9]$|^-?90\.0$",
    180.0: r"^-?(?:[0-9]|[1-9][0-9]|1[0-7][0-9])\.[0-9]$|^-?180\.0$",
}


def canonical_coordinate(text: str, limit: float) -> str | None:
    """``text`` as a number within ±``limit`` rounded to one decimal (``"47.0"``), or None."""
    value = parse_number(text)
    if value is None or abs(value) > limit:
        return None
    rendered = f"{value:.1f}"
    return "0.0" if rendered == "-0.0" else rendered


def _canonical_mask(arr: pa.Array, limit: float) -> np.ndarray:
    def canonical(values: pa.Array) -> np.ndarray:
        ok = to_numpy_bool(pc.match_substring_regex(values, _CANONICAL_COORDINATE_RE[limit]))
        return ok & ~to_numpy_bool(pc.equal(values, "-0.0"))

    return per_unique(arr, canonical)


def _round_coordinates(arr: pa.Array, limit: float) -> pa.Array:
    """Vectorised :func:`canonical_coordinate` (nulls where None).

    ``rint(x*10)/10`` equals Python's correctly rounded ``f"{x:.1f}"`` unless ``x*10`` lies within
    rounding error of a half; those near-ties are formatted in Python.
    """
    ok, values = parse_numbers(arr)
    ok &= np.abs(np.where(ok, values, 0.0)) <= limit
    out = pa.nulls(len(arr), type=arr.type)
    if not ok.any():
        return out
    scaled = np.where(ok, values, 0.0) * 10
    near_tie = ok & (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    vector = ok & ~near_tie
    if vector.any():
        rounded = np.rint(scaled[vector]) / 10 + 0.0  # + 0.0 turns -0.0 into 0.0
        text = pc.cast(pa.array(rounded), arr.type)  # shortest round-trip digits: "47.6", "47"
        text = pc.if_else(pc.match_substring(text, "."), text,
                          pc.binary_join_element_wise(text, pa.scalar(".0", type=arr.type),
                                                      pa.scalar("", type=arr.type)))
        out = replace_where(out, vector, text)
    if near_tie.any():
        ties = [canonical_coordinate(v, limit) for v in arr.filter(pa.array(near_tie)).to_pylist()]
        out = replace_where(out, near_tie, pa.array(ties, type=arr.type))
    return out


def _normalise_coordinate(series: pd.Series, limit: float) -> tuple[pd.Series, int]:
    arr = to_arrow(series)
    if len(arr) == 0 or arr.null_count == len(arr):
        return series, 0
    rest = ~_canonical_mask(arr, limit) & arr.is_valid().to_numpy(zero_copy_only=False)
    if not rest.any():
        return series, 0
    sub = arr.filter(pa.array(rest))
    rendered = _round_coordinates(sub, limit)
    out = replace_where(arr, rest, pc.if_else(pc.is_valid(rendered), rendered, sub))
    changed = count_changed(arr, out)
    return (from_arrow(out, series), changed) if changed else (series, 0)


def normalise_latitude(series: pd.Series) -> tuple[pd.Series, int]:
    """Location.Latitude → one decimal in -90..90; other values left as they are."""
    return _normalise_coordinate(series, 90.0)


def normalise_longitude(series: pd.Series) -> tuple[pd.Series, int]:
    """Location.Longitude → one decimal in -180..180; other values left as they are."""
    return _normalise_coordinate(series, 180.0)


def _is_coordinate(series: pd.Series, limit: float) -> pd.Series:
    arr = to_arrow(series)
    return bool_series(_canonical_mask(arr, limit) | arr.is_null().to_numpy(zero_copy_only=False), series)


def is_latitude(series: pd.Series) -> pd.Series:
    """True where the value is a latitude written with one decimal (missing → True)."""
    return _is_coordinate(series, 90.0)


def is_longitude(series: pd.Series) -> pd.Series:
    """True where the value is a longitude written with one decimal (missing → True)."""
    return _is_coordinate(series, 180.0)


def normalise_location_text(series: pd.Series) -> tuple[pd.Series, int]:
    """Location.Region / City / PostalCode: trimmed, inner whitespace runs → one space."""
    return collapse_whitespace(series)
