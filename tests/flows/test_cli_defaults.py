"""The CLI's options take their defaults from the parameter models (flows.params, export.options), so the
two cannot drift: with every model default changed, every option's default follows."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import json
import typer
from pinpoint_etl.export.options import ExportOptions
from pinpoint_etl.flows.params import ImportOptions, SourceParams, TargetParams

FIELDS = {
    SourceParams: ["delimiter", "encoding", "format", "on_malformed", "fold_unknown", "chunk_rows", "runner", "workers"],
    TargetParams: ["prefix", "sse"],
    ImportOptions: ["register_endpoints", "staged_format", "max_concurrent_jobs", "max_job_bytes",
                    "poll_initial_seconds", "poll_max_seconds", "timeout_seconds", "keep_staged", "force"],
    ExportOptions: ["export_fields", "chunk_rows", "poll_initial_seconds", "poll_max_seconds", "timeout_seconds",
                    "csv_safe", "keep_raw"],
}
for model, names in FIELDS.items():
    for name in names:
        model.model_fields[name].default = f"probe:{model.__name__}.{name}"

from pinpoint_etl.flows.cli import app

command = typer.main.get_command(app)
found = {}
def walk(cmd, path):
    for name, sub in getattr(cmd, "commands", {}).items():
        walk(sub, f"{path} {name}".strip())
    for p in getattr(cmd, "params", []):
        if isinstance(p.default, str) and p.default.startswith("probe:"):
            found[f"{path} --{p.name}"] = p.default[len("probe:"):]
walk(command, "")
print(json.dumps(found, sort_keys=True))
"""

EXPECTED = {
    **{f"{cmd} --{opt}": f"SourceParams.{field}" for cmd in ("validate", "import") for opt, field in (
        ("delimiter", "delimiter"), ("encoding", "encoding"), ("fmt", "format"), ("on_malformed", "on_malformed"),
        ("fold_unknown", "fold_unknown"), ("chunk_rows", "chunk_rows"), ("runner", "runner"), ("workers", "workers"))},
    **{f"map init --{opt}": f"SourceParams.{field}" for opt, field in (
        ("delimiter", "delimiter"), ("encoding", "encoding"), ("fmt", "format"))},
    "validate --staged_format": "ImportOptions.staged_format",
    **{f"import --{opt}": f"ImportOptions.{field}" for opt, field in (
        ("register_endpoints", "register_endpoints"), ("staged_format", "staged_format"),
        ("max_concurrent_jobs", "max_concurrent_jobs"), ("max_job_bytes", "max_job_bytes"),
        ("poll_initial", "poll_initial_seconds"), ("poll_max", "poll_max_seconds"), ("timeout", "timeout_seconds"),
        ("keep_staged", "keep_staged"), ("force", "force"))},
    "import --prefix": "TargetParams.prefix", "import --sse": "TargetParams.sse",
    "export --prefix": "TargetParams.prefix", "export --sse": "TargetParams.sse",
    **{f"export --{opt}": f"ExportOptions.{field}" for opt, field in (
        ("export_fields", "export_fields"), ("chunk_rows", "chunk_rows"), ("poll_initial", "poll_initial_seconds"),
        ("poll_max", "poll_max_seconds"), ("timeout", "timeout_seconds"), ("csv_safe", "csv_safe"),
        ("keep_raw", "keep_raw"))},
}


def test_every_option_with_a_model_field_takes_its_default_from_the_model():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout) == EXPECTED
