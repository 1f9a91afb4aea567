"""Demographic: Locale → ``ll_CC``, Timezone → IANA name, Platform and Make → lower case.

Time zones: a value is matched case-insensitively (spaces read as ``_``) against
``zoneinfo.available_timezones()`` and written in its tz database spelling
(``america/los_angeles`` → ``America/Los_Angeles``). Legacy link names (``US/Pacific``,
``Asia/Calcutta``) are valid tz database names that Pinpoint accepts, so they are kept (only their
case is fixed), not rewritten to the zone they link to: rewriting would change user data without
making it more valid. ``localtime`` and ``Factory`` are not accepted.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

import pandas as pd
import pycountry

from pinpoint_etl.transforms.strings import map_unique, set_predicate, unique_predicate
from pinpoint_etl.transforms.location import alpha2_codes, country_code

#: lower-case platform spellings → Pinpoint's lower-case platform name
PLATFORM_SYNONYMS: dict[str, str] = {
    "ios": "ios", "iphone os": "ios", "iphoneos": "ios", "iphone": "ios", "ipados": "ios",
    "ipad os": "ios", "apple ios": "ios",
    "android": "android", "android os": "android", "androidos": "android", "google android": "android",
    "macos": "macos", "mac os": "macos", "mac os x": "macos", "macosx": "macos", "os x": "macos",
    "osx": "macos",
    "windows": "windows", "win": "windows", "win32": "windows", "win64": "windows",
    "windows nt": "windows", "microsoft windows": "windows",
    "web": "web", "browser": "web",
}
_EXCLUDED_ZONES = frozenset({"localtime", "Factory", "posixrules"})
_LOCALE = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z]{4})?[-_]([A-Za-z]{2,3})(?:[.@].*)?")
_CANONICAL_LOCALE = re.compile(r"[a-z]{2}_[A-Z]{2}")


@lru_cache(maxsize=1)
def _languages() -> dict[str, str]:
    """ISO 639 code (alpha-2, alpha-3, bibliographic) → ISO 639-1 alpha-2, for languages that have one."""
    table: dict[str, str] = {}
    for lang in pycountry.languages:
        two = getattr(lang, "alpha_2", None)
        if not two:
            continue
        for code in (two, getattr(lang, "alpha_3", None), getattr(lang, "bibliographic", None)):
            if code:
                table.setdefault(code.lower(), two)
    return table


@lru_cache(maxsize=1)
def timezones() -> frozenset[str]:
    """Accepted tz database names (``zoneinfo.available_timezones()`` less non-zones)."""
    return frozenset(zoneinfo.available_timezones()) - _EXCLUDED_ZONES


@lru_cache(maxsize=1)
def _timezone_table() -> dict[str, str]:
    return {name.lower(): name for name in sorted(timezones())}


@lru_cache(maxsize=4096)
def canonical_locale(text: str) -> str:
    """``ll_CC`` for en-US / en_us / EN-us / en_US.UTF-8 / eng-USA / zh-Hant-TW…, else ``text``."""
    m = _LOCALE.fullmatch(text.strip())
    if not m:
        return text
    lang = _languages().get(m.group(1).lower())
    region = country_code(m.group(2))
    if lang is None or region is None:
        return text
    return f"{lang}_{region}"


@lru_cache(maxsize=4096)
def canonical_timezone(text: str) -> str:
    """The tz database spelling of ``text`` (case-insensitive, spaces as ``_``), else ``text``."""
    key = "_".join(text.strip().split()).lower()
    return _timezone_table().get(key, text)


@lru_cache(maxsize=4096)
def canonical_platform(text: str) -> str:
    """Lower case with whitespace collapsed, common synonyms mapped (``iPhone OS`` → ``ios``)."""
    key = " ".join(text.split()).lower()
    return PLATFORM_SYNONYMS.get(key, key)


def normalise_locale(series: pd.Series) -> tuple[pd.Series, int]:
    """Demographic.Locale → ``ll_CC``; unknown language or country left as is."""
    return map_unique(series, canonical_locale)


def normalise_timezone(series: pd.Series) -> tuple[pd.Series, int]:
    """Demographic.Timezone → tz database spelling; unknown names left as is."""
    return map_unique(series, canonical_timezone)


def normalise_platform(series: pd.Series) -> tuple[pd.Series, int]:
    """Demographic.Platform → lower case with synonyms (ios, android, macos, windows, web)."""
    return map_unique(series, canonical_platform)


def normalise_make(series: pd.Series) -> tuple[pd.Series, int]:
    """Demographic.Make → lower case."""
    return map_unique(series, str.lower)


def _is_locale(value: str) -> bool:
    return (bool(_CANONICAL_LOCALE.fullmatch(value)) and value[:2] in _languages()
            and _languages()[value[:2]] == value[:2] and value[3:] in alpha2_codes())


def is_locale(series: pd.Series) -> pd.Series:
    """True where the value is ``ll_CC`` with a known ISO 639-1 language and ISO 3166-1 country."""
    return unique_predicate(series, _is_locale)


def is_timezone(series: pd.Series) -> pd.Series:
    """True where the value is exactly an accepted tz database name (missing → True)."""
    return set_predicate(series, timezones())
