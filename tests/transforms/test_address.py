import pytest

from tests.transforms.helpers import DTYPES, series, values_of
from pinpoint_etl.transforms.address import normalise_address, normalise_push_token


@pytest.mark.parametrize("dtype", DTYPES)
def test_address_by_channel(dtype):
    address = series(["(206) 555-0100", " Mary@EXAMPLE.com", " 1a2b3c ", "+44 20 7946 0000", "bad", None,
                      "020 7946 0000", "x@y", "anything", "(206) 555-0100"], dtype)
    channel = series(["SMS", "EMAIL", "APNS", "VOICE", "SMS", "SMS", "SMS", "EMAIL", "CUSTOM", None], dtype)
    country = series(["US", "US", "US", "US", "US", "US", "GB", "US", None, "US"], dtype)
    out, counts = normalise_address(address, channel, country)
    assert values_of(out) == ["+12065550100", "Mary@example.com", "1a2b3c", "+442079460000", "bad", None,
                              "+442079460000", "x@y", "anything", "(206) 555-0100"]
    assert counts == {"address_phone": 3, "address_email": 1, "address_push": 1}
    assert out.dtype == address.dtype


def test_default_region_used_without_country():
    out, counts = normalise_address(series(["(206) 555-0100"]), series(["SMS"]), None, default_region="US")
    assert values_of(out) == ["+12065550100"] and counts["address_phone"] == 1


def test_nothing_to_do_returns_input():
    address = series(["+12065550100", "a@example.com"])
    out, counts = normalise_address(address, series(["SMS", "EMAIL"]))
    assert out is address and not any(counts.values())


def test_push_token_trimmed_only():
    out, n = normalise_push_token(series([" AbC ", "AbC"]))
    assert values_of(out) == ["AbC", "AbC"] and n == 1
