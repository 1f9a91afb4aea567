import pyarrow as pa
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.helpers import DTYPES, PROPERTY, THOROUGH, check_normaliser, column, series, values_of
from pinpoint_etl.transforms.email_address import _fast_ok, is_email, normalise_email


def reference(text: str) -> str:
    """What the normaliser must return: email-validator's normalized form, else the value as is."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return text


@pytest.mark.parametrize("dtype", DTYPES)
def test_email_examples(dtype):
    s = series([" Mary.Major@EXAMPLE.com ", "mary.major@example.com", "Info@Example.org", "no-at-sign",
                "a@b", "x@localhost.localdomain.test", "José@Exämple.com", "x@xn--mnchen-3ya.de", "a..b@x.com",
                None], dtype)
    out, n = normalise_email(s)
    assert values_of(out) == ["Mary.Major@example.com", "mary.major@example.com", "info@example.org",
                              "no-at-sign", "a@b", "x@localhost.localdomain.test", "José@exämple.com",
                              "x@münchen.de", "a..b@x.com", None]
    assert n == 4
    assert is_email(out).tolist() == [True, True, True, False, False, False, True, True, False, True]


def test_local_part_case_kept_domain_lowered():
    out, _ = normalise_email(series(["John.SMITH+Tag@Mail.Example.CO.UK"]))
    assert out.iloc[0] == "John.SMITH+Tag@mail.example.co.uk"


def test_is_email_rejects_unnormalised():
    assert is_email(series(["a@Example.com", " a@example.com", "a@example.com"])).tolist() == [False, False, True]


local = st.text(alphabet="abcXYZ09._+-!#'éЖ\"@ ", min_size=0, max_size=8)
label = st.text(alphabet="abcXYZ09-_éü", min_size=0, max_size=8)
domain = st.lists(st.one_of(label, st.sampled_from(["xn--mnchen-3ya", "test", "local", "com", "a" * 64, "ab--c"])),
                  min_size=1, max_size=4).map(".".join)
email_text = st.one_of(
    st.tuples(local, domain).map(lambda t: f"{t[0]}@{t[1]}"),
    st.tuples(st.sampled_from(["info", "Sales", "POSTMASTER", "joe"]), domain).map(lambda t: f"{t[0]}@{t[1]}"),
    st.text(max_size=10),
)


@THOROUGH
@given(st.lists(email_text, max_size=20))
def test_normaliser_equals_email_validator(values):
    out, _ = normalise_email(series(values))
    assert values_of(out) == [reference(v) for v in values]


@THOROUGH
@given(st.lists(email_text, max_size=20))
def test_fast_path_is_a_subset_of_email_validator(values):
    ok = _fast_ok(pa.array(values, type=pa.large_string()))
    for value, fast in zip(values, ok):
        if fast:
            assert reference(value) == value


@PROPERTY
@given(st.lists(email_text, max_size=20))
def test_predicate_equals_email_validator(values):
    assert is_email(series(values)).tolist() == [reference(v) == v and _valid(v) for v in values]


def _valid(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False)
        return True
    except EmailNotValidError:
        return False


@PROPERTY
@given(column(email_text))
def test_email_properties(values):
    check_normaliser(normalise_email, values, is_email)


def test_long_addresses():
    ok_local = "a" * 64
    long_domain = ".".join(["b" * 60] * 4) + ".com"  # > 253 characters
    s = series([f"{ok_local}@{long_domain}", f"{ok_local}@example.com"])
    assert is_email(s).tolist() == [False, True]


canonical_email_text = st.tuples(
    st.text(alphabet="abcxyzABC019._+-", min_size=1, max_size=10).filter(
        lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s),
    st.lists(st.text(alphabet="abc019", min_size=1, max_size=8), min_size=1, max_size=3),
    st.sampled_from(["com", "org", "de", "co.uk", "io"]),
).map(lambda t: f"{t[0]}@{'.'.join(t[1])}.{t[2]}")


@PROPERTY
@given(st.lists(canonical_email_text, max_size=15))
def test_canonical_emails_unchanged(values):
    values = [v for v in values if reference(v) == v]  # role names (info@, sales@) lower-cased by design
    out, n = normalise_email(series(values))
    assert n == 0 and values_of(out) == values
    assert is_email(series(values)).all()
