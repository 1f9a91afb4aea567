"""The contract of an import-ready endpoint record, as a Pandera model.

Every documented import rule lives here (reference §1–§2, §6): enums, formats, value and
count limits, per-endpoint size, Address + ChannelType for new endpoints. Column-level rules
(attribute name length, the 250 custom attributes per application) are checked once per run
by :func:`core.catalogue.check_columns` before anything is uploaded (pure Python, so the
driver process checks them without importing Pandera). Validation is lazy: every failing row
gets every reason (:mod:`schemas.rejects` turns failure cases into the rejects table).

Values are text here (the import file is text); the predicates that decide canonical form
come from :mod:`transforms.validity`, so normalisers and the contract can never disagree. They
answer True for a missing value themselves, so the checks take whole columns (``ignore_na=False``:
no per-check copy without the missing values; for the row checks, no per-check scan of every
column for an all-missing row, which a chunk never has: ``_source`` and ``_row`` are always set).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera import dtypes
from pandera.engines import pandas_engine
from pandera.typing import Series

from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.core.catalogue import check_columns  # noqa: F401 - the column-level rules, beside the row-level ones
from pinpoint_etl.transforms import validity as v
from pinpoint_etl.transforms.strings import string_buffers, to_arrow

_ATTR_RE = r"^(Attributes|User\.UserAttributes)\..+$"
_METRIC_RE = r"^Metrics\..+$"
_FIELD_RE = r"^[A-Z].*$"  # every Pinpoint name; not the _source/_row bookkeeping columns


@pandas_engine.Engine.register_dtype
@dtypes.immutable(init=True)
class Text(pandas_engine.STRING):
    """Arrow-backed pandas text (the ``str`` dtype every chunk column has), checked by its dtype alone.

    Pandera's own ``str`` check answers per element even when the dtype matches, and then builds
    (empty) failure cases and their printout for every column of every chunk.
    """

    def check(self, pandera_dtype, data_container=None) -> bool:
        try:
            return pandas_engine.Engine.dtype(pandera_dtype).type == self.type
        except TypeError:
            return False


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series(pd.NA, index=df.index, dtype="object")


class ImportEndpoint(pa.DataFrameModel):
    """One row per endpoint of a Pinpoint import file (CSV dotted names; multi-value slots ``X#n``)."""

    Id: Optional[Series[Text]] = pa.Field(nullable=True, str_length={"max_value": 256},
                                         description="Endpoint id; required to update an existing endpoint")
    ChannelType: Optional[Series[Text]] = pa.Field(nullable=True, description="Channel enum (reference §6.2)")
    Address: Optional[Series[Text]] = pa.Field(nullable=True, description="E.164 phone, email or push token")
    OptOut: Optional[Series[Text]] = pa.Field(nullable=True, description="ALL or NONE")
    RequestId: Optional[Series[Text]] = pa.Field(nullable=True)
    country: Optional[Series[Text]] = pa.Field(nullable=True, alias="Location.Country",
                                              description="ISO 3166-1 alpha-2")
    region: Optional[Series[Text]] = pa.Field(nullable=True, alias="Location.Region")
    city: Optional[Series[Text]] = pa.Field(nullable=True, alias="Location.City")
    postal_code: Optional[Series[Text]] = pa.Field(nullable=True, alias="Location.PostalCode")
    latitude: Optional[Series[Text]] = pa.Field(nullable=True, alias="Location.Latitude",
                                               description="-90..90, one decimal")
    longitude: Optional[Series[Text]] = pa.Field(nullable=True, alias="Location.Longitude",
                                                description="-180..180, one decimal")
    app_version: Optional[Series[Text]] = pa.Field(nullable=True, alias="Demographic.AppVersion")
    locale: Optional[Series[Text]] = pa.Field(nullable=True, alias="Demographic.Locale", description="ll_CC")
    make: Optional[Series[Text]] = pa.Field(nullable=True, alias="Demographic.Make")
    model: Optional[Series[Text]] = pa.Field(nullable=True, alias="Demographic.Model")
    model_version: Optional[Series[Text]] = pa.Field(nullable=True, alias="Demographic.ModelVersion")
    platform: Optional[Series[Text]] = pa.Field(nullable=True, alias="Demographic.Platform")
    platform_version: Optional[Series[Text]] = pa.Field(nullable=True, alias="Demographic.PlatformVersion")
    timezone: Optional[Series[Text]] = pa.Field(nullable=True, alias="Demographic.Timezone",
                                               description="IANA tz database name")
    user_id: Optional[Series[Text]] = pa.Field(nullable=True, alias="User.UserId")
    attributes: Optional[Series[Text]] = pa.Field(
        nullable=True, alias=_ATTR_RE, regex=True, str_length={"max_value": cat.MAX_ATTRIBUTE_VALUE},
        description="custom attribute values, ≤ 100 characters each")
    metrics: Optional[Series[Text]] = pa.Field(nullable=True, alias=_METRIC_RE, regex=True,
                                              description="numeric custom metrics")
    any_field: Optional[Series[Text]] = pa.Field(nullable=True, alias=_FIELD_RE, regex=True,
                                                description="every Pinpoint column: no control characters")

    class Config:
        strict = False
        coerce = False

    @pa.check("ChannelType", name="channel_type", ignore_na=False,
              error="ChannelType is not one of " + "|".join(cat.CHANNEL_TYPES))
    def _channel(cls, s: Series[str]) -> Series[bool]:
        return v.is_channel_type(s)

    @pa.check("OptOut", name="opt_out", ignore_na=False, error="OptOut must be ALL or NONE")
    def _opt_out(cls, s: Series[str]) -> Series[bool]:
        return v.is_opt_out(s)

    @pa.check("Location.Country", name="country", ignore_na=False,
              error="Location.Country is not an ISO 3166-1 country")
    def _country(cls, s: Series[str]) -> Series[bool]:
        return v.is_country_alpha2(s)

    @pa.check("Location.Latitude", name="latitude", ignore_na=False,
              error="Location.Latitude is not a number in -90..90")
    def _latitude(cls, s: Series[str]) -> Series[bool]:
        return v.is_latitude(s)

    @pa.check("Location.Longitude", name="longitude", ignore_na=False,
              error="Location.Longitude is not a number in -180..180")
    def _longitude(cls, s: Series[str]) -> Series[bool]:
        return v.is_longitude(s)

    @pa.check("Demographic.Locale", name="locale", ignore_na=False,
              error="Demographic.Locale is not a known ll_CC locale")
    def _locale(cls, s: Series[str]) -> Series[bool]:
        return v.is_locale(s)

    @pa.check("Demographic.Timezone", name="timezone", ignore_na=False,
              error="Demographic.Timezone is not an IANA time zone")
    def _timezone(cls, s: Series[str]) -> Series[bool]:
        return v.is_timezone(s)

    @pa.check(_METRIC_RE, name="metric", ignore_na=False, error="metric value is not a finite number")
    def _metric(cls, s: Series[str]) -> Series[bool]:
        return v.is_number(s)

    @pa.check(_FIELD_RE, name="control_chars", ignore_na=False, error="value contains a control character")
    def _control(cls, s: Series[str]) -> Series[bool]:
        return v.is_free_of_control_chars(s)

    @pa.check(_ATTR_RE, name="json_object", ignore_na=False, error="value is a JSON object, not text")
    def _json_object(cls, s: Series[str]) -> Series[bool]:
        return v.is_not_json_object(s)

    @pa.dataframe_check(ignore_na=False, name="new_endpoint_fields",
                        error="Address and ChannelType are required for a new endpoint (a row without Id)")
    def _new_endpoint(cls, df: pd.DataFrame) -> Series[bool]:
        return _col(df, "Id").notna() | (_col(df, "Address").notna() & _col(df, "ChannelType").notna())

    @pa.dataframe_check(ignore_na=False, name="phone_address",
                        error="Address is not a valid phone number (E.164) for SMS/VOICE")
    def _phone(cls, df: pd.DataFrame) -> Series[bool]:
        channel, address = _col(df, "ChannelType"), _col(df, "Address")
        mask = channel.isin(cat.PHONE_CHANNELS) & address.notna()
        ok = pd.Series(True, index=df.index)
        if mask.any():
            ok[mask] = v.is_e164_phone(address[mask]).to_numpy()
        return ok

    @pa.dataframe_check(ignore_na=False, name="email_address", error="Address is not a valid email address for EMAIL")
    def _email(cls, df: pd.DataFrame) -> Series[bool]:
        channel, address = _col(df, "ChannelType"), _col(df, "Address")
        mask = (channel == "EMAIL").fillna(False) & address.notna()
        ok = pd.Series(True, index=df.index)
        if mask.any():
            ok[mask] = v.is_email(address[mask]).to_numpy()
        return ok

    @pa.dataframe_check(ignore_na=False, name="values_per_attribute",
                        error=f"an attribute has more than {cat.MAX_VALUES_PER_ATTRIBUTE} values")
    def _values_per_attribute(cls, df: pd.DataFrame) -> Series[bool]:
        ok = pd.Series(True, index=df.index)
        slots: dict[str, list[str]] = {}
        for col in df.columns:
            slots.setdefault(cat.base_name(col), []).append(col)
        for base, cols in slots.items():
            if cat.is_multi_value(base) and len(cols) > cat.MAX_VALUES_PER_ATTRIBUTE:
                ok &= df[cols].notna().sum(axis=1) <= cat.MAX_VALUES_PER_ATTRIBUTE
        return ok

    @pa.dataframe_check(ignore_na=False, name="endpoint_size",
                        error=f"endpoint is larger than {cat.MAX_ENDPOINT_BYTES // 1024} KB")
    def _size(cls, df: pd.DataFrame) -> Series[bool]:
        columns = _value_columns(df)
        if sum(_overhead(col) + _longest(arr) for col, arr in columns) <= cat.MAX_ENDPOINT_BYTES:
            return pd.Series(True, index=df.index)  # not even the longest values together reach the limit
        return endpoint_sizes(df, columns) <= cat.MAX_ENDPOINT_BYTES


def _value_columns(df: pd.DataFrame) -> list[tuple[str, pyarrow.Array]]:
    """(name, Arrow values) of the Pinpoint columns of ``df`` that hold any value."""
    columns = []
    for col in df.columns:
        if col not in cat.META_COLS:
            arr = to_arrow(df[col])
            if arr.null_count < len(arr):
                columns.append((col, arr))
    return columns


def _overhead(col: str) -> int:
    """A value's share of the endpoint's JSON besides its text: the attribute's name and punctuation."""
    return len(cat.attribute_key(cat.base_name(col))) + 6


def _longest(arr: pyarrow.Array) -> int:
    """Bytes of the longest value of a string array (an upper bound of its characters)."""
    offsets, _ = string_buffers(arr)
    return int(np.diff(offsets).max()) if len(arr) else 0


def endpoint_sizes(df: pd.DataFrame, columns: list[tuple[str, pyarrow.Array]] | None = None) -> pd.Series:
    """Approximate JSON size in bytes of each row's endpoint (names, values and punctuation)."""
    total = np.zeros(len(df), dtype=np.int64)
    for col, arr in _value_columns(df) if columns is None else columns:
        # characters (≥ bytes/4, close for ASCII) plus the name and punctuation; missing adds nothing
        total += pc.fill_null(pc.add(pc.utf8_length(arr), _overhead(col)), 0).to_numpy(zero_copy_only=False)
    return pd.Series(total, index=df.index)
