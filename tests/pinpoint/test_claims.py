"""Run claims on the local service's S3: one owner at a time, a dead owner taken over at once, a live one
waited for, and jobs.json recording each part's job."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

from pinpoint_etl.pinpoint.claims import RunClaim
from pinpoint_etl.pinpoint.jobbook import JobBook


def _base(service) -> str:
    return f"s3://{service.bucket}/pinpoint-etl/r-test"


def test_a_claim_left_by_a_dead_process_is_taken_over_at_once(pinpoint_env, s3_client):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = time.time()
    s3_client.put_object(Bucket=pinpoint_env.bucket, Key="pinpoint-etl/r-test/claims/000001.json", Body=json.dumps(
        {"number": 1, "owner": "x", "host": __import__("socket").gethostname(), "pid": dead.pid, "started": now,
         "renewed": now}).encode())
    claim = RunClaim(_base(pinpoint_env), s3=s3_client)
    held = claim.acquire()
    try:
        assert held.claim.number == 2 and held.took_over_from.pid == dead.pid and held.waited_for is None
    finally:
        claim.release()


def test_racing_claimants_get_one_owner_and_the_others_wait_for_it(pinpoint_env, s3_client):
    order: list[tuple[str, int]] = []
    start = threading.Barrier(3)

    def run(name: str) -> None:
        claim = RunClaim(_base(pinpoint_env), s3=s3_client, wait_poll=0.05)
        start.wait()
        held = claim.acquire()
        order.append((name, held.claim.number))
        time.sleep(0.3)  # owns the run for a while
        order.append((name, -held.claim.number))
        claim.release()

    threads = [threading.Thread(target=run, args=(n,)) for n in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = [n for _, n in order]
    assert numbers == [1, -1, 2, -2, 3, -3]  # never two owners at once


def test_jobs_json_records_each_parts_job_and_keeps_replaced_ones(pinpoint_env, s3_client):
    book = JobBook.load(_base(pinpoint_env), "r-test", s3=s3_client)
    book.record("s3://b/p1.csv", "job-a", claim=1)
    book.record("s3://b/p1.csv", "job-b", claim=2)  # job-a failed and was created again
    again = JobBook.load(_base(pinpoint_env), "r-test", s3=s3_client)
    assert again.job_id("s3://b/p1.csv") == "job-b" and again.known() == {"job-a", "job-b"}
