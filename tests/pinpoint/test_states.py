import pytest

from pinpoint_etl.pinpoint.states import FINAL_STATES, JOB_STATES, is_final, job_state


@pytest.mark.parametrize("status,expected", [
    ("CREATED", "queued"), ("PENDING_JOB", "queued"), ("PREPARING_FOR_INITIALIZATION", "running"),
    ("INITIALIZING", "running"), ("PROCESSING", "running"), ("COMPLETING", "running"), ("FAILING", "running"),
    ("COMPLETED", "completed"), ("FAILED", "failed"),
])
def test_every_pinpoint_status_maps_to_one_state(status, expected):
    assert job_state(status) == expected


def test_every_status_in_the_botocore_model_is_mapped():
    import botocore.session

    enum = botocore.session.get_session().get_service_model("pinpoint").shape_for("JobStatus").enum
    assert len(enum) == 9
    assert {job_state(s) for s in enum} <= set(JOB_STATES)


def test_completed_with_failures_is_not_completed():
    assert job_state("COMPLETED", 3) == "completed_with_failures"
    assert job_state("COMPLETED", 0) == "completed"
    assert job_state("FAILED", 3) == "failed"


def test_unknown_status_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="BOGUS"):
        job_state("BOGUS")


def test_final_states():
    assert {s for s in JOB_STATES if is_final(s)} == set(FINAL_STATES)
    assert not is_final("running") and not is_final("queued")
