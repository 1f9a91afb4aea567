"""The corpus's outcome types (what a case must give) and the helpers that build its inputs."""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass, field

from pinpoint_etl.core.errors import PipelineError

# ---------------------------------------------------------------------------------------------
# outcome types


@dataclass(frozen=True)
class Raises:
    """``prepare`` fails with exactly ``cls``; ``row``/``field`` are the error's attributes."""

    cls: type[PipelineError]
    row: int | None = None
    field: str | None = None
    contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rows:
    """``prepare`` succeeds with these counts, rejects and staged values."""

    counts: tuple[int, int, int, int]  # rows_read, rows_valid, rows_rejected, rows_superseded
    #: rejected row number → a substring of one of its reasons (or a tuple: each must occur)
    rejects: Mapping[int, str | tuple[str, ...]] = field(default_factory=dict)
    #: staged Id → {column: exact staged text, or the list of a repeated (multi-value) column}
    staged: Mapping[str, Mapping[str, str | list[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    id: str
    description: str
    name: str  # file name the input is written to (its extension picks the format)
    data: bytes | None  # None: the file is not created (missing-file case)
    expect: Raises | Rows
    read: Mapping[str, object] = field(default_factory=dict)  # ReadOptions(**read)
    mapping: Mapping[str, str] = field(default_factory=dict)  # StageOptions.mapping
    bug: str | None = None  # set → strict xfail: ``expect`` is what the pipeline SHOULD do


# ---------------------------------------------------------------------------------------------
# input helpers

H4 = "Id,ChannelType,Address,Location.Country"
HN = "Id,ChannelType,Address,Attributes.Note"


def text(*lines: str, eol: str = "\n", encoding: str = "utf-8") -> bytes:
    """Lines joined with ``eol`` (and a final ``eol``), encoded."""
    return (eol.join(lines) + eol).encode(encoding)


def nd(*records: str) -> bytes:
    """NDJSON: one JSON text per line."""
    return ("\n".join(records) + "\n").encode("utf-8")


def _zstd(data: bytes) -> bytes:
    from backports import zstd  # what smart_open uses for .zst on Python < 3.14

    return zstd.compress(data)


def _truncated_gzip() -> bytes:
    full = gzip.compress(text(H4, *[f"e{i},EMAIL,u{i}@example.com,US" for i in range(2000)]))
    return full[: len(full) // 2]


BIG = 200_000  # a 200 KB field
LAT = "Id,ChannelType,Address,Location.Latitude,Location.Longitude"
EMAIL_ROW = "EMAIL,{}@example.com"

_ATTRS_251 = [f"Attributes.a{i}" for i in range(251)]
_ATTRS_250 = _ATTRS_251[:250]
_TAGS = ["Attributes.Tags"] * 51
_SAME_USER = [f"e{i},EMAIL,u{i}@example.com,same-user" for i in range(1, 17)]
