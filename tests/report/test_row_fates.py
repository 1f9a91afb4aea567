"""The outcomes rules on their own: attribution without guessing, counts from the ledger, the success
rule, and books that do not balance raising a real error (also under ``python -O``)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from pinpoint_etl.pinpoint.jobs import JobSnapshot
from pinpoint_etl.report.outcomes import BooksError, PartOutcome, RunCounts, attribute, run_status
from pinpoint_etl.staging.prepare import StagedPart

PART = StagedPart(uri="s3://b/r/import/part-00001.csv", rows=300, bytes=1)


def _job(failures: list[str], total: int, status: str = "COMPLETED") -> JobSnapshot:
    return JobSnapshot.from_response({"Id": "j1", "JobStatus": status, "TotalFailures": total,
                                      "Failures": failures, "Definition": {"S3Url": PART.uri}})


def test_only_entries_naming_this_part_and_a_row_in_it_attribute_a_row():
    failures = [f"{PART.uri} row 7: bad", f"{PART.uri} row 7: again", f"{PART.uri} row 301: past the end",
                "s3://b/r/import/part-00002.csv row 8: another part", f"{PART.uri}: the file", "endpoint e9: id only",
                "free text", f"{PART.uri} row 9: ok"]
    found = attribute(PartOutcome(part=PART, job=_job(failures, total=12)))
    assert found.named == {7: "bad", 9: "ok"} and found.unattributed == 10 and found.all_failed is None


def test_a_failed_timed_out_or_missing_job_fails_every_row_saying_why():
    assert attribute(PartOutcome(part=PART, job=_job([], 0, "FAILED"))).all_failed == "job j1 failed"
    assert attribute(PartOutcome(part=PART, job=None, error="CreateImportJob failed")).all_failed \
        == "CreateImportJob failed"


def test_counts_come_from_the_ledger_and_unattributed_failures_sit_among_uncertain_rows():
    counts = RunCounts.from_ledger({"failed": 100, "uncertain": 200, "rejected": 5}, 50, rows_read=305)
    assert (counts.rows_imported, counts.rows_failed, counts.rows_failed_attributed,
            counts.rows_failed_unattributed, counts.rows_uncertain) == (150, 150, 100, 50, 200)
    outcome = PartOutcome(part=PART, job=_job([], 150))
    assert run_status(counts, [outcome]) == "partial"
    none_imported = RunCounts.from_ledger(Counter(failed=300), 0, rows_read=300)
    assert run_status(none_imported, [outcome]) == "failed"


@pytest.mark.parametrize("fates, unattributed, rows_read", [
    ({"imported": 10}, 0, 11),  # a row without a fate
    ({"imported": 10, "lost": 1}, 0, 11),  # a fate outside the vocabulary
    ({"uncertain": 3}, 4, 3),  # more unattributed failures than uncertain rows
])
def test_books_that_do_not_balance_raise(fates, unattributed, rows_read):
    with pytest.raises(BooksError):
        RunCounts.from_ledger(fates, unattributed, rows_read=rows_read)


def test_the_balance_check_holds_under_python_O():
    code = ("from pinpoint_etl.report.outcomes import BooksError, RunCounts\n"
            "try:\n    RunCounts.from_ledger({'imported': 1}, 0, rows_read=2)\n"
            "except BooksError:\n    print('raised')\n")
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "raised", out.stderr
