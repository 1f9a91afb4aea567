"""Masking of personal data and secrets before anything reaches a log, artifact, report or error."""

from __future__ import annotations

import re

_EMAIL_RE = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_PHONE_RE = re.compile(r"(?<![\w])(\+?\d)[\d\s().\-]{5,}(\d{4})(?!\w)")
_SECRET_RE = re.compile(
    r"((?:aws_)?(?:secret_access_key|session_token|secret)\s*[=:]\s*)\S+|(AKIA|ASIA)[A-Z0-9]{16}", re.I)


def mask_email(value: str) -> str:
    """``mary.major@example.com`` → ``m***@example.com``."""
    local, sep, domain = value.partition("@")
    if not sep:
        return mask_value(value)
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    """``+12065550100`` → ``+1******0100`` (keeps the first and last four characters)."""
    v = value.strip()
    if len(v) <= 6:
        return "*" * len(v)
    return v[:2] + "*" * (len(v) - 6) + v[-4:]


def mask_value(value: str) -> str:
    """Generic mask for a value of unknown kind: keep the first and last character."""
    v = str(value)
    if len(v) <= 2:
        return "*" * len(v)
    return f"{v[0]}{'*' * min(len(v) - 2, 8)}{v[-1]}"


def mask_address(value: object, channel: str | None = None) -> str:
    """Mask an endpoint Address according to its channel (emails and phones always masked)."""
    if value is None:
        return ""
    text = str(value)
    ch = (channel or "").upper()
    if ch == "EMAIL" or "@" in text:
        return mask_email(text)
    if ch in {"SMS", "VOICE"} or re.fullmatch(r"\+?[\d\s().\-]{6,}", text):
        return mask_phone(text)
    return mask_value(text) if ch else text


def scrub(text: str) -> str:
    """Mask every email address, phone-number-like run of digits and secret found in free text."""
    text = _EMAIL_RE.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _PHONE_RE.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)
    return _SECRET_RE.sub(lambda m: (m.group(1) or "") + "****", text)
