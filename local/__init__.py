"""Local Pinpoint-compatible service: moto's server plus endpoints, import/export jobs,
imported segments, PutEvents, wire-accurate errors and fault knobs.

Importing this package routes moto's Pinpoint URLs to :mod:`local.responses` (it must happen
before moto's server builds its URL map). Start it with :func:`local.server.start_local_service`.

Behaviour follows /work/shared/reference/pinpoint-import-export.md. Choices where AWS is silent
(❓) or contradicts itself (⚠️):

Jobs
* States: CREATED → [PENDING_JOB] → INITIALIZING → PROCESSING → COMPLETING → COMPLETED, or →
  FAILING → FAILED. ~``state_delay`` (0.2 s) in each. PREPARING_FOR_INITIALIZATION is not used.
* Concurrency: 2 running import jobs per account (DG-import), configurable; export jobs unlimited.
* Counters are present from INITIALIZING on (absent while CREATED, as in DG-import's example);
  ``Failures`` is present only when there is at least one entry.
* One piece per file (import) / per output file (export). A failed piece → job FAILED; failed
  rows alone → COMPLETED with TotalFailures > 0. Endpoints from good pieces stay registered.
* TotalProcessed = rows read (failed rows included); TotalFailures = failed rows only.
* Failures: ``"s3://b/k.csv row 7: reason"``, ``"s3://b/k.csv: reason"`` (piece),
  ``"<S3Url or S3UrlPrefix>: reason"`` (job: role, missing files, size). First 100 kept. AWS never
  documented this text (❓): the row shape is our own choice, and the ``failures_shape`` knob makes
  the service write others (file only, endpoint id only, free text) so clients are tested on them.
* RegisterEndpoints / DefineSegment omitted = false. ExternalId defaults to the account id in
  Definition (as in DG-import's examples). DefineSegment creates the IMPORT segment at
  CreateImportJob (Definition.SegmentId is in the create response; Size 0 until the job ends).
  SegmentId (wins over DefineSegment) adds the job's endpoints as a new segment Version.
  Segments are static snapshots; SegmentName is required with DefineSegment.
* Create-time 400s: missing S3Url/RoleArn/Format, Format not CSV/JSON, S3Url not ``s3://bucket/..``,
  DefineSegment without SegmentName; 404: unknown application or SegmentId. Everything else
  (role, bucket, files, size > 1 GB) fails the job at INITIALIZING.
* Role: must exist in moto IAM, trust ``pinpoint.amazonaws.com`` for ``sts:AssumeRole``
  (conditions on aws:SourceAccount / aws:SourceArn are evaluated) and allow s3:ListBucket +
  s3:GetObject (import) or s3:PutObject (export).
* File rules (which files, compression, BOM, rows, unknown columns): see :mod:`local.import_runner`
  and :mod:`local.row_rules`. Export layout: see :mod:`local.export_runner`.
* Paging (GetImportJobs, GetExportJobs, GetSegmentImportJobs, GetSegments): newest first,
  ``page-size`` default 100 (an integer >= 1, else 400), opaque ``token``; bad token → 400.

Endpoints
* Updates overwrite the listed fields and custom attributes; unlisted ones stay; an empty
  array removes an attribute. OptOut defaults to NONE, EndpointStatus to ACTIVE (an explicit
  EndpointStatus in an API request is honoured), EffectiveDate to now, CohortId is a stable
  hash of the Id (0-99), RequestId to the request's id.
* A new endpoint needs Address and ChannelType (API and import). Updating/creating an endpoint
  with an Address sets every other endpoint with that Address INACTIVE.
* 16th endpoint of a user: SMS/PUSH/VOICE/EMAIL/CUSTOM/IN_APP (and APNS_SANDBOX, listed
  nowhere) → "Exceeded maximum endpoint per user count: 15"; ADM/GCM/APNS/APNS_VOIP/
  APNS_VOIP_SANDBOX/BAIDU → the user's push endpoint (of those types) with the oldest
  EffectiveDate goes INACTIVE and loses its UserId, or the same error if there is none.
  For imports the error fails the row.
* 250 custom attribute names per application (Attributes + Metrics + User.UserAttributes names),
  counted over names already registered plus the new ones of each endpoint; never released.
* UpdateEndpointsBatch is all-or-nothing: > 100 items or any bad item → 400, nothing stored.
* GetUserEndpoints / DeleteUserEndpoints for a user without endpoints → 404.

PutEvents
* > 100 events per request → 400; > 4 MB → 413. A non-empty ``Endpoint`` is upserted with the
  UpdateEndpoint rules (its result in EndpointItemResponse: 202 Accepted / 400 reason); each event
  is checked alone (EventType, ISO 8601 Timestamp, Session Id+StartTimestamp, ≤ 40 attribute+metric
  keys, key ≤ 50 chars, attribute value ≤ 200 chars, metrics numeric, ≤ 1,000 KB) → 202 / 400.

Errors
* ``x-amzn-ErrorType`` + ``x-amzn-RequestId`` headers, body ``{"Message", "RequestID"}``. Requests
  over 7 MB → 413 PayloadTooLargeException. Operations not implemented → 501 ``NotImplemented``.
"""

from pinpoint_etl.local.responses import install as _install

_install()
