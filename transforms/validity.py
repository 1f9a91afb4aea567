"""Vectorised validity predicates the schema calls: Series in, boolean Series out (missing → True).

Each one accepts exactly the canonical values the matching normaliser produces, so a value the
normaliser could not canonicalise (left as it was) fails here and is rejected with a reason.
"""

from __future__ import annotations

from transforms.channel import is_channel_type
from transforms.demographic import is_locale, is_timezone
from transforms.email_address import is_email
from transforms.location import is_country_alpha2, is_latitude, is_longitude
from transforms.phone import is_e164_phone
from transforms.values import is_number, is_opt_out

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
]
