"""``jobs.json`` in the run folder: which import job each staged part has, written as soon as
CreateImportJob answers, so a re-run (or a second process) reads its jobs instead of looking for them.

``{"run_id": ..., "parts": {part URI: {"job_id": ..., "claim": N}}, "replaced": [job ids]}`` —
``replaced`` keeps the jobs of earlier attempts (a FAILED job created again, ``--force``), so that a
search for a job whose answer was lost never mistakes one of them for it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from pinpoint_etl.storage import objects, uris, write

NAME = "jobs.json"


@dataclass
class JobBook:
    uri: str
    run_id: str
    s3: object = None
    options: write.WriteOptions | None = None
    parts: dict[str, dict] = field(default_factory=dict)
    replaced: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, base: str, run_id: str, *, s3=None, options: write.WriteOptions | None = None) -> JobBook:
        uri = uris.join(base, NAME)
        book = cls(uri=uri, run_id=run_id, s3=s3, options=options)
        data = objects.read_bytes(uri, s3=s3)
        if data is not None:
            doc = json.loads(data)
            book.parts, book.replaced = dict(doc.get("parts", {})), list(doc.get("replaced", []))
        return book

    def job_id(self, part_uri: str) -> str | None:
        with self._lock:
            entry = self.parts.get(part_uri)
        return entry["job_id"] if entry else None

    def known(self) -> frozenset[str]:
        """Every job id recorded, current or replaced."""
        with self._lock:
            return frozenset(self.replaced) | {e["job_id"] for e in self.parts.values()}

    def record(self, part_uri: str, job_id: str, *, claim: int) -> None:
        """Note ``job_id`` as the part's job (the one it had before, if any, as replaced) and write the file."""
        with self._lock:
            old = self.parts.get(part_uri)
            if old and old["job_id"] != job_id:
                self.replaced.append(old["job_id"])
            self.parts[part_uri] = {"job_id": job_id, "claim": claim}
            self._write()

    def forget_all(self) -> None:
        """Start afresh (``--force``): every recorded job becomes a replaced one."""
        with self._lock:
            self.replaced.extend(e["job_id"] for e in self.parts.values())
            self.parts = {}
            self._write()

    def _write(self) -> None:
        doc = {"run_id": self.run_id, "parts": self.parts, "replaced": self.replaced}
        write.write_bytes(self.uri, json.dumps(doc, indent=2).encode(), s3=self.s3, options=self.options)
