"""The same staging result whatever runs the chunks: threads, worker processes or a Dask LocalCluster."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.staging.executors import AUTO_PROCESS_BYTES, resolve_runner
from pinpoint_etl.staging.ledger import read_batches
from pinpoint_etl.staging.prepare import StageOptions, prepare

ROOT = Path(__file__).resolve().parents[2]


def _generated(tmp_path_factory, n: int) -> Path:
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    out = tmp_path_factory.mktemp("gen") / f"endpoints-{n}.csv"
    gen.generate(n, out, seed=7, block_rows=20_000)
    return out


def _stage(sources, out: Path, runner: str, chunk_rows: int, max_part_bytes: int):
    opts = StageOptions(sources=[str(s) for s in sources], read=ReadOptions(chunk_rows=chunk_rows), runner=runner,
                        workers=2, max_part_bytes=max_part_bytes)
    return prepare(opts, run_id="r-equal", out_base=str(out))


def _outcome(p):
    parts = [(Path(x.uri).name, x.rows, Path(x.uri).read_bytes()) for x in p.parts]
    rejects = sorted(Path(p.rejects_uri).read_text().splitlines())
    ledger = sorted(tuple(Path(v).name if k == "part" and v else v for k, v in r.items())
                    for b in read_batches(p.ledger_uri) for r in b.to_pylist())
    counts = (p.rows_read, p.rows_valid, p.rows_rejected, p.rows_superseded, p.normalised, p.rejects_by_reason)
    return parts, rejects, ledger, counts


@pytest.mark.parametrize("which", ["sample_data", "generated-100k"])
def test_threads_processes_and_dask_stage_identical_files_and_counts(which, tmp_path, tmp_path_factory):
    pytest.importorskip("dask.distributed")
    if which == "sample_data":
        sources, chunk_rows, part_bytes = [ROOT / "sample_data/endpoints.csv", ROOT / "sample_data/endpoints.ndjson"], \
            1_000, 40_000
    else:
        sources, chunk_rows, part_bytes = [_generated(tmp_path_factory, 100_000)], 20_000, 8 * 1024 * 1024
    threads = _outcome(_stage(sources, tmp_path / "threads", "threads", chunk_rows, part_bytes))
    for runner in ("processes", "dask"):
        other = _outcome(_stage(sources, tmp_path / runner, runner, chunk_rows, part_bytes))
        assert threads[3] == other[3], runner
        assert threads[1] == other[1] and threads[2] == other[2], runner
        assert threads[0] == other[0], runner
    assert len(threads[0]) > 1  # the lowered part limit made several parts (several import jobs)
    read, valid, rejected, superseded = threads[3][:4]
    assert read == valid + rejected + superseded and rejected > 0 and superseded > 0
    if which == "sample_data":
        expected = json.loads((ROOT / "sample_data/expected.json").read_text())
        csv, nd = expected["endpoints.csv"], expected["endpoints.ndjson"]
        assert (read, rejected, superseded) == (csv["rows_read"] + nd["rows_read"],
                                                csv["rows_rejected"] + nd["rows_rejected"],
                                                csv["rows_superseded"] + nd["rows_superseded"])


def test_auto_runner_uses_processes_for_large_or_remote_inputs(tmp_path):
    small = tmp_path / "small.csv"
    small.write_bytes(b"Id\n" + b"x\n" * 10)
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(AUTO_PROCESS_BYTES)
    gz = tmp_path / "part.csv.gz"
    with open(gz, "wb") as fh:
        fh.truncate(AUTO_PROCESS_BYTES // 5 + 1)  # compressed input counts five times its size
    assert resolve_runner("auto", [str(small)]) == "threads"
    assert resolve_runner("auto", [str(small), str(tmp_path / "missing.csv")]) == "threads"
    assert resolve_runner("auto", [str(big)]) == "processes"
    assert resolve_runner("auto", [str(tmp_path / "*.csv")]) == "processes"
    assert resolve_runner("auto", [str(tmp_path)]) == "processes"
    assert resolve_runner("auto", [str(gz)]) == "processes"
    assert resolve_runner("auto", ["s3://bucket/in.csv"]) == "processes"
    assert resolve_runner("threads", [str(big)]) == "threads"
    assert resolve_runner("processes", [str(small)]) == "processes"


def test_a_worker_process_that_dies_is_a_one_line_terminal_error():
    import os

    from pinpoint_etl.core.errors import TerminalError
    from pinpoint_etl.staging.executors import ProcessExecutor

    executor = ProcessExecutor(1)
    try:
        with pytest.raises(TerminalError, match="worker process stopped .* use --runner threads"):
            executor.submit(os._exit, 3).result()
        with pytest.raises(TerminalError, match="worker process stopped"):  # and so does the next chunk
            executor.submit(abs, -1).result()
    finally:
        executor.close()
