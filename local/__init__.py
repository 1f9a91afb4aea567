"""Local Pinpoint-compatible service: the Pinpoint REST API (endpoints, import/export jobs, segments,
PutEvents, applications, channels, PhoneNumberValidate), S3 and, through moto, IAM and STS — one
port, loopback only. Start it with :func:`local.server.start_local_service` or ``pinpoint-etl local up``.

Behaviour follows /work/shared/reference/pinpoint-import-export.md; the documented limits are the
service's own copy (:mod:`local.limits`), never the pipeline's. Importing this package has no side
effects (a parsing process imports only what it needs). Choices where AWS is silent (❓) or
contradicts itself (⚠️):

Store
* One SQLite file (stdlib) plus a folder of object blobs per service (:mod:`local.db`): under
  ``local up --data-dir DIR`` everything — applications (the seeded one keeps its id), endpoints,
  segments, jobs, events, S3 objects and multipart uploads, IAM changes, the access key pair —
  survives a restart; without it the folder is temporary and removed on stop. A job that had not
  ended when the service stopped starts again from CREATED. S3 objects are written to disk as they
  arrive and multipart uploads are concatenated on disk: no object is ever held in memory.

Security
* Every request must carry a valid SigV4 signature made with the service's access key (printed by
  ``local up``, on ``LocalService``); ``insecure`` (``local up --insecure``) turns the check off.
  The ``/_local/`` admin routes (fault knobs, config, reset) need the admin token made at each start
  (header ``X-Local-Admin-Token``). No CORS headers unless origins are given (``--cors-origin``).

Jobs
* States: CREATED → [PENDING_JOB] → INITIALIZING → PROCESSING → COMPLETING → COMPLETED, or →
  FAILING → FAILED. ~``state_delay`` (0.2 s) in each. PREPARING_FOR_INITIALIZATION is not used.
* Concurrency: 2 running import jobs (DG-import), configurable; export jobs unlimited.
* Counters are present from INITIALIZING on (absent while CREATED, as in DG-import's example);
  ``Failures`` is present only when there is at least one entry.
* One piece per file (import) / per output file (export). A failed piece → job FAILED; failed
  rows alone → COMPLETED with TotalFailures > 0. Endpoints from good pieces stay registered.
* TotalProcessed = rows read (failed rows included); TotalFailures = failed rows only.
* Failures: ``"s3://b/k.csv row 7: reason"``, ``"s3://b/k.csv: reason"`` (piece),
  ``"<S3Url or S3UrlPrefix>: reason"`` (job: role, missing files, size). First 100 kept. AWS never
  documented this text (❓): the row shape is our own choice, and the ``failures_shape`` knob makes
  the service write others (file only, endpoint id only, free text) so clients are tested on them.
* Import files are read a batch of rows at a time and each batch is stored in one transaction
  (a file of 16 MiB or more is parsed and applied by two processes beside the service): memory does
  not grow with the file, and API calls are answered at once while a job runs.
* RegisterEndpoints / DefineSegment omitted = false. ExternalId defaults to the account id in
  Definition (as in DG-import's examples). DefineSegment creates the IMPORT segment at
  CreateImportJob (Definition.SegmentId is in the create response; Size 0 until the job ends).
  SegmentId (wins over DefineSegment; an imported segment only) adds the job's endpoints as a new
  segment Version. SegmentName is required with DefineSegment.
* Create-time 400s: missing S3Url/RoleArn/Format, Format not CSV/JSON, S3Url not ``s3://bucket/..``,
  DefineSegment without SegmentName; 404: unknown application or SegmentId. Everything else
  (role, bucket, files, size > 1 GB) fails the job at INITIALIZING.
* Role: must exist in IAM, trust ``pinpoint.amazonaws.com`` for ``sts:AssumeRole``
  (conditions on aws:SourceAccount / aws:SourceArn are evaluated) and allow s3:ListBucket +
  s3:GetObject (import) or s3:PutObject (export).
* File rules (which files, compression, BOM, rows, unknown columns): see :mod:`local.import_runner`
  and :mod:`local.row_rules`. Export layout: see :mod:`local.export_runner`.
* Paging (GetImportJobs, GetExportJobs, GetSegmentImportJobs, GetSegments): newest first;
  GetApps: creation order; ``page-size`` default 100 (an integer >= 1, else 400), opaque
  ``token``; bad token → 400.

Endpoints
* Updates overwrite the listed fields and custom attributes; unlisted ones stay; an empty
  array removes an attribute. OptOut defaults to NONE, EndpointStatus to ACTIVE (an explicit
  EndpointStatus in an API request is honoured), EffectiveDate to now, CohortId is a stable
  hash of the Id (0-99), RequestId to the request's id.
* A new endpoint needs Address and ChannelType (API and import). SMS and VOICE addresses must
  be E.164 (UG-import), in API calls and import files alike. Updating/creating an endpoint with an
  Address sets every other endpoint with that Address INACTIVE.
* ``EndpointStatus`` is not supported in import files (⚠️ UG-import): a row that gives one fails
  alone, a CSV cell and an NDJSON key alike; an empty CSV cell is no value.
* 16th endpoint of a user: SMS/PUSH/VOICE/EMAIL/CUSTOM/IN_APP (and APNS_SANDBOX, listed
  nowhere) → "Exceeded maximum endpoint per user count: 15"; ADM/GCM/APNS/APNS_VOIP/
  APNS_VOIP_SANDBOX/BAIDU → the user's push endpoint (of those types) with the oldest
  EffectiveDate goes INACTIVE and loses its UserId, or the same error if there is none.
  For imports the error fails the row.
* 250 custom attribute names per application (Attributes + Metrics + User.UserAttributes names),
  counted over names already registered plus the new ones of each endpoint; RemoveAttributes
  frees the names it removes.
* UpdateEndpointsBatch is all-or-nothing: > 100 items or any bad item → 400, nothing stored.
* GetUserEndpoints / DeleteUserEndpoints for a user without endpoints → 404.

Segments, channels, phone numbers: see :mod:`local.segments` (imported and dimensional segments;
dimensions evaluated when an export reads them, rules in :mod:`local.segment_rules`),
:mod:`local.channels` (email and SMS channels, stored, never used to send) and :mod:`local.phone`.

PutEvents
* > 100 events per request → 400; > 4 MB → 413. A non-empty ``Endpoint`` is upserted with the
  UpdateEndpoint rules (its result in EndpointItemResponse: 202 Accepted / 400 reason); each event
  is checked alone (EventType, ISO 8601 Timestamp, Session Id+StartTimestamp, ≤ 40 attribute+metric
  keys, key ≤ 50 chars, attribute value ≤ 200 chars, metrics numeric, ≤ 1,000 KB) → 202 / 400.

Errors
* Pinpoint errors: ``x-amzn-ErrorType`` + ``x-amzn-RequestId`` headers, body ``{"Message",
  "RequestID"}``. Requests over 7 MB → 413 PayloadTooLargeException. Every operation of
  botocore's model that is not implemented → 501 ``NotImplemented`` in that shape; a path that is
  no operation → 400 (405 when only the method is wrong). Unsigned requests → 403, never an HTML
  page (see :mod:`local.middleware`). S3 answers S3's XML errors.
"""
