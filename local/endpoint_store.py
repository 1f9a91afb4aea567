"""Creating and updating endpoints under every documented rule, a batch at a time, over SQLite.

An :class:`EndpointBatch` works inside one write transaction: it loads what the batch's rows can
touch (the endpoints with their ids, the endpoints of their users and of their addresses), applies
the rows in order against that view, and writes what changed in one statement. Import jobs use it
for thousands of rows per batch, the APIs for one request. Rules (DG-16th, DG-quotas, MODEL):

* a new endpoint needs Address and ChannelType; SMS/VOICE addresses are E.164; 15 KB per endpoint;
  250 custom attribute names per application (Attributes, Metrics and User.UserAttributes names
  together, counted over the names registered so far plus the new ones);
* updating or creating an endpoint with an Address makes every other endpoint with that Address
  INACTIVE; a 16th endpoint of a user follows :func:`_user_limit`.

Each endpoint is stored as its EndpointResponse JSON, plus the columns the rules query.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from pinpoint_etl.local.import_parse import (
    HAS_EFFECTIVE_DATE,
    HAS_ID,
    HAS_OPT_OUT,
    HAS_REQUEST_ID,
    HAS_USER,
)
from pinpoint_etl.local.limits import AUTO_INACTIVATE_CHANNELS, MAX_CUSTOM_ATTRIBUTES, MAX_ENDPOINTS_PER_USER
from pinpoint_etl.local.row_rules import (
    RowError,
    check_address,
    check_size,
    cohort_id,
    custom_attribute_names,
    definition_json,
    merge_record,
)

SYSTEM_FIELDS = ("Id", "ApplicationId", "CohortId", "CreationDate")
COLUMNS = "seq, id, user_id, address, channel, effective_date, active, body"
CHUNK = 900  # variables per IN (...) query


class Entry:
    """One endpoint as the batch sees it: its stored JSON and/or its parsed form."""

    __slots__ = ("seq", "id", "user_id", "address", "channel", "effective_date", "active", "body", "_doc")

    def __init__(self, seq: int, endpoint_id: str, user_id: str | None, address: str | None, channel: str | None,
                 effective_date: str | None, active: int, body: str | None, doc: dict[str, Any] | None = None):
        self.seq, self.id, self.user_id, self.address = seq, endpoint_id, user_id, address
        self.channel, self.effective_date, self.active, self.body, self._doc = channel, effective_date, active, body, doc

    @classmethod
    def of(cls, seq: int, endpoint: dict[str, Any]) -> Entry:
        return cls(seq, endpoint["Id"], endpoint.get("User", {}).get("UserId"), endpoint.get("Address"),
                   endpoint.get("ChannelType"), endpoint.get("EffectiveDate"),
                   int(endpoint.get("EndpointStatus") != "INACTIVE"), None, endpoint)

    def inactivated(self) -> Entry:
        """This endpoint with EndpointStatus INACTIVE. The stored JSON is compact and the status is its only
        ``"EndpointStatus":"ACTIVE"`` (nested objects hold no such member), so the text is changed in place."""
        if self._doc is not None or self.body is None:
            return Entry.of(self.seq, {**self.doc(), "EndpointStatus": "INACTIVE"})
        body = self.body.replace('"EndpointStatus":"ACTIVE"', '"EndpointStatus":"INACTIVE"', 1)
        return Entry(self.seq, self.id, self.user_id, self.address, self.channel, self.effective_date, 0, body)

    def doc(self) -> dict[str, Any]:
        if self._doc is None:
            self._doc = json.loads(self.body)
        return self._doc

    def text(self) -> str:
        if self.body is None:
            self.body = json.dumps(self._doc, separators=(",", ":"), ensure_ascii=False)
        return self.body


class EndpointBatch:
    """The endpoints of one application as seen (and changed) by one batch of writes.

    ``entries`` holds every endpoint loaded or changed (None: known not to exist); ``by_user`` and
    ``by_address`` index them (by address only the ACTIVE ones: the rule that needs the index only
    ever changes ACTIVE endpoints). ``db_users`` remembers which ids each user had in the store.
    """

    def __init__(self, conn: sqlite3.Connection, app_id: str, app_key: int, now: str):
        self.conn = conn
        self.app_id = app_id
        self.app = app_key
        self.now = now
        self.entries: dict[str, Entry | None] = {}
        self.by_user: dict[str, set[str]] = {}
        self.by_address: dict[str, set[str]] = {}
        self.db_users: dict[str, set[str]] = {}
        self.loaded_addresses: set[str] = set()
        self.dirty: dict[str, Entry] = {}
        self.removed: set[str] = set()
        self.names = {(f, n) for f, n in conn.execute(
            "SELECT family, name FROM attribute_names WHERE app_id = ?", (app_id,))}
        self.new_names: set[tuple[str, str]] = set()
        self._known_names: set[tuple] = set()
        self._seq: int | None = None

    # ------------------------------------------------------------------ loading

    def _remember(self, row: tuple) -> None:
        if row[1] not in self.entries:
            entry = Entry(*row)
            self.entries[entry.id] = entry
            self._index(entry)

    def _index(self, entry: Entry) -> None:
        if entry.user_id:
            self.by_user.setdefault(entry.user_id, set()).add(entry.id)
        if entry.address and entry.active:
            self.by_address.setdefault(entry.address, set()).add(entry.id)

    def _unindex(self, entry: Entry) -> None:
        if entry.user_id:
            self.by_user.get(entry.user_id, set()).discard(entry.id)
        if entry.address:
            self.by_address.get(entry.address, set()).discard(entry.id)

    def _select(self, where: str, values: list[str]) -> None:
        for start in range(0, len(values), CHUNK):
            chunk = values[start:start + CHUNK]
            for row in self.conn.execute(f"SELECT {COLUMNS} FROM endpoints WHERE app = ? AND {where} IN "  # noqa: S608
                                         f"({','.join('?' * len(chunk))})", (self.app, *chunk)):
                self._remember(row)

    def prefetch(self, ids: list[str], users: list[str], addresses: list[str]) -> None:
        """Load, in a few queries, everything rows with these ids, users and addresses can touch."""
        ids = [i for i in set(ids) if i and i not in self.entries]
        self._select("id", ids)
        for endpoint_id in ids:
            self.entries.setdefault(endpoint_id, None)
        addresses = [a for a in set(addresses) if a and a not in self.loaded_addresses]
        self._select("active = 1 AND address", addresses)
        self.loaded_addresses.update(addresses)
        users = [u for u in set(users) if u and u not in self.db_users]
        for user_id in users:
            self.db_users[user_id] = set()
        for start in range(0, len(users), CHUNK):
            chunk = users[start:start + CHUNK]
            for user_id, endpoint_id in self.conn.execute(
                    f"SELECT user_id, id FROM endpoints WHERE app = ? AND user_id IN "  # noqa: S608
                    f"({','.join('?' * len(chunk))})", (self.app, *chunk)):
                self.db_users[user_id].add(endpoint_id)

    def entry(self, endpoint_id: str) -> Entry | None:
        if endpoint_id not in self.entries:
            row = self.conn.execute(f"SELECT {COLUMNS} FROM endpoints WHERE app = ? AND id = ?",  # noqa: S608
                                    (self.app, endpoint_id)).fetchone()
            if row:
                self._remember(row)
            else:
                self.entries[endpoint_id] = None
        return self.entries[endpoint_id]

    def _user_ids(self, user_id: str) -> set[str]:
        """Every endpoint id of a user, as the batch sees it."""
        if user_id not in self.db_users:
            self.db_users[user_id] = {r[0] for r in self.conn.execute(
                "SELECT id FROM endpoints WHERE app = ? AND user_id = ?", (self.app, user_id))}
        stored = {i for i in self.db_users[user_id] if i not in self.entries}
        return stored | self.by_user.get(user_id, set())

    def _active_with(self, address: str) -> set[str]:
        """The ids of the ACTIVE endpoints with this Address, as the batch sees them."""
        if address not in self.loaded_addresses:
            self._select("active = 1 AND address", [address])
            self.loaded_addresses.add(address)
        return self.by_address.get(address, set())

    def user_endpoints(self, user_id: str) -> list[Entry]:
        """The endpoints of a user, in creation order."""
        entries = [self.entry(i) for i in self._user_ids(user_id)]
        return sorted((e for e in entries if e is not None), key=lambda e: e.seq)

    # ------------------------------------------------------------------ rules

    def _check_names(self, names: frozenset | set | tuple) -> set[tuple[str, str]]:
        if names in self._known_names:
            return set()
        new = set(names) - self.names - self.new_names
        if not new:
            self._known_names.add(names)
            return new
        total = len(self.names) + len(self.new_names) + len(new)
        if total > MAX_CUSTOM_ATTRIBUTES:
            raise RowError(f"custom attribute limit exceeded: the application would have {total} custom "
                           "attributes (Attributes, Metrics and User.UserAttributes names together); the limit "
                           f"is {MAX_CUSTOM_ATTRIBUTES} per application")
        return new

    def _user_limit(self, endpoint_id: str, old_user: str | None, user_id: str | None,
                    channel: str | None) -> str | None:
        """DG-16th: the 16th endpoint of a user. SMS/PUSH/VOICE/EMAIL/CUSTOM/IN_APP (and APNS_SANDBOX,
        listed nowhere) are refused; ADM/GCM/APNS/APNS_VOIP/APNS_VOIP_SANDBOX/BAIDU make the user's push
        endpoint (of those types) with the oldest EffectiveDate INACTIVE, or are refused without one.
        Returns the endpoint to make INACTIVE."""
        if not user_id or user_id == old_user:
            return None
        stored = self.db_users.get(user_id)
        if stored is not None and len(stored) + len(self.by_user.get(user_id, ())) < MAX_ENDPOINTS_PER_USER:
            return None  # fewer than 15 even if every one counted were another endpoint of the user
        others = self._user_ids(user_id) - {endpoint_id}
        if len(others) < MAX_ENDPOINTS_PER_USER:
            return None
        message = f"Exceeded maximum endpoint per user count: {MAX_ENDPOINTS_PER_USER}"
        if channel not in AUTO_INACTIVATE_CHANNELS:
            raise RowError(message)
        candidates = [e for e in (self.entry(i) for i in others) if e and e.channel in AUTO_INACTIVATE_CHANNELS]
        if not candidates:
            raise RowError(message)
        return min(candidates, key=lambda e: (e.effective_date or "", e.seq)).id

    # ------------------------------------------------------------------ writes

    def next_seq(self) -> int:
        if self._seq is None:
            self._seq = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM endpoints").fetchone()[0]
        self._seq += 1
        return self._seq

    def upsert(self, endpoint_id: str, rec: dict[str, Any], *, request_id: str,
               register: bool = True) -> dict[str, Any]:
        """Create or update one endpoint from a checked record; return its EndpointResponse.

        Raises RowError (nothing changed) if a rule is broken; ``register=False`` checks and returns
        the endpoint without storing it.
        """
        if not endpoint_id:
            raise RowError("the endpoint has no Id")
        old = self.entry(endpoint_id)
        existing = old.doc() if old else None
        if existing is None:
            missing = [k for k in ("Address", "ChannelType") if not rec.get(k)]
            if missing:
                raise RowError(f"Missing {' and '.join(missing)}: Address and ChannelType are "
                               "required for a new endpoint")
        base = {k: v for k, v in existing.items() if k not in SYSTEM_FIELDS} if existing else {}
        merged = merge_record(base, rec)
        check_address(merged)
        check_size(definition_json(merged))
        new_names = self._check_names(custom_attribute_names(rec))
        user_id = merged.get("User", {}).get("UserId")
        evict = self._user_limit(endpoint_id, old.user_id if old else None, user_id, merged.get("ChannelType"))
        endpoint = {
            **merged,
            "Id": endpoint_id,
            "ApplicationId": self.app_id,
            "CohortId": cohort_id(endpoint_id),
            "CreationDate": existing["CreationDate"] if existing else self.now,
            "EffectiveDate": rec.get("EffectiveDate") or self.now,
            "EndpointStatus": rec.get("EndpointStatus") or "ACTIVE",
            "OptOut": merged.get("OptOut") or "NONE",
            "RequestId": rec.get("RequestId") or request_id,
            "User": merged.get("User") or {},
        }
        if register:
            entry = Entry.of(old.seq if old else self.next_seq(), endpoint)
            self._apply(entry, old, evict, rec.get("Address"), new_names)
        return endpoint

    def upsert_row(self, endpoint_id: str, definition: str, user_id: str | None, address: str | None,
                   channel: str | None, names: tuple, effective_date: str | None, flags: int,
                   cohort: str | None, *, request_id: str, register: bool) -> Entry:
        """An import row (see ``local.import_parse``): a new endpoint is stored from its JSON without
        parsing it again; any other goes through :meth:`upsert`."""
        if self.entry(endpoint_id) is not None:
            endpoint = self.upsert(endpoint_id, json.loads(definition), request_id=request_id, register=register)
            return Entry.of(0, endpoint)
        if not address or not channel:
            missing = [k for k, v in (("Address", address), ("ChannelType", channel)) if not v]
            raise RowError(f"Missing {' and '.join(missing)}: Address and ChannelType are "
                           "required for a new endpoint")
        new_names = self._check_names(names)
        evict = self._user_limit(endpoint_id, None, user_id, channel)
        now = self.now
        head = [f'"ApplicationId":"{self.app_id}","CohortId":"{cohort or cohort_id(endpoint_id)}",'
                f'"CreationDate":"{now}"']
        if not flags & HAS_ID:
            head.append(f'"Id":{json.dumps(endpoint_id, ensure_ascii=False)}')
        if not flags & HAS_EFFECTIVE_DATE:
            head.append(f'"EffectiveDate":"{now}"')
        head.append('"EndpointStatus":"ACTIVE"')
        if not flags & HAS_OPT_OUT:
            head.append('"OptOut":"NONE"')
        if not flags & HAS_REQUEST_ID:
            head.append(f'"RequestId":{json.dumps(request_id)}')
        if not flags & HAS_USER:
            head.append('"User":{}')
        body = "{" + ",".join(head) + ("," + definition[1:] if len(definition) > 2 else "}")
        entry = Entry(0, endpoint_id, user_id, address, channel, effective_date or now, 1, body)
        if register:
            entry.seq = self.next_seq()
            self._apply(entry, None, evict, address, new_names)
        return entry

    def _apply(self, entry: Entry, old: Entry | None, evict: str | None, address: str | None,
               new_names: set[tuple[str, str]]) -> None:
        if evict is not None:
            victim = self.entry(evict)
            doc = dict(victim.doc())
            doc["EndpointStatus"] = "INACTIVE"
            doc["User"] = {k: v for k, v in doc.get("User", {}).items() if k != "UserId"}
            self._store(Entry.of(victim.seq, doc), victim)
        if address:
            for other_id in list(self._active_with(address) - {entry.id}):
                other = self.entries[other_id]
                self._store(other.inactivated(), other)
        self._store(entry, old)
        self.new_names |= new_names

    def _store(self, entry: Entry, old: Entry | None) -> None:
        if old is not None:
            self._unindex(old)
        self.entries[entry.id] = entry
        self._index(entry)
        self.dirty[entry.id] = entry
        self.removed.discard(entry.id)

    def delete(self, endpoint_id: str) -> dict[str, Any] | None:
        entry = self.entry(endpoint_id)
        if entry is None:
            return None
        self._unindex(entry)
        self.entries[endpoint_id] = None
        self.dirty.pop(endpoint_id, None)
        self.removed.add(endpoint_id)
        return entry.doc()

    def flush(self) -> None:
        """Write every change of the batch (inside the caller's transaction)."""
        if self.removed:
            removed = list(self.removed)
            for start in range(0, len(removed), CHUNK):
                chunk = removed[start:start + CHUNK]
                self.conn.execute(f"DELETE FROM endpoints WHERE app = ? AND id IN "  # noqa: S608
                                  f"({','.join('?' * len(chunk))})", (self.app, *chunk))
        if self.dirty:
            self.conn.executemany(
                "INSERT OR REPLACE INTO endpoints(seq, app, id, user_id, address, channel, effective_date, active, "
                "body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(e.seq, self.app, e.id, e.user_id, e.address, e.channel, e.effective_date, e.active, e.text())
                 for e in self.dirty.values()])
        if self.new_names:
            self.conn.executemany("INSERT OR IGNORE INTO attribute_names VALUES (?, ?, ?)",
                                  [(self.app_id, f, n) for f, n in self.new_names])
        self.names |= self.new_names
        self.dirty, self.removed, self.new_names = {}, set(), set()
