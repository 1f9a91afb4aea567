"""PhoneNumberValidate, RemoveAttributes and the email / SMS channels."""

from __future__ import annotations

import pytest


def _validate(pp, number: str, country: str | None = None) -> dict:
    request = {"PhoneNumber": number, **({"IsoCountryCode": country} if country else {})}
    return pp.client.phone_number_validate(NumberValidateRequest=request)["NumberValidateResponse"]


def test_phone_number_validate_cleanses_and_classifies(pp):
    us = _validate(pp, "(206) 555-0100", "us")
    assert us["CleansedPhoneNumberE164"] == "+12065550100"
    assert (us["CleansedPhoneNumberNational"], us["CountryCodeIso2"], us["CountryCodeNumeric"]) == ("2065550100", "US", "1")
    assert (us["OriginalPhoneNumber"], us["OriginalCountryCodeIso2"], us["Country"]) == ("(206) 555-0100", "US",
                                                                                         "United States")
    assert (us["PhoneType"], us["PhoneTypeCode"]) == ("MOBILE", 0)
    assert us["Timezone"] == "America/Los_Angeles"
    uk_landline = _validate(pp, "+44 20 7946 0000")
    assert (uk_landline["PhoneType"], uk_landline["PhoneTypeCode"], uk_landline["CountryCodeIso2"]) == (
        "LANDLINE", 1, "GB")
    de_mobile = _validate(pp, "+4915112345678")
    assert (de_mobile["PhoneType"], de_mobile["CleansedPhoneNumberE164"]) == ("MOBILE", "+4915112345678")


@pytest.mark.parametrize("number, country", [("12", None), ("not a number", "US"), ("+1 000", None)])
def test_phone_number_validate_answers_invalid_numbers_with_type_invalid(pp, number, country):
    answer = _validate(pp, number, country)
    assert (answer["PhoneType"], answer["PhoneTypeCode"], answer["OriginalPhoneNumber"]) == ("INVALID", 3, number)
    assert "CleansedPhoneNumberE164" not in answer


def test_phone_number_validate_needs_a_number(pp):
    with pytest.raises(pp.client.exceptions.BadRequestException):
        pp.unvalidated_client().phone_number_validate(NumberValidateRequest={"IsoCountryCode": "US"})


def test_remove_attributes_strips_every_endpoint_and_frees_the_budget(pp):
    pp.batch([{"Id": "a", "ChannelType": "EMAIL", "Address": "a@example.com",
               "Attributes": {"Tier": ["Gold"], "TierOld": ["x"], "Keep": ["k"]}, "Metrics": {"visits": 1.0},
               "User": {"UserAttributes": {"Tier": ["u"]}}},
              {"Id": "b", "ChannelType": "EMAIL", "Address": "b@example.com", "Attributes": {"Tier": ["Silver"]}}])
    answer = pp.client.remove_attributes(ApplicationId=pp.app, AttributeType="endpoint-custom-attributes",
                                         UpdateAttributesRequest={"Blacklist": ["Tier*"]})["AttributesResource"]
    assert answer == {"ApplicationId": pp.app, "AttributeType": "endpoint-custom-attributes",
                      "Attributes": ["Tier", "TierOld"]}
    a, b = pp.endpoint("a"), pp.endpoint("b")
    assert a["Attributes"] == {"Keep": ["k"]} and "Attributes" not in b or b["Attributes"] == {}
    assert a["User"]["UserAttributes"] == {"Tier": ["u"]} and a["Metrics"] == {"visits": 1.0}
    metrics = pp.client.remove_attributes(ApplicationId=pp.app, AttributeType="endpoint-metric-attributes",
                                          UpdateAttributesRequest={"Blacklist": ["visits"]})["AttributesResource"]
    assert metrics["Attributes"] == ["visits"] and "visits" not in pp.endpoint("a").get("Metrics", {})
    # freed names count no more towards the 250 per application
    pp.batch([{"Id": "big", "ChannelType": "EMAIL", "Address": "big@example.com",
               "Attributes": {f"n{i}": ["x"] for i in range(248)}}])
    with pytest.raises(pp.client.exceptions.BadRequestException):
        pp.batch([{"Id": "more", "ChannelType": "EMAIL", "Address": "m@example.com", "Attributes": {"x1": ["1"]}}])
    with pytest.raises(pp.client.exceptions.BadRequestException):
        pp.client.remove_attributes(ApplicationId=pp.app, AttributeType="endpoint-everything",
                                    UpdateAttributesRequest={"Blacklist": ["x"]})


def test_email_and_sms_channels(pp):
    client = pp.client
    for call in (client.get_email_channel, client.get_sms_channel, client.delete_sms_channel):
        with pytest.raises(client.exceptions.NotFoundException):
            call(ApplicationId=pp.app)
    assert client.get_channels(ApplicationId=pp.app)["ChannelsResponse"]["Channels"] == {}
    email = client.update_email_channel(ApplicationId=pp.app, EmailChannelRequest={
        "FromAddress": "noreply@example.com", "Identity": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
        "ConfigurationSet": "cs"})["EmailChannelResponse"]
    assert (email["Platform"], email["Enabled"], email["Version"], email["FromAddress"]) == (
        "EMAIL", True, 1, "noreply@example.com")
    sms = client.update_sms_channel(ApplicationId=pp.app, SMSChannelRequest={"SenderId": "ACME"})["SMSChannelResponse"]
    sms = client.update_sms_channel(ApplicationId=pp.app, SMSChannelRequest={"Enabled": False})["SMSChannelResponse"]
    assert (sms["Platform"], sms["Enabled"], sms["Version"], sms["SenderId"]) == ("SMS", False, 2, "ACME")
    channels = client.get_channels(ApplicationId=pp.app)["ChannelsResponse"]["Channels"]
    assert set(channels) == {"EMAIL", "SMS"} and channels["SMS"]["Version"] == 2
    with pytest.raises(client.exceptions.BadRequestException):
        pp.unvalidated_client().update_email_channel(ApplicationId=pp.app,
                                                     EmailChannelRequest={"FromAddress": "x@example.com"})
    assert client.delete_email_channel(ApplicationId=pp.app)["EmailChannelResponse"]["FromAddress"] == \
        "noreply@example.com"
    assert set(client.get_channels(ApplicationId=pp.app)["ChannelsResponse"]["Channels"]) == {"SMS"}
