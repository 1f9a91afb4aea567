"""Dimensional segments: checking a ``SegmentDimensions`` / ``SegmentGroupList`` and matching endpoints.

Pure functions over EndpointResponse dicts. Semantics (MODEL shapes; where AWS says nothing, our
choice):

* Every dimension present in one ``SegmentDimensions`` must hold (AND).
* ``Attributes`` / ``UserAttributes`` (``AttributeDimension``): INCLUSIVE (default) — one of the
  endpoint's values is listed; EXCLUSIVE — none is (an endpoint without the attribute matches);
  CONTAINS — a value contains a listed text; BEFORE / AFTER / ON / BETWEEN — the value read as an
  ISO 8601 date is before the first listed date, after it, on the same day, or within the two.
* ``Metrics`` (``MetricDimension``): GREATER_THAN, LESS_THAN, GREATER_THAN_OR_EQUAL,
  LESS_THAN_OR_EQUAL, EQUAL against ``Value``; an endpoint without the metric does not match.
* ``Demographic``: AppVersion, Make, Model, Platform compare the endpoint's Demographic field,
  Channel its ChannelType (``SetDimension``: INCLUSIVE default / EXCLUSIVE, exact text).
  ``DeviceType`` has no endpoint field to compare and is refused (400).
* ``Location``: Country (``SetDimension``); GPSPoint — within ``RangeInKilometers`` (default 100) of
  the coordinates, great-circle distance; an endpoint without coordinates does not match.
* ``Behavior.Recency``: the endpoint's EffectiveDate stands for its last activity; ACTIVE — within
  the Duration (HR_24, DAY_7, DAY_14, DAY_30) before now, INACTIVE — not.
* ``SegmentGroups``: each group starts from its ``SourceSegments`` (ANY — in one of them, ALL — in
  all; none listed — every endpoint), then keeps the endpoints whose ``Dimensions`` entries hold per
  ``Type`` (ALL, ANY, NONE); groups combine per ``Include`` (ALL, ANY, NONE).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pinpoint_etl.local.limits import MAX_SEGMENT_DIMENSIONS

Predicate = Callable[[dict[str, Any]], bool]
ATTRIBUTE_TYPES = ("INCLUSIVE", "EXCLUSIVE", "CONTAINS", "BEFORE", "AFTER", "ON", "BETWEEN")
OPERATORS = ("GREATER_THAN", "LESS_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN_OR_EQUAL", "EQUAL")
DIMENSION_TYPES = ("INCLUSIVE", "EXCLUSIVE")
DURATIONS = {"HR_24": timedelta(hours=24), "DAY_7": timedelta(days=7), "DAY_14": timedelta(days=14),
             "DAY_30": timedelta(days=30)}
COMBINE = ("ALL", "ANY", "NONE")
DEMOGRAPHIC_FIELDS = {"AppVersion": "AppVersion", "Make": "Make", "Model": "Model", "Platform": "Platform"}


class DimensionError(ValueError):
    """A segment definition the service refuses (answered 400)."""


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DimensionError(f"{where} must be an object")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise DimensionError(f"{where}.Values must be a non-empty list of strings")
    return value


def _date(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _attribute(where: str, spec: Any, read: Callable[[dict[str, Any]], list[str] | None]) -> Predicate:
    spec = _obj(spec, where)
    kind = spec.get("AttributeType", "INCLUSIVE")
    if kind not in ATTRIBUTE_TYPES:
        raise DimensionError(f"{where}.AttributeType {kind!r} is not valid; valid values: {', '.join(ATTRIBUTE_TYPES)}")
    values = _strings(spec.get("Values"), where)
    if kind == "INCLUSIVE":
        wanted = set(values)
        return lambda e: any(v in wanted for v in read(e) or ())
    if kind == "EXCLUSIVE":
        unwanted = set(values)
        return lambda e: not any(v in unwanted for v in read(e) or ())
    if kind == "CONTAINS":
        return lambda e: any(part in v for v in read(e) or () for part in values)
    bounds = [_date(v) for v in values]
    if any(b is None for b in bounds) or (kind == "BETWEEN" and len(bounds) < 2):
        raise DimensionError(f"{where}.Values must be ISO 8601 dates ({'two' if kind == 'BETWEEN' else 'one'} "
                             f"for {kind})")
    first = bounds[0]

    def holds(e: dict[str, Any]) -> bool:
        for raw in read(e) or ():
            when = _date(raw)
            if when is None:
                continue
            if kind == "BEFORE" and when < first or kind == "AFTER" and when > first:
                return True
            if kind == "ON" and when.date() == first.date():
                return True
            if kind == "BETWEEN" and first <= when <= bounds[1]:
                return True
        return False
    return holds


def _metric(where: str, spec: Any, name: str) -> Predicate:
    spec = _obj(spec, where)
    operator = spec.get("ComparisonOperator")
    if operator not in OPERATORS:
        raise DimensionError(f"{where}.ComparisonOperator {operator!r} is not valid; valid values: "
                             f"{', '.join(OPERATORS)}")
    value = spec.get("Value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DimensionError(f"{where}.Value must be a number")
    compare = {"GREATER_THAN": lambda m: m > value, "LESS_THAN": lambda m: m < value,
               "GREATER_THAN_OR_EQUAL": lambda m: m >= value, "LESS_THAN_OR_EQUAL": lambda m: m <= value,
               "EQUAL": lambda m: m == value}[operator]

    def holds(e: dict[str, Any]) -> bool:
        metric = e.get("Metrics", {}).get(name)
        return metric is not None and compare(metric)
    return holds


def _set(where: str, spec: Any, read: Callable[[dict[str, Any]], str | None]) -> Predicate:
    spec = _obj(spec, where)
    kind = spec.get("DimensionType", "INCLUSIVE")
    if kind not in DIMENSION_TYPES:
        raise DimensionError(f"{where}.DimensionType {kind!r} is not valid; valid values: INCLUSIVE, EXCLUSIVE")
    values = set(_strings(spec.get("Values"), where))
    if kind == "INCLUSIVE":
        return lambda e: read(e) in values
    return lambda e: read(e) not in values


def _gps(where: str, spec: Any) -> Predicate:
    spec = _obj(spec, where)
    coordinates = _obj(spec.get("Coordinates"), f"{where}.Coordinates")
    lat, lon = coordinates.get("Latitude"), coordinates.get("Longitude")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)):
        raise DimensionError(f"{where}.Coordinates needs numeric Latitude and Longitude")
    radius = spec.get("RangeInKilometers", 100.0)
    if isinstance(radius, bool) or not isinstance(radius, int | float) or radius < 0:
        raise DimensionError(f"{where}.RangeInKilometers must be a number >= 0")

    def holds(e: dict[str, Any]) -> bool:
        loc = e.get("Location", {})
        if "Latitude" not in loc or "Longitude" not in loc:
            return False
        p1, p2 = math.radians(lat), math.radians(loc["Latitude"])
        dp, dl = p2 - p1, math.radians(loc["Longitude"] - lon)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a))) <= radius
    return holds


def _recency(where: str, spec: Any) -> Predicate:
    spec = _obj(spec, where)
    duration = DURATIONS.get(spec.get("Duration"))
    kind = spec.get("RecencyType")
    if duration is None or kind not in ("ACTIVE", "INACTIVE"):
        raise DimensionError(f"{where} needs Duration (HR_24, DAY_7, DAY_14, DAY_30) and RecencyType "
                             "(ACTIVE, INACTIVE)")

    def holds(e: dict[str, Any]) -> bool:
        when = _date(e.get("EffectiveDate", ""))
        recent = when is not None and when >= datetime.now(UTC) - duration
        return recent if kind == "ACTIVE" else not recent
    return holds


def compile_dimensions(dims: Any, where: str = "Dimensions") -> tuple[Predicate, int]:
    """(predicate, number of dimensions) of one ``SegmentDimensions``; DimensionError if malformed."""
    dims = _obj(dims, where)
    checks: list[Predicate] = []
    for name, spec in _obj(dims.get("Attributes", {}), f"{where}.Attributes").items():
        checks.append(_attribute(f"{where}.Attributes.{name}", spec,
                                 lambda e, n=name: e.get("Attributes", {}).get(n)))
    for name, spec in _obj(dims.get("UserAttributes", {}), f"{where}.UserAttributes").items():
        checks.append(_attribute(f"{where}.UserAttributes.{name}", spec,
                                 lambda e, n=name: e.get("User", {}).get("UserAttributes", {}).get(n)))
    for name, spec in _obj(dims.get("Metrics", {}), f"{where}.Metrics").items():
        checks.append(_metric(f"{where}.Metrics.{name}", spec, name))
    for field, spec in _obj(dims.get("Demographic", {}), f"{where}.Demographic").items():
        label = f"{where}.Demographic.{field}"
        if field == "Channel":
            checks.append(_set(label, spec, lambda e: e.get("ChannelType")))
        elif field in DEMOGRAPHIC_FIELDS:
            checks.append(_set(label, spec, lambda e, f=field: e.get("Demographic", {}).get(f)))
        elif field == "DeviceType":
            raise DimensionError(f"{label}: the local service can't evaluate DeviceType (endpoints have no "
                                 "device-type field)")
        else:
            raise DimensionError(f"{label} is not a demographic dimension")
    location = _obj(dims.get("Location", {}), f"{where}.Location")
    for field, spec in location.items():
        if field == "Country":
            checks.append(_set(f"{where}.Location.Country", spec, lambda e: e.get("Location", {}).get("Country")))
        elif field == "GPSPoint":
            checks.append(_gps(f"{where}.Location.GPSPoint", spec))
        else:
            raise DimensionError(f"{where}.Location.{field} is not a location dimension")
    behavior = _obj(dims.get("Behavior", {}), f"{where}.Behavior")
    if "Recency" in behavior:
        checks.append(_recency(f"{where}.Behavior.Recency", behavior["Recency"]))
    unknown = set(dims) - {"Attributes", "UserAttributes", "Metrics", "Demographic", "Location", "Behavior"}
    if unknown:
        raise DimensionError(f"{where} has unknown members: {', '.join(sorted(unknown))}")
    return (lambda e: all(check(e) for check in checks)), len(checks)


def combine(kind: str, results: list[bool]) -> bool:
    if kind == "ALL":
        return all(results)
    if kind == "ANY":
        return any(results)
    return not any(results)


def check_groups(groups: Any) -> int:
    """The number of dimensions of a ``SegmentGroupList``; DimensionError if malformed."""
    groups = _obj(groups, "SegmentGroups")
    include = groups.get("Include", "ALL")
    if include not in COMBINE:
        raise DimensionError(f"SegmentGroups.Include {include!r} is not valid; valid values: ALL, ANY, NONE")
    items = groups.get("Groups", [])
    if not isinstance(items, list):
        raise DimensionError("SegmentGroups.Groups must be a list")
    total = 0
    for index, group in enumerate(items):
        where = f"SegmentGroups.Groups[{index}]"
        group = _obj(group, where)
        for key in ("Type", "SourceType"):
            if group.get(key, "ALL" if key == "Type" else "ANY") not in COMBINE:
                raise DimensionError(f"{where}.{key} must be one of ALL, ANY, NONE")
        dims = group.get("Dimensions", [])
        if not isinstance(dims, list):
            raise DimensionError(f"{where}.Dimensions must be a list")
        for n, item in enumerate(dims):
            total += compile_dimensions(item, f"{where}.Dimensions[{n}]")[1]
        sources = group.get("SourceSegments", [])
        if not isinstance(sources, list) or not all(isinstance(s, dict) and isinstance(s.get("Id"), str)
                                                    for s in sources):
            raise DimensionError(f"{where}.SourceSegments must be a list of {{Id, Version}} objects")
    if total > MAX_SEGMENT_DIMENSIONS:
        raise DimensionError(f"the segment has {total} dimensions; the limit is {MAX_SEGMENT_DIMENSIONS}")
    return total


def check_dimensions(dims: Any) -> int:
    total = compile_dimensions(dims)[1]
    if total > MAX_SEGMENT_DIMENSIONS:
        raise DimensionError(f"the segment has {total} dimensions; the limit is {MAX_SEGMENT_DIMENSIONS}")
    return total
