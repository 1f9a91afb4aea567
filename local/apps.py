"""Applications (projects): CreateApp, GetApp(s), DeleteApp, settings, tags and the event stream.

Shapes follow botocore's model: ``ApplicationResponse`` (``Arn``, ``Id``, ``Name`` required,
``CreationDate`` an ISO 8601 string), ``ApplicationSettingsResource``, ``EventStream``, ``TagsModel``.
Choices: GetApps lists in creation order; DeleteApp removes everything of the application
(endpoints, segments, jobs, channels, events); TagResource/UntagResource work on application and
segment ARNs (an ARN of neither → 404); the event stream is stored, never written to.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from pinpoint_etl.local.api import Call, operation, paged
from pinpoint_etl.local.db import Database
from pinpoint_etl.local.errors import BadRequest, NotFound

SETTINGS_FIELDS = ("CampaignHook", "Limits", "QuietTime", "JourneyLimits")


def now_iso() -> str:
    """ISO 8601 with milliseconds and Z, as Pinpoint writes dates."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id() -> str:
    """An id in the form Pinpoint uses (32 lowercase hex characters)."""
    return uuid.uuid4().hex


def require_string(body: dict[str, Any], name: str, where: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Missing {name}: {where} requires a non-empty {name}")
    return value


def check_tags(tags: Any) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise BadRequest("tags must be an object of string keys to string values")
    return dict(tags)


class AppStore:
    """Applications of one service, with a cache of the ids that exist (checked on every call)."""

    def __init__(self, db: Database, account_id: str, region: str):
        self.db = db
        self.account_id = account_id
        self.region = region
        self._ids: dict[str, int] | None = None  # application id → its store key (seq)
        self._lock = threading.Lock()

    def arn(self, app_id: str) -> str:
        return f"arn:aws:mobiletargeting:{self.region}:{self.account_id}:apps/{app_id}"

    def _known(self) -> dict[str, int]:
        with self._lock:
            if self._ids is None:
                with self.db.read() as conn:
                    self._ids = dict(conn.execute("SELECT id, seq FROM apps").fetchall())
            return self._ids

    def forget(self) -> None:
        with self._lock:
            self._ids = None

    def exists(self, app_id: str) -> bool:
        return app_id in self._known()

    def key(self, app_id: str) -> int:
        """The application's key in the endpoints table (NotFound if it does not exist)."""
        key = self._known().get(app_id)
        if key is None:
            raise NotFound("Resource not found")
        return key

    def create(self, name: str, tags: dict[str, str]) -> dict[str, Any]:
        app_id = new_id()
        with self.db.write() as conn:
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM apps").fetchone()[0]
            conn.execute("INSERT INTO apps(id, seq, name, arn, creation_date, tags) VALUES (?, ?, ?, ?, ?, ?)",
                         (app_id, seq, name, self.arn(app_id), now_iso(), json.dumps(tags)))
        self._known()[app_id] = seq
        return self.get(app_id)

    def get(self, app_id: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = conn.execute("SELECT id, name, arn, creation_date, tags FROM apps WHERE id = ?", (app_id,)).fetchone()
        if row is None:
            raise NotFound("Application not found")
        return _app_json(row)

    def find_by_name(self, name: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT id FROM apps WHERE name = ? ORDER BY seq LIMIT 1", (name,)).fetchone()
        return row[0] if row else None

    def delete(self, app_id: str) -> dict[str, Any]:
        app = self.get(app_id)
        key = self.key(app_id)
        with self.db.write() as conn:
            conn.execute("DELETE FROM endpoints WHERE app = ?", (key,))
            conn.execute("DELETE FROM segment_members WHERE seg IN (SELECT seq FROM segments WHERE app_id = ?)",
                         (app_id,))
            for table, column in (("attribute_names", "app_id"), ("segments", "app_id"),
                                  ("segment_versions", "app_id"), ("jobs", "app_id"), ("events", "app_id"),
                                  ("channels", "app_id"), ("apps", "id")):
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (app_id,))  # noqa: S608 - fixed names
        self._known().pop(app_id, None)
        return app

    def column(self, app_id: str, name: str) -> Any:
        with self.db.read() as conn:
            row = conn.execute(f"SELECT {name}, creation_date FROM apps WHERE id = ?",  # noqa: S608
                               (app_id,)).fetchone()
        if row is None:
            raise NotFound("Application not found")
        return (json.loads(row[0]) if row[0] else None), row[1]

    def set_column(self, app_id: str, name: str, value: Any) -> None:
        with self.db.write() as conn:
            conn.execute(f"UPDATE apps SET {name} = ? WHERE id = ?",  # noqa: S608 - fixed column names
                         (None if value is None else json.dumps(value), app_id))


def _app_json(row: tuple) -> dict[str, Any]:
    app_id, name, arn, creation_date, tags = row
    return {"Arn": arn, "Id": app_id, "Name": name, "tags": json.loads(tags), "CreationDate": creation_date}


# --------------------------------------------------------------------------- applications

@operation("CreateApp")
def create_app(call: Call) -> tuple[int, Any]:
    body = call.json()
    name = require_string(body, "Name", "CreateApplicationRequest")
    return 201, call.state.apps.create(name, check_tags(body.get("tags")))


@operation("GetApp")
def get_app(call: Call) -> tuple[int, Any]:
    return 200, call.state.apps.get(call.label("application-id"))


@operation("GetApps")
def get_apps(call: Call) -> tuple[int, Any]:
    size, after = call.page_size(), call.token() or 0
    with call.state.db.read() as conn:
        rows = conn.execute("SELECT id, name, arn, creation_date, tags, seq FROM apps WHERE seq > ? ORDER BY seq "
                            "LIMIT ?", (after, size + 1)).fetchall()
    page = rows[:size]
    return 200, paged([_app_json(r[:5]) for r in page], [r[5] for r in page], size, len(rows) > size)


@operation("DeleteApp")
def delete_app(call: Call) -> tuple[int, Any]:
    app_id = call.label("application-id")
    call.state.apps.get(app_id)
    call.state.scheduler.cancel_app(app_id)
    return 200, call.state.apps.delete(app_id)


# --------------------------------------------------------------------------- settings

def _settings(call: Call, app_id: str) -> dict[str, Any]:
    stored, created = call.state.apps.column(app_id, "settings")
    stored = stored or {}
    out = {"ApplicationId": app_id, "CampaignHook": {}, "LastModifiedDate": created, "Limits": {}, "QuietTime": {}}
    out.update({k: v for k, v in stored.items() if k in (*SETTINGS_FIELDS, "LastModifiedDate")})
    return out


@operation("GetApplicationSettings")
def get_application_settings(call: Call) -> tuple[int, Any]:
    return 200, _settings(call, call.app_id())


@operation("UpdateApplicationSettings")
def update_application_settings(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    body = call.json()
    stored, _ = call.state.apps.column(app_id, "settings")
    stored = stored or {}
    for name in SETTINGS_FIELDS:
        if name in body:
            if not isinstance(body[name], dict):
                raise BadRequest(f"{name} must be an object")
            stored[name] = body[name]
    stored["LastModifiedDate"] = now_iso()
    call.state.apps.set_column(app_id, "settings", stored)
    return 200, _settings(call, app_id)


# --------------------------------------------------------------------------- event stream

@operation("PutEventStream")
def put_event_stream(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    body = call.json()
    stream = {
        "ApplicationId": app_id,
        "DestinationStreamArn": require_string(body, "DestinationStreamArn", "WriteEventStream"),
        "RoleArn": require_string(body, "RoleArn", "WriteEventStream"),
        "LastModifiedDate": now_iso(),
        "LastUpdatedBy": call.state.caller_arn,
    }
    call.state.apps.set_column(app_id, "event_stream", stream)
    return 200, stream


def _event_stream(call: Call, app_id: str) -> dict[str, Any]:
    stream, _ = call.state.apps.column(app_id, "event_stream")
    if not stream:
        raise NotFound(f"No event stream is configured for application {app_id}")
    return stream


@operation("GetEventStream")
def get_event_stream(call: Call) -> tuple[int, Any]:
    return 200, _event_stream(call, call.app_id())


@operation("DeleteEventStream")
def delete_event_stream(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    stream = _event_stream(call, app_id)
    call.state.apps.set_column(app_id, "event_stream", None)
    return 200, stream


# --------------------------------------------------------------------------- tags

def _tag_target(call: Call, arn: str) -> tuple[str, str, str | None]:
    """(kind, application id, segment id) of an application or segment ARN; 404 for anything else."""
    prefix = f"arn:aws:mobiletargeting:{call.state.region}:{call.state.account_id}:apps/"
    if arn.startswith(prefix):
        parts = arn[len(prefix):].split("/")
        if len(parts) == 1 and call.state.apps.exists(parts[0]):
            return "app", parts[0], None
        if len(parts) == 3 and parts[1] == "segments" and call.state.apps.exists(parts[0]):
            if call.state.segments.exists(parts[0], parts[2]):
                return "segment", parts[0], parts[2]
    raise NotFound(f"Resource not found: {arn}")


def _get_tags(call: Call, arn: str) -> dict[str, str]:
    kind, app_id, segment_id = _tag_target(call, arn)
    if kind == "app":
        return call.state.apps.get(app_id)["tags"]
    return call.state.segments.tags(app_id, segment_id)


def _set_tags(call: Call, arn: str, tags: dict[str, str]) -> None:
    kind, app_id, segment_id = _tag_target(call, arn)
    if kind == "app":
        with call.state.db.write() as conn:
            conn.execute("UPDATE apps SET tags = ? WHERE id = ?", (json.dumps(tags), app_id))
    else:
        call.state.segments.set_tags(app_id, segment_id, tags)


@operation("ListTagsForResource")
def list_tags_for_resource(call: Call) -> tuple[int, Any]:
    return 200, {"tags": _get_tags(call, call.label("resource-arn"))}


@operation("TagResource")
def tag_resource(call: Call) -> tuple[int, Any]:
    arn = call.label("resource-arn")
    tags = call.json().get("tags")
    if not isinstance(tags, dict):
        raise BadRequest("Missing tags: TagsModel requires tags")
    _set_tags(call, arn, {**_get_tags(call, arn), **check_tags(tags)})
    return 204, None


@operation("UntagResource")
def untag_resource(call: Call) -> tuple[int, Any]:
    arn = call.label("resource-arn")
    keys = set(call.query_all("tagKeys"))
    if not keys:
        raise BadRequest("Missing tagKeys")
    _set_tags(call, arn, {k: v for k, v in _get_tags(call, arn).items() if k not in keys})
    return 204, None
