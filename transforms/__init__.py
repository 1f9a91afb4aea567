"""Transforms: map source columns to Pinpoint names, normalise values, find superseded Ids.

Pure functions over pandas DataFrames of text columns; no I/O. Public API:

- :mod:`transforms.columns`: ``plan_columns``, ``apply_columns``, ``load_mapping_file``, ``parse_map_options``
- :mod:`transforms.normalise`: ``normalise`` → ``NormaliseResult`` (import it from there:
  ``from transforms.normalise import normalise``; the name is not re-exported here so that
  ``transforms.normalise`` stays the module); per-field normalisers live in the other submodules
- :mod:`transforms.dedupe`: ``id_hashes``, ``superseded_mask``, ``superseded_by``, ``drop_superseded``, ``IdLedger``
- :mod:`transforms.validity`: the validity predicates the schema calls (also re-exported here)
"""

from transforms.columns import apply_columns, load_mapping_file, parse_map_options, plan_columns
from transforms.dedupe import IdLedger, drop_superseded, id_hashes, superseded_by, superseded_mask
from transforms.normalise import RULES, NormaliseResult
from transforms import validity
from transforms.validity import *  # noqa: F403 - the predicates, listed once in validity.__all__

__all__ = [
    "RULES",
    "IdLedger",
    "NormaliseResult",
    "apply_columns",
    "drop_superseded",
    "id_hashes",
    "load_mapping_file",
    "parse_map_options",
    "plan_columns",
    "superseded_by",
    "superseded_mask",
    *validity.__all__,
]
