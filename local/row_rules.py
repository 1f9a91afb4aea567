"""Endpoint definition rules shared by import jobs and the endpoint APIs (pure functions, no state).

Turns a CSV row or an NDJSON object into a nested endpoint record (the ``EndpointRequest`` shape)
and checks the documented per-endpoint rules (limits in :mod:`local.limits`). A broken rule raises
:class:`RowError`, whose text ends up in ``ImportJobResponse.Failures`` or in a 400
``BadRequestException``. Messages name the field and the rule, never the value of an address.

Choices where the documentation is silent (also listed in ``local/__init__.py``):

* Import fields are the UG-import "Supported attributes" table, matched case-sensitively,
  plus ``EffectiveDate`` (listed there). ``EndpointStatus`` is not supported in import files: a row
  that gives one (a CSV cell or an NDJSON key) fails alone, in CSV and NDJSON alike; the APIs accept it.
* An empty CSV cell means "no value given": the field is left out, nothing is cleared.
* A CSV value containing CR, LF or TAB fails its row (UG-import: files can't contain them).
* A JSON custom attribute must be an array of strings, a metric a JSON number.
* An SMS or VOICE address must be E.164 (``+``, a non-zero digit, up to 15 digits in all).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from pinpoint_etl.local.limits import (
    AUTO_INACTIVATE_CHANNELS,
    CHANNEL_TYPES,
    ENDPOINT_STATUSES,
    IMPORT_SCALAR_FIELDS,
    MAX_ATTRIBUTE_NAME,
    MAX_ATTRIBUTE_VALUE,
    MAX_ENDPOINT_BYTES,
    MAX_VALUES_PER_ATTRIBUTE,
    OPT_OUT_VALUES,
    PHONE_CHANNELS,
)

__all__ = ["AUTO_INACTIVATE_CHANNELS", "RowError", "CsvPlan", "check_record", "check_address",
           "check_size", "custom_attribute_names", "merge_record", "header_problem", "definition_json"]

TOP_STRINGS = ("Id", "ChannelType", "Address", "OptOut", "RequestId", "EffectiveDate", "EndpointStatus")
NESTED_FIELDS = {
    "Location": {"City": str, "Country": str, "Latitude": float, "Longitude": float,
                 "PostalCode": str, "Region": str},
    "Demographic": {"AppVersion": str, "Locale": str, "Make": str, "Model": str,
                    "ModelVersion": str, "Platform": str, "PlatformVersion": str, "Timezone": str},
}
MULTI_VALUE_PREFIXES = ("Attributes.", "User.UserAttributes.")
METRIC_PREFIX = "Metrics."
BAD_VALUE_CHARS = ("\r", "\n", "\t")
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_CHANNELS = frozenset(CHANNEL_TYPES)
_OPT_OUTS = frozenset(OPT_OUT_VALUES)


class RowError(ValueError):
    """One endpoint definition breaks a rule; the message says which."""


# --------------------------------------------------------------------------- CSV

def header_problem(headers: list[str]) -> str | None:
    """Why a CSV header can't be imported (the whole file fails), or None."""
    if not headers or all(not h for h in headers):
        return "the file has no header row"
    seen: set[str] = set()
    for name in headers:
        if not _is_import_column(name):
            return (f"unknown column {name!r} in the header: not a Pinpoint import attribute "
                    "(names are case-sensitive, e.g. Location.Country, Attributes.<name>)")
        if name in seen and not name.startswith(MULTI_VALUE_PREFIXES):
            return f"column {name!r} appears more than once (only Attributes.* and User.UserAttributes.* may repeat)"
        seen.add(name)
    return None


def _is_import_column(name: str) -> bool:
    if name in IMPORT_SCALAR_FIELDS or name == "EndpointStatus":
        return True
    for prefix in (*MULTI_VALUE_PREFIXES, METRIC_PREFIX):
        if name.startswith(prefix) and len(name) > len(prefix):
            return True
    return False


def _name_problem(label: str, name: str) -> str | None:
    if len(name) > MAX_ATTRIBUTE_NAME:
        return f"attribute name '{label}.{name}' is {len(name)} characters long; the limit is {MAX_ATTRIBUTE_NAME}"
    return None


class CsvPlan:
    """How each column of a checked CSV header becomes part of a record, worked out once per file.

    ``record(cells)`` builds the nested record of one data row and checks every per-value rule;
    the per-endpoint rules that need the whole record are :func:`check_record`'s, already covered.
    """

    def __init__(self, headers: list[str]):
        self.headers = headers
        self.width = len(headers)
        columns = []
        counts: dict[str, int] = {}
        for index, name in enumerate(headers):
            if name == "EndpointStatus":
                columns.append((index, "status", name, None, None))
            elif name.startswith("Attributes."):
                attr = name[len("Attributes."):]
                columns.append((index, "attr", name, attr, _name_problem("Attributes", attr)))
                counts[name] = counts.get(name, 0) + 1
            elif name.startswith("User.UserAttributes."):
                attr = name[len("User.UserAttributes."):]
                columns.append((index, "uattr", name, attr, _name_problem("User.UserAttributes", attr)))
                counts[name] = counts.get(name, 0) + 1
            elif name.startswith(METRIC_PREFIX):
                metric = name[len(METRIC_PREFIX):]
                columns.append((index, "metric", name, metric, _name_problem("Metrics", metric)))
            elif name == "User.UserId":
                columns.append((index, "user", name, None, None))
            elif "." in name:
                group, field = name.split(".", 1)
                kind = "float" if NESTED_FIELDS[group][field] is float else "nested"
                columns.append((index, kind, name, (group, field), None))
            elif name == "ChannelType":
                columns.append((index, "channel", name, None, None))
            elif name == "OptOut":
                columns.append((index, "optout", name, None, None))
            else:
                columns.append((index, "top", name, None, None))
        self.columns = columns
        # only an attribute whose header repeats more than the limit can have too many values
        self.crowded = [n for n, c in counts.items() if c > MAX_VALUES_PER_ATTRIBUTE]

    def record(self, cells: list[str]) -> dict[str, Any]:
        if len(cells) != self.width:
            raise RowError(f"the row has {len(cells)} fields but the header has {self.width}")
        rec: dict[str, Any] = {}
        joined = "\x00".join(cells)
        if "\n" in joined or "\r" in joined or "\t" in joined:
            for name, value in zip(self.headers, cells):
                if any(ch in value for ch in BAD_VALUE_CHARS):
                    raise RowError(f"the value of {name} contains a line break or tab")
        for index, kind, name, extra, problem in self.columns:
            value = cells[index]
            if not value:
                continue
            if kind == "top":
                rec[name] = value
            elif kind == "attr" or kind == "uattr":
                if problem:
                    raise RowError(problem)
                if len(value) > MAX_ATTRIBUTE_VALUE:
                    label = "Attributes" if kind == "attr" else "User.UserAttributes"
                    raise RowError(f"a value of {label}.{extra} is {len(value)} characters long; "
                                   f"the limit is {MAX_ATTRIBUTE_VALUE}")
                if kind == "attr":
                    attrs = rec.get("Attributes")
                    if attrs is None:
                        attrs = rec["Attributes"] = {}
                else:
                    user = rec.get("User")
                    if user is None:
                        user = rec["User"] = {}
                    attrs = user.get("UserAttributes")
                    if attrs is None:
                        attrs = user["UserAttributes"] = {}
                values = attrs.get(extra)
                if values is None:
                    attrs[extra] = [value]
                else:
                    values.append(value)
            elif kind == "nested":
                group, field = extra
                target = rec.get(group)
                if target is None:
                    target = rec[group] = {}
                target[field] = value
            elif kind == "float":
                group, field = extra
                target = rec.get(group)
                if target is None:
                    target = rec[group] = {}
                target[field] = _number(name, value)
            elif kind == "metric":
                if problem:
                    raise RowError(problem)
                metrics = rec.get("Metrics")
                if metrics is None:
                    metrics = rec["Metrics"] = {}
                metrics[extra] = _number(name, value)
            elif kind == "channel":
                if value not in _CHANNELS:
                    raise RowError(f"ChannelType {value!r} is not valid; valid values: {', '.join(CHANNEL_TYPES)}")
                rec[name] = value
            elif kind == "optout":
                if value not in _OPT_OUTS:
                    raise RowError(f"OptOut {value!r} is not valid; valid values: ALL, NONE")
                rec[name] = value
            elif kind == "user":
                user = rec.get("User")
                if user is None:
                    user = rec["User"] = {}
                user["UserId"] = value
            else:  # status
                raise RowError("EndpointStatus is not supported in import files")
        for name in self.crowded:
            family, attr = (("Attributes", name[len("Attributes."):]) if name.startswith("Attributes.")
                            else ("UserAttributes", name[len("User.UserAttributes."):]))
            holder = rec.get("Attributes", {}) if family == "Attributes" else rec.get("User", {}).get("UserAttributes", {})
            if len(holder.get(attr, ())) > MAX_VALUES_PER_ATTRIBUTE:
                raise RowError(f"{name} has {len(holder[attr])} values; the limit is "
                               f"{MAX_VALUES_PER_ATTRIBUTE} values per attribute")
        check_address(rec)
        return rec


def _number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise RowError(f"{name} value {value!r} is not a number") from None
    if not math.isfinite(number):
        raise RowError(f"{name} value {value!r} is not a finite number")
    return number


# --------------------------------------------------------------------------- JSON / API records

def check_record(obj: Any, *, for_import: bool) -> dict[str, Any]:
    """Check the structure and the per-endpoint rules of a record; return a clean copy.

    ``for_import`` refuses fields that are not import attributes (``EndpointStatus``, unknown
    keys); the API path ignores unknown keys, as JSON APIs usually do.
    """
    if not isinstance(obj, dict):
        raise RowError("expected a JSON object describing one endpoint")
    rec: dict[str, Any] = {}
    for key, value in obj.items():
        if key in TOP_STRINGS:
            if key == "EndpointStatus" and for_import:
                raise RowError("EndpointStatus is not supported in import files")
            if value is None:
                continue
            if not isinstance(value, str):
                raise RowError(f"{key} must be a string")
            rec[key] = value
        elif key in NESTED_FIELDS:
            rec[key] = _check_nested(key, value, for_import)
        elif key == "Attributes":
            rec[key] = _check_multi("Attributes", value)
        elif key == "Metrics":
            rec[key] = _check_metrics(value)
        elif key == "User":
            rec[key] = _check_user(value, for_import)
        elif for_import:
            raise RowError(f"unknown field {key!r}: not a Pinpoint import attribute")
    _check_enums(rec)
    check_address(rec)
    return rec


def _check_nested(group: str, value: Any, for_import: bool) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RowError(f"{group} must be an object")
    out: dict[str, Any] = {}
    for field, item in value.items():
        kind = NESTED_FIELDS[group].get(field)
        if kind is None:
            if for_import:
                raise RowError(f"unknown field '{group}.{field}': not a Pinpoint import attribute")
            continue
        if item is None:
            continue
        if kind is float:
            if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
                raise RowError(f"{group}.{field} value {item!r} is not a number")
            out[field] = float(item)
        else:
            if not isinstance(item, str):
                raise RowError(f"{group}.{field} must be a string")
            out[field] = item
    return out


def _check_name(label: str, name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise RowError(f"{label} has an empty attribute name")
    problem = _name_problem(label, name)
    if problem:
        raise RowError(problem)


def _check_multi(label: str, value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RowError(f"{label} must be an object of attribute name -> array of strings")
    out: dict[str, list[str]] = {}
    for name, values in value.items():
        _check_name(label, name)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise RowError(f"{label}.{name} must be an array of strings")
        if len(values) > MAX_VALUES_PER_ATTRIBUTE:
            raise RowError(f"{label}.{name} has {len(values)} values; the limit is "
                           f"{MAX_VALUES_PER_ATTRIBUTE} values per attribute")
        for item in values:
            if len(item) > MAX_ATTRIBUTE_VALUE:
                raise RowError(f"a value of {label}.{name} is {len(item)} characters long; "
                               f"the limit is {MAX_ATTRIBUTE_VALUE}")
        out[name] = list(values)
    return out


def _check_metrics(value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RowError("Metrics must be an object of metric name -> number")
    out: dict[str, float] = {}
    for name, item in value.items():
        _check_name("Metrics", name)
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise RowError(f"Metrics.{name} value {item!r} is not a number")
        out[name] = float(item)
    return out


def _check_user(value: Any, for_import: bool) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RowError("User must be an object")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "UserId":
            if item is None:
                continue
            if not isinstance(item, str):
                raise RowError("User.UserId must be a string")
            out["UserId"] = item
        elif key == "UserAttributes":
            out["UserAttributes"] = _check_multi("User.UserAttributes", item)
        elif for_import:
            raise RowError(f"unknown field 'User.{key}': not a Pinpoint import attribute")
    return out


def _check_enums(rec: dict[str, Any]) -> None:
    channel = rec.get("ChannelType")
    if channel is not None and channel not in _CHANNELS:
        raise RowError(f"ChannelType {channel!r} is not valid; valid values: {', '.join(CHANNEL_TYPES)}")
    opt_out = rec.get("OptOut")
    if opt_out is not None and opt_out not in _OPT_OUTS:
        raise RowError(f"OptOut {opt_out!r} is not valid; valid values: ALL, NONE")
    status = rec.get("EndpointStatus")
    if status is not None and status not in ENDPOINT_STATUSES:
        raise RowError(f"EndpointStatus {status!r} is not valid; valid values: ACTIVE, INACTIVE")


def check_address(endpoint: dict[str, Any]) -> None:
    """An SMS or VOICE endpoint's Address must be an E.164 phone number (UG-import)."""
    channel = endpoint.get("ChannelType")
    address = endpoint.get("Address")
    if channel in PHONE_CHANNELS and address is not None and not E164.fullmatch(address):
        raise RowError(f"{channel} endpoints need an Address in E.164 format (+, country code and number, "
                       "at most 15 digits)")


# --------------------------------------------------------------------------- whole-endpoint rules

def cohort_id(endpoint_id: str) -> str:
    """A stable cohort "0"-"99" derived from the endpoint id (MODEL: random ~1% cohorts)."""
    return str(int.from_bytes(hashlib.sha1(endpoint_id.encode()).digest()[:8], "big") % 100)  # noqa: S324


def custom_attribute_names(rec: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """(family, name) of every custom attribute a record sets; families share the 250 budget."""
    names = {("Attributes", n) for n in rec.get("Attributes", ())}
    names |= {("Metrics", n) for n in rec.get("Metrics", ())}
    names |= {("UserAttributes", n) for n in rec.get("User", {}).get("UserAttributes", ())}
    return frozenset(names)


def definition_json(rec: dict[str, Any]) -> str:
    """The record as compact UTF-8 JSON: what is stored, and what the 15 KB limit is measured on."""
    return json.dumps(rec, separators=(",", ":"), ensure_ascii=False)


def check_size(definition: str) -> None:
    """The 15 KB limit on an endpoint definition (given as :func:`definition_json` text)."""
    size = len(definition) if definition.isascii() else len(definition.encode("utf-8"))
    if size > MAX_ENDPOINT_BYTES:
        raise RowError(f"the endpoint is {size} bytes; the maximum endpoint size is 15 KB "
                       f"({MAX_ENDPOINT_BYTES} bytes)")


def merge_record(existing: dict[str, Any] | None, rec: dict[str, Any]) -> dict[str, Any]:
    """An update applied to an endpoint: listed fields and custom attributes overwrite, the rest stays.

    An attribute given an empty array is removed.
    """
    out = json.loads(json.dumps(existing)) if existing else {}
    for key in TOP_STRINGS:
        if key in rec:
            out[key] = rec[key]
    for group in NESTED_FIELDS:
        if group in rec:
            out.setdefault(group, {}).update(rec[group])
    for family in ("Attributes", "Metrics"):
        if family in rec:
            out.setdefault(family, {}).update(rec[family])
    if "User" in rec:
        user = out.setdefault("User", {})
        if "UserId" in rec["User"]:
            user["UserId"] = rec["User"]["UserId"]
        if "UserAttributes" in rec["User"]:
            user.setdefault("UserAttributes", {}).update(rec["User"]["UserAttributes"])
    for container in (out.get("Attributes"), out.get("User", {}).get("UserAttributes")):
        if container:
            for name in [n for n, v in container.items() if v == []]:
                del container[name]
    return out
