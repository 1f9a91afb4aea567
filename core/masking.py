"""Masking of personal data and secrets before anything reaches a log, artifact, report, error or stored URI.

:func:`scrub` is the one scrubber of free text (and of URIs that are stored or shown). It masks, in order:

1. credentials in URLs: ``https://user:pass@host`` → ``https://****@host``;
2. secrets as ``key=value`` / ``key: value`` (query strings included): keys naming a password, secret,
   token, signature, credential, API or access key (``secretkey=``, ``password=``, ``X-Amz-Signature=``,
   ``X-Amz-Security-Token=``, ``X-Amz-Credential=``, ``Signature=``, ``sig=``, ``token=``,
   ``aws_secret_access_key=``...), ``Bearer`` tokens and AWS access key ids (``AKIA...``): the value
   becomes ``****``;
3. email addresses, internationalised (``josé.garcía@exämple.com``) or with a dotless domain
   (``user@localhost``): the local part becomes its first character and ``***``;
4. phone numbers: ``+`` and 7 to 15 digits in any grouping (``+44 (0) 7700-900-123``), or national
   numbers of 7 to 15 digits written with spaces, dashes, dots or brackets (``(206) 555-0100``,
   ``07700 900123``), or 10 to 15 bare digits, with any extension (``x12``): the first digit and the
   last four (two when the number has fewer than ten digits) stay, the rest becomes ``******``; a run of
   grouped digits too long for one number (several numbers one after another) becomes ``******``.

Ordinary text is left as it is: a phone number never starts inside a word, file name or dotted
name (``part-00001.csv``, ``r-5b49d85d1e94524c``, a 32-hex job id), ISO dates are not phone numbers,
decimals (``1631.56``), counts below ten digits and row numbers stay, and a field name before a colon
(``Attributes.password: ...``) is a name, not a secret.
"""

from __future__ import annotations

import re

_MASK = "****"

_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s?#]+)@")

# Key names that hold a secret: anywhere in the key (…password…, X-Amz-Security-Token), or the whole key.
_SECRET_WORDS = (r"pass(?:word|wd|phrase)?|pwd|secret\w*|\w*token|\w*signature|sig|credentials?|"
                 r"api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|private[_-]?key|auth(?:orization)?|"
                 r"session[_-]?key")
_SECRET_KEY = rf"(?:[A-Za-z0-9]+[_-])*(?:{_SECRET_WORDS})(?:[_-][A-Za-z0-9]+)*"
_SECRET_RE = re.compile(
    rf"(?P<key>(?<![\w.])(?i:{_SECRET_KEY})[\"']?)(?P<sep>\s*=\s*|\s?:(?!//)\s?)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s&;,\"'<>]+)")
_BEARER_RE = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_ACCESS_KEY_ID_RE = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")

# RFC 5322/6531 local parts (letters of any script, digits, the usual symbols), domains of one or more
# labels (a dotless ``localhost`` included).
_EMAIL_RE = re.compile(r"(?P<first>[\w!#$%'*+\-^`{|}~])[\w.!#$%'*+\-^`{|}~]*@(?P<domain>[\w\-]+(?:\.[\w\-]+)*)")

_DATE = r"(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})(?!\d)"
_PHONE_RE = re.compile(
    rf"(?<![\w+.\-/@])(?!{_DATE})(?P<plus>\+\s?)?\(?\d[\d \-.()/\u00a0]*\d"
    r"(?P<ext>\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w@]|[\-.]\w)")
_SEPARATORS = re.compile(r"[ \-()/\u00a0]|\..*\.")  # a single dot is a decimal point, two or more a grouping


def _phone(m: re.Match) -> str:
    text = m.group(0)
    if m.group("ext"):
        text = text[:m.start("ext") - m.start()]
    digits = re.sub(r"\D", "", text)
    n = len(digits)
    grouped = bool(m.group("plus")) or (_SEPARATORS.search(text) is not None
                                        and not re.fullmatch(r"\d+\.\d+", text))  # not a decimal
    if grouped and n > 16:  # several numbers written one after another: which is which is unknowable
        return "******"
    if not (7 <= n <= 16 if grouped else 10 <= n <= 15):  # E.164: 15 digits; a "(0)" trunk prefix adds one
        return m.group(0)
    keep = 4 if n >= 10 else 2
    return f"{'+' if m.group('plus') else ''}{digits[0]}******{digits[-keep:]}"


def _secret(m: re.Match) -> str:
    return f"{m.group('key')}{m.group('sep')}{_MASK}"


def scrub(text: str) -> str:
    """Mask every credential, secret, email address and phone number in ``text`` (see module docstring)."""
    if not text:
        return text
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{_MASK}@", text)
    text = _BEARER_RE.sub(lambda m: m.group(1) + _MASK, text)
    text = _SECRET_RE.sub(_secret, text)
    text = _ACCESS_KEY_ID_RE.sub(_MASK, text)
    text = _EMAIL_RE.sub(lambda m: f"{m.group('first')}***@{m.group('domain')}", text)
    return _PHONE_RE.sub(_phone, text)
