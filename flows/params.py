"""Flow parameters as pydantic models: the Prefect UI renders each field as a form input."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from pinpoint_etl.schemas.catalogue import MAX_JOB_BYTES
from pinpoint_etl.sources.options import DEFAULT_CHUNK_ROWS


class SourceParams(BaseModel):
    """Where the endpoint records come from and how to read them."""

    sources: list[str] = Field(description="Local paths, globs, s3:// URIs or prefixes (trailing /), "
                                           "http(s):// URLs; .gz/.bz2/.zst are decompressed by extension")
    delimiter: str = Field(",", description="CSV field delimiter")
    encoding: str = Field("utf-8", description="Text encoding of the sources (UTF-8 with or without BOM by default)")
    format: Literal["auto", "csv", "json", "ndjson"] = Field(
        "auto", description="Source format; auto decides by file extension")
    mapping: dict[str, str] = Field(default_factory=dict, description="Source column → Pinpoint name "
                                    "(e.g. email → Address); map to '-' to drop a column")
    mapping_file: str | None = Field(None, description="JSON file with more column mappings")
    fold_unknown: bool = Field(False, description="Put unmapped unknown columns into Attributes.<name> "
                                                  "instead of failing the run")
    default_region: str | None = Field(None, description="ISO country used to read national phone numbers "
                                                         "when a row has no Location.Country")
    chunk_rows: int = Field(DEFAULT_CHUNK_ROWS, ge=1_000, description="Rows per chunk (memory is bounded by this)")
    runner: Literal["auto", "processes", "threads", "dask"] = Field(
        "auto", description="Where chunks are normalised and validated: worker processes (every core; ~3 s "
        "to start), a thread pool (starts at once), Dask (a LocalCluster, or dask_address), or auto: "
        "processes from 32 MB of input or for remote sources, else threads")
    workers: int = Field(2, ge=1, le=64, description="Worker processes, threads, or Dask LocalCluster workers")
    dask_address: str | None = Field(None, description="Address of an existing Dask scheduler "
                                     "(tcp://host:8786); its workers must share the local work folder")


class TargetParams(BaseModel):
    """The Pinpoint application and the S3 staging location."""

    application_id: str | None = Field(None, description="Pinpoint application (project) id; "
                                       "env PINPOINT_APPLICATION_ID")
    bucket: str | None = Field(None, description="S3 bucket for staged files; env PINPOINT_ETL_BUCKET")
    prefix: str = Field("pinpoint-etl", description="Key prefix; files go under s3://BUCKET/PREFIX/RUN_ID/")
    role_arn: str | None = Field(None, description="IAM role Pinpoint assumes to read the staged files; "
                                 "env PINPOINT_IMPORT_ROLE_ARN")
    region: str | None = Field(None, description="AWS region (default: the standard AWS configuration)")
    credentials_block: str | None = Field(None, description="Name of a prefect-aws AwsCredentials block; "
                                          "default: the standard AWS credential chain")
    expected_bucket_owner: str | None = Field(None, description="Account id that must own the bucket "
                                              "(S3 ExpectedBucketOwner)")
    sse: Literal["AES256", "aws:kms"] = Field("AES256", description="Server-side encryption of staged objects")
    kms_key_id: str | None = Field(None, description="KMS key id or ARN when sse is aws:kms")


class ImportOptions(BaseModel):
    """How the import jobs are created, limited and watched."""

    register_endpoints: bool = Field(True, description="Create or update the endpoints in the project")
    define_segment: bool = Field(False, description="Create an imported segment from this import")
    segment_name: str | None = Field(None, description="Name of the segment created when define_segment is on")
    segment_id: str | None = Field(None, description="Existing segment to add the imported endpoints to")
    staged_format: Literal["CSV", "JSON"] = Field("CSV", description="Format of the staged import files")
    max_job_bytes: int = Field(MAX_JOB_BYTES, ge=1024, le=MAX_JOB_BYTES,
                               description="Largest import file per job (Pinpoint allows 1 GB)")
    max_concurrent_jobs: int = Field(2, ge=1, le=10, description="Import jobs running at once "
                                     "(Pinpoint's documented account quota is 2)")
    poll_initial_seconds: float = Field(1.0, gt=0, description="First delay between GetImportJob polls")
    poll_max_seconds: float = Field(30.0, gt=0, description="Longest delay between polls (exponential backoff)")
    timeout_seconds: float = Field(4 * 3600.0, gt=0, description="Give up polling a job after this long")
    keep_staged: bool = Field(False, description="Keep the staged import files after a successful run "
                                                 "(they are deleted by default; rejects, ledger and manifest stay)")
    force: bool = Field(False, description="Import again even if this exact input was already imported")
