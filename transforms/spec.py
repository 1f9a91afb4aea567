"""The mapping spec: how the rows of a CRM, warehouse or app export become Pinpoint endpoints.

One YAML or JSON file (``--mapping-file``), or the ``mapping_spec`` flow parameter — the same
pydantic model. For example::

    endpoints:                                 # one endpoint per block whose address is present
      - name: email
        address: email
        channel: EMAIL
        id: "{customer_id}-email"              # or id_hash: [customer_id, email]
      - name: mobile
        address: mobile
        channel: SMS
        id: "{customer_id}-sms"
      - name: push
        address: push_token
        channel_column: platform               # a column and a value map instead of a constant
        channel_map: {ios: APNS, android: GCM}
        id_hash: [customer_id, push_token]
    fields:                                    # shared by every endpoint of the row
      User.UserId: customer_id                 # a column (the short form)
      User.UserAttributes.FullName: {template: "{first_name} {last_name}"}
      Attributes.Source: {value: crm}          # a constant
      Location.Country: country
      OptOut: {column: opted_out, map: boolean}
      EffectiveDate: {column: signup_date, date_formats: ["%d/%m/%Y"]}
    ignore: [notes]                            # columns read and not used

Rules: a row yields one endpoint per block whose address column holds a value (not blank); a row
yielding none is rejected. Value maps compare keys trimmed and case-insensitively; a value not in
the map is kept as it is (the normalisers and the schema then judge it); ``map: boolean`` is the
built-in OptOut map (yes/true/1/y/opted out → ALL; no/false/0/n/empty → NONE). Template values are
trimmed; an Id whose template or hash names a missing value rejects that endpoint. Date fields are
parsed with their formats (``datetime.strptime``) and written as ISO 8601 (``2024-03-01`` when no
format has a time, else ``2024-03-01T09:30:00Z``, in UTC; EffectiveDate always the latter); a value
no format reads rejects the endpoint. Every source column must be used or listed in ``ignore``
(unless ``unmapped: ignore``).
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Literal

from pinpoint_etl.core.errors import ConfigError
from pinpoint_etl.core import catalogue as cat
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: targets a spec may set besides the catalogue's (import-only: Pinpoint's import table lists it)
SPEC_ONLY_FIELDS = ("EffectiveDate",)
#: targets that come from the channel blocks, not from shared fields
BLOCK_FIELDS = ("Id", "ChannelType", "Address")
BOOLEAN_TRUE = ("yes", "true", "1", "y", "opted out", "opted-out", "optedout", "opt out", "out")
BOOLEAN_FALSE = ("no", "false", "0", "n", "opted in", "opted-in", "in", "")
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%f", "%p", "%X", "%c", "%z", "%Z")


def template_columns(template: str) -> list[str]:
    """The column names in a ``{column}`` template (``{{``/``}}`` are literal braces)."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name or spec or conversion:
            raise ValueError(f"template {template!r}: use plain {{column}} placeholders")
        names.append(name)
    return names


def template_parts(template: str) -> list[tuple[str, bool]]:
    """(text, is_column) pieces of a template, in order."""
    parts: list[tuple[str, bool]] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append((literal, False))
        if name is not None:
            parts.append((name, True))
    return parts


class FieldSource(BaseModel):
    """Where one endpoint field comes from: exactly one of column, value or template."""

    model_config = ConfigDict(extra="forbid")

    column: str | None = Field(None, description="Source column (a nested JSON field as a dotted path, "
                                                 "e.g. user.profile.city)")
    value: str | None = Field(None, description="A constant for every endpoint")
    template: str | None = Field(None, description="Text with {column} placeholders, e.g. '{first_name} {last_name}'")
    map: dict[str, str | None] | Literal["boolean"] | None = Field(
        None, description="Value map applied to the value (keys compared trimmed, ignoring case; unmapped "
                          "values kept); 'boolean' is the built-in OptOut map (yes/true/1/y → ALL, "
                          "no/false/0/n/empty → NONE)")
    date_formats: list[str] | None = Field(None, description="strptime formats the value is read with, in "
                                                             "order (e.g. '%d/%m/%Y'); written as ISO 8601")

    @model_validator(mode="after")
    def _one_source(self) -> FieldSource:
        given = [k for k in ("column", "value", "template") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of column, value or template (got {', '.join(given) or 'none'})")
        if self.template is not None:
            template_columns(self.template)
        if self.date_formats is not None and not self.date_formats:
            raise ValueError("date_formats needs at least one format")
        return self

    def columns(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        return template_columns(self.template) if self.template is not None else []

    @property
    def has_time(self) -> bool:
        return any(d in f for f in self.date_formats or () for d in _TIME_DIRECTIVES)


def _field_map(value: dict) -> dict[str, FieldSource]:
    """Field target → source; a bare string is a column name."""
    out = {}
    for target, source in (value or {}).items():
        out[target] = FieldSource(column=source) if isinstance(source, str) else source
    return out


def _check_target(target: str) -> str:
    name = cat.canonical_name(target)
    if target in SPEC_ONLY_FIELDS:
        return target
    if name is None:
        raise ValueError(f"{target!r} is not a Pinpoint field (e.g. Location.Country, Attributes.<name>, "
                         f"User.UserAttributes.<name>, Metrics.<name>, OptOut, EffectiveDate)")
    if name in BLOCK_FIELDS:
        raise ValueError(f"{name} comes from the endpoints blocks (address, channel, id), not from fields")
    return name


def _check_fields(fields: dict[str, FieldSource]) -> dict[str, FieldSource]:
    out: dict[str, FieldSource] = {}
    for target, source in fields.items():
        name = _check_target(target)
        if name in out:
            raise ValueError(f"{name} is set twice")
        if name == "EffectiveDate" and source.date_formats is None:
            raise ValueError("EffectiveDate needs date_formats (it is written as ISO 8601)")
        if source.map == "boolean" and name != "OptOut":
            raise ValueError(f"map: boolean gives ALL/NONE, for OptOut only (not {name})")
        out[name] = source
    return out


def _channel(value: str) -> str:
    upper = value.strip().upper().replace("-", "_")
    if upper not in cat.CHANNEL_TYPES:
        raise ValueError(f"{value!r} is not a ChannelType ({'|'.join(cat.CHANNEL_TYPES)})")
    return upper


class ChannelBlock(BaseModel):
    """One endpoint per row whose ``address`` column holds a value."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="Name of the block in rejects and the ledger (default: the "
                                               "address column)")
    address: str = Field(description="Source column holding the address (email, phone number or push token)")
    channel: str | None = Field(None, description="ChannelType of every endpoint of this block, e.g. EMAIL, SMS")
    channel_column: str | None = Field(None, description="Source column holding the ChannelType (instead of "
                                                          "channel), read through channel_map")
    channel_map: dict[str, str] | None = Field(None, description="channel_column value → ChannelType, "
                                                                 "e.g. {ios: APNS, android: GCM}")
    id: str | None = Field(None, description="Endpoint Id template, e.g. '{customer_id}-email'")
    id_hash: list[str] | None = Field(None, description="Columns whose values, hashed (BLAKE2b, 20 hex digits), "
                                                        "make a stable Id (instead of id)")
    id_prefix: str = Field("", description="Text put before a hashed Id")
    fields: dict[str, FieldSource] = Field(default_factory=dict, description="Fields of this block's endpoints "
                                           "only (they replace shared fields of the same name)")

    @field_validator("fields", mode="before")
    @classmethod
    def short_fields(cls, value: dict) -> dict:
        return _field_map(value)

    @model_validator(mode="after")
    def _check(self) -> ChannelBlock:
        if (self.channel is None) == (self.channel_column is None):
            raise ValueError("give exactly one of channel (a constant) or channel_column")
        if self.channel is not None:
            self.channel = _channel(self.channel)
        if self.channel_map is not None:
            self.channel_map = {k: _channel(v) for k, v in self.channel_map.items()}
        if (self.id is None) == (self.id_hash is None):
            raise ValueError("give exactly one of id (a template) or id_hash (columns): Ids keep re-runs "
                             "from creating new endpoints")
        if self.id is not None and not template_columns(self.id):
            raise ValueError(f"id {self.id!r} names no column: every endpoint would get the same Id")
        if self.id_hash is not None and not self.id_hash:
            raise ValueError("id_hash needs at least one column")
        self.fields = _check_fields(self.fields)
        self.name = self.name or self.address
        return self

    def columns(self) -> list[str]:
        cols = [self.address, *([self.channel_column] if self.channel_column else [])]
        cols += template_columns(self.id) if self.id else list(self.id_hash or [])
        return cols + [c for f in self.fields.values() for c in f.columns()]


class MappingSpec(BaseModel):
    """Source rows → endpoints: channel blocks, shared fields, value maps and dates (see transforms.spec)."""

    model_config = ConfigDict(extra="forbid")

    endpoints: list[ChannelBlock] = Field(min_length=1, description="Channel blocks: each row yields one "
                                          "endpoint per block whose address column holds a value")
    fields: dict[str, FieldSource] = Field(default_factory=dict, description="Fields shared by every endpoint "
                                           "of a row: User.UserId, User.UserAttributes.*, Attributes.*, "
                                           "Metrics.*, Location.*, Demographic.*, OptOut, EffectiveDate")
    ignore: list[str] = Field(default_factory=list, description="Source columns read and deliberately not used")
    unmapped: Literal["error", "ignore"] = Field("error", description="A source column neither used nor "
                                                 "in ignore: fail the run before anything is read (error) or "
                                                 "leave it out (ignore)")

    @field_validator("fields", mode="before")
    @classmethod
    def short_fields(cls, value: dict) -> dict:
        return _field_map(value)

    @model_validator(mode="after")
    def _check(self) -> MappingSpec:
        self.fields = _check_fields(self.fields)
        names = [b.name for b in self.endpoints]
        if len(set(names)) != len(names):
            raise ValueError(f"endpoint block names must differ: {', '.join(names)}")
        return self

    def columns(self) -> list[str]:
        """Every source column the spec reads, in order of first use."""
        cols = [c for b in self.endpoints for c in b.columns()]
        cols += [c for f in self.fields.values() for c in f.columns()]
        return list(dict.fromkeys(cols))


def parse_spec(data: object, where: str) -> MappingSpec:
    """A ``MappingSpec`` from parsed YAML/JSON; ``ConfigError`` naming the first problem."""
    try:
        return MappingSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "spec"
        raise ConfigError(f"mapping spec {where}: {loc}: {first['msg'].removeprefix('Value error, ')}") from None


def is_spec(data: object) -> bool:
    """True for a parsed mapping file that is a spec (has ``endpoints``), not a flat column mapping."""
    return isinstance(data, dict) and "endpoints" in data


def read_mapping_file(path: str | Path) -> object:
    """A mapping file parsed: YAML for .yaml/.yml, else JSON; ``ConfigError`` if unreadable."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"mapping file not found: {where}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"mapping file {where} cannot be read: {exc}") from None
    if where.lower().endswith((".yaml", ".yml")):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise ConfigError(f"mapping file {where} is not valid YAML{at}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"mapping file {where} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}); expected an object like {{\"email\": \"Address\"}}, or a mapping spec "
                          "with endpoints:") from None
