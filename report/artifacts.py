"""Prefect artifacts of a run: markdown summary, rejects by reason, jobs table, progress.

Artifact keys are lowercase with dashes (Prefect's rule) and stable, so the UI groups runs of
the same kind. Nothing here carries a raw address: reasons never include values and job
failure strings are scrubbed when read.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinpoint_etl.report.console import count_lines
from pinpoint_etl.report.summary import RunReport

SUMMARY_KEY = "pinpoint-etl-run-summary"
REJECTS_KEY = "pinpoint-etl-rejects-by-reason"
JOBS_KEY = "pinpoint-etl-jobs"
PROGRESS_KEY = "pinpoint-etl-job-progress"

#: the normalisation rules (transforms.normalise.RULES) in the words of the people who read the summary
RULE_WORDS = {
    "channel_type": "channel type written as Pinpoint spells it (sms → SMS)",
    "address_phone": "phone number written in international form (+12065550100)",
    "address_email": "email address tidied (spaces removed, domain in lower case)",
    "address_push": "push token: spaces around it removed",
    "country": "country written as its two-letter code (Germany → DE)",
    "lat_lon": "latitude or longitude rounded to one decimal",
    "location_text": "region, city or postal code: extra spaces removed",
    "locale": "locale written as language_COUNTRY (en-us → en_US)",
    "timezone": "time zone spelled as in the time zone database (europe/london → Europe/London)",
    "platform": "platform name in lower case (iOS → ios)",
    "make": "device make in lower case",
    "opt_out": "opt-out written as ALL or NONE",
    "metrics": "metric written as a plain number",
    "control_chars": "line break or tab inside a value replaced by a space",
    "trim": "spaces before or after a value removed",
}
#: what a mapping spec changes, and what is noted without a change
SPEC_WORDS = {"value_map": "value read through the mapping spec's value map (yes → ALL)",
              "date": "date read with the mapping spec's format and written as ISO 8601"}


def rule_words(rule: str) -> str:
    """A normalisation count's key in plain words (``formula:<field>``: a note, not a change)."""
    if rule.startswith("formula:"):
        return f"{rule.split(':', 1)[1]}: looks like a spreadsheet formula (noted, staged unchanged)"
    return RULE_WORDS.get(rule) or SPEC_WORDS.get(rule, rule)
_JOB_COLUMNS = ("part", "id", "status", "reused", "created", "completed", "total_pieces", "completed_pieces",
                "failed_pieces", "total_processed", "total_failures", "s3_url")


@dataclass(frozen=True)
class SegmentInfo:
    """A segment the run's jobs wrote to: created by this import, or an existing one the endpoints joined."""

    id: str
    name: str | None
    created: bool


def _part(uri: str | None) -> str:
    return (uri or "").rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0]


def summary_markdown(report: RunReport, *, segments: list[SegmentInfo] = (), reused: dict[str, str] | None = None,
                     resumed: bool = False, force_hint: str = "--force") -> str:
    reused = reused or {}
    lines = [f"# pinpoint-etl {report.mode} run `{report.run_id}` — **{report.status}**", "",
             f"Target: {report.target}", ""]
    for seg in segments:
        name = f"**{seg.name}**" if seg.name else "(name not readable)"
        made = "created when this input was first imported" if reused else "created by this import"
        lines.append(f"Segment: {name}, id `{seg.id}` — " + (made if seg.created
                                                                else "the imported endpoints were added to it"))
    if reused:
        lines.append(f"Re-run: this input was imported before; {len(reused)} of {len(report.jobs)} import job(s) "
                     f"were taken over from the earlier run, no new job was created for them; "
                     f"{force_hint} imports afresh.")
    elif resumed:
        lines.append("Re-run: this input was staged before; the staged files were reused, not uploaded again.")
    lines += ["", "| rows | count |", "|---|---:|"]
    for label, value in count_lines(report):
        lines.append(f"| {label} | {value:,} |")
    changed = [(rule_words(rule), n) for rule, n in sorted(report.normalised.items()) if n]
    if changed:
        lines += ["", "| values normalised | values changed |", "|---|---:|"]
        lines += [f"| {words} | {n:,} |" for words, n in changed]
    if report.errors:
        lines += ["", "## Errors", *[f"- {e}" for e in report.errors]]
    if report.rejects.get("uri"):
        lines += ["", f"Rejects file: `{report.rejects['uri']}` ({report.rejects['rows']:,} rows)"]
    return "\n".join(lines)


def jobs_rows(report: RunReport, reused: dict[str, str] | None = None) -> list[dict]:
    """One row per import job: its part, status, whether it was reused, when it ran and its counters."""
    reused_ids = set((reused or {}).values())
    rows = [{"part": _part(j.get("s3_url")), **{k: j.get(k) for k in _JOB_COLUMNS if k not in ("part", "reused")},
             "reused": "yes" if j["id"] in reused_ids else "no"} for j in report.jobs]
    return [{k: r.get(k) for k in _JOB_COLUMNS} for r in rows] or [{k: "" for k in _JOB_COLUMNS}]


def publish_artifacts(report: RunReport, *, segments: list[SegmentInfo] = (), reused: dict[str, str] | None = None,
                      resumed: bool = False, force_hint: str = "--force") -> None:
    """Create the summary, rejects and jobs artifacts for the current flow run."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_markdown_artifact(summary_markdown(report, segments=segments, reused=reused, resumed=resumed,
                                              force_hint=force_hint),
                             key=SUMMARY_KEY, description=f"run {report.run_id}")
    create_table_artifact([{"reason": r, "rows": n} for r, n in report.rejects_by_reason.items()]
                          or [{"reason": "(none)", "rows": 0}], key=REJECTS_KEY,
                          description=f"rejected rows by reason, run {report.run_id}")
    create_table_artifact(jobs_rows(report, reused), key=JOBS_KEY, description=f"import jobs, run {report.run_id}")
