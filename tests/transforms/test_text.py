import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.helpers import DTYPES, PROPERTY, check_normaliser, column, series, values_of
from pinpoint_etl.transforms.text import CONTROL_CHARS, collapse_whitespace, replace_control_chars, trim


@pytest.mark.parametrize("dtype", DTYPES)
def test_control_chars_become_spaces(dtype):
    s = series(["a\tb", "line1\r\nline2", "clean", None, "x\u2028y", "é’ok"], dtype)
    out, n = replace_control_chars(s)
    assert values_of(out) == ["a b", "line1  line2", "clean", None, "x y", "é’ok"]
    assert n == 3
    assert out.dtype == s.dtype


def test_control_chars_untouched_column_is_returned_as_is():
    s = series(["abc", "déjà vu", "“quoted”", None])
    out, n = replace_control_chars(s)
    assert n == 0 and out is s


@pytest.mark.parametrize("dtype", DTYPES)
def test_trim_and_blank_to_missing(dtype):
    s = series([" a ", "b", "", "   ", "\u00a0c\u3000", None, "in  side"], dtype)
    out, n = trim(s)
    assert values_of(out) == ["a", "b", None, None, "c", None, "in  side"]
    assert n == 4
    assert out.dtype == s.dtype


def test_trim_keeps_index_and_name():
    s = pd.Series([" x", "y "], index=[10, 20], name="City", dtype="str")
    out, n = trim(s)
    assert list(out.index) == [10, 20] and out.name == "City" and n == 2


def test_collapse_whitespace():
    out, n = collapse_whitespace(series(["  New   York ", "Paris", " \t ", None]))
    assert values_of(out) == ["New York", "Paris", None, None]
    assert n == 2


def test_empty_and_all_missing():
    for fn in (replace_control_chars, trim, collapse_whitespace):
        assert fn(series([]))[1] == 0
        assert fn(series([None, None]))[1] == 0


text = st.text(alphabet=st.sampled_from(list("ab é-" + CONTROL_CHARS + "\u00a0\u3000\x1c")), max_size=8)


@PROPERTY
@given(column(text))
def test_trim_properties(values):
    check_normaliser(trim, values)
    out, _ = trim(series(values))
    for v in values_of(out):
        assert v is None or (v == v.strip() and v != "")


@PROPERTY
@given(column(text))
def test_control_chars_properties(values):
    check_normaliser(replace_control_chars, values)
    out, _ = replace_control_chars(series(values))
    assert not any(c in v for v in values_of(out) if v is not None for c in CONTROL_CHARS)


@PROPERTY
@given(column(text))
def test_collapse_whitespace_properties(values):
    check_normaliser(collapse_whitespace, values)
