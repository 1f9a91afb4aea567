"""Benchmark the bundled local Pinpoint service: a large upload and import job, its memory and API latency.

    .venv/bin/python bench/local_service.py --rows 1000000              # the 1M-row import job
    .venv/bin/python bench/local_service.py --gib 1                     # a 1 GiB file: upload + import
    .venv/bin/python bench/local_service.py --rows 1000000 --gib 1      # both, one after the other

For each case:

1. Data: ``bench/generate.py`` rows (cached, as ``bench/run.py`` does) made import-ready by
   ``pinpoint-etl validate`` (26 distinct columns, 30 with the repeated ``Attributes.Interests``):
   the largest staged part file is imported. ``--gib G`` generates enough rows for a part of about
   G GiB (at most the 1 GB job limit).
2. The service runs as ``pinpoint-etl local up --data-dir TMP`` in its own process (a fresh data
   folder per case), so its memory is measured apart from the client's.
3. Upload: boto3 ``upload_file`` (multipart: 8 MiB parts, 10 threads), timed.
4. Import: ``CreateImportJob`` with ``RegisterEndpoints`` (what ``pinpoint-etl import`` sends by
   default; ``--segment`` adds ``DefineSegment``, as ``--segment-name`` does); while it runs,
   ``GetImportJob`` is called every 20 ms and each call's latency recorded (p50, p99, max). The
   job's seconds are its own CreationDate → CompletionDate.
5. Memory: every 50 ms the service process and its children (the parsing process of a large
   file) are sampled with psutil: the peak sum of RSS over that tree, and the kernel's high-water
   mark (VmHWM) of the service process itself, per phase (upload, import).

Results: a table, the targets (MET / NOT MET), and ``bench/local_service_results.json`` (git-ignored).
Targets: the 1M-row job COMPLETED in ≤ 60 s with the service tree's peak RSS ≤ 500 MB; the 1 GiB
upload and import with the service tree ≤ 1 GB (1000 MB); GetImportJob p99 ≤ 100 ms during that job.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import boto3
import psutil
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from run import data_file  # noqa: E402

CLI = str(Path(sys.executable).with_name("pinpoint-etl"))
BYTES_PER_ROW = 256  # an import-ready row of the generated data, about
POLL = 0.05
TARGET_JOB_SECONDS = 60
TARGET_1M_MB = 500
TARGET_GIB_MB = 1000
TARGET_P99_MS = 100


def import_file(rows: int, seed: int, cache: Path) -> Path:
    """The largest import-ready part made by ``pinpoint-etl validate`` from ``rows`` generated rows (cached)."""
    source, _ = data_file(rows, seed, cache)
    out = cache / f"staged-{source.stem}"
    parts = sorted((out / "import").glob("part-*.csv")) if out.exists() else []
    if not parts:
        print(f"data: validating {source.name} into {out} …", flush=True)
        shutil.rmtree(out, ignore_errors=True)
        done = subprocess.run([CLI, "validate", str(source), "--out", str(out), "-q"], capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise SystemExit(f"validate failed: {done.stderr.strip()}")
        parts = sorted((out / "import").glob("part-*.csv"))
    return max(parts, key=lambda p: p.stat().st_size)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """``pinpoint-etl local up`` in its own process, with its memory sampled."""

    def __init__(self, data_dir: Path):
        self.port = _free_port()
        self.proc = subprocess.Popen([CLI, "local", "up", "--port", str(self.port), "--data-dir", str(data_dir)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.exports = {}
        for _ in range(9):
            line = self.proc.stdout.readline().strip()
            name, _, value = line.removeprefix("export ").partition("=")
            self.exports[name] = value
        self.phase = "start"
        self.peaks: dict[str, dict[str, float]] = {}
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        root = psutil.Process(self.proc.pid)
        while not self._done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                tree = sum(p.memory_info().rss for p in procs if p.is_running())
                hwm = _vm_hwm(root.pid)
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                break
            peak = self.peaks.setdefault(self.phase, {"tree_rss_mb": 0.0, "service_hwm_mb": 0.0, "processes": 0})
            peak["tree_rss_mb"] = max(peak["tree_rss_mb"], tree / 2**20)
            peak["service_hwm_mb"] = max(peak["service_hwm_mb"], hwm / 2**20)
            peak["processes"] = max(peak["processes"], len(procs))
            self._done.wait(POLL)

    def client(self, name: str):
        return boto3.client(name, endpoint_url=self.exports["AWS_ENDPOINT_URL"], region_name="us-east-1",
                            aws_access_key_id=self.exports["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.exports["AWS_SECRET_ACCESS_KEY"],
                            config=Config(retries={"mode": "standard", "max_attempts": 3},
                                          max_pool_connections=20))

    def stop(self) -> None:
        self._done.set()
        self._sampler.join(5)
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _vm_hwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _seconds(start: str, end: str) -> float:
    parse = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def run_case(name: str, path: Path, work: Path, segment: bool) -> dict:
    data_dir = work / f"service-{name}"
    shutil.rmtree(data_dir, ignore_errors=True)
    service = Service(data_dir)
    try:
        app, bucket = service.exports["PINPOINT_APPLICATION_ID"], service.exports["PINPOINT_ETL_BUCKET"]
        s3, pinpoint = service.client("s3"), service.client("pinpoint")
        size = path.stat().st_size
        with open(path, "rb") as fh:
            rows = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b"")) - 1
        print(f"{name}: uploading {size / 2**20:,.0f} MiB ({rows:,} rows) …", flush=True)
        service.phase = "upload"
        t0 = time.perf_counter()
        s3.upload_file(str(path), bucket, f"bench/{name}/{path.name}",
                       Config=TransferConfig(multipart_chunksize=8 * 2**20, max_concurrency=10))
        upload_seconds = time.perf_counter() - t0
        service.phase = "import"
        print(f"{name}: importing …", flush=True)
        request = {"S3Url": f"s3://{bucket}/bench/{name}/", "RoleArn": service.exports["PINPOINT_IMPORT_ROLE_ARN"],
                   "Format": "CSV", "RegisterEndpoints": True}
        if segment:
            request.update(DefineSegment=True, SegmentName=f"bench-{name}")
        job = pinpoint.create_import_job(ApplicationId=app, ImportJobRequest=request)["ImportJobResponse"]
        latencies = []
        t0 = time.perf_counter()
        while True:
            start = time.perf_counter()
            current = pinpoint.get_import_job(ApplicationId=app, JobId=job["Id"])["ImportJobResponse"]
            latencies.append((time.perf_counter() - start) * 1000)
            if current["JobStatus"] in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        service.phase = "after"
        latencies.sort()
        segment_size = None
        if segment:
            found = pinpoint.get_segment(ApplicationId=app, SegmentId=current["Definition"]["SegmentId"])
            segment_size = found["SegmentResponse"]["ImportDefinition"]["Size"]
        result = {
            "case": name + (" +segment" if segment else ""), "file": str(path), "bytes": size, "rows": rows,
            "upload_seconds": round(upload_seconds, 2),
            "job_status": current["JobStatus"], "job_seconds": round(_seconds(current["CreationDate"],
                                                                              current["CompletionDate"]), 2),
            "job_wall_seconds": round(wall, 2), "total_processed": current.get("TotalProcessed"),
            "total_failures": current.get("TotalFailures"), "failures_sample": current.get("Failures", [])[:3],
            "segment_size": segment_size,
            "get_import_job_calls": len(latencies),
            "get_import_job_ms": {"p50": round(statistics.median(latencies), 1),
                                  "p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
                                  "max": round(latencies[-1], 1)},
            "memory": {k: {m: round(v, 1) for m, v in peak.items()} for k, peak in service.peaks.items()},
        }
        result["rows_per_second"] = round(rows / result["job_seconds"]) if result["job_seconds"] else None
        return result
    finally:
        service.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def _mark(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append", default=[], help="an import job of N generated rows")
    parser.add_argument("--gib", type=float, action="append", default=[], help="an import file of about G GiB")
    parser.add_argument("--segment", action="store_true", help="DefineSegment too (as --segment-name does)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "pinpoint-etl-bench")
    parser.add_argument("--results", type=Path, default=BENCH / "local_service_results.json")
    args = parser.parse_args()
    cases = [(f"{n:,}-rows".replace(",", "_"), n, None) for n in args.rows]
    cases += [(f"{g:g}-GiB", int(g * 2**30 / BYTES_PER_ROW * 1.03), g) for g in args.gib]
    if not cases:
        cases = [("1_000_000-rows", 1_000_000, None)]
    work = args.cache_dir / "local-service"
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for name, rows, _ in cases:
        results.append(run_case(name, import_file(rows, args.seed, args.cache_dir), work, args.segment))
        print(json.dumps(results[-1], indent=2), flush=True)
    print(f"\n{'case':<24}{'MiB':>8}{'rows':>11}{'upload s':>10}{'job s':>8}{'rows/s':>9}"
          f"{'tree MB up':>11}{'tree MB job':>12}{'svc HWM MB':>11}{'p99 ms':>8}{'max ms':>8}")
    for r in results:
        mem = r["memory"]
        print(f"{r['case']:<24}{r['bytes'] / 2**20:>8,.0f}{r['rows']:>11,}{r['upload_seconds']:>10}"
              f"{r['job_seconds']:>8}{r['rows_per_second'] or 0:>9,}{mem.get('upload', {}).get('tree_rss_mb', 0):>11}"
              f"{mem.get('import', {}).get('tree_rss_mb', 0):>12}"
              f"{max(p['service_hwm_mb'] for p in mem.values()):>11}{r['get_import_job_ms']['p99']:>8}"
              f"{r['get_import_job_ms']['max']:>8}")
    print("\ntargets:")
    for r in results:
        mem = r["memory"]
        peak = max(mem.get(p, {}).get("tree_rss_mb", 0) for p in ("upload", "import"))
        if "-rows" in r["case"]:
            print(f"  {r['case']}: COMPLETED in <= {TARGET_JOB_SECONDS} s: "
                  f"{_mark(r['job_status'] == 'COMPLETED' and r['job_seconds'] <= TARGET_JOB_SECONDS)} "
                  f"({r['job_status']}, {r['job_seconds']} s); service <= {TARGET_1M_MB} MB during the job: "
                  f"{_mark(mem.get('import', {}).get('tree_rss_mb', 0) <= TARGET_1M_MB)}")
        else:
            print(f"  {r['case']}: upload + import with the service <= {TARGET_GIB_MB} MB: "
                  f"{_mark(peak <= TARGET_GIB_MB)} ({peak} MB); GetImportJob p99 <= {TARGET_P99_MS} ms: "
                  f"{_mark(r['get_import_job_ms']['p99'] <= TARGET_P99_MS)} ({r['get_import_job_ms']['p99']} ms); "
                  f"job {r['job_status']} in {r['job_seconds']} s")
    args.results.write_text(json.dumps({
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average": os.getloadavg()},
        "results": results,
    }, indent=2))
    print(f"\nresults: {args.results}")


if __name__ == "__main__":
    main()
