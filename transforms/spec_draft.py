"""Drafting a mapping spec from a file's header and a sample of its values (``pinpoint-etl map init``).

Each column is recognised by its content first — emails, phone numbers, push tokens, countries
(codes and names in any CLDR language), IANA time zones, locales, platforms, yes/no flags, dates
(the format that reads the most sampled values) — and by its name where content cannot tell
(ids, first and last names, cities…). Email, phone and push-token columns become channel blocks
with an Id template from the id column; the rest become shared fields, anything unrecognised a
custom attribute. The draft is YAML with a comment per line saying why, for the user to check.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from pinpoint_etl.transforms.demographic import canonical_locale, canonical_platform, timezones
from pinpoint_etl.transforms.location import country_code

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9\s().\-/]{6,24}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_:\-]{32,}$")
_YES_NO = {"yes", "no", "y", "n", "true", "false", "0", "1", "t", "f", "opted out", "opted in"}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z")
_SHARE = 0.8  # share of sampled values a content test must pass
#: name words → field, for columns content cannot tell apart
_BY_NAME = (
    (("first_name", "firstname", "given_name", "forename"), "User.UserAttributes.FirstName"),
    (("last_name", "lastname", "surname", "family_name"), "User.UserAttributes.LastName"),
    (("city", "town"), "Location.City"),
    (("postal", "zip", "postcode"), "Location.PostalCode"),
    (("region", "state", "province"), "Location.Region"),
    (("latitude", "lat"), "Location.Latitude"),
    (("longitude", "lng", "lon"), "Location.Longitude"),
    (("app_version", "appversion"), "Demographic.AppVersion"),
    (("make", "manufacturer"), "Demographic.Make"),
    (("model",), "Demographic.Model"),
)


@dataclass
class Column:
    name: str
    values: list[str]                        # sampled non-blank values
    kind: str = "text"
    why: str = ""
    formats: list[str] = field(default_factory=list)


def _share(values: list[str], test) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _words(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")


def _phone(value: str) -> bool:
    return bool(_PHONE.match(value)) and 7 <= sum(c.isdigit() for c in value) <= 15


def _date_formats(values: list[str]) -> list[tuple[str, float]]:
    """(format, share) of the formats that read at least ``_SHARE`` of the sampled values, the best first
    (day-first before month-first when both read as many): a sample may hold a date that is wrong."""
    def share(fmt: str) -> float:
        def reads(v: str) -> bool:
            try:
                datetime.strptime(v, fmt)
            except ValueError:
                return False
            return True
        return _share(values, reads)

    found = [(f, s) for f in DATE_FORMATS if (s := share(f)) >= _SHARE]
    return sorted(found, key=lambda fs: -fs[1])  # stable: DATE_FORMATS order breaks ties


def classify(name: str, values: list[str]) -> Column:
    """What a column looks like, from its sampled non-blank values and its name."""
    col, n, words = Column(name, values), len(values), _words(name)
    seen = f"{{share}} of {n} sampled values"

    def note(kind: str, share: float, what: str) -> Column:
        col.kind, col.why = kind, f"{seen.format(share=round(share * n))} {what}"
        return col

    if not values:
        col.why = "no value in the sample"
        return col
    checks = (
        ("email", lambda v: bool(_EMAIL.match(v)), "look like email addresses"),
        ("timezone", lambda v: v in _zones() or v.casefold() in _zones_folded(), "are IANA time zones"),
        ("platform", lambda v: canonical_platform(v) in ("ios", "android"), "are ios/android"),
        ("yes_no", lambda v: v.strip().casefold() in _YES_NO, "are yes/no values"),
    )
    for kind, test, what in checks:
        if (share := _share(values, test)) >= _SHARE:
            return note(kind, share, what)
    if found := _date_formats(values):
        (best, share), others = found[0], [f for f, s in found[1:] if s == found[0][1]]
        col.formats = [best]
        also = f"; also read by {', '.join(others)}: check which is meant" if others else ""
        return note("date", share, f"are dates in {best}{also}")
    if (share := _share(values, _phone)) >= _SHARE and not words.endswith("id"):
        return note("phone", share, "look like phone numbers")
    if (share := _share(values, lambda v: bool(_TOKEN.match(v)))) >= _SHARE and "token" in words:
        return note("token", share, "look like push tokens")
    if (share := _share(values, lambda v: country_code(v) is not None)) >= _SHARE and not words.endswith("id"):
        return note("country", share, "are country codes or names (any language)")
    if (share := _share(values, lambda v: "_" in canonical_locale(v) and len(v) <= 12)) >= _SHARE:
        return note("locale", share, "are locales")
    unique = len(set(values)) == n
    if words == "id" or words.endswith("_id") or (words.endswith("id") and unique):
        col.kind = "id"
        col.why = "an id column (by name; values unique in the sample)" if unique else "an id column (by name)"
    return col


def _zones() -> frozenset[str]:
    return timezones()


_FOLDED: set[str] = set()


def _zones_folded() -> set[str]:
    if not _FOLDED:
        _FOLDED.update(z.casefold() for z in timezones())
    return _FOLDED


def _attribute(name: str) -> str:
    parts = [p for p in _words(name).split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)[:50] or "Value"


def draft(columns: list[Column], source: str) -> str:
    """The YAML text of a draft spec for ``columns`` (see module docstring)."""
    ids = [c for c in columns if c.kind == "id"]
    key = ids[0].name if ids else None
    blocks, fields, used = [], [], set()
    suffix = {"email": ("EMAIL", "email"), "phone": ("SMS", "sms"), "token": (None, "push")}
    platform = next((c for c in columns if c.kind == "platform"), None)
    tags: set[str] = set()
    for c in columns:
        if c.kind not in suffix:
            continue
        channel, tag = suffix[c.kind]
        tag = tag if tag not in tags else f"{tag}-{_attribute(c.name).lower()}"  # a second block of a kind
        tags.add(tag)
        lines = [f"  - name: {json.dumps(c.name)}", f"    address: {json.dumps(c.name)}  # {c.why}"]
        if channel is None and platform is not None:
            lines += [f"    channel_column: {json.dumps(platform.name)}",
                      "    channel_map: {ios: APNS, android: GCM}"]
            used.add(platform.name)
        else:
            lines.append(f"    channel: {channel or 'GCM'}")
        lines.append(f"    id: {json.dumps('{' + key + '}-' + tag)}" if key else
                     f"    id_hash: [{json.dumps(c.name)}]  # no id column found: the Id is a hash of the address")
        blocks.append("\n".join(lines))
        used.add(c.name)
    if key:
        fields.append(f"  User.UserId: {json.dumps(key)}  # {ids[0].why}")
        used.add(key)
    targets: set[str] = set()
    for c in columns:
        if c.name in used:
            continue
        target, value, why = _field(c)
        if target in targets:
            target = "Attributes." + _attribute(c.name)
        targets.add(target)
        fields.append(f"  {target}: {value}  # {why}")
    head = (f"# Drafted by `pinpoint-etl map init` from the header and a sample of {source}: check every line,\n"
            "# then run: pinpoint-etl validate SOURCE --mapping-file THIS_FILE --out DIR\n")
    if not blocks:
        head += "# No email, phone or push-token column was recognised: add an endpoints block by hand.\n"
        blocks.append('  - name: "email"\n    address: "CHANGE_ME"\n    channel: EMAIL\n    id: "{CHANGE_ME}-email"')
    return head + "endpoints:\n" + "\n".join(blocks) + "\nfields:\n" + "\n".join(fields or ["  {}"]) + "\n"


def _field(c: Column) -> tuple[str, str, str]:
    """(target, YAML value, comment) of a column that is not an address."""
    name = json.dumps(c.name)
    words = _words(c.name)
    if c.kind == "country":
        return "Location.Country", name, c.why
    if c.kind == "timezone":
        return "Demographic.Timezone", name, c.why
    if c.kind == "locale":
        return "Demographic.Locale", name, c.why
    if c.kind == "platform":
        return "Demographic.Platform", name, c.why
    if c.kind == "yes_no" and "opt" in words:
        return "OptOut", f"{{column: {name}, map: boolean}}", f"{c.why}: yes → ALL, no → NONE"
    if c.kind == "date":
        return ("Attributes." + _attribute(c.name), f"{{column: {name}, date_formats: {json.dumps(c.formats)}}}",
                f"{c.why}; written as ISO 8601")
    for names, target in _BY_NAME:
        if words in names or any(words.endswith("_" + n) for n in names):
            return target, name, f"by name{'; ' + c.why if c.why else ''}"
    return "Attributes." + _attribute(c.name), name, c.why or "not recognised: a custom attribute"
