"""Shared helpers and Hypothesis strategies for the transforms tests."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Hypothesis settings for the property tests (first calls build lookup tables: no deadline)
PROPERTY = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
#: for the checks of a vectorised fast path against the library it stands in for
THOROUGH = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])

DTYPES = ("str", "string", object)


def series(values, dtype="str") -> pd.Series:
    """A text Series of ``dtype`` (None = missing)."""
    return pd.Series(list(values), dtype=dtype)


def values_of(s: pd.Series) -> list:
    """Python values with every missing value as None (comparable across dtypes)."""
    return [None if pd.isna(v) else v for v in s.tolist()]


def whitespace_variants(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Values from ``strategy``, sometimes padded with spaces / tabs / NBSP."""
    pad = st.sampled_from(["", " ", "  ", "\t", "\u00a0", " \u3000"])
    return st.tuples(pad, strategy, pad).map(lambda t: t[0] + t[1] + t[2])


def case_variants(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Values from ``strategy`` in original, lower, upper or swapped case."""
    return st.tuples(strategy, st.sampled_from([str, str.lower, str.upper, str.swapcase])).map(
        lambda t: t[1](t[0]))


def column(strategy: st.SearchStrategy[str], max_size: int = 30) -> st.SearchStrategy[list]:
    """Lists of values from ``strategy`` with some missing ones."""
    return st.lists(st.one_of(strategy, st.none()), max_size=max_size)


def check_normaliser(fn, values: list, predicate=None, dtype="str", *, canonical_predicate: bool = True) -> None:
    """Properties every normaliser has: count = values changed, idempotent, predicate agrees.

    - the count equals the number of non-missing inputs whose output differs;
    - a second pass changes nothing;
    - every value the normaliser changed passes ``predicate`` (it is canonical);
    - every input the predicate accepts comes out unchanged (when the predicate tests canonical
      form, ``canonical_predicate``; ``is_number`` only tests "finite number").
    """
    s = series(values, dtype)
    out, n = fn(s)
    assert list(out.index) == list(s.index)
    before, after = values_of(s), values_of(out)
    assert n == sum(1 for b, a in zip(before, after) if b is not None and a != b)
    again, n2 = fn(out)
    assert n2 == 0
    assert values_of(again) == after
    if predicate is not None:
        ok_out = predicate(out).tolist()
        for b, a, ok in zip(before, after, ok_out):
            if a is not None and a != b:
                assert ok, (b, a)
        if not canonical_predicate:
            return
        ok_in = predicate(s).tolist()
        for b, a, ok in zip(before, after, ok_in):
            if ok and b is not None:
                assert a == b, (b, a)


def check_canonical_unchanged(fn, values: list, predicate=None) -> None:
    """Canonical values pass through ``fn`` untouched (nothing counted) and satisfy ``predicate``."""
    out, n = fn(series(values))
    assert n == 0 and values_of(out) == values
    if predicate is not None:
        assert predicate(series(values)).all()
