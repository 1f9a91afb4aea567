"""Email addresses: trimmed, domain lower-cased, validated with email-validator (no DNS).

Canonical form is email-validator's ``normalized`` address (``check_deliverability=False``):
the local part kept as written (except the RFC 2142 role names such as ``Info``/``SALES``, which
email-validator lower-cases), the domain lower-cased (internationalised domains in Unicode form).
A value email-validator rejects is left as it was.

Speed: email-validator is slow per address and addresses are nearly all distinct, so plain
ASCII addresses are decided vectorised by an RE2 regex that accepts a strict subset of what
email-validator accepts *and* leaves unchanged (dot-atom local part; LDH labels ≤ 63 characters,
no ``--`` (so no punycode), a letter last; at most 254 characters; no special-use domain; no role
name). Everything else goes through email-validator once per distinct value (LRU-cached). The
tests check the fast path against email-validator.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from pinpoint_etl.transforms.strings import (
    bool_series,
    count_changed,
    from_arrow,
    replace_where,
    string_buffers,
    to_arrow,
    to_numpy_bool,
)

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]"
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_TLD = r"(?:[a-z0-9][a-z0-9\-]{0,61})?[a-z]"
#: plain ASCII address already in email-validator's normalized form (see module docstring)
FAST_EMAIL_RE = rf"^{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+{_TLD}$"
_SPECIAL_DOMAIN_RE = r"(?:^|[@.])(?:arpa|invalid|local|localhost|onion|test)$"
_ROLE_RE = "^(?i:" + "|".join(CASE_INSENSITIVE_MAILBOX_NAMES) + ")@"
_MAX_LENGTH = 254


def _fast_ok(arr: pa.Array) -> np.ndarray:
    """Numpy bools: ``arr`` is a plain ASCII address that email-validator accepts unchanged."""
    ok = to_numpy_bool(pc.match_substring_regex(arr, FAST_EMAIL_RE))
    if not ok.any():
        return ok
    idx = np.flatnonzero(ok)
    sub = arr.take(pa.array(idx))
    bad = (to_numpy_bool(pc.greater(pc.binary_length(sub), _MAX_LENGTH))
           | to_numpy_bool(pc.match_substring(sub, "--"))
           | to_numpy_bool(pc.match_substring_regex(sub, _SPECIAL_DOMAIN_RE))
           | to_numpy_bool(pc.match_substring_regex(sub, _ROLE_RE)))
    ok[idx[bad]] = False
    return ok


@lru_cache(maxsize=65536)
def canonical_email(value: str) -> str | None:
    """email-validator's normalized form of ``value`` (trimmed), or None if it is not valid."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _lower_domain(arr: pa.Array) -> pa.Array:
    """``local@domain`` with the ASCII letters after the first '@' lower-cased (bytewise, vectorised).

    Non-ASCII domains are left to email-validator (the fast path only accepts ASCII anyway).
    """
    if len(arr) == 0:
        return arr
    arr = arr.cast(pa.large_string())
    offsets, data = string_buffers(arr)
    lo, hi = int(offsets[0]), int(offsets[-1])
    body = data[lo:hi]
    upper = np.flatnonzero((body >= 0x41) & (body <= 0x5A))
    at = np.flatnonzero(body == 0x40)
    if upper.size == 0 or at.size == 0:
        return arr
    rows = np.searchsorted(offsets, at + lo, side="right") - 1
    first = np.r_[True, rows[1:] != rows[:-1]]  # first '@' of each row
    first_at = np.full(len(arr), np.iinfo(np.int64).max, dtype=np.int64)
    first_at[rows[first]] = at[first]
    upper_rows = np.searchsorted(offsets, upper + lo, side="right") - 1
    lower = upper[upper > first_at[upper_rows]]
    if lower.size == 0:
        return arr
    new = body.copy()
    new[lower] += 0x20
    new_offsets = (offsets - lo).astype(np.int64)
    validity = pc.is_valid(arr).buffers()[1] if arr.null_count else None
    return pa.LargeStringArray.from_buffers(len(arr), pa.py_buffer(new_offsets), pa.py_buffer(new),
                                            validity, arr.null_count, 0)


def normalise_email(series: pd.Series) -> tuple[pd.Series, int]:
    """Email addresses → email-validator's normalized form; invalid ones left as they are."""
    arr = to_arrow(series)
    if len(arr) == 0 or arr.null_count == len(arr):
        return series, 0
    trimmed = pc.utf8_trim_whitespace(arr)
    cand = _lower_domain(trimmed).cast(arr.type)
    ok = _fast_ok(cand)
    out = pc.if_else(pa.array(ok), cand, arr)
    rest = np.flatnonzero(~ok & arr.is_valid().to_numpy(zero_copy_only=False))
    if rest.size:
        enc = arr.take(pa.array(rest)).dictionary_encode()
        mapped = pa.array([canonical_email(v) for v in enc.dictionary.to_pylist()], type=arr.type)
        new = pc.take(mapped, enc.indices)
        replace = to_numpy_bool(pc.is_valid(new))
        if replace.any():
            mask = np.zeros(len(arr), dtype=bool)
            mask[rest[replace]] = True
            out = replace_where(out, mask, new.filter(pa.array(replace)))
    changed = count_changed(arr, out)
    return (from_arrow(out, series), changed) if changed else (series, 0)


def is_email(series: pd.Series) -> pd.Series:
    """True where the value is a valid address in email-validator's normalized form (missing → True)."""
    arr = to_arrow(series)
    ok = _fast_ok(arr) | arr.is_null().to_numpy(zero_copy_only=False)
    rest = np.flatnonzero(~ok)
    if rest.size:
        enc = arr.take(pa.array(rest)).dictionary_encode()
        good = np.fromiter((canonical_email(v) == v for v in enc.dictionary.to_pylist()), dtype=bool)
        ok[rest] = good[enc.indices.to_numpy(zero_copy_only=False)]
    return bool_series(ok, series)
