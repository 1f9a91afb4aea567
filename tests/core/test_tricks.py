"""The process-wide performance tricks (``core.tricks``): each one's switch turns it off, every one is
listed with an entry in bench/README.md, and the outputs of a run are the same with all of them off."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pinpoint_etl.core import tricks

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"


def _python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter with ``env`` added (tricks' switches stripped first); its stdout."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PINPOINT_ETL_NO_")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                         timeout=300, check=True)
    return out.stdout.strip()


def test_switches_by_name_and_all_at_once(monkeypatch):
    for var in [tricks.ALL_OFF, *(t.switch for t in tricks.TRICKS.values())]:
        monkeypatch.delenv(var, raising=False)
    assert all(tricks.enabled(name) for name in tricks.TRICKS)
    monkeypatch.setenv("PINPOINT_ETL_NO_GC_FREEZE", "1")
    assert not tricks.enabled("gc_freeze") and tricks.enabled("fast_exit")
    monkeypatch.setenv("PINPOINT_ETL_NO_GC_FREEZE", "0")
    assert tricks.enabled("gc_freeze")
    monkeypatch.setenv(tricks.ALL_OFF, "1")
    assert not any(tricks.enabled(name) for name in tricks.TRICKS)


def test_every_trick_is_applied_where_listed_and_measured_in_the_bench_readme():
    uses: dict[str, set[str]] = {}
    packages = [p.parent for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests"]
    for path in (path for package in packages for path in package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "enabled" and node.args \
                    and isinstance(node.args[0], ast.Constant):
                module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                uses.setdefault(node.args[0].value, set()).add(module)
    assert set(uses) == set(tricks.TRICKS)
    assert {name: {t.where} for name, t in tricks.TRICKS.items()} == uses
    readme = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Process-wide tricks", 1)[1].split("\n## ", 1)[0]
    for trick in tricks.TRICKS.values():
        assert f"| `{trick.gain}` |" in table and f"`{trick.switch}`" in table


PROBES = {
    "defer_pandas": ("import sys, numpy, pyarrow as pa; from pinpoint_etl.sources.frames import defer_pandas; "
                     "defer_pandas(); pa.array(numpy.zeros(1)); print('pandas' in sys.modules)", "False", "True"),
    "pandera_column_backend": ("import pandas as pd; from pinpoint_etl.schemas import rejects; "
                               "from pandera.api.pandas.components import Column; "
                               "print(type(Column.get_backend(pd.DataFrame())).__name__)", "_ColumnBackend", "ColumnBackend"),
    "gc_freeze": ("import gc, pinpoint_etl.staging.warm; print(gc.get_freeze_count() > 0)", "True", "False"),
    "hide_unused_imports": ("import sys, pinpoint_etl.staging.warm; print('dask.dataframe' in sys.modules)",
                            "False", "True"),
    "warm_fork_server": ("from pinpoint_etl.staging.executors import process_context; from multiprocessing import "
                         "forkserver; process_context(); print(forkserver._forkserver._preload_modules)",
                         "['pinpoint_etl.staging.warm']", "['__main__']"),
}


@pytest.mark.parametrize("name", sorted(PROBES))
def test_each_switch_turns_its_trick_off(name):
    code, on, off = PROBES[name]
    assert _python(code) == on
    assert _python(code, **{tricks.TRICKS[name].switch: "1"}) == off
    assert _python(code, **{tricks.ALL_OFF: "1"}) == off


def test_the_cldr_table_is_built_in_a_child_process_unless_switched_off(tmp_path):
    code = ("import sys; from pinpoint_etl.transforms import cldr_countries as c; t = c.load(); "
            "print(len(t) > 1000, 'babel.localedata' in sys.modules and bool(sys.modules['babel.localedata']._cache))")
    assert _python(code, PINPOINT_ETL_CACHE_DIR=str(tmp_path / "a")) == "True False"
    assert _python(code, PINPOINT_ETL_CACHE_DIR=str(tmp_path / "b"), PINPOINT_ETL_NO_CLDR_CHILD_PROCESS="1") == "True True"
    assert [json.loads(p.read_bytes()) for p in (tmp_path / "a").iterdir()] == \
        [json.loads(p.read_bytes()) for p in (tmp_path / "b").iterdir()]


def _validate(out: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PINPOINT_ETL_NO_")}
    cli = Path(sys.executable).with_name("pinpoint-etl")
    return subprocess.run([str(cli), "validate", str(SAMPLES / "endpoints.csv"), str(SAMPLES / "endpoints.ndjson"),
                           "--out", str(out), "--runner", "processes", "-q"],
                          env={**clean, **env}, capture_output=True, text=True, timeout=600)


def _outputs(out: Path) -> dict[str, bytes]:
    """Every file of a validate run, the run folder's own path blanked out of the JSON ones."""
    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        data = path.read_bytes().replace(str(out).encode(), b"OUT")
        if path.suffix == ".json":
            doc = json.loads(data)
            for volatile in ("started", "finished", "created", "duration_seconds"):
                doc.pop(volatile, None)
            data = json.dumps(doc, sort_keys=True).encode()
        files[str(path.relative_to(out))] = data
    return files


def test_validate_gives_byte_identical_outputs_with_every_trick_off(tmp_path):
    on, off = _validate(tmp_path / "on"), _validate(tmp_path / "off", **{tricks.ALL_OFF: "1"})
    assert on.returncode == off.returncode == 0, (on.stderr, off.stderr)
    assert on.stderr == off.stderr
    outputs = _outputs(tmp_path / "on")
    assert any(name.endswith(".csv") for name in outputs) and any("rejects" in name for name in outputs)
    assert outputs == _outputs(tmp_path / "off")
