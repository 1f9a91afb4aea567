"""The built wheel installs one namespace, ``pinpoint_etl``, and its CLI runs from a fresh venv.

The wheel is built from the repository (pip, build isolation) and installed without dependencies
into a new virtual environment; the test venv's site-packages is appended as a plain path entry
(its ``.pth`` files, the editable install's finder among them, are not processed there), so the
dependencies resolve but the only ``pinpoint_etl`` that can load is the wheel's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# every top-level package folder of the repository (but the tests) is a stage of the namespace
STAGES = tuple(sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out, src = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("source")
    # built from a copy of the tracked files: setuptools leaves a build/ folder in the tree it builds
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(src)],
                   check=True, capture_output=True, timeout=600)
    (whl,) = out.glob("pinpoint_etl-*.whl")
    return whl


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, timeout=600)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "zz-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir


def _run(env_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_wheel_holds_only_the_pinpoint_etl_namespace(wheel: Path):
    with zipfile.ZipFile(wheel) as zf:
        tops = {name.split("/", 1)[0] for name in zf.namelist()}
        names = set(zf.namelist())
    assert {t for t in tops if not t.endswith(".dist-info")} == {"pinpoint_etl"}
    for stage in STAGES:  # every stage folder made it in, as a package of the namespace
        assert f"pinpoint_etl/{stage}/__init__.py" in names


def test_stage_names_are_not_importable_but_the_cli_runs(fresh_venv: Path, tmp_path: Path):
    python = fresh_venv / "bin" / "python"
    probe = _run(fresh_venv, str(python), "-c", (
        "import importlib, json, sys\n"
        "out = {}\n"
        f"for name in {STAGES!r}:\n"
        "    try:\n"
        "        importlib.import_module(name); out[name] = 'imported'\n"
        "    except ModuleNotFoundError:\n"
        "        out[name] = 'missing'\n"
        "import pinpoint_etl.flows.cli as cli\n"
        "out['cli_file'] = cli.__file__\n"
        "print(json.dumps(out))\n"), cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout)
    assert {name: seen[name] for name in STAGES} == {name: "missing" for name in STAGES}
    assert seen["cli_file"].startswith(str(fresh_venv))  # the wheel's copy, not the repository's

    out = tmp_path / "staged"
    run = _run(fresh_venv, str(fresh_venv / "bin" / "pinpoint-etl"), "validate",
               str(ROOT / "sample_data" / "endpoints.csv"), "--out", str(out), "--report", str(tmp_path / "r.json"),
               "-q", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["rows_read"] > 0 and report["rows_read"] == (
        report["rows_valid"] + report["rows_rejected"] + report["rows_superseded"])
