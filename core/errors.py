"""The two error bases of the pipeline: terminal (do not retry) and transient (retry).

Every message is one line and names what it can of the run, the file, the row, the field
and the job, so a user can act on it without a traceback. Messages never carry raw email
addresses, phone numbers or credentials: callers pass values through ``core.masking``.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""

    #: process exit code for the CLI: 2 = usage/config/unreadable input, 1 = run finished badly
    exit_code: int = 2

    def __init__(self, message: str, *, run_id: str | None = None, source: str | None = None,
                 row: int | None = None, field: str | None = None, job_id: str | None = None):
        self.run_id, self.source, self.row, self.field, self.job_id = run_id, source, row, field, job_id
        self.detail = " ".join(message.split())  # always one line
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.run_id:
            where.append(f"run {self.run_id}")
        if self.source:
            where.append(self.source)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field {self.field}")
        if self.job_id:
            where.append(f"job {self.job_id}")
        return f"{', '.join(where)}: {self.detail}" if where else self.detail

    def with_run(self, run_id: str) -> "PipelineError":
        """Return this error with the run id filled in (keeps the class)."""
        self.run_id = run_id
        self.args = (self._render(),)
        return self


class TerminalError(PipelineError):
    """Retrying cannot help: bad input, bad configuration, a 4xx answer, a FAILED job."""


class TransientError(PipelineError):
    """May succeed if retried: throttling (429), 5xx, connection resets, timeouts of a call."""

    exit_code = 1


class SourceError(TerminalError):
    """An input cannot be read: missing, undecodable, malformed, empty."""


class ConfigError(TerminalError):
    """Bad parameters or environment, detected before anything is uploaded."""


class ColumnError(ConfigError):
    """Input columns that are neither Pinpoint names nor mapped."""


class JobFailedError(TerminalError):
    """A Pinpoint job ended FAILED or could not be created."""

    exit_code = 1


class JobTimeoutError(TerminalError):
    """A job did not reach a final state within the polling timeout."""

    exit_code = 1
