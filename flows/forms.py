"""The Prefect forms of the flows: business inputs first, the tuning knobs in one "Advanced settings" group.

A run model (``SourceParams``, ``TargetParams``, ``ImportOptions``, ``ExportOptions``) holds each field
once, with its title, description and default; the CLI builds those. A form group picks fields from
them, in the order the form shows them (``position``, which the Prefect UI sorts by), so the form
and the CLI cannot drift apart. Every field of a flow's run models is either on one group of its
form or named in ``omitted`` (a test keeps it so).

How the Prefect UI renders what is built here (checked in Prefect 3.8's UI source): a nested model
is a card of its fields; an ``anyOf`` is a toggle of its options, labelled by their titles, showing
the chosen one only (which makes ``advanced`` a collapsed group: "Defaults" until opened); a
``str | None`` would be such a toggle too ("str | None", "Property is type None"), so optional text
is a plain text input where blank means "not given" (``params.Blank``); descriptions are plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model
from pydantic.fields import FieldInfo

from pinpoint_etl.export.options import ExportOptions
from pinpoint_etl.flows.params import Blank, ImportOptions, SourceParams, TargetParams

Pick = tuple[type[BaseModel], tuple[str, ...]]

# fields of ExportOptions (export/options.py) have descriptions; their form titles are given here
_EXPORT_TITLES = {"segment_id": "Segment id", "segment_version": "Segment version",
                  "role_arn": "Export role ARN", "out": "Output file", "format": "Output format",
                  "export_fields": "Include export-only fields", "chunk_rows": "Records per chunk",
                  "poll_initial_seconds": "First poll delay (s)", "poll_max_seconds": "Longest poll delay (s)",
                  "timeout_seconds": "Job timeout (s)", "keep_raw": "Keep the raw export files",
                  "csv_safe": "Spreadsheet-safe CSV"}


# the export's output is written on the machine that runs the flow: the form states where a relative path goes
_EXPORT_DESCRIPTIONS = {"out": "Where the output file goes: s3://bucket/key, or a path on the machine that runs the "
                               "flow (a relative path is written under PINPOINT_ETL_DATA_DIR); a folder (ending "
                               "in /) gets endpoints-RUN_ID.EXT; blank: s3://BUCKET/PREFIX/RUN_ID/endpoints.EXT"}


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _form_field(info: FieldInfo, position: int, title: str | None, description: str | None,
                ) -> tuple[Any, FieldInfo]:
    """The field as the form shows it: its position and title; optional text and numbers as plain inputs."""
    extra = {**(info.json_schema_extra or {}), "position": position}  # type: ignore[arg-type]
    kw: dict[str, Any] = {"json_schema_extra": extra}
    if title and not info.title:
        kw["title"] = title
    if description:
        kw["description"] = description
    annotation = info.annotation
    if annotation == (str | None) and info.default is None:  # optional text that is not a Blank yet
        annotation, kw["default"], kw["validate_default"] = Blank, "", True
    elif annotation in (int | None, float | None) and info.default is None:
        # a number input left empty (and omitted) means None; null is no valid number in the form
        base = int if annotation == (int | None) else float
        number = {"type": "integer" if base is int else "number"}
        annotation = Annotated[annotation, WithJsonSchema(number)]
        kw["json_schema_extra"] = lambda schema: (schema.update(extra), _no_default(schema))
    merged = FieldInfo.merge_field_infos(info, **kw)
    return annotation, merged


def form_model(name: str, title: str, doc: str, *picks: Pick, titles: dict[str, str] | None = None,
               descriptions: dict[str, str] | None = None) -> type[BaseModel]:
    """A model of the picked fields, in the given order; unknown keys are refused, not ignored."""
    fields: dict[str, Any] = {}
    for model, names in picks:
        for field_name in names:
            fields[field_name] = _form_field(model.model_fields[field_name], len(fields),
                                             (titles or {}).get(field_name), (descriptions or {}).get(field_name))
    return create_model(name, __doc__=doc, __config__=ConfigDict(title=title, extra="forbid"), **fields)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "blank"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def defaults_text(model: type[BaseModel]) -> str:
    """``Title: default`` of every field, for the collapsed group's "Defaults" option."""
    values = model()
    return "; ".join(f"{info.title}: {_shown(getattr(values, name))}" for name, info in model.model_fields.items())


def collapsed(model: type[BaseModel]) -> Any:
    """The type of an ``advanced`` flow parameter: None ("Defaults", every field at its default) or the model."""
    defaults = WithJsonSchema({"type": "null", "title": "Defaults", "description": defaults_text(model) + "."})
    return Annotated[Annotated[None, defaults] | model, Field(json_schema_extra={"title": "Advanced settings"})]


def titled(model: type[BaseModel], title: str) -> Any:
    """A flow parameter's type with the title the form shows above its card."""
    return Annotated[model, Field(json_schema_extra={"title": title})]


@dataclass(frozen=True)
class FlowForm:
    """One flow's form: its parameter groups and the run models they are cut from."""

    groups: dict[str, type[BaseModel]]
    runs: tuple[type[BaseModel], ...]
    omitted: frozenset[str] = frozenset()

    def run_models(self, **groups: BaseModel | None) -> tuple[BaseModel, ...]:
        """The run models from the flow's parameters (a group that is None keeps its defaults)."""
        values: dict[str, Any] = {}
        for name, value in groups.items():
            if value is not None:
                values.update({k: getattr(value, k) for k in type(value).model_fields})
        return tuple(run.model_validate({k: v for k, v in values.items() if k in run.model_fields})
                     for run in self.runs)

    def parameters(self, *runs: BaseModel) -> dict[str, BaseModel]:
        """The flow's keyword arguments that carry the given run models' values (for Python callers)."""
        values: dict[str, Any] = {}
        for run in runs:
            values.update({k: getattr(run, k) for k in type(run).model_fields})
        return {name: group.model_validate({k: values[k] for k in group.model_fields if k in values})
                for name, group in self.groups.items()}


ImportSource = form_model(
    "ImportSource", "What to import", "The files to import and how to read them.",
    (SourceParams, ("sources", "mapping", "mapping_file", "mapping_spec", "format", "delimiter", "encoding",
                    "fold_unknown", "default_region")))
ImportTarget = form_model(
    "ImportTarget", "Where to import", "The Pinpoint project, the staging bucket, the import role and the "
    "segment. Blank fields take their value from the environment of the machine that runs the flow.",
    (TargetParams, ("application_id", "bucket", "role_arn")), (ImportOptions, ("segment_name", "segment_id")))
ImportChoices = form_model(
    "ImportChoices", "Import options", "What happens when this input was imported before, to records that "
    "are not CSV or JSON, and how many rejected rows stop a run before anything is imported.",
    (ImportOptions, ("force",)), (SourceParams, ("on_malformed", "max_rejects", "max_reject_ratio")))
ImportAdvanced = form_model(
    "ImportAdvanced", "Custom", "Tuning and AWS details; the defaults suit most runs.",
    (SourceParams, ("chunk_rows", "runner", "workers", "dask_address")),
    (ImportOptions, ("max_job_bytes", "max_concurrent_jobs", "poll_initial_seconds", "poll_max_seconds",
                     "timeout_seconds", "register_endpoints", "staged_format", "keep_staged")),
    (TargetParams, ("prefix", "region", "credentials_block", "expected_bucket_owner", "sse", "kms_key_id")))
IMPORT_FORM = FlowForm({"source": ImportSource, "target": ImportTarget, "options": ImportChoices,
                        "advanced": ImportAdvanced}, (SourceParams, TargetParams, ImportOptions),
                       omitted=frozenset({"define_segment"}))  # a segment name defines a segment

ExportTarget = form_model(
    "ExportTarget", "Where to export from", "The Pinpoint project, the bucket Pinpoint writes the export to, "
    "and the export role. Blank fields take their value from the environment of the machine that runs the "
    "flow.", (TargetParams, ("application_id", "bucket")), (ExportOptions, ("role_arn",)), titles=_EXPORT_TITLES)
ExportChoices = form_model(
    "ExportChoices", "What to export", "A segment or every endpoint, and the output file.",
    (ExportOptions, ("segment_id", "segment_version", "out", "format", "csv_safe", "export_fields")),
    titles=_EXPORT_TITLES,
    descriptions=_EXPORT_DESCRIPTIONS)
ExportAdvanced = form_model(
    "ExportAdvanced", "Custom", "Tuning and AWS details; the defaults suit most runs.",
    (ExportOptions, ("chunk_rows", "poll_initial_seconds", "poll_max_seconds", "timeout_seconds", "keep_raw")),
    (TargetParams, ("prefix", "region", "credentials_block", "expected_bucket_owner", "sse", "kms_key_id")),
    titles=_EXPORT_TITLES)
#: the flows' parameter types: a titled card per business group, the advanced group collapsed
ImportSourceParam = titled(ImportSource, "What to import")
ImportTargetParam = titled(ImportTarget, "Where to import")
ImportChoicesParam = titled(ImportChoices, "Import options")
ImportAdvancedParam = collapsed(ImportAdvanced)

# role_arn is the export role: it fills ExportOptions.role_arn and TargetParams.role_arn alike
EXPORT_FORM = FlowForm({"target": ExportTarget, "options": ExportChoices, "advanced": ExportAdvanced},
                       (TargetParams, ExportOptions))
ExportTargetParam = titled(ExportTarget, "Where to export from")
ExportChoicesParam = titled(ExportChoices, "What to export")
ExportAdvancedParam = collapsed(ExportAdvanced)
