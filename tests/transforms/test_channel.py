import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinpoint_etl.core.catalogue import CHANNEL_TYPES
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
from pinpoint_etl.transforms.channel import is_channel_type, normalise_channel_type


@pytest.mark.parametrize("dtype", DTYPES)
def test_case_and_spacing_onto_enum(dtype):
    s = series([" sms", "Email", "apns_sandbox", "APNS-VOIP-SANDBOX", "in app", "fcm", "SMS", "pigeon", None],
               dtype)
    out, n = normalise_channel_type(s)
    assert values_of(out) == ["SMS", "EMAIL", "APNS_SANDBOX", "APNS_VOIP_SANDBOX", "IN_APP", "GCM", "SMS",
                              "pigeon", None]
    assert n == 6


def test_every_enum_value_in_any_case():
    for value in CHANNEL_TYPES:
        for variant in (value, value.lower(), value.title(), f"  {value.lower()} "):
            out, _ = normalise_channel_type(series([variant]))
            assert out.iloc[0] == value


def test_predicate():
    assert is_channel_type(series(["SMS", "sms", None, "PIGEON", "IN_APP"])).tolist() == [
        True, False, True, False, True]


channel_values = st.one_of(
    whitespace_variants(case_variants(st.sampled_from(CHANNEL_TYPES))),
    st.sampled_from(["fcm", "e-mail", "in app", "inapp", "pigeon", "", "S M S"]),
    st.text(max_size=6),
)


@PROPERTY
@given(column(channel_values))
def test_properties(values):
    check_normaliser(normalise_channel_type, values, is_channel_type)


@PROPERTY
@given(st.lists(st.sampled_from(CHANNEL_TYPES), max_size=20))
def test_canonical_values_unchanged(values):
    check_canonical_unchanged(normalise_channel_type, values, is_channel_type)
