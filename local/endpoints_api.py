"""Endpoint operations: UpdateEndpoint(s), GetEndpoint, DeleteEndpoint, Get/DeleteUserEndpoints,
RemoveAttributes.

UpdateEndpointsBatch is all or nothing: more than 100 items or any bad item → 400 and nothing is
stored. GetUserEndpoints / DeleteUserEndpoints for a user without endpoints → 404. RemoveAttributes
takes exact names or glob patterns (``*``, ``?``), removes those attributes from every endpoint of
the application, frees their names from the 250-name budget, and answers the names it removed.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from pinpoint_etl.local.api import Call, operation
from pinpoint_etl.local.apps import now_iso
from pinpoint_etl.local.endpoint_store import EndpointBatch
from pinpoint_etl.local.errors import BadRequest, NotFound
from pinpoint_etl.local.limits import MAX_BATCH_ITEMS
from pinpoint_etl.local.row_rules import RowError, check_record

ATTRIBUTE_TYPES = {
    "endpoint-custom-attributes": "Attributes",
    "endpoint-metric-attributes": "Metrics",
    "endpoint-user-attributes": "UserAttributes",
}


def _accepted(call: Call) -> tuple[int, Any]:
    return 202, {"Message": "Accepted", "RequestID": call.request_id}


@operation("UpdateEndpoint")
def update_endpoint(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    body = call.json()
    with call.state.db.write() as conn:
        batch = EndpointBatch(conn, app_id, call.state.apps.key(app_id), now_iso())
        try:
            batch.upsert(call.label("endpoint-id"), check_record(body, for_import=False),
                         request_id=call.request_id)
        except RowError as exc:
            raise BadRequest(str(exc)) from None
        batch.flush()
    return _accepted(call)


@operation("UpdateEndpointsBatch")
def update_endpoints_batch(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    items = call.json().get("Item")
    if not isinstance(items, list):
        raise BadRequest("Missing Item: the request must contain an Item list")
    if len(items) > MAX_BATCH_ITEMS:
        raise BadRequest(f"The batch has {len(items)} items; at most {MAX_BATCH_ITEMS} "
                         "EndpointBatchItems are allowed per request")
    with call.state.db.write() as conn:
        batch = EndpointBatch(conn, app_id, call.state.apps.key(app_id), now_iso())
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not item.get("Id") or not isinstance(item["Id"], str):
                raise BadRequest(f"Item {index}: Missing Id")
            try:
                rec = check_record({k: v for k, v in item.items() if k != "Id"}, for_import=False)
                batch.upsert(item["Id"], rec, request_id=call.request_id)
            except RowError as exc:
                raise BadRequest(f"Item {index} (Id {item['Id']}): {exc}") from None
        batch.flush()
    return _accepted(call)


def _endpoint(call: Call, app_id: str, endpoint_id: str) -> dict[str, Any]:
    with call.state.db.read() as conn:
        row = conn.execute("SELECT body FROM endpoints WHERE app = ? AND id = ?",
                           (call.state.apps.key(app_id), endpoint_id)).fetchone()
    if row is None:
        raise NotFound(f"Endpoint {endpoint_id} not found")
    return json.loads(row[0])


@operation("GetEndpoint")
def get_endpoint(call: Call) -> tuple[int, Any]:
    return 200, _endpoint(call, call.app_id(), call.label("endpoint-id"))


@operation("DeleteEndpoint")
def delete_endpoint(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    with call.state.db.write() as conn:
        batch = EndpointBatch(conn, app_id, call.state.apps.key(app_id), now_iso())
        endpoint = batch.delete(call.label("endpoint-id"))
        if endpoint is None:
            raise NotFound(f"Endpoint {call.label('endpoint-id')} not found")
        batch.flush()
    return 202, endpoint


def _user_endpoints(call: Call, delete: bool) -> tuple[int, Any]:
    app_id = call.app_id()
    user_id = call.label("user-id")
    with call.state.db.write() as conn:
        batch = EndpointBatch(conn, app_id, call.state.apps.key(app_id), now_iso())
        endpoints = [e.doc() for e in batch.user_endpoints(user_id)]
        if not endpoints:
            raise NotFound(f"No endpoints found for user {user_id}")
        if delete:
            for endpoint in endpoints:
                batch.delete(endpoint["Id"])
            batch.flush()
    return (202 if delete else 200), {"Item": endpoints}


@operation("GetUserEndpoints")
def get_user_endpoints(call: Call) -> tuple[int, Any]:
    return _user_endpoints(call, delete=False)


@operation("DeleteUserEndpoints")
def delete_user_endpoints(call: Call) -> tuple[int, Any]:
    return _user_endpoints(call, delete=True)


@operation("RemoveAttributes")
def remove_attributes(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    attribute_type = call.label("attribute-type")
    family = ATTRIBUTE_TYPES.get(attribute_type)
    if family is None:
        raise BadRequest(f"Invalid attribute-type {attribute_type!r}: valid values are "
                         f"{', '.join(ATTRIBUTE_TYPES)}")
    patterns = call.json().get("Blacklist")
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        raise BadRequest("Missing Blacklist: UpdateAttributesRequest requires a list of attribute names")
    with call.state.db.write() as conn:
        registered = [r[0] for r in conn.execute(
            "SELECT name FROM attribute_names WHERE app_id = ? AND family = ? ORDER BY name", (app_id, family))]
        removed = [n for n in registered if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        if removed:
            _strip(conn, call.state.apps.key(app_id), family, set(removed))
            conn.executemany("DELETE FROM attribute_names WHERE app_id = ? AND family = ? AND name = ?",
                             [(app_id, family, n) for n in removed])
    return 200, {"ApplicationId": app_id, "AttributeType": attribute_type, "Attributes": removed}


def _strip(conn: Any, app_key: int, family: str, names: set[str]) -> None:
    """Remove the named attributes of ``family`` from every endpoint of the application."""
    key = {"Attributes": '"Attributes"', "Metrics": '"Metrics"', "UserAttributes": '"UserAttributes"'}[family]
    last = 0
    while True:
        rows = conn.execute("SELECT seq, body FROM endpoints WHERE app = ? AND seq > ? AND instr(body, ?) > 0 "
                            "ORDER BY seq LIMIT 2000", (app_key, last, key)).fetchall()
        if not rows:
            return
        changed = []
        for seq, body in rows:
            doc = json.loads(body)
            holder = doc.get("User", {}).get("UserAttributes") if family == "UserAttributes" else doc.get(family)
            if holder and names & holder.keys():
                for name in names & holder.keys():
                    del holder[name]
                changed.append((json.dumps(doc, separators=(",", ":"), ensure_ascii=False), seq))
        conn.executemany("UPDATE endpoints SET body = ? WHERE seq = ?", changed)
        last = rows[-1][0]
