"""Reject thresholds: a run whose rejects pass ``max_rejects`` or ``max_reject_ratio`` fails before any
import job is created (the staged files stay for inspection; nothing is imported)."""

from __future__ import annotations

from pinpoint_etl.staging.prepare import Prepared


def threshold_breach(prepared: Prepared, max_rejects: int | None, max_reject_ratio: float | None) -> str | None:
    """The one-line reason the run must stop (with its numbers), or None."""
    rejected, read, unit = prepared.rows_rejected, prepared.rows_read, prepared.unit
    if max_rejects is not None and rejected > max_rejects:
        return (f"{rejected:,} of {read:,} {unit} rejected, more than --max-rejects {max_rejects:,}: nothing "
                "imported (see the rejects file)")
    if max_reject_ratio is not None and read and rejected / read > max_reject_ratio:
        return (f"{rejected:,} of {read:,} {unit} rejected ({rejected / read:.1%}), more than --max-reject-ratio "
                f"{max_reject_ratio:g} ({max_reject_ratio:.1%}): nothing imported (see the rejects file)")
    return None


def nothing_valid(prepared: Prepared) -> str | None:
    """The reason a run with no valid row cannot have succeeded, or None."""
    if prepared.rows_valid:
        return None
    if not prepared.rows_read:
        return "the sources hold no rows: nothing to import"
    return f"none of the {prepared.rows_read:,} {prepared.unit} read is valid: nothing to import (see the rejects file)"
