import pandas as pd
import pytest

import transforms
from transforms import validity

PREDICATES = [validity.is_channel_type, validity.is_e164_phone, validity.is_email, validity.is_country_alpha2,
              validity.is_locale, validity.is_timezone, validity.is_opt_out, validity.is_number,
              validity.is_latitude, validity.is_longitude]


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
