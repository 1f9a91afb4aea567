"""Phone numbers → E.164 (reference §6.2: SMS/VOICE addresses are E.164).

Canonical form: ``+`` country code + national significant number, valid per phonenumbers
(``is_valid_number`` on the number those digits spell). Values are never guessed into a country:
a national number is read with the row's region (its normalised Location.Country, else the
``default_region``); a value that cannot be made valid is left exactly as it was.

Speed: phonenumbers is slow to parse and to validate one number, and addresses are
nearly all distinct, so a Python call per value would dominate the pipeline. Instead:

- validity of an E.164-shaped string is computed vectorised: numbers are grouped by country
  calling code and length, and phonenumbers' own metadata patterns (general description, then the
  number-type descriptions, then leading digits to pick the region where a code is shared, exactly
  as ``is_valid_number`` does) run as RE2 regexes in Arrow over each group;
- a value starting with '+' is tried as E.164 once spaces, dots, dashes, slashes and brackets are
  removed;
- a national number written with digits and those separators only is read vectorised by a port
  of the default-region branch of ``phonenumbers.parse`` (national prefix stripping and length
  test, per region), for regions without a prefix transform rule;
- everything else (IDD prefixes, the country code written without '+', AR/BR/JP-style transform
  rules, letters, extensions) goes through ``phonenumbers.parse`` once per distinct value/region
  pair (LRU-cached), its result validated by the same vectorised check.

The tests compare each fast path with phonenumbers on every region's example numbers (as E.164,
international and national text) and their mutations.
"""

from __future__ import annotations

import re
import threading
from functools import cache, lru_cache

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, NumberParseException, PhoneNumberFormat
from phonenumbers.phonemetadata import PhoneMetadata

from pinpoint_etl.transforms.strings import bool_series, count_changed, from_arrow, replace_where, to_arrow, to_numpy_bool

#: an E.164-shaped string (validity is decided by the metadata)
E164_SHAPE_RE = r"^\+[1-9][0-9]{1,19}$"
#: characters dropped from a value that starts with '+' before testing it as E.164
_SEPARATORS_RE = r"[\s\x{A0}().\-/]"
_TYPE_DESCS = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
               "uan", "voicemail", "fixed_line", "mobile")
_CC_BY_LEN: dict[int, pa.Array] = {
    k: pa.array(sorted(str(cc) for cc in COUNTRY_CODE_TO_REGION_CODE if len(str(cc)) == k))
    for k in (1, 2, 3)
}
#: regions phonenumbers can read national numbers for
PHONE_REGIONS: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)


def _metadata(cc: int, region: str):
    if region == "001":
        return PhoneMetadata.metadata_for_nongeo_region(cc, None)
    return PhoneMetadata.metadata_for_region(region, None)


def _applies(desc, length: int) -> bool:
    return (desc is not None and bool(desc.national_number_pattern)
            and (not desc.possible_length or length in desc.possible_length))


@cache
def _regions(cc: int) -> tuple[tuple[str, str | None, bool], ...]:
    """(region, leading-digits prefix regex or None, country code matches) for calling code ``cc``."""
    out = []
    for region in COUNTRY_CODE_TO_REGION_CODE.get(cc, ()):
        md = _metadata(cc, region)
        if md is None:
            continue
        leading = f"^(?:{md.leading_digits})" if md.leading_digits else None
        out.append((region, leading, region == "001" or md.country_code == cc))
    return tuple(out)


@lru_cache(maxsize=1024)
def _region_rules(cc: int, region: str) -> tuple[str, tuple[int, ...], tuple[tuple[frozenset[int], str], ...]]:
    """(general full-match regex, its possible lengths, ((lengths, any-number-type regex), …)).

    Lengths are grouped by the set of number types that admit them, so each regex is compiled once
    per group rather than once per length (RE2 compiles are not free).
    """
    md = _metadata(cc, region)
    if md is None or not md.general_desc or not md.general_desc.national_number_pattern:
        return "", (), ()
    lengths = tuple(md.general_desc.possible_length) or tuple(range(1, 18))
    by_types: dict[tuple[str, ...], set[int]] = {}
    for length in lengths:
        types = tuple(getattr(md, name).national_number_pattern for name in _TYPE_DESCS
                      if _applies(getattr(md, name), length))
        if types:
            by_types.setdefault(types, set()).add(length)
    groups = tuple((frozenset(ls), "^(?:" + "|".join(f"(?:{p})" for p in types) + ")$")
                   for types, ls in by_types.items())
    return f"^(?:{md.general_desc.national_number_pattern})$", lengths, groups


#: below this many values a cached Python regex beats compiling the pattern in RE2 again
_SMALL = 256


@lru_cache(maxsize=4096)
def _python_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_LONGEST = 64  # longer than any phone number length in the metadata


@lru_cache(maxsize=4096)
def _length_table(lengths: frozenset[int]) -> np.ndarray:
    table = np.zeros(_LONGEST + 1, dtype=bool)
    table[[n for n in lengths if 0 <= n < _LONGEST]] = True
    return table


def _has_length(lengths: np.ndarray, allowed) -> np.ndarray:
    """``np.isin(lengths, allowed)`` for small non-negative lengths, by table look-up (isin sorts)."""
    return _length_table(frozenset(allowed))[np.minimum(lengths, _LONGEST)]


def _match(arr: pa.Array, pattern: str) -> np.ndarray:
    """Regex search per value (patterns are anchored); nulls → False."""
    if len(arr) < _SMALL:
        rx = _python_regex(pattern)
        return np.fromiter((v is not None and rx.search(v) is not None for v in arr.to_pylist()),
                           dtype=bool, count=len(arr))
    return to_numpy_bool(pc.match_substring_regex(arr, pattern))


def _type_valid(cc: int, region: str, nsn: pa.Array, lengths: np.ndarray) -> np.ndarray:
    """phonenumbers' ``_number_type_helper(nsn) != UNKNOWN`` for each national number."""
    general, general_lengths, groups = _region_rules(cc, region)
    out = np.zeros(len(nsn), dtype=bool)
    if not general:
        return out
    idx = np.flatnonzero(_has_length(lengths, general_lengths))
    if idx.size == 0:
        return out
    sub = nsn if idx.size == len(nsn) else nsn.take(pa.array(idx))
    idx = idx[_match(sub, general)]
    for group_lengths, pattern in groups:
        sel = idx[_has_length(lengths[idx], group_lengths)]
        if sel.size:
            sub = nsn if sel.size == len(nsn) else nsn.take(pa.array(sel))
            out[sel] = _match(sub, pattern)
    return out


def _valid_for_cc(cc: int, nsn: pa.Array) -> np.ndarray:
    """``is_valid_number`` for national numbers of one calling code (region chosen as phonenumbers does)."""
    regions = _regions(cc)
    n = len(nsn)
    if not regions:
        return np.zeros(n, dtype=bool)
    lengths = pc.utf8_length(nsn).to_numpy(zero_copy_only=False)
    if len(COUNTRY_CODE_TO_REGION_CODE[cc]) == 1:
        region, _, cc_ok = regions[0]
        return _type_valid(cc, region, nsn, lengths) if cc_ok else np.zeros(n, dtype=bool)
    valid = np.zeros(n, dtype=bool)
    remaining = np.ones(n, dtype=bool)
    for region, leading, cc_ok in regions:  # first region that claims the number decides
        idx = np.flatnonzero(remaining)
        if idx.size == 0:
            break
        sub = nsn.take(pa.array(idx))
        if leading is not None:
            chosen = _match(sub, leading)
            if chosen.any() and cc_ok:
                sel = np.flatnonzero(chosen)
                valid[idx[sel]] = _type_valid(cc, region, sub.take(pa.array(sel)), lengths[idx[sel]])
        else:
            chosen = _type_valid(cc, region, sub, lengths[idx])
            valid[idx[chosen]] = cc_ok
        remaining[idx[chosen]] = False
    return valid


def e164_valid(arr: pa.Array) -> np.ndarray:
    """Numpy bools: the string is ``+digits`` and those digits are a valid number (null → False)."""
    out = np.zeros(len(arr), dtype=bool)
    if len(arr) == 0:
        return out
    idx = np.flatnonzero(_match(arr, E164_SHAPE_RE))
    if idx.size == 0:
        return out
    digits = pc.utf8_slice_codeunits(arr.take(pa.array(idx)), 1)
    for k, codes in _CC_BY_LEN.items():  # calling codes are prefix-free: at most one k matches
        prefix = pc.utf8_slice_codeunits(digits, 0, k)
        sel = np.flatnonzero(to_numpy_bool(pc.is_in(prefix, value_set=codes)))
        if sel.size == 0:
            continue
        sel_arr = pa.array(sel)
        ccs = pc.cast(prefix.take(sel_arr), pa.int32()).to_numpy(zero_copy_only=False)
        nsn = pc.utf8_slice_codeunits(digits.take(sel_arr), k)
        for cc in np.unique(ccs):
            grp = np.flatnonzero(ccs == cc)
            sub = nsn if grp.size == len(nsn) else nsn.take(pa.array(grp))
            out[idx[sel[grp]]] = _valid_for_cc(int(cc), sub)
    return out


@lru_cache(maxsize=65536)
def _parse_to_e164(value: str, region: str | None) -> str | None:
    """``value`` read by phonenumbers with ``region``, written in E.164 (validity not checked)."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException:
        return None
    if number.extension:
        return None  # an extension cannot be kept in E.164: leave the value for the schema
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def parse_e164(value: str, region: str | None) -> str | None:
    """E.164 form of ``value`` read with ``region`` (phonenumbers), or None if not a valid number."""
    text = _parse_to_e164(value, region)
    return text if text is not None and bool(e164_valid(pa.array([text]))[0]) else None


#: a national number written with digits and separators only (no '+', letters, '#', ',', ';', 'x'…):
#: phonenumbers reads exactly its digits, with no extension (see :func:`_national_candidates`)
_NATIONAL_TEXT_RE = r"^[0-9 ().\-/]+$"
_MAX_INPUT = 250  # phonenumbers' _MAX_INPUT_STRING_LENGTH


def _length_accepted(md, lengths: np.ndarray) -> np.ndarray:
    """phonenumbers' ``_test_number_length`` result is IS_POSSIBLE or TOO_LONG (general description)."""
    possible = sorted(md.general_desc.possible_length)
    local = set(md.general_desc.possible_length_local_only or ())
    ok = _has_length(lengths, possible) | (lengths > possible[-1])
    return ok & ~_has_length(lengths, local)


def _national_candidates(digits: pa.Array, region: str) -> tuple[np.ndarray, pa.Array]:
    """What ``phonenumbers.parse(text, region)`` reads from national numbers made of ``digits``.

    A port of the default-country branch of ``parse`` (national prefix stripping, then the length
    test) for the cases where it is a pure function of the digits. Returns (handled, E.164 text):
    rows not handled (IDD or the country code written first, a region with a prefix transform
    rule, fewer than 3 or more than 17 digits) go to phonenumbers itself.
    """
    n = len(digits)
    md = PhoneMetadata.metadata_for_region(region, None)
    if md is None or md.national_prefix_transform_rule or not md.general_desc.possible_length:
        return np.zeros(n, dtype=bool), pa.nulls(n, type=digits.type)
    lengths = pc.utf8_length(digits).to_numpy(zero_copy_only=False)
    handled = (lengths >= 3) & (lengths <= 17)
    handled &= ~to_numpy_bool(pc.starts_with(digits, str(md.country_code)))
    if md.international_prefix:
        handled &= ~_match(digits, f"^(?:{md.international_prefix})")
    national = digits
    npfp = md.national_prefix_for_parsing
    if npfp:
        general = f"^(?:{md.general_desc.national_number_pattern})$"
        has_prefix = _match(digits, f"^(?:{npfp})")
        if has_prefix.any():
            stripped = pc.replace_substring_regex(digits, f"^(?:{npfp})", "", max_replacements=1)
            both = _match(pa.concat_arrays([digits, stripped]), general)  # one regex compile
            viable, viable_stripped = both[:n], both[n:]
            use = has_prefix & ~(viable & ~viable_stripped)
            use &= _length_accepted(md, pc.utf8_length(stripped).to_numpy(zero_copy_only=False))
            national = pc.if_else(pa.array(use), stripped, digits)
    prefix = pa.scalar(f"+{md.country_code}", type=digits.type)
    e164 = pc.binary_join_element_wise(prefix, national, pa.scalar("", type=digits.type))
    return handled, e164


def _national_fast_path(arr: pa.Array, out: pa.Array, rows: np.ndarray, regions: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """E.164 for the national numbers among ``rows`` that :func:`_national_candidates` handles.

    Returns the updated output and the rows still needing phonenumbers.
    """
    sub = arr.take(pa.array(rows))
    regs = regions.take(pa.array(rows))
    simple = (to_numpy_bool(pc.match_substring_regex(sub, _NATIONAL_TEXT_RE))
              & to_numpy_bool(pc.less_equal(pc.binary_length(sub), _MAX_INPUT))
              & to_numpy_bool(pc.is_valid(regs)))
    # without a region phonenumbers reads nothing from a value with no plus sign: nothing to do
    no_region = (to_numpy_bool(pc.is_null(regs)) & ~to_numpy_bool(pc.match_substring(sub, "+"))
                 & ~to_numpy_bool(pc.match_substring(sub, "\uff0b")))
    pending = ~simple & ~no_region
    if not simple.any():
        return out, rows[pending]
    digits = pc.replace_substring_regex(sub, "[^0-9]", "")
    reg_codes = regs.to_numpy(zero_copy_only=False)
    new_values = np.full(len(rows), None, dtype=object)
    for region in np.unique(reg_codes[simple].astype(str)):
        grp = np.flatnonzero(simple & (reg_codes == region))
        handled, e164 = _national_candidates(digits.take(pa.array(grp)), str(region))
        pending[grp[~handled]] = True
        if handled.any():
            cand = e164.filter(pa.array(handled))
            valid = e164_valid(cand)
            keep = grp[handled][valid]
            new_values[keep] = np.asarray(cand.filter(pa.array(valid)).to_pylist(), dtype=object)
    replace = np.array([v is not None for v in new_values], dtype=bool)
    if replace.any():
        mask = np.zeros(len(arr), dtype=bool)
        mask[rows[replace]] = True
        out = replace_where(out, mask, pa.array(list(new_values[replace]), type=arr.type))
    return out, rows[pending]


def _region_array(region: pd.Series | str | None, n: int, default_region: str | None) -> pa.Array:
    if isinstance(region, pd.Series):
        arr = to_arrow(region)
        known = pc.is_in(arr, value_set=pa.array(sorted(PHONE_REGIONS), type=arr.type))
        arr = pc.if_else(pc.fill_null(known, False), arr, pa.scalar(default_region, type=arr.type))
        return arr
    region = region.strip().upper() if isinstance(region, str) else region
    value = region if region in PHONE_REGIONS else default_region
    return pa.array([value] * n if value else pa.nulls(n), type=pa.large_string())


def normalise_phone(series: pd.Series, region: pd.Series | str | None = None, *,
                    default_region: str | None = None) -> tuple[pd.Series, int]:
    """Phone numbers → E.164; national numbers read with ``region`` (per row) else ``default_region``.

    ``region`` may be a Series aligned on ``series`` (e.g. normalised Location.Country; values that
    are not phonenumbers regions fall back to ``default_region``), one region code, or None.
    Values that cannot be made valid are left as they are. Returns (values, values changed).
    """
    arr = to_arrow(series)
    if len(arr) == 0 or arr.null_count == len(arr):
        return series, 0
    plus = to_numpy_bool(pc.starts_with(arr, "+"))
    cand = pc.if_else(pa.array(plus), pc.replace_substring_regex(arr, _SEPARATORS_RE, ""), arr)
    ok = e164_valid(cand)
    out = pc.if_else(pa.array(ok), cand, arr)
    rest = np.flatnonzero(~ok & arr.is_valid().to_numpy(zero_copy_only=False))
    if rest.size:
        regions = _region_array(region, len(arr), default_region)
        out, rest = _national_fast_path(arr, out, rest, regions)
        if rest.size:
            out = _slow_path(arr, out, rest, regions)
    # every value this call wrote or kept as E.164 was checked by e164_valid: remember them for
    # is_e164_phone (the schema's check of the same chunk), which then skips the work
    replaced = to_numpy_bool(pc.not_equal(out, arr), null=False)
    _KNOWN.valid = out.filter(pa.array(ok | replaced))
    changed = count_changed(arr, out)
    return (from_arrow(out, series), changed) if changed else (series, 0)


def _slow_path(arr: pa.Array, out: pa.Array, rest: np.ndarray, regions: pa.Array) -> pa.Array:
    """phonenumbers.parse once per distinct (value, region) among rows ``rest``."""
    rest_arr = pa.array(rest)
    values = arr.take(rest_arr)
    regs = pc.fill_null(regions.take(rest_arr).cast(values.type), "")
    sep = pa.scalar("\x1f", type=values.type)
    keys = pc.binary_join_element_wise(values, regs, sep).dictionary_encode()
    uniques = keys.dictionary.to_pylist()
    parsed = []
    for key in uniques:
        value, _, reg = key.rpartition("\x1f")
        parsed.append(_parse_to_e164(value, reg or None))
    parsed_arr = pa.array(parsed, type=values.type)
    # validity of what phonenumbers read, decided vectorised (same answer as is_valid_number)
    good = pc.and_(pc.is_valid(parsed_arr), pa.array(e164_valid(parsed_arr)))
    parsed_arr = pc.if_else(good, parsed_arr, pa.scalar(None, type=values.type))
    new = pc.take(parsed_arr, keys.indices)
    replace = to_numpy_bool(pc.is_valid(new))
    if not replace.any():
        return out
    mask = np.zeros(len(arr), dtype=bool)
    mask[rest[replace]] = True
    return replace_where(out, mask, new.filter(pa.array(replace)))


#: per thread, the values the last :func:`normalise_phone` found valid (validity is a pure function
#: of the text, so a value found there is valid whenever it is met again)
_KNOWN = threading.local()


def is_e164_phone(series: pd.Series) -> pd.Series:
    """True where the value is a valid phone number written in E.164 (missing → True)."""
    arr = to_arrow(series)
    ok = arr.is_null().to_numpy(zero_copy_only=False).copy()
    known = getattr(_KNOWN, "valid", None)
    if known is not None and len(known) and len(arr):
        ok |= to_numpy_bool(pc.is_in(arr, value_set=known.cast(arr.type)))
    todo = np.flatnonzero(~ok)
    if todo.size:
        ok[todo] = e164_valid(arr if todo.size == len(arr) else arr.take(pa.array(todo)))
    return bool_series(ok, series)
