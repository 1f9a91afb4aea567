"""Column mapping: source column names → Pinpoint names (reference §1.2), planned once per source.

Rules, in order, for each source column (its slot suffix ``#n`` set aside: a slot follows its base):
``_source``/``_row`` pass through; a mapping entry for the column (exact name, else the unique
case-insensitive match) gives its target, ``""``/``"-"``/``None`` dropping it; a column in ``drop``
is dropped; a Pinpoint name in any case is kept in Pinpoint's spelling; with ``fold_unknown`` any
other column becomes ``Attributes.<name>``; otherwise it is unknown and planning fails with a
:class:`~core.errors.ColumnError` that lists every unknown column and shows how to map or drop it.
Several columns reaching one multi-value attribute (``Attributes.*``, ``User.UserAttributes.*``)
become its slots ``X``, ``X#2``… in source order; several reaching a single-value field is an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pinpoint_etl.core.masking import scrub
from pinpoint_etl.core.errors import ColumnError, ConfigError
from pinpoint_etl.core.catalogue import META_COLS, base_name, canonical_name, is_multi_value, slot_name

if TYPE_CHECKING:  # the driver (mapping, encoding Arrow) runs without pandas
    import pandas as pd

DROP_VALUES = frozenset({"", "-"})
_MAX_LISTED = 20
# substrings of an unknown column name → the Pinpoint name suggested in the error message
_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("email", "e-mail", "mail", "phone", "mobile", "msisdn", "token"), "Address"),
    (("channel",), "ChannelType"),
    (("country",), "Location.Country"),
    (("city", "town"), "Location.City"),
    (("zip", "postal", "postcode"), "Location.PostalCode"),
    (("state", "province", "region"), "Location.Region"),
    (("platform",), "Demographic.Platform"),
    (("latitude", "lat"), "Location.Latitude"),
    (("longitude", "lng", "lon"), "Location.Longitude"),
    (("locale", "language", "lang"), "Demographic.Locale"),
    (("timezone", "time_zone", "tz"), "Demographic.Timezone"),
    (("optout", "opt_out", "opt-out"), "OptOut"),
    (("user_id", "userid", "customer_id"), "User.UserId"),
)


def _is_drop(target: str | None) -> bool:
    return target is None or target.strip() in DROP_VALUES


def _finder(keys: Iterable[str]):
    """Look a source name up among ``keys``: exact, else the one key equal ignoring case and spaces."""
    exact = set(keys)
    folded: dict[str, list[str]] = {}
    for key in exact:
        folded.setdefault(key.strip().casefold(), []).append(key)

    def find(name: str) -> str | None:
        if name in exact:
            return name
        hits = folded.get(name.strip().casefold(), [])
        return hits[0] if len(hits) == 1 else None

    return find


def _hint(name: str) -> str:
    low = name.casefold()
    for words, target in _HINTS:
        if any(w in low for w in words):
            return target
    return f"User.UserAttributes.{name.strip() or 'name'}"


def _show(name: str) -> str:
    return name if name and name.strip() == name and "," not in name else repr(name)


def _unknown_error(unknown: list[str]) -> ColumnError:
    """The one-line error for unknown columns (masked: a headerless file shows data as names)."""
    unknown = [scrub(n) for n in unknown]
    listed = ", ".join(_show(n) for n in unknown[:_MAX_LISTED])
    if len(unknown) > _MAX_LISTED:
        listed += f" (+{len(unknown) - _MAX_LISTED} more)"
    first, last = unknown[0], unknown[-1]
    if len(unknown) == 1:
        return ColumnError(f"unknown column: {listed} — map it with --map {first}={_hint(first)}, "
                           f"drop it with --map {first}=-, or fold it into Attributes.{first.strip()} "
                           "with --fold-unknown")
    return ColumnError(f"unknown columns: {listed} — map them with --map {first}={_hint(first)}, "
                       f"drop them with --map {last}=-, or fold them into Attributes.<name> "
                       "with --fold-unknown")


def _number_slots(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """(source, target base) pairs in source order → source → final slot name; scalar clash → error."""
    by_target: dict[str, list[str]] = {}
    for source, target in pairs:
        by_target.setdefault(target, []).append(source)
    clashes = [(t, s) for t, s in by_target.items() if len(s) > 1 and not is_multi_value(t)]
    if clashes:
        target, sources = clashes[0]
        names = ", ".join(_show(s) for s in sources)
        raise ColumnError(f"columns {names} all map to {target}, which holds a single value; "
                          f"drop all but one, e.g. --map {sources[-1]}=-")
    slots: dict[str, int] = {}
    plan: dict[str, str] = {}
    for source, target in pairs:
        index = slots.get(target, 0)
        slots[target] = index + 1
        plan[source] = slot_name(target, index)
    return plan


def plan_columns(source_columns: list[str], mapping: Mapping[str, str | None] | None = None, *,
                 fold_unknown: bool = False, drop: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
    """Source column → Pinpoint column (slot-numbered) for every kept column; see module docstring."""
    mapping = dict(mapping or {})
    find_mapped, find_dropped = _finder(mapping), _finder(drop)
    pairs: list[tuple[str, str]] = []
    meta: dict[str, str] = {}
    unknown: dict[str, None] = {}
    bad_targets: dict[str, str] = {}
    for column in source_columns:
        if column in META_COLS:
            meta[column] = column
            continue
        base = base_name(column)
        # an exact slot name (Address#2) maps that one column; otherwise the base name maps every slot
        key = column if column != base and column in mapping else find_mapped(base)
        if key is not None:
            target_text = mapping[key]
            if _is_drop(target_text):
                continue
            target = canonical_name(base_name(target_text.strip()))
            if target is None:
                bad_targets[key] = target_text
                continue
        elif find_dropped(base) is not None:
            continue
        elif (target := canonical_name(base)) is None:
            if fold_unknown and base.strip():
                target = "Attributes." + base.strip()
            else:
                unknown[base] = None
                continue
        pairs.append((column, target))
    if bad_targets:
        listed = ", ".join(f"{_show(k)}={v}" for k, v in list(bad_targets.items())[:_MAX_LISTED])
        raise ColumnError(f"mapping targets that are not Pinpoint names: {listed} — use a field such as "
                          "Address or Location.Country, Attributes.<name>, User.UserAttributes.<name> "
                          "or Metrics.<name>, or - to drop the column")
    if unknown:
        raise _unknown_error(list(unknown))
    plan = _number_slots(pairs)
    return {column: plan.get(column) or meta[column] for column in source_columns
            if column in plan or column in meta}


def apply_columns(frame: pd.DataFrame, plan: Mapping[str, str]) -> pd.DataFrame:
    """Keep the planned columns of ``frame`` (plus ``_source``/``_row``), renamed; slots renumbered.

    A target's slots are named ``X``, ``X#2``, … in the frame's column order, so a plan may also
    name the same multi-value target several times. Planned columns absent from ``frame`` are skipped.
    """
    pairs: list[tuple[str, str]] = []
    meta: list[str] = []
    for column in frame.columns:
        if column in plan and column not in META_COLS:
            pairs.append((column, base_name(plan[column])))
        elif column in META_COLS:
            meta.append(column)
    renamed = _number_slots(pairs)
    keep = [c for c in frame.columns if c in renamed or c in meta]
    return frame.loc[:, keep].set_axis([renamed.get(c, c) for c in keep], axis=1)


def load_mapping_file(path: str | Path) -> dict[str, str]:
    """A JSON object ``{"source column": "Pinpoint name"}`` (``""``, ``"-"`` or null drops a column)."""
    where = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"mapping file not found: {where}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"mapping file {where} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"mapping file {where} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}); expected an object like {{\"email\": \"Address\"}}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"mapping file {where} must hold a JSON object like {{\"email\": \"Address\"}}, "
                          f"not a {type(data).__name__}")
    bad = [k for k, v in data.items() if v is not None and not isinstance(v, str)]
    if bad:
        raise ConfigError(f"mapping file {where}: values must be Pinpoint names (text) or \"-\"; "
                          f"check {', '.join(map(repr, bad[:5]))}")
    return {k: ("-" if v is None else v) for k, v in data.items()}


def parse_map_options(items: Iterable[str]) -> dict[str, str]:
    """``["SRC=DST", …]`` (``--map`` options) → mapping; ``SRC=`` or ``SRC=-`` drops SRC.

    The last ``=`` separates source and target (a source column name may contain ``=``).
    """
    mapping: dict[str, str] = {}
    for item in items:
        source, sep, target = item.rpartition("=")
        source, target = source.strip(), target.strip()
        if not sep or not source:
            raise ConfigError(f"--map {item!r} is not SOURCE=TARGET; e.g. --map email=Address, "
                              "or --map notes=- to drop a column")
        if source in mapping and mapping[source] != target:
            raise ConfigError(f"--map gives column {source!r} two targets: {mapping[source]!r} and {target!r}")
        mapping[source] = target
    return mapping
