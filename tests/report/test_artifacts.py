"""The run's Prefect artifacts as text: every normalisation rule has words, unknown ones still show."""

from __future__ import annotations

from pinpoint_etl.report.artifacts import RULE_WORDS, summary_markdown
from pinpoint_etl.report.summary import RunReport
from pinpoint_etl.transforms.normalise import RULES


def _report(**kw) -> RunReport:
    base = dict(run_id="r-1", status="succeeded", target="t", rows_read=3, rows_valid=3, rows_rejected=0,
                rows_superseded=0, rows_imported=3, rows_failed=0, staged=[], rejects={}, jobs=[{"id": "j1"}],
                normalised={}, rejects_by_reason={})
    return RunReport(**{**base, **kw})


def test_every_normalisation_rule_is_named_in_plain_words():
    assert set(RULE_WORDS) == set(RULES)
    text = summary_markdown(_report(normalised={"country": 2, "a_new_rule": 1, "trim": 0}))
    assert "| country written as its two-letter code (Germany → DE) | 2 |" in text
    assert "| a_new_rule | 1 |" in text and "spaces before or after" not in text  # unnamed shown, zero hidden
