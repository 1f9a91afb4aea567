"""Our closed vocabulary of job states, mapped from Pinpoint's nine JobStatus values in one place."""

from __future__ import annotations

from typing import Final, Literal, get_args

JobState = Literal["queued", "running", "completed", "completed_with_failures", "failed", "timed_out"]
JOB_STATES: Final = get_args(JobState)
FINAL_STATES: Final = frozenset({"completed", "completed_with_failures", "failed", "timed_out"})

# Pinpoint JobStatus (botocore model enum) -> our state, for a job that has not finished.
_PINPOINT_TO_STATE: Final[dict[str, JobState]] = {
    "CREATED": "queued",
    "PENDING_JOB": "queued",
    "PREPARING_FOR_INITIALIZATION": "running",
    "INITIALIZING": "running",
    "PROCESSING": "running",
    "COMPLETING": "running",
    "FAILING": "running",
    "COMPLETED": "completed",
    "FAILED": "failed",
}


def job_state(job_status: str, total_failures: int | None = 0) -> JobState:
    """Map Pinpoint's ``JobStatus`` (and ``TotalFailures``) onto our state.

    A job that ends COMPLETED with failed rows is ``completed_with_failures``, never ``completed``.
    An unknown status (a newer API) raises ValueError rather than being guessed.
    """
    try:
        state = _PINPOINT_TO_STATE[job_status]
    except KeyError:
        raise ValueError(f"unknown Pinpoint JobStatus {job_status!r}") from None
    if state == "completed" and (total_failures or 0) > 0:
        return "completed_with_failures"
    return state


def is_final(state: JobState) -> bool:
    """True when polling can stop."""
    return state in FINAL_STATES
