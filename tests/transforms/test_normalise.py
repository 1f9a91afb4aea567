import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinpoint_etl.core.errors import ConfigError
from tests.transforms.helpers import PROPERTY, values_of
from pinpoint_etl.transforms import validity
from pinpoint_etl.transforms.normalise import RULES, NormaliseResult, normalise

EXPECTED_KEYS = ["channel_type", "address_phone", "address_email", "address_push", "country", "lat_lon",
                 "location_text", "locale", "timezone", "platform", "make", "opt_out", "metrics",
                 "control_chars", "trim"]


def frame(rows: list[dict], dtype="str") -> pd.DataFrame:
    df = pd.DataFrame(rows).astype(dtype)
    return df.where(df.notna(), None) if dtype == object else df


MESSY = [
    {"_source": "a.csv", "_row": "1", "Id": " sms-1 ", "ChannelType": " sms", "Address": "(206) 555-0100",
     "Location.Country": "usa", "Location.Latitude": "47.6062", "Location.Longitude": "-122.3321",
     "Location.City": "  Seattle ", "Location.Region": "Washington", "Location.PostalCode": "98101",
     "Demographic.Locale": "en-us", "Demographic.Timezone": "america/los_angeles",
     "Demographic.Platform": "iPhone OS", "Demographic.Make": "Apple", "OptOut": "none",
     "Metrics.sessions": " 12 ", "Attributes.Interests": "Music\tand\nBooks", "Attributes.Interests#2": " ",
     "User.UserId": "u1"},
    {"_source": "a.csv", "_row": "2", "Id": "email-1", "ChannelType": "Email", "Address": " Mary@EXAMPLE.com",
     "Location.Country": "United Kingdom", "Location.Latitude": "47", "Location.Longitude": "181",
     "Location.City": "London", "Location.Region": None, "Location.PostalCode": "SW1A  1AA",
     "Demographic.Locale": "EN_gb", "Demographic.Timezone": "Europe/London", "Demographic.Platform": "Android",
     "Demographic.Make": "samsung", "OptOut": "ALL", "Metrics.sessions": "1e3",
     "Attributes.Interests": "Travel", "Attributes.Interests#2": None, "User.UserId": "u2"},
    {"_source": "b.ndjson", "_row": "7", "Id": "apns-1", "ChannelType": "apns", "Address": " tok\r\n",
     "Location.Country": "Аustria", "Location.Latitude": "x", "Location.Longitude": "0",
     "Location.City": None, "Location.Region": None, "Location.PostalCode": None,
     "Demographic.Locale": "xx-YY", "Demographic.Timezone": "Mars/Base", "Demographic.Platform": "Tizen",
     "Demographic.Make": None, "OptOut": "maybe", "Metrics.sessions": "3.50",
     "Attributes.Interests": None, "Attributes.Interests#2": None, "User.UserId": " "},
]


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_messy_chunk(dtype):
    df = frame(MESSY, dtype)
    df.index = [100, 101, 102]
    before = df.copy()
    result = normalise(df)
    assert isinstance(result, NormaliseResult)
    out = result.frame
    pd.testing.assert_frame_equal(df, before)  # input untouched
    assert list(out.columns) == list(df.columns) and list(out.index) == [100, 101, 102]
    assert (out.dtypes == df.dtypes).all()
    assert values_of(out["_row"]) == ["1", "2", "7"]
    assert values_of(out["Id"]) == ["sms-1", "email-1", "apns-1"]
    assert values_of(out["ChannelType"]) == ["SMS", "EMAIL", "APNS"]
    assert values_of(out["Address"]) == ["+12065550100", "Mary@example.com", "tok"]
    assert values_of(out["Location.Country"]) == ["US", "GB", "Аustria"]
    assert values_of(out["Location.Latitude"]) == ["47.6", "47.0", "x"]
    assert values_of(out["Location.Longitude"]) == ["-122.3", "181", "0.0"]
    assert values_of(out["Location.City"]) == ["Seattle", "London", None]
    assert values_of(out["Location.PostalCode"]) == ["98101", "SW1A 1AA", None]
    assert values_of(out["Demographic.Locale"]) == ["en_US", "en_GB", "xx-YY"]
    assert values_of(out["Demographic.Timezone"]) == ["America/Los_Angeles", "Europe/London", "Mars/Base"]
    assert values_of(out["Demographic.Platform"]) == ["ios", "android", "tizen"]
    assert values_of(out["Demographic.Make"]) == ["apple", "samsung", None]
    assert values_of(out["OptOut"]) == ["NONE", "ALL", "maybe"]
    assert values_of(out["Metrics.sessions"]) == ["12", "1000", "3.5"]
    assert values_of(out["Attributes.Interests"]) == ["Music and Books", "Travel", None]
    assert values_of(out["Attributes.Interests#2"]) == [None, None, None]
    assert values_of(out["User.UserId"]) == ["u1", "u2", None]
    assert list(result.changes) == EXPECTED_KEYS == list(RULES)
    assert result.changes == {
        "channel_type": 3, "address_phone": 1, "address_email": 1, "address_push": 0, "country": 2,
        "lat_lon": 4, "location_text": 1, "locale": 2, "timezone": 1, "platform": 3, "make": 1, "opt_out": 1,
        "metrics": 2, "control_chars": 2, "trim": 8,
    }
    # what could not be canonicalised is exactly what the predicates reject
    assert validity.is_country_alpha2(out["Location.Country"]).tolist() == [True, True, False]
    assert validity.is_latitude(out["Location.Latitude"]).tolist() == [True, True, False]
    assert validity.is_longitude(out["Location.Longitude"]).tolist() == [True, False, True]
    assert validity.is_locale(out["Demographic.Locale"]).tolist() == [True, True, False]
    assert validity.is_timezone(out["Demographic.Timezone"]).tolist() == [True, True, False]
    assert validity.is_opt_out(out["OptOut"]).tolist() == [True, True, False]


def test_second_pass_changes_nothing():
    first = normalise(frame(MESSY)).frame
    again = normalise(first)
    assert not any(again.changes.values())
    pd.testing.assert_frame_equal(again.frame, first)


def test_default_region_reads_national_numbers():
    df = frame([{"ChannelType": "SMS", "Address": "(206) 555-0100"},
                {"ChannelType": "SMS", "Address": "030 1234567"}])
    assert values_of(normalise(df).frame["Address"]) == ["(206) 555-0100", "030 1234567"]
    assert values_of(normalise(df, default_region="us").frame["Address"]) == ["+12065550100", "030 1234567"]
    assert values_of(normalise(df, default_region="Germany").frame["Address"])[1] == "+49301234567"
    with pytest.raises(ConfigError, match="default region 'Atlantis'"):
        normalise(df, default_region="Atlantis")


def test_row_country_beats_default_region():
    df = frame([{"ChannelType": "SMS", "Address": "020 7946 0000", "Location.Country": "United Kingdom"}])
    assert normalise(df, default_region="US").frame["Address"].iloc[0] == "+442079460000"


def test_frame_without_known_columns_and_empty_frame():
    df = frame([{"_source": "x", "_row": "1", "Attributes.A": " a "}])
    result = normalise(df)
    assert values_of(result.frame["Attributes.A"]) == ["a"] and result.changes["trim"] == 1
    empty = normalise(frame([]))
    assert len(empty.frame) == 0 and not any(empty.changes.values())


def test_meta_columns_left_alone():
    df = frame([{"_source": " a.csv ", "_row": "1", "Id": "x"}])
    assert normalise(df).frame["_source"].iloc[0] == " a.csv "


cell = st.one_of(st.none(), st.text(alphabet=" \taAbB1.-+@_\nçА", max_size=6))
row = st.fixed_dictionaries({
    "_source": st.just("f.csv"), "_row": st.just("1"),
    "ChannelType": st.one_of(st.sampled_from(["sms", "EMAIL", " voice ", "apns", "bogus"]), cell),
    "Address": st.one_of(st.sampled_from(["(206) 555-0100", "+44 20 7946 0000", "A@B.COM", " tok "]), cell),
    "Location.Country": st.one_of(st.sampled_from(["us", "United Kingdom", "Аustria", "DEU"]), cell),
    "Location.Latitude": st.one_of(st.sampled_from(["47.66", "91", "-0.04"]), cell),
    "Demographic.Locale": st.one_of(st.sampled_from(["en-us", "de_de", "xx-YY"]), cell),
    "Demographic.Timezone": st.one_of(st.sampled_from(["europe/berlin", "US/Pacific"]), cell),
    "OptOut": st.one_of(st.sampled_from(["all", "None"]), cell),
    "Metrics.m": st.one_of(st.sampled_from(["1e3", "3.50", " 7 "]), cell),
    "Attributes.A": cell,
})


@PROPERTY
@given(st.lists(row, max_size=12), st.sampled_from([None, "US", "GB"]))
def test_normalise_is_idempotent(rows, region):
    df = frame(rows) if rows else frame([])
    first = normalise(df, default_region=region)
    again = normalise(first.frame, default_region=region)
    assert not any(again.changes.values()), again.changes
    pd.testing.assert_frame_equal(again.frame, first.frame)
    assert set(first.changes) == set(EXPECTED_KEYS)
