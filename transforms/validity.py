"""Vectorised validity predicates the schema calls: Series in, boolean Series out (missing → True).

Each one accepts exactly the canonical values the matching normaliser produces, so a value the
normaliser could not canonicalise (left as it was) fails here and is rejected with a reason.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow.compute as pc

from pinpoint_etl.transforms.strings import bool_series, to_arrow, to_numpy_bool, unique_predicate
from pinpoint_etl.transforms.channel import is_channel_type
from pinpoint_etl.transforms.demographic import is_locale, is_timezone
from pinpoint_etl.transforms.email_address import is_email
from pinpoint_etl.transforms.location import is_country_alpha2, is_latitude, is_longitude
from pinpoint_etl.transforms.phone import is_e164_phone
from pinpoint_etl.transforms.text import is_free_of_control_chars
from pinpoint_etl.transforms.values import is_number, is_opt_out

__all__ = [
    "is_channel_type",
    "is_country_alpha2",
    "is_e164_phone",
    "is_email",
    "is_latitude",
    "is_locale",
    "is_longitude",
    "is_number",
    "is_opt_out",
    "is_timezone",
    "is_free_of_control_chars",
    "is_not_json_object",
]


def is_not_json_object(series):
    """False for values that are a JSON object's text (an object inside a JSON array); missing → True.

    Only values that start with ``{`` and end with ``}`` (JSON whitespace aside) are parsed (once per distinct value); the
    others are told apart vectorised.
    """
    arr = pc.utf8_trim(to_arrow(series), " \t\n\r")  # JSON's own whitespace may surround an object
    braced = np.flatnonzero(to_numpy_bool(pc.and_(pc.starts_with(arr, "{"), pc.ends_with(arr, "}"))))
    verdict = np.ones(len(arr), dtype=bool)
    if braced.size:
        verdict[braced] = unique_predicate(series.iloc[braced], _not_an_object).to_numpy()
    return bool_series(verdict, series)


def _not_an_object(value: str) -> bool:
    try:
        return not isinstance(json.loads(value), dict)
    except ValueError:
        return True
