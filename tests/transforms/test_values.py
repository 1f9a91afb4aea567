import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.helpers import (
    DTYPES,
    PROPERTY,
    THOROUGH,
    case_variants,
    check_canonical_unchanged,
    check_normaliser,
    column,
    series,
    values_of,
    whitespace_variants,
)
from pinpoint_etl.transforms.values import (
    canonical_number,
    format_number,
    is_number,
    is_opt_out,
    normalise_metric,
    normalise_opt_out,
    parse_number,
)


@pytest.mark.parametrize("dtype", DTYPES)
def test_opt_out(dtype):
    out, n = normalise_opt_out(series(["all", " None ", "ALL", "NONE", "maybe", "", None], dtype))
    assert values_of(out) == ["ALL", "NONE", "ALL", "NONE", "maybe", "", None]
    assert n == 2


def test_opt_out_predicate():
    assert is_opt_out(series(["ALL", "NONE", "all", None, "x"])).tolist() == [True, True, False, True, False]


@pytest.mark.parametrize("dtype", DTYPES)
def test_metrics_examples(dtype):
    s = series([" 12 ", "1e3", "3.50", "12", "-0.0", "+7", ".5", "5.", "1E-7", "1e16", "NaN", "Infinity",
                "-inf", "1,000", "1_000", "abc", "١٢", "1e999", None], dtype)
    out, n = normalise_metric(s)
    assert values_of(out) == ["12", "1000", "3.5", "12", "0", "7", "0.5", "5", "1e-07", "1e+16", "NaN",
                              "Infinity", "-inf", "1,000", "1_000", "abc", "١٢", "1e999", None]
    assert n == 9


def test_is_number():
    s = series(["12", "3.5", "1e+16", "NaN", "Infinity", "x", None, " 12 ", "1e999"])
    assert is_number(s).tolist() == [True, True, True, False, False, False, True, False, False]


def test_parse_number_rejects_non_finite_and_loose_syntax():
    for text in ("nan", "inf", "-Infinity", "1_0", "0x10", "1e", "--1", "", " "):
        assert parse_number(text) is None


number_text = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10**20, 10**20).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.sampled_from(["1e3", "3.50", "+7", ".5", "5.", "NaN", "Infinity", "-inf", "1,5", "abc", "", "1e999"]),
)


@PROPERTY
@given(column(whitespace_variants(number_text)))
def test_metric_properties(values):
    check_normaliser(normalise_metric, values, is_number, canonical_predicate=False)
    s = series(values)
    out, _ = normalise_metric(s)
    # numbers (even untrimmed) come out accepted; anything else is left and rejected
    expected = [v is None or parse_number(v) is not None for v in values_of(s)]
    assert is_number(out).tolist() == expected


@PROPERTY
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_canonical_number_round_trips(value):
    text = format_number(value)
    assert float(text) == value or (value == 0 and float(text) == 0)
    assert canonical_number(text) == text


@PROPERTY
@given(column(whitespace_variants(case_variants(st.sampled_from(["all", "none", "no", "opt out", ""])))))
def test_opt_out_properties(values):
    check_normaliser(normalise_opt_out, values, is_opt_out)


@PROPERTY
@given(st.lists(st.sampled_from(["ALL", "NONE"]), max_size=10))
def test_opt_out_canonical_unchanged(values):
    check_canonical_unchanged(normalise_opt_out, values, is_opt_out)


def test_format_number_is_finite_float_text():
    for value in (0.0, -0.0, 1.0, -3.0, 0.1, 1e16, 1e-300, 123456789.125):
        assert math.isfinite(float(format_number(value)))


metric_text = st.one_of(
    number_text,
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: f"{x:.3f}"),
    st.floats(1e-6, 1e-3).map(repr),
    st.integers(-10**17, 10**17).map(lambda i: f"{i}.0"),
)


@THOROUGH
@given(st.lists(metric_text, max_size=30))
def test_vectorised_metrics_equal_python_formatting(values):
    out, _ = normalise_metric(series(values))
    assert values_of(out) == [canonical_number(v) for v in values]
    assert is_number(series(values)).tolist() == [v == v.strip() and parse_number(v) is not None for v in values]
