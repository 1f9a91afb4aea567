import pytest

from pinpoint_etl.core.errors import TerminalError, TransientError
from pinpoint_etl.pinpoint.jobs import retry_transient


def test_transient_errors_are_retried_with_doubling_delays():
    calls, sleeps = [], []

    def fn():
        calls.append(1)
        if len(calls) < 3:
            raise TransientError("429")
        return "job"

    assert retry_transient(fn, attempts=4, sleep=sleeps.append) == "job"
    assert len(calls) == 3 and sleeps == [1.0, 2.0]


def test_a_job_found_before_a_retry_is_returned_instead_of_creating_another():
    calls = []

    def fn():
        calls.append(1)
        raise TransientError("500 after the job was created")

    assert retry_transient(fn, before_retry=lambda: "existing", sleep=lambda s: None) == "existing"
    assert len(calls) == 1


def test_terminal_errors_and_exhausted_retries_propagate():
    with pytest.raises(TerminalError):
        retry_transient(lambda: (_ for _ in ()).throw(TerminalError("400")), sleep=lambda s: None)
    with pytest.raises(TransientError):
        retry_transient(lambda: (_ for _ in ()).throw(TransientError("429")), attempts=2, sleep=lambda s: None)
