"""Segments: imported (IMPORT) and dimensional (DIMENSIONAL), their versions, members and handlers.

* An IMPORT segment is made by CreateImportJob with DefineSegment (version 1, Size 0 until the job
  ends) and grows by jobs naming its SegmentId (each adds a version). Its members are endpoint ids
  with the version that added them; version N holds every member added up to N. Size and
  ChannelCounts of a version are counted when its job ends. An export reads the members' current
  endpoints (a member imported with RegisterEndpoints false is kept as it was imported).
* A DIMENSIONAL segment is made by CreateSegment and changed by UpdateSegment (each update is a
  new version); it has no stored members: :class:`Evaluator` decides membership against the
  application's endpoints when an export job reads it (rules in :mod:`local.segment_rules`).
  The model's SegmentResponse has no size for a dimensional segment, so GetSegment shows none.
* Paging of GetSegments: newest first. An import job may name only an IMPORT segment's SegmentId.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pinpoint_etl.local.api import Call, operation, paged
from pinpoint_etl.local.apps import check_tags, new_id, now_iso
from pinpoint_etl.local.db import Database
from pinpoint_etl.local.errors import BadRequest, NotFound
from pinpoint_etl.local.segment_rules import (
    DimensionError,
    check_dimensions,
    check_groups,
    combine,
    compile_dimensions,
)

CHUNK = 1000
MAX_DEPTH = 5


class SegmentStore:
    def __init__(self, db: Database, apps: Any):
        self.db = db
        self.apps = apps

    def exists(self, app_id: str, segment_id: str) -> bool:
        with self.db.read() as conn:
            return conn.execute("SELECT 1 FROM segments WHERE app_id = ? AND id = ?", (app_id, segment_id)).fetchone() \
                is not None

    def head(self, app_id: str, segment_id: str) -> dict[str, Any]:
        return self._head(app_id, segment_id)[1]

    def _head(self, app_id: str, segment_id: str) -> tuple[int, dict[str, Any]]:
        """(store key of the segment: its seq, its head record)."""
        with self.db.read() as conn:
            row = conn.execute("SELECT seq, body FROM segments WHERE app_id = ? AND id = ?",
                               (app_id, segment_id)).fetchone()
        if row is None:
            raise NotFound(f"Segment {segment_id} not found")
        return row[0], json.loads(row[1])

    def key(self, app_id: str, segment_id: str) -> int:
        return self._head(app_id, segment_id)[0]

    def version_body(self, app_id: str, segment_id: str, version: int) -> dict[str, Any]:
        with self.db.read() as conn:
            row = conn.execute("SELECT body FROM segment_versions WHERE app_id = ? AND segment_id = ? AND version = ?",
                               (app_id, segment_id, version)).fetchone()
        if row is None:
            raise NotFound(f"Segment {segment_id} has no version {version}")
        return json.loads(row[0])

    def get(self, app_id: str, segment_id: str, version: int | None = None) -> dict[str, Any]:
        """The SegmentResponse of a version (the latest if None)."""
        head = self.head(app_id, segment_id)
        number = head["Version"] if version is None else version
        return {**head, **self.version_body(app_id, segment_id, number), "Version": number}

    def create(self, conn: Any, app_id: str, kind: str, name: str | None, version: dict[str, Any],
               tags: dict[str, str]) -> str:
        segment_id = new_id()
        now = now_iso()
        head = {"ApplicationId": app_id, "Arn": f"{self.apps.arn(app_id)}/segments/{segment_id}",
                "CreationDate": now, "Id": segment_id, "LastModifiedDate": now, "SegmentType": kind,
                "tags": tags, "Version": 1}
        if name is not None:
            head["Name"] = name
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM segments").fetchone()[0]
        conn.execute("INSERT INTO segments VALUES (?, ?, ?, ?, ?)", (app_id, segment_id, seq, kind, json.dumps(head)))
        conn.execute("INSERT INTO segment_versions VALUES (?, ?, 1, ?)", (app_id, segment_id, json.dumps(version)))
        return segment_id

    def add_version(self, conn: Any, app_id: str, segment_id: str, number: int, version: dict[str, Any],
                    name: str | None = None) -> None:
        row = conn.execute("SELECT body FROM segments WHERE app_id = ? AND id = ?", (app_id, segment_id)).fetchone()
        if row is None:
            return  # deleted while a job ran
        head = json.loads(row[0])
        head["LastModifiedDate"] = version.get("LastModifiedDate", now_iso())
        head["Version"] = max(head["Version"], number)
        if name is not None:
            head["Name"] = name
        conn.execute("UPDATE segments SET body = ? WHERE app_id = ? AND id = ?", (json.dumps(head), app_id, segment_id))
        conn.execute("INSERT OR REPLACE INTO segment_versions VALUES (?, ?, ?, ?)",
                     (app_id, segment_id, number, json.dumps(version)))

    def tags(self, app_id: str, segment_id: str) -> dict[str, str]:
        return self.head(app_id, segment_id).get("tags", {})

    def set_tags(self, app_id: str, segment_id: str, tags: dict[str, str]) -> None:
        with self.db.write() as conn:
            head = self.head(app_id, segment_id)
            head["tags"] = tags
            conn.execute("UPDATE segments SET body = ? WHERE app_id = ? AND id = ?",
                         (json.dumps(head), app_id, segment_id))

    # ------------------------------------------------------------------ imported members

    @staticmethod
    def add_members(conn: Any, seg: int, version: int, members: list[tuple[str, str | None, str | None]]) -> None:
        """Add (endpoint id, channel, stored JSON or None) members to the segment whose key is ``seg``;
        an existing member keeps its version."""
        conn.executemany("INSERT OR IGNORE INTO segment_members VALUES (?, ?, ?, ?, ?)",
                         [(seg, i, version, c, b) for i, c, b in members])

    @staticmethod
    def count(conn: Any, seg: int, version: int) -> tuple[int, dict[str, int]]:
        counts = dict(conn.execute(
            "SELECT channel, COUNT(*) FROM segment_members WHERE seg = ? AND version <= ? "
            "AND channel IS NOT NULL GROUP BY channel ORDER BY channel", (seg, version)).fetchall())
        size = conn.execute("SELECT COUNT(*) FROM segment_members WHERE seg = ? AND version <= ?",
                            (seg, version)).fetchone()[0]
        return size, counts

    def close_import_version(self, app_id: str, segment_id: str, number: int, definition: dict[str, Any],
                             pending: int) -> None:
        """Give a job's members (version ``pending``) their version, count it and make it the latest."""
        seg = self.key(app_id, segment_id)
        with self.db.write() as conn:
            conn.execute("UPDATE segment_members SET version = ? WHERE seg = ? AND version = ?", (number, seg, pending))
            size, counts = self.count(conn, seg, number)
            version = {"ImportDefinition": {**definition, "Size": size, "ChannelCounts": counts},
                       "LastModifiedDate": now_iso()}
            self.add_version(conn, app_id, segment_id, number, version)

    # ------------------------------------------------------------------ reading members

    def endpoints(self, app_id: str, segment_id: str | None, version: int | None) -> Iterator[list[str]]:
        """Chunks of the EndpointResponse JSON texts of the application, or of a segment version."""
        if segment_id is None:
            yield from self._all_endpoints(app_id)
            return
        head = self.head(app_id, segment_id)
        number = head["Version"] if version is None else version
        if head["SegmentType"] == "IMPORT":
            yield from self._imported(app_id, segment_id, number)
            return
        evaluator = Evaluator(self, app_id, segment_id, number)
        for chunk in self._all_endpoints(app_id, with_ids=True):
            keep = evaluator.matches(chunk)
            yield [body for (_, body), ok in zip(chunk, keep) if ok]

    def count_endpoints(self, app_id: str, segment_id: str | None, version: int | None) -> int:
        """How many endpoints :meth:`endpoints` would give now (a dimensional segment is evaluated)."""
        with self.db.read() as conn:
            if segment_id is None:
                return conn.execute("SELECT COUNT(*) FROM endpoints WHERE app = ?",
                                    (self.apps.key(app_id),)).fetchone()[0]
            seg, head = self._head(app_id, segment_id)
            if head["SegmentType"] == "IMPORT":
                number = head["Version"] if version is None else version
                return conn.execute(
                    "SELECT COUNT(*) FROM segment_members m LEFT JOIN endpoints e ON e.app = ? AND "
                    "e.id = m.endpoint_id WHERE m.seg = ? AND m.version <= ? AND COALESCE(e.body, m.body) IS NOT NULL",
                    (self.apps.key(app_id), seg, number)).fetchone()[0]
        return sum(len(chunk) for chunk in self.endpoints(app_id, segment_id, version))

    def _all_endpoints(self, app_id: str, with_ids: bool = False) -> Iterator[list]:
        last = 0
        while True:
            with self.db.read() as conn:
                rows = conn.execute("SELECT seq, id, body FROM endpoints WHERE app = ? AND seq > ? ORDER BY seq "
                                    "LIMIT ?", (self.apps.key(app_id), last, CHUNK)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [(r[1], r[2]) for r in rows] if with_ids else [r[2] for r in rows]

    def _imported(self, app_id: str, segment_id: str, version: int) -> Iterator[list[str]]:
        seg = self.key(app_id, segment_id)
        last = ""
        while True:
            with self.db.read() as conn:
                rows = conn.execute(
                    "SELECT m.endpoint_id, COALESCE(e.body, m.body) FROM segment_members m LEFT JOIN endpoints e "
                    "ON e.app = ? AND e.id = m.endpoint_id WHERE m.seg = ? AND m.version <= ? AND "
                    "m.endpoint_id > ? ORDER BY m.endpoint_id LIMIT ?",
                    (self.apps.key(app_id), seg, version, last, CHUNK)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [body for _, body in rows if body is not None]


class Evaluator:
    """Membership of endpoints in one segment version, decided a chunk of endpoints at a time."""

    def __init__(self, store: SegmentStore, app_id: str, segment_id: str, version: int | None, depth: int = 0):
        if depth > MAX_DEPTH:
            raise BadRequest(f"segment {segment_id}: source segments nest more than {MAX_DEPTH} deep")
        self.store, self.app_id, self.segment_id = store, app_id, segment_id
        self.seg, head = store._head(app_id, segment_id)
        self.version = head["Version"] if version is None else version
        self.kind = head["SegmentType"]
        body = store.version_body(app_id, segment_id, self.version)
        self.depth = depth
        self.dimensions = compile_dimensions(body["Dimensions"])[0] if "Dimensions" in body else None
        self.groups = body.get("SegmentGroups")

    def matches(self, chunk: list[tuple[str, str]]) -> list[bool]:
        """For each (endpoint id, EndpointResponse JSON): is it a member?"""
        if self.kind == "IMPORT":
            ids = [i for i, _ in chunk]
            with self.store.db.read() as conn:
                found = {r[0] for r in conn.execute(
                    f"SELECT endpoint_id FROM segment_members WHERE seg = ? AND version <= ? "
                    f"AND endpoint_id IN ({','.join('?' * len(ids))})",  # noqa: S608
                    (self.seg, self.version, *ids))}
            return [i in found for i in ids]
        docs = [json.loads(body) for _, body in chunk]
        if self.dimensions is not None:
            return [self.dimensions(d) for d in docs]
        if not self.groups or not self.groups.get("Groups"):
            return [True] * len(docs)
        per_group = [self._group(group, chunk, docs) for group in self.groups["Groups"]]
        include = self.groups.get("Include", "ALL")
        return [combine(include, [g[n] for g in per_group]) for n in range(len(docs))]

    def _group(self, group: dict[str, Any], chunk: list[tuple[str, str]], docs: list[dict]) -> list[bool]:
        sources = group.get("SourceSegments") or []
        if sources:
            results = [Evaluator(self.store, self.app_id, s["Id"], s.get("Version"), self.depth + 1).matches(chunk)
                       for s in sources]
            kind = group.get("SourceType", "ANY")
            base = [combine("ALL" if kind == "ALL" else "ANY", [r[n] for r in results]) for n in range(len(docs))]
        else:
            base = [True] * len(docs)
        checks = [compile_dimensions(d)[0] for d in group.get("Dimensions") or []]
        kind = group.get("Type", "ALL")
        return [b and (not checks or combine(kind, [c(d) for c in checks])) for b, d in zip(base, docs)]


# --------------------------------------------------------------------------- handlers

def _write_request(call: Call) -> tuple[str | None, dict[str, Any], dict[str, str]]:
    body = call.json()
    name = body.get("Name")
    if name is not None and not isinstance(name, str):
        raise BadRequest("Name must be a string")
    if "Dimensions" in body and "SegmentGroups" in body:
        raise BadRequest("A segment has Dimensions or SegmentGroups, not both")
    version: dict[str, Any] = {"LastModifiedDate": now_iso()}
    try:
        if "Dimensions" in body:
            check_dimensions(body["Dimensions"])
            version["Dimensions"] = body["Dimensions"]
        elif "SegmentGroups" in body:
            check_groups(body["SegmentGroups"])
            for group in body["SegmentGroups"].get("Groups", []):
                for source in group.get("SourceSegments") or []:
                    if not call.state.segments.exists(call.label("application-id"), source["Id"]):
                        raise BadRequest(f"SourceSegments: segment {source['Id']} not found")
            version["SegmentGroups"] = body["SegmentGroups"]
        else:
            version["Dimensions"] = {}
    except DimensionError as exc:
        raise BadRequest(str(exc)) from None
    return name, version, check_tags(body.get("tags"))


@operation("CreateSegment")
def create_segment(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    name, version, tags = _write_request(call)
    store = call.state.segments
    with call.state.db.write() as conn:
        segment_id = store.create(conn, app_id, "DIMENSIONAL", name, version, tags)
    return 201, store.get(app_id, segment_id)


@operation("UpdateSegment")
def update_segment(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    store = call.state.segments
    head = store.head(app_id, call.label("segment-id"))
    if head["SegmentType"] != "DIMENSIONAL":
        raise BadRequest(f"Segment {head['Id']} is an imported segment; import jobs change it, UpdateSegment can't")
    name, version, tags = _write_request(call)
    with call.state.db.write() as conn:
        store.add_version(conn, app_id, head["Id"], head["Version"] + 1, version, name)
    if "tags" in call.json():
        store.set_tags(app_id, head["Id"], tags)
    return 200, store.get(app_id, head["Id"])


@operation("GetSegment")
def get_segment(call: Call) -> tuple[int, Any]:
    return 200, call.state.segments.get(call.app_id(), call.label("segment-id"))


@operation("GetSegments")
def get_segments(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    size, before = call.page_size(), call.token()
    with call.state.db.read() as conn:
        rows = conn.execute("SELECT id, seq FROM segments WHERE app_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                            (app_id, before if before is not None else 2 ** 62, size + 1)).fetchall()
    page = rows[:size]
    items = [call.state.segments.get(app_id, segment_id) for segment_id, _ in page]
    return 200, paged(items, [seq for _, seq in page], size, len(rows) > size)


def _version_number(call: Call) -> int:
    raw = call.label("version")
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Invalid version: {raw}") from None


@operation("GetSegmentVersion")
def get_segment_version(call: Call) -> tuple[int, Any]:
    return 200, call.state.segments.get(call.app_id(), call.label("segment-id"), _version_number(call))


@operation("GetSegmentVersions")
def get_segment_versions(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    head = call.state.segments.head(app_id, call.label("segment-id"))
    items = [call.state.segments.get(app_id, head["Id"], n) for n in range(head["Version"], 0, -1)]
    return 200, {"Item": items}


@operation("DeleteSegment")
def delete_segment(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    segment = call.state.segments.get(app_id, call.label("segment-id"))
    seg = call.state.segments.key(app_id, segment["Id"])
    with call.state.db.write() as conn:
        conn.execute("DELETE FROM segment_members WHERE seg = ?", (seg,))
        for table, column in (("segments", "id"), ("segment_versions", "segment_id")):
            conn.execute(f"DELETE FROM {table} WHERE app_id = ? AND {column} = ?",  # noqa: S608
                         (app_id, segment["Id"]))
    return 200, segment
