"""The contract of an exported endpoint (a flattened ``EndpointResponse`` line of an export file).

An export is validated *leniently*: nothing is dropped, every failure becomes an anomaly counted
per reason in the report. The model extends :class:`schemas.endpoint.ImportEndpoint` — an
exported endpoint should be import-ready — with what an export adds: ``Id`` and ``ChannelType``
always present, and the export-only fields ``ApplicationId``, ``CohortId`` ("0"–"99"),
``CreationDate`` / ``EffectiveDate`` (ISO 8601) and ``EndpointStatus`` (ACTIVE / INACTIVE).

Records are flat tables of text columns with the pipeline's dotted names and slot columns
(``Attributes.X``, ``Attributes.X#2``; see :mod:`core.catalogue`). Reasons name the field
and the rule, never the value.
"""

from __future__ import annotations

import re
from typing import Final, Optional

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.schemas.endpoint import ImportEndpoint, _col
from pinpoint_etl.transforms import validity as v
from pinpoint_etl.transforms.strings import set_predicate, unique_predicate

# Fields of EndpointResponse that an import file cannot carry (reference §4; UG-import).
EXPORT_ONLY_FIELDS: Final = ("ApplicationId", "CohortId", "CreationDate", "EffectiveDate", "EndpointStatus")
ENDPOINT_STATUSES: Final = ("ACTIVE", "INACTIVE")
_ISO_8601: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_COHORT: Final = frozenset(str(i) for i in range(100))
_CONTROL: Final = re.compile(r"[\r\n\t]")


def _is_iso(s: pd.Series) -> pd.Series:
    return unique_predicate(s, lambda v: _ISO_8601.fullmatch(v) is not None)


class ExportedEndpoint(ImportEndpoint):
    """One exported endpoint: the import contract plus the fields only an export carries."""

    application_id: Optional[Series[str]] = pa.Field(nullable=True, alias="ApplicationId",
                                                     description="Project the endpoint belongs to (export only)")
    cohort_id: Optional[Series[str]] = pa.Field(nullable=True, alias="CohortId",
                                                description='Random holdout cohort "0"-"99" (export only)')
    creation_date: Optional[Series[str]] = pa.Field(nullable=True, alias="CreationDate",
                                                    description="ISO 8601 creation time (export only)")
    effective_date: Optional[Series[str]] = pa.Field(nullable=True, alias="EffectiveDate",
                                                     description="ISO 8601 time of the last update (export only)")
    endpoint_status: Optional[Series[str]] = pa.Field(nullable=True, alias="EndpointStatus",
                                                      description="ACTIVE or INACTIVE (export only)")

    class Config:
        strict = False
        coerce = False

    @pa.check("CohortId", name="cohort_id", error='CohortId is not "0".."99"')
    def _cohort(cls, s: Series[str]) -> Series[bool]:
        return set_predicate(s, _COHORT)

    @pa.check("CreationDate", name="creation_date", error="CreationDate is not an ISO 8601 timestamp")
    def _creation(cls, s: Series[str]) -> Series[bool]:
        return _is_iso(s)

    @pa.check("EffectiveDate", name="effective_date", error="EffectiveDate is not an ISO 8601 timestamp")
    def _effective(cls, s: Series[str]) -> Series[bool]:
        return _is_iso(s)

    @pa.check("EndpointStatus", name="endpoint_status", error="EndpointStatus is not ACTIVE or INACTIVE")
    def _status(cls, s: Series[str]) -> Series[bool]:
        return set_predicate(s, frozenset(ENDPOINT_STATUSES))

    # Pinpoint keeps coordinates as doubles; the import form has one decimal (reference §1).
    @pa.check("Location.Latitude", name="latitude",
              error="Location.Latitude is not a number in -90..90 with one decimal (the import form)")
    def _latitude(cls, s: Series[str]) -> Series[bool]:
        return v.is_latitude(s)

    @pa.check("Location.Longitude", name="longitude",
              error="Location.Longitude is not a number in -180..180 with one decimal (the import form)")
    def _longitude(cls, s: Series[str]) -> Series[bool]:
        return v.is_longitude(s)

    @pa.dataframe_check(name="id_present", error="Id is missing")
    def _id_present(cls, df: pd.DataFrame) -> Series[bool]:
        return _col(df, "Id").notna()

    @pa.dataframe_check(name="channel_present", error="ChannelType is missing")
    def _channel_present(cls, df: pd.DataFrame) -> Series[bool]:
        return _col(df, "ChannelType").notna()

    @pa.dataframe_check(name="address_present", error="Address is missing")
    def _address_present(cls, df: pd.DataFrame) -> Series[bool]:
        return _col(df, "Address").notna()

    @pa.dataframe_check(name="control_characters",
                        error="a value contains CR, LF or TAB (not allowed in import files)")
    def _control(cls, df: pd.DataFrame) -> Series[bool]:
        ok = pd.Series(True, index=df.index)
        for col in df.columns:
            if col in cat.META_COLS:
                continue
            ok &= unique_predicate(df[col], lambda v: _CONTROL.search(v) is None).to_numpy()
        return ok


def _reason(column: object, check: object) -> str:
    check = str(check)
    if check.startswith("str_length"):
        return f"{cat.base_name(str(column))} value is longer than {cat.MAX_ATTRIBUTE_VALUE} characters"
    return check


def anomalies(frame: pd.DataFrame) -> pd.Series:
    """Validate ``frame`` lazily against :class:`ExportedEndpoint`; rows are never dropped.

    Returns the reasons per anomalous row (index → list of reasons), empty if every row conforms.
    A failure that is not tied to a row (a whole column) is attributed to every row.
    """
    try:
        ExportedEndpoint.validate(frame, lazy=True)
        return pd.Series([], dtype=object)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    by_row: dict[object, list[str]] = {}
    for idx, column, check in zip(cases["index"], cases["column"], cases["check"]):
        reason = _reason(column, check)
        targets = frame.index if pd.isna(idx) else [idx]
        for i in targets:
            bucket = by_row.setdefault(i, [])
            if reason not in bucket:
                bucket.append(reason)
    return pd.Series(by_row, dtype=object)
