import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.helpers import (
    DTYPES,
    PROPERTY,
    case_variants,
    check_canonical_unchanged,
    check_normaliser,
    column,
    series,
    values_of,
    whitespace_variants,
)
from pinpoint_etl.transforms.demographic import (
    PLATFORM_SYNONYMS,
    canonical_locale,
    canonical_timezone,
    is_locale,
    is_timezone,
    normalise_locale,
    normalise_make,
    normalise_platform,
    normalise_timezone,
    timezones,
)

ZONES = sorted(timezones())
LOCALES = ["en_US", "en_GB", "de_DE", "fr_CA", "zh_CN", "pt_BR", "es_MX", "ja_JP", "ar_EG", "sv_SE"]


@pytest.mark.parametrize("text, expected", [
    ("en-US", "en_US"), ("en_us", "en_US"), ("EN-us", "en_US"), ("en_US", "en_US"), ("en_US.UTF-8", "en_US"),
    ("eng-USA", "en_US"), ("ger_de", "de_DE"), ("zh-Hant-TW", "zh_TW"), ("en-UK", "en_GB"),
    ("xx-YY", "xx-YY"), ("en", "en"), ("en-ZZ", "en-ZZ"), ("qq_US", "qq_US"), ("en-419", "en-419"),
])
def test_locale_examples(text, expected):
    assert canonical_locale(text) == expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_normalise_locale(dtype):
    out, n = normalise_locale(series(["en-US", "en_US", "EN-us", "bogus", None], dtype))
    assert values_of(out) == ["en_US", "en_US", "en_US", "bogus", None]
    assert n == 2


def test_is_locale():
    assert is_locale(series(["en_US", "en-US", "EN_US", "xx_US", "en_ZZ", "eng_US", None])).tolist() == [
        True, False, False, False, False, False, True]


@pytest.mark.parametrize("text, expected", [
    ("america/los_angeles", "America/Los_Angeles"), ("AMERICA/NEW_YORK", "America/New_York"),
    ("Europe/London", "Europe/London"), ("america/los angeles", "America/Los_Angeles"),
    ("us/pacific", "US/Pacific"),  # legacy link: kept, only its case is fixed
    ("utc", "UTC"), ("Mars/Olympus", "Mars/Olympus"), ("localtime", "localtime"), ("PST", "PST"),
])
def test_timezone_examples(text, expected):
    assert canonical_timezone(text) == expected


def test_is_timezone():
    assert is_timezone(series(["America/Los_Angeles", "america/los_angeles", "US/Pacific", "Mars/Olympus",
                               "localtime", None])).tolist() == [True, False, True, False, False, True]


@pytest.mark.parametrize("dtype", DTYPES)
def test_platform_and_make(dtype):
    out, n = normalise_platform(series(["iPhone OS", "iOS", "IOS", "Android", "android", "Mac OS X", "Tizen",
                                        None], dtype))
    assert values_of(out) == ["ios", "ios", "ios", "android", "android", "macos", "tizen", None]
    assert n == 6
    out, n = normalise_make(series(["Apple", "SAMSUNG", "google", None], dtype))
    assert values_of(out) == ["apple", "samsung", "google", None]
    assert n == 2


locale_text = st.one_of(
    st.tuples(case_variants(st.sampled_from(["en", "de", "fr", "zh", "eng", "xx"])), st.sampled_from(["-", "_"]),
              case_variants(st.sampled_from(["US", "GB", "DE", "usa", "ZZ", "uk"]))).map("".join),
    st.sampled_from(LOCALES),
    st.text(max_size=6),
)


@PROPERTY
@given(column(whitespace_variants(locale_text)))
def test_locale_properties(values):
    check_normaliser(normalise_locale, values, is_locale)


@PROPERTY
@given(st.lists(st.sampled_from(LOCALES), max_size=10))
def test_locale_canonical_unchanged(values):
    check_canonical_unchanged(normalise_locale, values, is_locale)


@PROPERTY
@given(column(whitespace_variants(st.one_of(case_variants(st.sampled_from(ZONES)),
                                            st.sampled_from(["Mars/Olympus", "localtime", "", "PST"]),
                                            st.text(max_size=6)))))
def test_timezone_properties(values):
    check_normaliser(normalise_timezone, values, is_timezone)


@PROPERTY
@given(st.lists(st.sampled_from(ZONES), max_size=10))
def test_timezone_canonical_unchanged(values):
    check_canonical_unchanged(normalise_timezone, values, is_timezone)


@PROPERTY
@given(column(st.one_of(case_variants(st.sampled_from(list(PLATFORM_SYNONYMS))), st.text(max_size=6))))
def test_platform_properties(values):
    check_normaliser(normalise_platform, values)
    out, _ = normalise_platform(series(values))
    assert all(v is None or v == v.lower() for v in values_of(out))


@PROPERTY
@given(column(st.text(max_size=6)))
def test_make_properties(values):
    check_normaliser(normalise_make, values)
