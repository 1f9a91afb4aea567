"""The run's parameters as pydantic models, built by the CLI and (through flows.forms) the Prefect flows.

Every field has a title and a plain-words description: the Prefect form shows them as they are
(no markup, no angle brackets). ``Blank`` fields are optional text: blank (or None) means "not
given", and the run then falls back to the environment where the field says so.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, WithJsonSchema, model_validator

from pinpoint_etl.core.catalogue import MAX_JOB_BYTES
from pinpoint_etl.sources.options import DEFAULT_CHUNK_ROWS
from pinpoint_etl.transforms.spec import MappingSpec


def default(model: type[BaseModel], name: str):
    """The default of a model's field: the CLI's options take theirs from here, so they cannot drift."""
    return model.model_fields[name].default


def _blank_to_none(value):
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


#: Optional text: None in Python, "" in JSON, a plain text input in the Prefect form (not a "str | None" choice)
Blank = Annotated[str | None, BeforeValidator(_blank_to_none),
                  PlainSerializer(lambda v: v or "", return_type=str, when_used="json"),
                  WithJsonSchema({"type": "string"})]


def blank(title: str, description: str):
    """A ``Blank`` field's ``Field``: default "" (None once validated)."""
    return Field("", validate_default=True, title=title, description=description)


def _no_spec(value):
    return None if value is None or value == {} or (isinstance(value, str) and not value.strip()) else value


#: A mapping spec: a MappingSpec (or None) in Python; in JSON and the Prefect form a plain JSON object
#: ({} for none), like Blank for text
Spec = Annotated[MappingSpec | None, BeforeValidator(_no_spec),
                 PlainSerializer(lambda v: v.model_dump(mode="json", exclude_defaults=True) if v else {},
                                 return_type=dict, when_used="json"),
                 WithJsonSchema({"type": "object"})]
SPEC_EXAMPLE = {"endpoints": [{"address": "email", "channel": "EMAIL", "id": "{customer_id}-email"},
                              {"address": "mobile", "channel": "SMS", "id": "{customer_id}-sms"}],
                "fields": {"User.UserId": "customer_id", "Location.Country": "country",
                           "OptOut": {"column": "opted_out", "map": "boolean"}}}

MAPPING_EXAMPLE = {"email": "Address", "mobile": "Address", "country": "Location.Country",
                   "crm_id": "User.UserId", "notes": "-"}


class SourceParams(BaseModel):
    """Where the endpoint records come from and how to read them."""

    sources: list[str] = Field(
        title="Sources", min_length=1,
        description="Files to import: s3://bucket/key, s3://bucket/folder/ (every file under it), https:// "
                    "URLs, or paths on the machine that runs the flow. A relative path is read from the folder "
                    "named by PINPOINT_ETL_DATA_DIR on that machine (pinpoint-etl serve: the project folder). "
                    "Wildcards such as exports/*.csv work; .gz, .bz2 and .zst files are decompressed.")
    delimiter: str = Field(",", title="CSV delimiter", description="The character between fields of a CSV "
                                                                   "file, for example ; or a tab")
    encoding: str = Field("utf-8", title="Text encoding", description="Character encoding of the files, "
                          "for example utf-8 (with or without a byte order mark), latin-1 or cp1252")
    format: Literal["auto", "csv", "json", "ndjson"] = Field(
        "auto", title="File format", description="auto decides by the file name's extension; json is one "
                                                 "array of records, ndjson one record per line")
    mapping: dict[str, str] = Field(
        default_factory=dict, title="Column mapping", examples=[MAPPING_EXAMPLE],
        description='Which column of the files becomes which Pinpoint field, as JSON. Example: '
                    '{"email": "Address", "mobile": "Address", "country": "Location.Country", '
                    '"crm_id": "User.UserId", "notes": "-"}. A dash drops the column; columns already '
                    'named like Pinpoint fields (Address, ChannelType, Location.Country ...) need no entry.')
    mapping_file: Blank = blank("Mapping file", "A mapping spec (a YAML or JSON file with endpoints, as "
                                "pinpoint-etl map init drafts one), or a JSON file with more column mappings in "
                                "the same shape as the column mapping, on the machine that runs the flow (a "
                                "relative path is read like a relative source)")
    mapping_spec: Spec = Field(
        default_factory=dict, validate_default=True, title="Mapping spec", examples=[SPEC_EXAMPLE],
        description="How each row of a CRM or app export becomes endpoints, as JSON: channel blocks (the address "
                    "column, the channel, an Id template), fields shared by a row's endpoints, value maps and date "
                    'formats. Example: {"endpoints": [{"address": "email", "channel": "EMAIL", "id": '
                    '"{customer_id}-email"}, {"address": "mobile", "channel": "SMS", "id": "{customer_id}-sms"}], '
                    '"fields": {"User.UserId": "customer_id", "Location.Country": "country", "OptOut": {"column": '
                    '"opted_out", "map": "boolean"}}}. Replaces the column mapping; empty: none (a spec file can '
                    "be given as the mapping file instead)")
    fold_unknown: bool = Field(False, title="Keep unknown columns as attributes",
                               description="A column that is neither mapped nor a Pinpoint field becomes a "
                                           "custom attribute (a column plan becomes Attributes.plan) instead "
                                           "of failing the run")
    default_region: Blank = blank("Country of national phone numbers",
                                  "Country (US, GB, DE ...) used to read phone numbers written without a "
                                  "+ and country code when the row has no Location.Country; blank: such "
                                  "numbers are rejected")
    on_malformed: Literal["reject", "fail"] = Field(
        "reject", title="Malformed records", description="A record that is not CSV or JSON (a row with too many "
        "or too few fields, a quote never closed, a broken JSON line, a key twice in one object): reject it with "
        "its line and text and read on, or fail the run")
    max_rejects: int | None = Field(None, ge=0, title="Most rejects allowed",
                                    description="The run fails before any import job when more rows (endpoints, "
                                                "with a mapping spec) than this are rejected; blank: no limit")
    max_reject_ratio: float | None = Field(None, ge=0, le=1, title="Largest share of rejects",
                                           description="The run fails before any import job when more than this "
                                                       "share of the rows read is rejected, for example 0.05 for "
                                                       "5 percent; blank: no limit")
    chunk_rows: int = Field(DEFAULT_CHUNK_ROWS, ge=1_000, title="Rows per chunk",
                            description="Rows read and checked at a time; memory use grows with it")
    runner: Literal["auto", "processes", "threads", "dask"] = Field(
        "auto", title="Runner", description="Where chunks are checked: processes (every core, a few "
        "seconds to start), threads (starts at once), dask (a local Dask cluster, or the scheduler below), or auto: "
        "processes from 32 MB of input or for remote files, else threads")
    workers: int = Field(2, ge=1, le=64, title="Workers",
                         description="Worker processes, threads or local Dask workers")
    dask_address: Blank = blank("Dask scheduler address", "An existing Dask scheduler, for example "
                                "tcp://10.0.0.5:8786, whose workers share this machine's work folder; "
                                "blank: none")


class TargetParams(BaseModel):
    """The Pinpoint application and the S3 staging location."""

    application_id: Blank = blank("Pinpoint project id", "The Pinpoint application (project) to import into; "
                                  "blank: PINPOINT_APPLICATION_ID of the machine that runs the flow")
    bucket: Blank = blank("Staging bucket", "S3 bucket where the import files are staged; blank: "
                          "PINPOINT_ETL_BUCKET of the machine that runs the flow")
    prefix: str = Field("pinpoint-etl", title="Staging folder",
                        description="Key prefix in the bucket; a run's files go under BUCKET/PREFIX/RUN_ID/")
    role_arn: Blank = blank("Import role ARN", "IAM role Pinpoint assumes to read the staged files; blank: "
                            "PINPOINT_IMPORT_ROLE_ARN of the machine that runs the flow")
    region: Blank = blank("AWS region", "For example eu-west-1; blank: AWS_REGION or the AWS profile of "
                          "the machine that runs the flow")
    credentials_block: Blank = blank("AWS credentials block", "Name of a prefect-aws AwsCredentials block; "
                                     "blank: the standard AWS credentials of the machine that runs the flow")
    expected_bucket_owner: Blank = blank("Expected bucket owner", "AWS account id that must own the bucket "
                                         "(S3 refuses the request otherwise); blank: not checked")
    sse: Literal["AES256", "aws:kms"] = Field("AES256", title="Server-side encryption",
                                              description="How S3 encrypts the staged files")
    kms_key_id: Blank = blank("KMS key", "KMS key id or ARN, needed when the encryption is aws:kms")


class ImportOptions(BaseModel):
    """How the import jobs are created, limited and watched."""

    register_endpoints: bool = Field(True, title="Register endpoints",
                                     description="Create or update the endpoints in the project")
    define_segment: bool = Field(False, title="Create a segment",
                                 description="Create an imported segment (on when a segment name is given)")
    segment_name: Blank = blank("New segment name", "Create a segment of the imported endpoints under this "
                                "name; blank: no new segment")
    segment_id: Blank = blank("Existing segment id", "Add the imported endpoints to this existing segment; "
                              "blank: none")
    staged_format: Literal["CSV", "JSON"] = Field("CSV", title="Import file format",
                                                  description="Format of the staged import files")
    max_job_bytes: int = Field(MAX_JOB_BYTES, ge=1024, le=MAX_JOB_BYTES, title="Largest import file (bytes)",
                               description="Bigger input is split into several files, one import job each "
                                           "(Pinpoint allows 1 GB)")
    max_concurrent_jobs: int = Field(2, ge=1, le=10, title="Import jobs at once",
                                     description="Import jobs running at the same time (Pinpoint's documented "
                                                 "account quota is 2)")
    poll_initial_seconds: float = Field(1.0, gt=0, title="First poll delay (s)",
                                        description="Seconds before the first job status check")
    poll_max_seconds: float = Field(30.0, gt=0, title="Longest poll delay (s)",
                                    description="The delay between status checks grows up to this")
    timeout_seconds: float = Field(4 * 3600.0, gt=0, title="Job timeout (s)",
                                   description="Stop waiting for a job after this long (a re-run picks it up "
                                               "again)")
    keep_staged: bool = Field(False, title="Keep staged files",
                              description="Keep the import files after a successful run (deleted by default; "
                                          "rejects, ledger and manifest always stay)")
    force: bool = Field(False, title="Import again",
                        description="Stage and import again even if this exact input was imported before "
                                    "(otherwise the earlier run's import jobs are reused)")

    @model_validator(mode="after")
    def _segment_name_defines_a_segment(self):
        if self.segment_name and not self.define_segment:
            self.define_segment = True
        return self
