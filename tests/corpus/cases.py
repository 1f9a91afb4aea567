"""The bad-input corpus (issue 5): one row per case — input bytes, file name, read options and the
exact outcome the pipeline's prepare stage (read → map → normalise → validate → dedupe → stage)
must give.

An outcome is either

* :class:`Raises` — ``prepare`` raises exactly that ``PipelineError`` subclass, with that ``row`` /
  ``field`` (``None`` = none), and a one-line message that holds every ``contains`` substring; or
* :class:`Rows` — exact ``(rows_read, rows_valid, rows_rejected, rows_superseded)``, the rejected
  row numbers (each with a substring of one of its reasons) and, where normalisation is the point,
  values of staged rows (keyed by their staged ``Id``).

A case with ``bug`` set states what the pipeline SHOULD do; the test runs it as a strict xfail
until the bug is fixed. Keep the README's case list in step (a test checks it).
"""

from __future__ import annotations

from tests.corpus.field_cases import FIELD_CASES
from tests.corpus.file_cases import FILE_CASES
from tests.corpus.kinds import Case

CASES: list[Case] = [*FILE_CASES, *FIELD_CASES]
