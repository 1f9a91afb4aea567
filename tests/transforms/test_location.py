import pycountry
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
from pinpoint_etl.transforms.location import (
    COUNTRY_ALIASES,
    canonical_coordinate,
    country_code,
    is_country_alpha2,
    is_latitude,
    is_longitude,
    normalise_country,
    normalise_latitude,
    normalise_location_text,
    normalise_longitude,
)

ALPHA2 = sorted(c.alpha_2 for c in pycountry.countries)


@pytest.mark.parametrize("text, code", [
    ("US", "US"), ("us", "US"), ("usa", "US"), ("USA", "US"), ("U.S.", "US"), ("U.S.A.", "US"),
    ("United States", "US"), ("united states of america", "US"), ("UK", "GB"), ("gbr", "GB"),
    ("United Kingdom", "GB"), ("Russia", "RU"), ("Russian Federation", "RU"), ("South Korea", "KR"),
    ("Korea", "KR"), ("Korea, Republic of", "KR"), ("germany", "DE"), ("DEU", "DE"), ("Deu", "DE"),
    ("Côte d'Ivoire", "CI"), ("Cote d'Ivoire", "CI"), ("Côte d’Ivoire", "CI"), ("Ivory Coast", "CI"),
    ("Viet Nam", "VN"), ("Vietnam", "VN"), ("Bolivia", "BO"), ("Plurinational State of Bolivia", "BO"),
    ("Taiwan", "TW"), ("  new   zealand ", "NZ"), ("Åland Islands", "AX"), ("Aland Islands", "AX"),
])
def test_country_lookup(text, code):
    assert country_code(text) == code


@pytest.mark.parametrize("text", [
    "\u0410ustria",  # Cyrillic capital A
    "Austri\u0430",  # Cyrillic small a
    "\uff35\uff33",  # full-width US
    "Narnia", "", "U", "XX", "America",
])
def test_lookalikes_and_unknowns_are_not_countries(text):
    assert country_code(text) is None


@pytest.mark.parametrize("dtype", DTYPES)
def test_normalise_country(dtype):
    s = series(["usa", "GB", "Аustria", "Narnia", "Germany", None, "de"], dtype)
    out, n = normalise_country(s)
    assert values_of(out) == ["US", "GB", "Аustria", "Narnia", "DE", None, "DE"]
    assert n == 3
    assert is_country_alpha2(out).tolist() == [True, True, False, False, True, True, True]


def test_aliases_point_at_real_codes():
    assert set(COUNTRY_ALIASES.values()) <= set(ALPHA2)


def test_every_country_by_its_names():
    for c in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            name = getattr(c, attr, None)
            if name:
                assert country_code(name) == c.alpha_2, (attr, name)
                assert country_code(name.upper()) == c.alpha_2, (attr, name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_coordinates(dtype):
    lat, n = normalise_latitude(series(["47.6062", "47", "-0.04", "90", "90.04", "-91", "x", "NaN", " 12.25 ",
                                        "1e1", None], dtype))
    assert values_of(lat) == ["47.6", "47.0", "0.0", "90.0", "90.04", "-91", "x", "NaN", "12.2", "10.0", None]
    assert n == 6
    lon, n = normalise_longitude(series(["-122.3321", "181", "180", "-180.0", "0"], dtype))
    assert values_of(lon) == ["-122.3", "181", "180.0", "-180.0", "0.0"]
    assert n == 3


def test_coordinate_predicates():
    assert is_latitude(series(["47.6", "47", "47.61", "91.0", "-90.0", None, "x"])).tolist() == [
        True, False, False, False, True, True, False]
    assert is_longitude(series(["-122.3", "180.0", "180.1", "0.0", "-0.0"])).tolist() == [
        True, True, False, True, False]


def test_location_text():
    out, n = normalise_location_text(series(["  New   York ", "SW1A  1AA", "Seattle", "", None]))
    assert values_of(out) == ["New York", "SW1A 1AA", "Seattle", None, None]
    assert n == 3


country_text = st.one_of(
    whitespace_variants(case_variants(st.sampled_from(ALPHA2))),
    case_variants(st.sampled_from([c.alpha_3 for c in pycountry.countries])),
    case_variants(st.sampled_from([c.name for c in pycountry.countries])),
    st.sampled_from(list(COUNTRY_ALIASES)),
    st.sampled_from(["Аustria", "Narnia", "", "ＵＳ", "U. S."]),
    st.text(max_size=5),
)


@PROPERTY
@given(column(country_text))
def test_country_properties(values):
    check_normaliser(normalise_country, values, is_country_alpha2)


@PROPERTY
@given(st.lists(st.sampled_from(ALPHA2), max_size=20))
def test_country_canonical_unchanged(values):
    check_canonical_unchanged(normalise_country, values, is_country_alpha2)


coordinate_text = st.one_of(
    st.floats(-200, 200, allow_nan=False).map(repr),
    st.floats(-200, 200, allow_nan=False).map(lambda x: f"{x:.1f}"),
    st.integers(-200, 200).map(str),
    st.sampled_from(["NaN", "inf", "x", "", "-0.0", "1e1", "4 7"]),
)


@PROPERTY
@given(column(whitespace_variants(coordinate_text)))
def test_latitude_properties(values):
    check_normaliser(normalise_latitude, values, is_latitude)


@PROPERTY
@given(column(whitespace_variants(coordinate_text)))
def test_longitude_properties(values):
    check_normaliser(normalise_longitude, values, is_longitude)


@PROPERTY
@given(st.floats(-90, 90, allow_nan=False))
def test_canonical_latitude_unchanged(value):
    text = canonical_coordinate(repr(value), 90.0)
    assert normalise_latitude(series([text]))[1] == 0
    assert is_latitude(series([text])).all()


@PROPERTY
@given(column(st.text(alphabet=" \tabc\u00a0", max_size=8)))
def test_location_text_properties(values):
    check_normaliser(normalise_location_text, values)


scalar_coordinate_text = st.one_of(
    coordinate_text,
    st.decimals(-181, 181, places=2, allow_nan=False).map(str),  # hits the .x5 near-ties
    st.decimals(-181, 181, places=6, allow_nan=False).map(str),
    st.floats(-1, 1, allow_nan=False).map(repr),
)


@THOROUGH
@given(st.lists(scalar_coordinate_text, max_size=30))
def test_vectorised_coordinates_equal_python_formatting(values):
    for limit, fn, pred in ((90.0, normalise_latitude, is_latitude), (180.0, normalise_longitude, is_longitude)):
        out, _ = fn(series(values))
        expected = [canonical_coordinate(v, limit) or v for v in values]
        assert values_of(out) == expected
        assert pred(series(values)).tolist() == [canonical_coordinate(v, limit) == v for v in values]


def test_coordinate_ties_follow_python():
    values = ["47.65", "0.05", "-0.05", "89.95", "0.25", "-0.25", "179.95", "1.45"]
    out, _ = normalise_longitude(series(values))
    assert values_of(out) == [canonical_coordinate(v, 180.0) for v in values]


@pytest.mark.parametrize("text, code", [
    ("Deutschland", "DE"), ("Italia", "IT"), ("España", "ES"), ("Espana", "ES"), ("Nederland", "NL"),
    ("Brasil", "BR"), ("Polska", "PL"), ("Österreich", "AT"), ("osterreich", "AT"), ("日本", "JP"),
    ("Royaume-Uni", "GB"), ("Vereinigte Staaten", "US"), ("Россия", "RU"), ("Schweiz", "CH"),
    ("Afrique du Sud", "ZA"),  # also Wolof's name of Southern Africa: more languages mean the country
])
def test_country_names_in_any_cldr_language(text, code):
    assert country_code(text) == code


@pytest.mark.parametrize("text", ["Amerika", "Kongo", "Europa", "Afrika"])
def test_names_shared_with_a_region_or_another_country_are_not_guessed(text):
    assert country_code(text) is None


def test_native_names_normalise_and_then_national_phone_numbers_read_with_them():
    from pinpoint_etl.transforms.normalise import normalise

    frame = series(["Deutschland", "España"]).to_frame("Location.Country")
    frame["ChannelType"] = series(["SMS", "SMS"])
    frame["Address"] = series(["01512 3456789", "612 345 678"])
    out = normalise(frame).frame
    assert values_of(out["Location.Country"]) == ["DE", "ES"]
    assert values_of(out["Address"]) == ["+4915123456789", "+34612345678"]
