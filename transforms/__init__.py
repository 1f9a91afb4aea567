"""Transforms: map source columns to Pinpoint names, normalise values, find superseded Ids.

Pure functions over pandas DataFrames of text columns; no I/O. Public API:

- :mod:`transforms.columns`: ``plan_columns``, ``apply_columns``, ``load_mapping_file``, ``parse_map_options``
- :mod:`transforms.normalise`: ``normalise`` → ``NormaliseResult`` (import it from there:
  ``from transforms.normalise import normalise``; the name is not re-exported here so that
  ``transforms.normalise`` stays the module); per-field normalisers live in the other submodules
- :mod:`transforms.dedupe`: ``id_hashes``, ``superseded_by``
- :mod:`transforms.validity`: the validity predicates the schema calls (also re-exported here)

The normalisers and predicates (phonenumbers, email-validator, pycountry, tzdata) load on first
use: the driver process only maps columns and hashes Ids, and starts reading sooner without them.
"""

from pinpoint_etl.transforms.columns import apply_columns, load_mapping_file, parse_map_options, plan_columns
from pinpoint_etl.transforms.dedupe import id_hashes, superseded_by

_VALIDITY = (
    "is_channel_type", "is_country_alpha2", "is_e164_phone", "is_email", "is_latitude", "is_locale",
    "is_longitude", "is_number", "is_opt_out", "is_timezone", "is_free_of_control_chars", "is_not_json_object",
)


def __getattr__(name: str):
    """``RULES``, ``NormaliseResult`` and the validity predicates, imported when first asked for."""
    if name in ("RULES", "NormaliseResult"):
        from pinpoint_etl.transforms import normalise

        return getattr(normalise, name)
    if name in _VALIDITY:
        from pinpoint_etl.transforms import validity

        return getattr(validity, name)
    raise AttributeError(f"module 'transforms' has no attribute {name!r}")


__all__ = [
    "RULES",
    "NormaliseResult",
    "apply_columns",
    "id_hashes",
    "load_mapping_file",
    "parse_map_options",
    "plan_columns",
    "superseded_by",
    *_VALIDITY,
]
