"""PhoneNumberValidate, answered from libphonenumber's data (the ``phonenumbers`` package).

A number that can't be parsed or isn't valid for its region answers 200 with ``PhoneType``
INVALID (code 3), as Pinpoint does; only a request without ``PhoneNumber`` is a 400. Type codes
(MODEL docs): 0 MOBILE, 1 LANDLINE, 2 VOIP, 3 INVALID, 4 OTHER, 5 PREPAID. libphonenumber can't
tell mobile from landline for some regions (``FIXED_LINE_OR_MOBILE``, e.g. the US): those answer
MOBILE. Carrier, City (the geocoder's description) and Timezone are given where the data has them;
County and ZipCode never (no such data).
"""

from __future__ import annotations

from typing import Any

from pinpoint_etl.local.api import Call, operation
from pinpoint_etl.local.errors import BadRequest

TYPE_CODES = {"MOBILE": 0, "LANDLINE": 1, "VOIP": 2, "INVALID": 3, "OTHER": 4, "PREPAID": 5}


def validate_number(number: str, country: str | None) -> dict[str, Any]:
    """The NumberValidateResponse of ``number`` (``country``: ISO alpha-2 for national numbers)."""
    import phonenumbers
    from phonenumbers import PhoneNumberType, carrier, geocoder, timezone

    out: dict[str, Any] = {"OriginalPhoneNumber": number}
    if country:
        out["OriginalCountryCodeIso2"] = country.upper()
    try:
        parsed = phonenumbers.parse(number, country.upper() if country else None)
    except phonenumbers.NumberParseException:
        return {**out, "PhoneType": "INVALID", "PhoneTypeCode": TYPE_CODES["INVALID"]}
    if not phonenumbers.is_valid_number(parsed):
        return {**out, "PhoneType": "INVALID", "PhoneTypeCode": TYPE_CODES["INVALID"]}
    kind = phonenumbers.number_type(parsed)
    if kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        phone_type = "MOBILE"
    elif kind == PhoneNumberType.FIXED_LINE:
        phone_type = "LANDLINE"
    elif kind == PhoneNumberType.VOIP:
        phone_type = "VOIP"
    else:
        phone_type = "OTHER"
    region = phonenumbers.region_code_for_number(parsed)
    out.update({
        "CleansedPhoneNumberE164": phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        "CleansedPhoneNumberNational": str(parsed.national_number),
        "Country": geocoder.country_name_for_number(parsed, "en") or region,
        "CountryCodeIso2": region,
        "CountryCodeNumeric": str(parsed.country_code),
        "PhoneType": phone_type,
        "PhoneTypeCode": TYPE_CODES[phone_type],
    })
    name = carrier.name_for_number(parsed, "en")
    if name:
        out["Carrier"] = name
    city = geocoder.description_for_number(parsed, "en")
    if city and city != out["Country"]:
        out["City"] = city
    zones = [z for z in timezone.time_zones_for_number(parsed) if z != "Etc/Unknown"]
    if zones:
        out["Timezone"] = zones[0]
    return out


@operation("PhoneNumberValidate")
def phone_number_validate(call: Call) -> tuple[int, Any]:
    body = call.json()
    number = body.get("PhoneNumber")
    if not isinstance(number, str) or not number.strip():
        raise BadRequest("Missing PhoneNumber: NumberValidateRequest requires a PhoneNumber")
    country = body.get("IsoCountryCode")
    if country is not None and (not isinstance(country, str) or len(country) != 2):
        raise BadRequest("IsoCountryCode must be a two-letter ISO 3166-1 alpha-2 code")
    return 200, validate_number(number, country)
