"""Address by channel: SMS/VOICE → E.164 phone, EMAIL → normalised email, others → trimmed token.

The channel is the row's (already normalised) ChannelType. Rows with a missing or unknown
channel keep their address as it is (only the text rules apply).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pinpoint_etl.core.catalogue import CHANNEL_TYPES, PHONE_CHANNELS
from pinpoint_etl.transforms.strings import from_arrow, replace_where, to_arrow
from pinpoint_etl.transforms.email_address import canonical_email, is_email, normalise_email
from pinpoint_etl.transforms.phone import e164_valid, is_e164_phone, normalise_phone, parse_e164
from pinpoint_etl.transforms.text import trim

__all__ = [
    "canonical_email",
    "e164_valid",
    "is_e164_phone",
    "is_email",
    "normalise_address",
    "normalise_email",
    "normalise_phone",
    "normalise_push_token",
    "parse_e164",
]

_TOKEN_CHANNELS = frozenset(CHANNEL_TYPES) - PHONE_CHANNELS - {"EMAIL"}


def normalise_push_token(series: pd.Series) -> tuple[pd.Series, int]:
    """Push tokens and other addresses: trimmed (blank → missing). Returns (values, changed)."""
    return trim(series)


def normalise_address(address: pd.Series, channel: pd.Series, country: pd.Series | None = None, *,
                      default_region: str | None = None) -> tuple[pd.Series, dict[str, int]]:
    """Normalise each address by its row's channel.

    ``country`` (normalised Location.Country, aligned) gives the region for national phone
    numbers, falling back to ``default_region``. Returns the values and the changes per kind:
    ``{"address_phone": n, "address_email": n, "address_push": n}``.
    """
    counts = {"address_phone": 0, "address_email": 0, "address_push": 0}
    present = address.notna().to_numpy()
    if not present.any():
        return address, counts
    out = to_arrow(address)
    groups = (
        ("address_phone", channel.isin(PHONE_CHANNELS)),
        ("address_email", channel.eq("EMAIL")),
        ("address_push", channel.isin(_TOKEN_CHANNELS)),
    )
    for rule, mask in groups:
        rows = np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool) & present)
        if rows.size == 0:
            continue
        sub = address.iloc[rows]
        if rule == "address_phone":
            region = country.iloc[rows] if country is not None else None
            new, n = normalise_phone(sub, region, default_region=default_region)
        elif rule == "address_email":
            new, n = normalise_email(sub)
        else:
            new, n = normalise_push_token(sub)
        if n:
            mask = np.zeros(len(address), dtype=bool)
            mask[rows] = True
            out = replace_where(out, mask, to_arrow(new))
            counts[rule] = n
    if not any(counts.values()):
        return address, counts
    return from_arrow(out, address), counts
