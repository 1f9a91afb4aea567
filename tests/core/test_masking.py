"""core.masking: the one scrubber. The cases of issue #15 exactly, and properties over generated PII (emails
incl. IDN and dotless domains, phone numbers in many writings, key=value secrets, URLs with credentials and
presigned signatures): no raw value survives, and ordinary text (file names, row numbers, field names, run
ids, job ids, timestamps, counts) survives unchanged."""

from __future__ import annotations

import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pinpoint_etl.core.masking import scrub


def test_scrub_free_text():
    text = "row 3: mary.major@example.com and +1 206 555 0100 failed; aws_secret_access_key=abc123XYZ"
    out = scrub(text)
    assert "mary.major" not in out and "555 0100" not in out and "abc123XYZ" not in out
    assert "m***@example.com" in out and "row 3" in out


def test_the_header_less_csv_message_of_issue_15():
    line = ("run r-5b49d85d1e94524c, nohdr.csv: unknown columns: josé.garcía@exämple.com, user@localhost, "
            "secretkey=AbC123xyz, +44 (0) 7700-900-123 — map them with --map josé.garcía@exämple.com=Attributes.x")
    assert scrub(line) == ("run r-5b49d85d1e94524c, nohdr.csv: unknown columns: j***@exämple.com, u***@localhost, "
                           "secretkey=****, +4******0123 — map them with --map j***@exämple.com=Attributes.x")


def test_url_credentials_and_presigned_parameters():
    url = ("https://bob:s3cr%40t@data.example.com/crm/endpoints.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
           "&X-Amz-Credential=ASIAABCDEFGHIJKLMNOP%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261123T101010Z"
           "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr%2F%2F"
           "&X-Amz-Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert scrub(url) == ("https://****@data.example.com/crm/endpoints.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                          "&X-Amz-Credential=****&X-Amz-Date=20261123T101010Z&X-Amz-Expires=3600"
                          "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=****&X-Amz-Signature=****")
    assert scrub("https://a.blob.example/c?sv=2024&sig=abc%2Bdef&se=2026") == "https://a.blob.example/c?sv=2024&sig=****&se=2026"
    assert scrub("Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl") == "Authorization: **** ****"
    assert scrub('{"password": "hunter2", "api_key":"k-123"}') == '{"password": ****, "api_key":****}'


def test_ordinary_text_is_not_a_secret_or_a_phone():
    for text in ("field Attributes.password: value is longer than 100 characters",
                 "run x-20261123t101010-ab12cd34 wrote endpoints-x-20261123t101010-ab12cd34.csv at 2026-11-23T10:54:35Z",
                 "uuid 12345678-1234-abcd-ef00-123456789012 on 23/11/2026 took 1631.56 s via http://127.0.0.1:4566",
                 "1,234,567 rows; Attributes.Interests#10; design=plain; X-Amz-SignedHeaders=host"):
        assert scrub(text) == text


# ------------------------------------------------------------------------------------------ generated PII

_UNICODE_LETTERS = "éçüßøåñíóúàèìòùäöëïÿœæğışžčřłęąőűŋđþ中文字한국어кириллицаελληνικά"
_LOCAL = st.text(string.ascii_letters + string.digits + _UNICODE_LETTERS + "._+-", min_size=1, max_size=20).filter(
    lambda s: s[0] not in "._+-" and s[-1] not in "._-" and ".." not in s)
_LABEL = st.text(string.ascii_lowercase + string.digits + _UNICODE_LETTERS + "-", min_size=1, max_size=12).filter(
    lambda s: s[0] != "-" and s[-1] != "-")
EMAILS = st.builds(lambda local, labels: f"{local}@{'.'.join(labels)}", _LOCAL, st.lists(_LABEL, min_size=1, max_size=3))

_DIGITS = st.text("0123456789", min_size=1, max_size=1)


def _digits(n_min: int, n_max: int):
    return st.text("0123456789", min_size=n_min, max_size=n_max).filter(lambda s: s[0] != "0")


PHONES = st.one_of(
    st.builds(lambda cc, n: f"+{cc}{n}", _digits(1, 3), st.text("0123456789", min_size=7, max_size=11)),  # E.164
    st.builds(lambda cc, a, b, c: f"+{cc} (0) {a}-{b}-{c}", _digits(2, 2), _digits(4, 4), _digits(3, 3),
              _digits(3, 3)),                                                                            # trunk
    st.builds(lambda cc, a, b: f"+{cc} {a} {b}", _digits(1, 3), _digits(3, 4), _digits(6, 7)),           # spaced
    st.builds(lambda a, b: f"0{a} {b}", _digits(4, 4), _digits(6, 6)),                                    # national
    st.builds(lambda a, b, c: f"({a}) {b}-{c}", _digits(3, 3), _digits(3, 3), st.text("0123456789", min_size=4,
                                                                                       max_size=4)),    # US
    st.builds(lambda a, b, c, sep: f"{a}{sep}{b}{sep}{c}", _digits(3, 3), _digits(3, 3),
              st.text("0123456789", min_size=4, max_size=4), st.sampled_from(["-", ".", " "])),
    _digits(10, 15),                                                                                     # bare
)

SECRET_KEYS = st.sampled_from(["password", "passwd", "pwd", "secret", "secretkey", "client_secret", "token",
                               "access_token", "api_key", "apikey", "aws_secret_access_key", "aws_session_token",
                               "X-Amz-Security-Token", "X-Amz-Signature", "X-Amz-Credential", "Signature", "sig",
                               "private_key", "PASSWORD", "Secret_Key"])
_SECRET_VALUE = st.text(string.ascii_letters + string.digits + "/+=_-%.", min_size=8, max_size=40).filter(
    lambda s: s[0].isalnum())
SECRETS = st.tuples(SECRET_KEYS, st.sampled_from(["=", " = ", ": ", ":"]), _SECRET_VALUE)

_USER = st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=12)
_PASSWORD = st.text(string.ascii_letters + string.digits + "%!*$~-", min_size=6, max_size=20)
_QUERY_SECRET = st.sampled_from(["X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Credential", "Signature", "sig",
                                 "token", "access_token"])
URLS = st.tuples(st.sampled_from(["https", "http", "ftp", "postgresql"]), _USER, _PASSWORD, _QUERY_SECRET,
                 _SECRET_VALUE)

# ordinary text: what messages name (never a bare number of ten digits or more, nor an '@')
_HEX = "0123456789abcdef"
ORDINARY = st.lists(st.one_of(
    st.builds(lambda n: f"row {n}", st.integers(1, 999_999_999)),
    st.builds(lambda n: f"part-{n:05d}.csv", st.integers(0, 99_999)),
    st.builds(lambda r: f"run r-{r}", st.text(_HEX, min_size=16, max_size=16)),
    st.builds(lambda t, r: f"run x-{t}-{r}", st.datetimes().map(lambda d: d.strftime("%Y%m%dt%H%M%S")),
              st.text(_HEX, min_size=8, max_size=8)),
    st.builds(lambda j: f"job {j}", st.text(_HEX, min_size=32, max_size=32)),
    st.builds(lambda d: f"at {d.isoformat(timespec='seconds')}Z", st.datetimes()),
    st.builds(lambda n: f"{n:,} rows", st.integers(0, 10 ** 12)),
    st.builds(lambda f: f"field {f}", st.sampled_from(["Location.Latitude", "Attributes.Interests#12", "Metrics.ltv",
                                                       "User.UserAttributes.FirstName", "Demographic.Timezone",
                                                       "Address", "ChannelType"])),
    st.builds(lambda b, k: f"s3://{b}/pinpoint-etl/{k}/import/part-00001.csv",
              st.text(string.ascii_lowercase + string.digits + "-", min_size=3, max_size=20).filter(
                  lambda s: s[0].isalnum()), st.text(_HEX, min_size=16, max_size=16)),
), min_size=1, max_size=6).map(", ".join)


@settings(max_examples=300)
@given(ORDINARY)
@example("row 999999999, job 00000000000000000000000000000000, at 2026-11-23T10:54:35Z, 1,000,000,000 rows")
def test_ordinary_text_survives_unchanged(text):
    assert scrub(text) == text


@settings(max_examples=300)
@given(ORDINARY, EMAILS, ORDINARY)
@example("row 3", "josé.garcía@exämple.com", "part-00001.csv")
@example("row 3", "user@localhost", "part-00001.csv")
def test_no_email_survives(before, email, after):
    masked = _middle(scrub(f"{before}: {email} in {after}"), before, after)
    local, _, domain = email.partition("@")
    assert masked == f"{local[0]}***@{domain}"


def _middle(out: str, before: str, after: str) -> str:
    """What became of the value between the ordinary text before and after it (which must survive)."""
    assert out.startswith(f"{before}: ") and out.endswith(f" in {after}"), out
    assert scrub(out) == out  # scrubbing again changes nothing more
    return out[len(before) + 2:len(out) - len(after) - 4]


@settings(max_examples=300)
@given(ORDINARY, PHONES, ORDINARY)
@example("row 3", "+44 (0) 7700-900-123", "part-00001.csv")
def test_no_phone_number_survives(before, phone, after):
    masked = _middle(scrub(f"{before}: {phone} in {after}"), before, after)
    digits = "".join(c for c in phone if c.isdigit())
    keep = 4 if len(digits) >= 10 else 2
    assert masked == f"{'+' if phone.startswith('+') else ''}{digits[0]}******{digits[-keep:]}"


@settings(max_examples=300)
@given(ORDINARY, SECRETS, ORDINARY)
@example("row 3", ("secretkey", "=", "AbC123xyz"), "part-00001.csv")
def test_no_secret_value_survives(before, secret, after):
    key, sep, value = secret
    assert _middle(scrub(f"{before}: {key}{sep}{value} in {after}"), before, after) == f"{key}{sep}****"


@settings(max_examples=300)
@given(URLS, ORDINARY)
def test_no_url_credential_or_signature_survives(url, after):
    scheme, user, password, param, value = url
    raw = f"{scheme}://{user}:{password}@host.example.com/data/endpoints.csv?X-Amz-Date=20261123T101010Z&{param}={value}"
    out = scrub(f"reading {raw} failed in {after}")
    assert out == (f"reading {scheme}://****@host.example.com/data/endpoints.csv?X-Amz-Date=20261123T101010Z"
                   f"&{param}=**** failed in {after}")


def test_the_cli_error_for_a_header_less_csv_names_no_raw_value(tmp_path):
    """Issue #15 end to end: a CSV without a header makes its first row the column names."""
    from tests.flows.test_cli import run_cli

    src = tmp_path / "nohdr.csv"
    src.write_text("josé.garcía@exämple.com,user@localhost,secretkey=AbC123xyz,+44 (0) 7700-900-123\n"
                   "a@example.com,b,c,d\n", encoding="utf-8")
    out = run_cli("validate", str(src), "--out", str(tmp_path / "out"), "-q")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    for raw in ("josé.garcía", "user@localhost", "AbC123xyz", "7700-900-123", "(0) 7700"):
        assert raw not in out.stderr, raw
    assert "j***@exämple.com" in out.stderr and "+4******0123" in out.stderr and "nohdr.csv" in out.stderr
