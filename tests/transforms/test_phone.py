import random

import numpy as np
import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumber, PhoneNumberFormat

from tests.transforms.helpers import DTYPES, PROPERTY, THOROUGH, check_normaliser, column, series, values_of
from pinpoint_etl.transforms.phone import e164_valid, is_e164_phone, normalise_phone, parse_e164


def reference_valid(text: str) -> bool:
    """phonenumbers.is_valid_number on the number that '+digits' spells literally."""
    if not (text.startswith("+") and text[1:].isascii() and text[1:].isdigit() and text[1:2] != "0"):
        return False
    digits = text[1:]
    for k in (1, 2, 3):
        if int(digits[:k]) in COUNTRY_CODE_TO_REGION_CODE:
            cc, nsn = int(digits[:k]), digits[k:]
            break
    else:
        return False
    if not nsn or len(digits) > 20:
        return False
    number = PhoneNumber(country_code=cc, national_number=int(nsn))
    if len(nsn) > 1 and nsn[0] == "0":
        number.italian_leading_zero = True
        zeros = len(nsn) - len(nsn.lstrip("0"))
        number.number_of_leading_zeros = min(zeros, len(nsn) - 1)
    return phonenumbers.is_valid_number(number)


def example_numbers() -> list[str]:
    """E.164 example numbers of every region and number type, and of the non-geographic codes."""
    out = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in phonenumbers.PhoneNumberType.values():
            ex = phonenumbers.example_number_for_type(region, kind)
            if ex:
                out.add(phonenumbers.format_number(ex, PhoneNumberFormat.E164))
    for cc in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        ex = phonenumbers.example_number_for_non_geo_entity(cc)
        if ex:
            out.add(phonenumbers.format_number(ex, PhoneNumberFormat.E164))
    return sorted(out)


EXAMPLES = example_numbers()


def mutations(numbers: list[str], per: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for text in numbers:
        for _ in range(per):
            d = list(text[1:])
            i = rnd.randrange(len(d))
            op = rnd.random()
            if op < 0.4:
                d[i] = str(rnd.randrange(10))
            elif op < 0.6:
                del d[i]
            elif op < 0.8:
                d.insert(i, str(rnd.randrange(10)))
            else:
                d = d[: rnd.randrange(1, len(d) + 1)]
            if d:
                out.append("+" + "".join(d))
    return out


def test_vectorised_validity_matches_phonenumbers_on_every_example_and_mutation():
    values = EXAMPLES + mutations(EXAMPLES, 12) + ["+", "+0", "+1", "+44", "+1 206", "abc", "+١٢٣", ""]
    got = e164_valid(pa.array(values))
    expected = np.array([reference_valid(v) for v in values])
    mismatches = [v for v, g, e in zip(values, got, expected) if g != e]
    assert not mismatches, mismatches[:20]
    assert expected.sum() > len(EXAMPLES) * 0.9  # the check exercised mostly valid numbers too


@THOROUGH
@given(st.sampled_from(sorted(COUNTRY_CODE_TO_REGION_CODE)), st.text(alphabet="0123456789", max_size=14))
def test_vectorised_validity_matches_phonenumbers_random(cc, rest):
    text = f"+{cc}{rest}"
    assert bool(e164_valid(pa.array([text]))[0]) == reference_valid(text)


@pytest.mark.parametrize("dtype", DTYPES)
def test_phone_examples(dtype):
    s = series(["+12065550100", "+1 (206) 555-0100", "(206) 555-0100", "206.555.0100", "+44 20 7946 0000",
                "+44 (0)20 7946 0000", "020 7946 0000", "12345", "+1 206 555 0100 ext 12", "not a phone", None],
               dtype)
    out, n = normalise_phone(s, "US")
    assert values_of(out) == ["+12065550100", "+12065550100", "+12065550100", "+12065550100",
                              "+442079460000", "+442079460000", "020 7946 0000", "12345",
                              "+1 206 555 0100 ext 12", "not a phone", None]
    assert n == 5


def test_region_per_row_then_default():
    s = series(["020 7946 0000", "(206) 555-0100", "030 1234567", "+33 1 23 45 67 89"])
    region = series(["GB", None, "Atlantis", "US"])
    out, n = normalise_phone(s, region, default_region="US")
    assert values_of(out) == ["+442079460000", "+12065550100", "030 1234567", "+33123456789"]
    assert n == 3
    out, _ = normalise_phone(s, region, default_region="DE")
    assert values_of(out)[2] == "+49301234567"


def test_without_region_national_numbers_are_left():
    out, n = normalise_phone(series(["(206) 555-0100", "12065550100"]))
    assert n == 0 and values_of(out) == ["(206) 555-0100", "12065550100"]


def test_is_e164_phone():
    s = series(["+12065550100", "+1 206 555 0100", "12065550100", "+1206555010", "+442079460000", None, "+999"])
    assert is_e164_phone(s).tolist() == [True, False, False, False, True, True, False]


def test_parse_e164_drops_nothing():
    assert parse_e164("+1 206 555 0100 x5", None) is None  # extension: not representable in E.164
    assert parse_e164("(206) 555-0100", "US") == "+12065550100"
    assert parse_e164("garbage", "US") is None


def formatted(number_text: str, fmt: int) -> str:
    num = phonenumbers.parse(number_text)
    return phonenumbers.format_number(num, fmt)


phone_text = st.one_of(
    st.sampled_from(EXAMPLES),
    st.sampled_from(EXAMPLES).map(lambda t: formatted(t, PhoneNumberFormat.INTERNATIONAL)),
    st.sampled_from(EXAMPLES).map(lambda t: formatted(t, PhoneNumberFormat.NATIONAL)),
    st.sampled_from(mutations(EXAMPLES[::7], 2)),
    st.text(alphabet="+0123456789 ()-.", max_size=16),
)


@PROPERTY
@given(column(phone_text, max_size=15), st.sampled_from([None, "US", "GB", "DE", "IN", "BR", "FR"]))
def test_phone_properties(values, region):
    check_normaliser(lambda s: normalise_phone(s, region), values, is_e164_phone)


@PROPERTY
@given(column(phone_text, max_size=15), st.sampled_from([None, "US", "GB", "DE", "IN"]))
def test_phone_output_is_the_number_phonenumbers_reads(values, region):
    out, _ = normalise_phone(series(values), region)
    for before, after in zip(values, values_of(out)):
        if before is not None and after != before:
            a = phonenumbers.parse(after)
            b = phonenumbers.parse(before, region)
            assert (a.country_code, a.national_number) == (b.country_code, b.national_number)
            assert phonenumbers.is_valid_number(a)


@PROPERTY
@given(st.lists(st.sampled_from(EXAMPLES), max_size=15))
def test_valid_e164_unchanged(values):
    assert normalise_phone(series(values))[1] == 0
    assert is_e164_phone(series(values)).all()


def reference_national(text: str, region: str | None) -> str:
    """phonenumbers alone: parse with the region, keep it if valid (no extension), else the text."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text
    if number.extension or not phonenumbers.is_valid_number(number):
        return text
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def national_samples() -> list[tuple[str, str]]:
    """(national text, region) for every region's example numbers, formatted and bare, and mutants."""
    rnd = random.Random(11)
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in phonenumbers.PhoneNumberType.values():
            ex = phonenumbers.example_number_for_type(region, kind)
            if not ex:
                continue
            national = phonenumbers.format_number(ex, PhoneNumberFormat.NATIONAL)
            digits = "".join(ch for ch in national if ch.isdigit())
            out += [(national, region), (digits, region)]
            for _ in range(3):
                d = list(digits)
                i = rnd.randrange(len(d))
                d[i] = str(rnd.randrange(10))
                out.append(("".join(d), region))
            out.append((str(ex.country_code) + digits, region))  # country code written first
    return out


def test_national_numbers_read_exactly_as_phonenumbers_reads_them():
    samples = national_samples()
    by_region: dict[str, list[str]] = {}
    for text, region in samples:
        by_region.setdefault(region, []).append(text)
    mismatches = []
    for region, texts in by_region.items():
        out, _ = normalise_phone(series(texts), region)
        for text, got in zip(texts, values_of(out)):
            expected = reference_national(text, region)
            if got != expected:
                mismatches.append((region, text, got, expected))
    assert not mismatches, mismatches[:20]
    assert len(samples) > 3000


@THOROUGH
@given(st.one_of(st.text(alphabet="0123456789 ()-./", min_size=1, max_size=18),
                 st.text(alphabet="0123456789 +()-x#t", min_size=1, max_size=18)),
       st.sampled_from([None, *sorted(phonenumbers.SUPPORTED_REGIONS)]))
def test_fast_paths_equal_phonenumbers_random(text, region):
    out, _ = normalise_phone(series([text]), region)
    assert out.iloc[0] == reference_national(text, region)


@pytest.mark.parametrize("text", ["(+44) 20 7946 0000", "tel:+1-206-555-0100", "\uff0b44 20 7946 0000"])
def test_plus_sign_anywhere_is_read_without_a_region(text):
    out, n = normalise_phone(series([text]))
    assert out.iloc[0] == reference_national(text, None) != text and n == 1


def test_region_code_in_any_case():
    assert normalise_phone(series(["(206) 555-0100"]), "us")[0].iloc[0] == "+12065550100"
