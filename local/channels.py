"""The email and SMS channels of an application: GetChannels, Get/Update/Delete Email and Sms channel.

Choices: a channel exists once it has been updated (Get on one never set → 404, as Pinpoint
answers for a channel that was never enabled); ``Enabled`` defaults to true when first set, and it
and the optional settings are kept by later updates that omit them; ``Version`` counts updates from 1; ``Id`` is the channel name
in lower case; nothing is ever sent through a channel. GetChannels lists the channels that exist.
"""

from __future__ import annotations

import json
from typing import Any

from pinpoint_etl.local.api import Call, operation
from pinpoint_etl.local.apps import now_iso, require_string
from pinpoint_etl.local.errors import BadRequest, NotFound

# The account-level sending rates a new project gets (documented defaults of the SMS and email
# channels); shown, never enforced.
SMS_MESSAGES_PER_SECOND = 20
EMAIL_MESSAGES_PER_SECOND = 1
CHANNEL_SUMMARY = ("ApplicationId", "CreationDate", "Enabled", "HasCredential", "Id", "IsArchived",
                   "LastModifiedBy", "LastModifiedDate", "Version")


def _get(call: Call, app_id: str, kind: str) -> dict[str, Any] | None:
    with call.state.db.read() as conn:
        row = conn.execute("SELECT body FROM channels WHERE app_id = ? AND type = ?", (app_id, kind)).fetchone()
    return json.loads(row[0]) if row else None


def _put(call: Call, app_id: str, kind: str, channel: dict[str, Any]) -> None:
    with call.state.db.write() as conn:
        conn.execute("INSERT OR REPLACE INTO channels VALUES (?, ?, ?)", (app_id, kind, json.dumps(channel)))


def _existing(call: Call, app_id: str, kind: str) -> dict[str, Any]:
    channel = _get(call, app_id, kind)
    if channel is None:
        raise NotFound(f"The {kind} channel of application {app_id} is not configured")
    return channel


def _delete(call: Call, app_id: str, kind: str) -> dict[str, Any]:
    channel = _existing(call, app_id, kind)
    with call.state.db.write() as conn:
        conn.execute("DELETE FROM channels WHERE app_id = ? AND type = ?", (app_id, kind))
    return channel


def _bool(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"{name} must be a boolean")
    return value


def _optional_string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


def _base(call: Call, app_id: str, kind: str, platform: str, old: dict[str, Any] | None,
          body: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    """The fields every channel has, and the ``optional`` strings of the request (or as they were)."""
    now = now_iso()
    enabled = _bool(body, "Enabled")
    channel = {
        "ApplicationId": app_id,
        "CreationDate": old["CreationDate"] if old else now,
        "Enabled": enabled if enabled is not None else (old["Enabled"] if old else True),
        "HasCredential": False,
        "Id": kind,
        "IsArchived": False,
        "LastModifiedBy": call.state.caller_arn,
        "LastModifiedDate": now,
        "Platform": platform,
        "Version": (old["Version"] + 1) if old else 1,
    }
    for name in optional:
        value = _optional_string(body, name)
        if value is not None:
            channel[name] = value
        elif old and name in old:
            channel[name] = old[name]
    return channel


@operation("GetChannels")
def get_channels(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    with call.state.db.read() as conn:
        rows = conn.execute("SELECT body FROM channels WHERE app_id = ? ORDER BY type", (app_id,)).fetchall()
    channels = {}
    for (body,) in rows:
        channel = json.loads(body)
        channels[channel["Platform"]] = {k: channel[k] for k in CHANNEL_SUMMARY if k in channel}
    return 200, {"Channels": channels}


@operation("GetEmailChannel")
def get_email_channel(call: Call) -> tuple[int, Any]:
    return 200, _existing(call, call.app_id(), "email")


@operation("UpdateEmailChannel")
def update_email_channel(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    body = call.json()
    channel = _base(call, app_id, "email", "EMAIL", _get(call, app_id, "email"), body,
                    ("ConfigurationSet", "RoleArn", "OrchestrationSendingRoleArn"))
    channel["FromAddress"] = require_string(body, "FromAddress", "EmailChannelRequest")
    channel["Identity"] = require_string(body, "Identity", "EmailChannelRequest")
    channel["MessagesPerSecond"] = EMAIL_MESSAGES_PER_SECOND
    _put(call, app_id, "email", channel)
    return 200, channel


@operation("DeleteEmailChannel")
def delete_email_channel(call: Call) -> tuple[int, Any]:
    return 200, _delete(call, call.app_id(), "email")


@operation("GetSmsChannel")
def get_sms_channel(call: Call) -> tuple[int, Any]:
    return 200, _existing(call, call.app_id(), "sms")


@operation("UpdateSmsChannel")
def update_sms_channel(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    body = call.json()
    channel = _base(call, app_id, "sms", "SMS", _get(call, app_id, "sms"), body, ("SenderId", "ShortCode"))
    channel["PromotionalMessagesPerSecond"] = SMS_MESSAGES_PER_SECOND
    channel["TransactionalMessagesPerSecond"] = SMS_MESSAGES_PER_SECOND
    _put(call, app_id, "sms", channel)
    return 200, channel


@operation("DeleteSmsChannel")
def delete_sms_channel(call: Call) -> tuple[int, Any]:
    return 200, _delete(call, call.app_id(), "sms")
