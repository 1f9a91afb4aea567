import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinpoint_etl import transforms
from pinpoint_etl.transforms import validity

PREDICATES = [validity.is_channel_type, validity.is_e164_phone, validity.is_email, validity.is_country_alpha2,
              validity.is_locale, validity.is_timezone, validity.is_opt_out, validity.is_number,
              validity.is_latitude, validity.is_longitude, validity.is_not_json_object]


@pytest.mark.parametrize("predicate", PREDICATES, ids=lambda p: p.__name__)
@pytest.mark.parametrize("values, dtype", [
    ([None, None], "str"), ([None, None], "string"), ([pd.NA, pd.NA], object), ([], "str"),
])
def test_missing_is_valid(predicate, values, dtype):
    s = pd.Series(values, dtype=dtype, index=range(10, 10 + len(values)))
    out = predicate(s)
    assert out.dtype == bool and out.all() and list(out.index) == list(s.index)


@pytest.mark.parametrize("predicate, good, bad", [
    (validity.is_channel_type, "SMS", "sms"),
    (validity.is_e164_phone, "+12065550100", "2065550100"),
    (validity.is_email, "a@example.com", "a@Example.com"),
    (validity.is_country_alpha2, "US", "USA"),
    (validity.is_locale, "en_US", "en-US"),
    (validity.is_timezone, "Europe/Berlin", "europe/berlin"),
    (validity.is_opt_out, "NONE", "none"),
    (validity.is_number, "3.5", "NaN"),
    (validity.is_latitude, "47.6", "47.61"),
    (validity.is_longitude, "-122.3", "-190.0"),
    (validity.is_not_json_object, "{not json}", '{"a": 1}'),
], ids=lambda x: getattr(x, "__name__", None))
def test_good_and_bad_values(predicate, good, bad):
    s = pd.Series([good, bad, None], dtype="str")
    assert predicate(s).tolist() == [True, False, True]
    assert predicate(s.astype(object)).tolist() == [True, False, True]


def test_package_re_exports_the_predicates():
    for predicate in PREDICATES:
        assert getattr(transforms, predicate.__name__) is predicate


def test_package_lists_every_predicate_it_re_exports():
    assert set(transforms._VALIDITY) == set(validity.__all__)


def _is_not_json_object(value) -> bool:
    """The rule, value by value: text that parses as a JSON object is refused."""
    try:
        return value is None or not isinstance(json.loads(value), dict)
    except ValueError:
        return True


@given(st.lists(st.none() | st.text(alphabet='{}[]":a1 ,', max_size=8), max_size=30), st.sampled_from(["str", object]))
def test_json_object_check_matches_the_rule_value_by_value(values, dtype):
    s = pd.Series(values, dtype=dtype, index=range(5, 5 + len(values)))
    out = validity.is_not_json_object(s)
    assert out.tolist() == [_is_not_json_object(v) for v in values] and list(out.index) == list(s.index)


def test_a_json_object_with_whitespace_around_it_is_still_an_object():
    s = pd.Series([' {"a": 1}', '{"a": 1}\n', " {} ", " {not json} "], dtype="str")
    assert validity.is_not_json_object(s).tolist() == [False, False, False, True]
