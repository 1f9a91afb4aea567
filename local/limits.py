"""The documented Pinpoint limits and vocabularies, as the local service applies them.

The service keeps its own copy, written from /work/shared/reference/pinpoint-import-export.md
(short source names in the comments), and imports nothing from the pipeline: the pipeline's rules
and these are written independently, so a wrong constant on either side fails end to end.
"""

from __future__ import annotations

from typing import Final

# MODEL ChannelType enum (§6.2), in the model's order.
CHANNEL_TYPES: Final = (
    "PUSH", "GCM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX",
    "ADM", "SMS", "VOICE", "EMAIL", "BAIDU", "CUSTOM", "IN_APP",
)
# UG-import: phone-number addresses (SMS, VOICE) must be E.164.
PHONE_CHANNELS: Final = frozenset({"SMS", "VOICE"})
# DG-16th: a 16th endpoint of these types makes the user's oldest endpoint of these types INACTIVE.
AUTO_INACTIVATE_CHANNELS: Final = frozenset({"ADM", "GCM", "APNS", "APNS_VOIP", "APNS_VOIP_SANDBOX", "BAIDU"})
OPT_OUT_VALUES: Final = ("ALL", "NONE")  # MODEL / UG-import
ENDPOINT_STATUSES: Final = ("ACTIVE", "INACTIVE")  # MODEL

# UG-import "Supported attributes": the scalar CSV headers of an import file (EffectiveDate is
# listed there; EndpointStatus is not supported in imports).
IMPORT_SCALAR_FIELDS: Final = frozenset({
    "Id", "ChannelType", "Address", "OptOut", "RequestId", "EffectiveDate",
    "Location.City", "Location.Country", "Location.Latitude", "Location.Longitude",
    "Location.PostalCode", "Location.Region",
    "Demographic.AppVersion", "Demographic.Locale", "Demographic.Make", "Demographic.Model",
    "Demographic.ModelVersion", "Demographic.Platform", "Demographic.PlatformVersion",
    "Demographic.Timezone",
    "User.UserId",
})

MAX_ATTRIBUTE_NAME: Final = 50  # characters, DG-quotas
MAX_ATTRIBUTE_VALUE: Final = 100  # characters, DG-quotas
MAX_VALUES_PER_ATTRIBUTE: Final = 50  # DG-quotas
MAX_CUSTOM_ATTRIBUTES: Final = 250  # per application, Attributes + Metrics + UserAttributes, DG-quotas
MAX_ENDPOINT_BYTES: Final = 15 * 1024  # DG-quotas: 15 KB
MAX_ENDPOINTS_PER_USER: Final = 15  # DG-quotas, DG-16th
MAX_JOB_BYTES: Final = 1024 ** 3  # DG-import: 1 GB per import job
MAX_FAILURES: Final = 100  # MODEL ImportJobResponse.Failures: the first 100 entries
MAX_BATCH_ITEMS: Final = 100  # MODEL EndpointBatchRequest.Item, DG-quotas
MAX_PAYLOAD_BYTES: Final = 7 * 1024 * 1024  # DG-quotas: any request or response
MAX_SEGMENT_DIMENSIONS: Final = 100  # DG-quotas: dimensions per segment
DEFAULT_CONCURRENT_IMPORT_JOBS: Final = 2  # DG-import (⚠️ DG-quotas says 10 active)

# PutEvents (DG-quotas 2023 copy)
MAX_EVENTS_PAYLOAD: Final = 4 * 1024 * 1024
MAX_EVENTS_PER_REQUEST: Final = 100
MAX_EVENT_BYTES: Final = 1000 * 1024
MAX_EVENT_KEYS: Final = 40
MAX_EVENT_KEY_CHARS: Final = 50
MAX_EVENT_VALUE_CHARS: Final = 200
