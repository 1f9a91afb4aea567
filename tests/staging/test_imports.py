"""What each process imports: the driver reads local files without Pandera, the normalisers or the
S3/HTTP clients (and validate's driver without pandas); the worker processes' fork server warms
without the optional packages Pandera would pull in, then freezes what it holds out of the GC."""

import subprocess
import sys
from pathlib import Path

import pytest
from pinpoint_etl.core import tricks

ROOT = Path(__file__).resolve().parents[2]


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_driver_imports_no_pandera_no_normalisers_and_no_remote_io():
    loaded = _modules_after("import flows.cli, flows.import_run, staging.prepare, transforms")
    assert "pinpoint_etl.staging.prepare" in loaded  # the probe itself worked
    heavy = {"pandera", "phonenumbers", "email_validator", "pycountry", "pinpoint_etl.transforms.normalise", "pinpoint_etl.schemas.endpoint",
             "pinpoint_etl.staging.chunks"}
    remote = {"smart_open", "boto3", "requests"}  # loaded on first use of an S3 or HTTP source or target
    assert not (heavy | remote) & loaded, sorted((heavy | remote) & loaded)


@pytest.mark.skipif(not all(tricks.enabled(t) for t in ("hide_unused_imports", "gc_freeze")),
                    reason="tests the hide_unused_imports and gc_freeze tricks, switched off here")
def test_fork_server_warms_without_dask_dataframe_or_hypothesis_freezes_and_leaves_them_importable():
    loaded = _modules_after(
        "import gc, staging.warm\n"
        "assert gc.get_freeze_count() > 10000, gc.get_freeze_count()  # workers share the warmed objects' pages\n"
        "hidden = [m for m in ('dask.dataframe', 'hypothesis') if m in sys.modules]\n"
        "assert not hidden, hidden\n"
        "from schemas.endpoint import ImportEndpoint\n"
        "assert ImportEndpoint.to_schema().columns  # the schema was built\n"
        "import importlib.util\n"
        "for m in ('dask', 'hypothesis'):\n"
        "    if importlib.util.find_spec(m) is not None:\n"
        "        importlib.import_module(m + ('.dataframe' if m == 'dask' else ''))\n")
    assert {"pandera", "pinpoint_etl.schemas.rejects", "pinpoint_etl.transforms.normalise"} <= loaded


@pytest.mark.skipif(not tricks.enabled("defer_pandas"), reason="tests the defer_pandas trick, switched off here")
def test_validate_driver_with_worker_processes_never_loads_pandas(tmp_path):
    out = tmp_path / "out"
    loaded = _modules_after(
        "import atexit\n"
        "atexit.register(lambda: print(' '.join(sorted(sys.modules))))\n"  # validate ends through os._exit
        f"sys.argv = ['pinpoint-etl', 'validate', 'sample_data/endpoints.csv', '--out', {str(out)!r}, "
        "'--runner', 'processes', '--quiet']\n"
        "from flows.cli import main\n"
        "main()")
    assert (out / "manifest.json").is_file() and "pyarrow" in loaded  # it ran, and the probe saw its modules
    assert not {"pandas", "pandera"} & loaded, sorted({"pandas", "pandera"} & loaded)
