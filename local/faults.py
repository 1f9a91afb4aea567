"""Fault knobs: make chosen operations throttle, fail, slow down, or make jobs fail.

Knobs are kept per operation name:

* a Pinpoint operation name from the botocore model (``CreateImportJob``, ``GetImportJob``, ...)
  or ``S3:<operation>`` for S3 (``S3:UploadPart``, ``S3:PutObject``, ``S3:GetObject``, ...):
  ``throttle: N`` (next N calls answer 429 ``TooManyRequestsException``; S3 answers 503 ``SlowDown``),
  ``error500: N`` (next N calls answer 500 ``InternalServerErrorException``; S3 answers 500
  ``InternalError``), ``latency: seconds`` (every call waits that long first, until cleared),
  ``drop: N`` (the next N calls are carried out, then their answer is lost: the connection is closed
  without an answer, after ``drop_delay`` seconds — longer than the client's read timeout and the
  client sees a read timeout instead of a closed connection).
  ``throttle`` is consumed before ``error500``, and ``error500`` before ``drop``.
* ``ImportJob`` / ``ExportJob`` (job execution, read while jobs run): ``state_delay: seconds``
  (time spent in each state; a huge value = a stuck job, re-read every 50 ms so clearing it frees
  the job), ``fail_pieces: N`` (in every job, the first N pieces fail and the job ends FAILED),
  ``fail_rows: N`` (ImportJob: the first N data rows of every job fail), ``max_job_bytes: N``
  (ImportJob: override the 1 GB data limit), ``records_per_file: N`` (ExportJob: endpoints per
  exported file, default 1000), ``failures_shape`` (ImportJob: how a failed row is written in
  ``Failures``; see :func:`row_failure`).

Set at start from the env var ``PINPOINT_LOCAL_FAULTS`` (JSON: ``{"GetImportJob": {"throttle": 2}}``
or a list of ``{"operation": ..., knob: value}`` objects) and at run time via ``/_local/faults``.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from typing import Any

CALL_KNOBS = frozenset({"throttle", "error500", "latency", "drop", "drop_delay"})
JOB_KNOBS = {
    "ImportJob": frozenset({"state_delay", "fail_pieces", "fail_rows", "max_job_bytes", "failures_shape"}),
    "ExportJob": frozenset({"state_delay", "fail_pieces", "records_per_file"}),
}
COUNTED_KNOBS = ("throttle", "error500", "drop")  # consumed one per call, in this order
INTEGER_KNOBS = frozenset({"throttle", "error500", "drop", "fail_pieces", "fail_rows", "max_job_bytes",
                           "records_per_file"})
#: ``failures_shape`` values: how a failed row appears in an import job's ``Failures``
FAILURE_SHAPES = ("row", "file", "endpoint", "text")
TEXT_KNOBS = {"failures_shape": FAILURE_SHAPES}


def row_failure(shape: str, url: str, row_no: int, endpoint_id: str | None, reason: str) -> str:
    """One ``Failures`` entry for a failed row. AWS never documented this text; ours is our own choice:

    * ``row`` (default): ``"s3://bucket/key.csv row 7: reason"`` — names the file and the data row;
    * ``file``: ``"s3://bucket/key.csv: reason"`` — the file only;
    * ``endpoint``: ``"endpoint ID: reason"`` — the endpoint id only (``endpoint (no Id): …`` without one);
    * ``text``: ``"reason"`` — free text.
    """
    if shape == "file":
        return f"{url}: {reason}"
    if shape == "endpoint":
        return f"endpoint {endpoint_id or '(no Id)'}: {reason}"
    if shape == "text":
        return reason
    return f"{url} row {row_no}: {reason}"


class FaultError(ValueError):
    """A bad knob or operation name (answered 400 by the admin route)."""


@cache
def _operation_names(service: str) -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_service_model(service).operation_names)


def allowed_knobs(operation: str) -> frozenset[str]:
    """The knobs ``operation`` accepts; raises FaultError for an unknown operation."""
    if operation in JOB_KNOBS:
        return JOB_KNOBS[operation]
    if operation.startswith("S3:") and operation[3:] in _operation_names("s3"):
        return CALL_KNOBS
    if operation in _operation_names("pinpoint"):
        return CALL_KNOBS
    raise FaultError(
        f"unknown operation {operation!r}: use a Pinpoint operation name, 'S3:<Operation>', "
        "'ImportJob' or 'ExportJob'"
    )


def _check_value(operation: str, knob: str, value: Any) -> float | int | str:
    if knob in TEXT_KNOBS:
        if value == 0:
            return 0
        if value not in TEXT_KNOBS[knob]:
            raise FaultError(f"{operation}.{knob} must be one of {', '.join(TEXT_KNOBS[knob])}, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultError(f"{operation}.{knob} must be a number >= 0, got {value!r}")
    if knob in INTEGER_KNOBS:
        if value != int(value):
            raise FaultError(f"{operation}.{knob} must be an integer, got {value!r}")
        return int(value)
    return float(value)


def parse_fault_spec(spec: Any) -> dict[str, dict[str, Any]]:
    """Normalise a mapping ``{op: {knob: v}}``, one ``{"operation": op, knob: v}`` or a list of those."""
    if isinstance(spec, dict) and "operation" in spec:
        spec = [spec]
    out: dict[str, dict[str, Any]] = {}
    if isinstance(spec, list):
        for item in spec:
            if not isinstance(item, dict) or not isinstance(item.get("operation"), str):
                raise FaultError('each fault must be an object with an "operation" string')
            knobs = {k: v for k, v in item.items() if k != "operation"}
            out.setdefault(item["operation"], {}).update(knobs)
    elif isinstance(spec, dict):
        for op, knobs in spec.items():
            if not isinstance(knobs, dict):
                raise FaultError(f"knobs of {op!r} must be an object")
            out.setdefault(op, {}).update(knobs)
    else:
        raise FaultError("faults must be a JSON object or a list of objects")
    return out


class FaultRegistry:
    """Thread-safe store of knobs per operation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._knobs: dict[str, dict[str, Any]] = {}
        self._dropping = threading.local()  # this request's answer is to be lost (set where it is handled)

    def set(self, operation: str, **knobs: Any) -> None:
        """Set (overwrite) the given knobs of ``operation``; a value of 0 removes that knob."""
        if not knobs:
            raise FaultError(f"no knob given for {operation!r}")
        allowed = allowed_knobs(operation)
        clean: dict[str, Any] = {}
        for knob, value in knobs.items():
            if knob not in allowed:
                raise FaultError(
                    f"unknown knob {knob!r} for {operation!r}; allowed: {', '.join(sorted(allowed))}"
                )
            clean[knob] = _check_value(operation, knob, value)
        with self._lock:
            current = self._knobs.setdefault(operation, {})
            current.update(clean)
            for knob in [k for k, v in current.items() if v == 0]:
                del current[knob]
            if not current:
                del self._knobs[operation]

    def load(self, spec: Any) -> None:
        """Apply a fault spec (see :func:`parse_fault_spec`)."""
        for op, knobs in parse_fault_spec(spec).items():
            self.set(op, **knobs)

    def load_json(self, text: str) -> None:
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FaultError(f"faults are not valid JSON: {exc}") from exc
        self.load(spec)

    def clear(self, operation: str | None = None) -> None:
        with self._lock:
            if operation is None:
                self._knobs.clear()
            else:
                self._knobs.pop(operation, None)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {op: dict(knobs) for op, knobs in self._knobs.items()}

    def take_call_fault(self, operation: str) -> tuple[str | None, float]:
        """Consume one counted fault of ``operation``: (``"throttle"``/``"error500"``/``"drop"``/None, latency)."""
        with self._lock:
            knobs = self._knobs.get(operation)
            if not knobs:
                return None, 0.0
            latency = float(knobs.get("latency", 0.0))
            for knob in COUNTED_KNOBS:
                if knobs.get(knob, 0) > 0:
                    knobs[knob] -= 1
                    if knobs[knob] == 0:
                        del knobs[knob]
                    if not knobs:
                        del self._knobs[operation]
                    return knob, latency
            return None, latency

    def drop_answer(self, delay: float) -> None:
        """Mark the request handled on this thread: its answer is lost, ``delay`` seconds after the work."""
        self._dropping.delay = delay

    def answer_dropped(self) -> float | None:
        """The delay if this thread's request is to lose its answer (and forget the mark), else None."""
        delay = getattr(self._dropping, "delay", None)
        self._dropping.delay = None
        return delay

    def call_knob(self, operation: str, knob: str, default: Any = None) -> Any:
        """Current value of a call knob of ``operation`` (``drop_delay``)."""
        with self._lock:
            return self._knobs.get(operation, {}).get(knob, default)

    def job_knob(self, kind: str, knob: str, default: Any = None) -> Any:
        """Current value of a job knob (``kind`` is ``ImportJob`` or ``ExportJob``)."""
        with self._lock:
            return self._knobs.get(kind, {}).get(knob, default)


FAULTS = FaultRegistry()
