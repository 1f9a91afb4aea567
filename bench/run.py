"""Benchmark `pinpoint-etl validate` against bare pandas and pyarrow CSV copies of the same file.

    .venv/bin/python bench/run.py --rows 1000000 [--rows 5000000] [--keep] [--runner auto|processes|threads|dask]
    .venv/bin/python bench/run.py --rows 1000000 --steps validate --shape crm   # a two-channel mapping spec

For each N: generate N rows with bench/generate.py (cached in a temp dir keyed by N, seed and
generator version), read the file once to warm the page cache, then run, each as its own
subprocess and one after the other (``--shape crm``: rows shaped like a CRM export, from
bench/generate_crm.py, validated with sample_data/crm_contacts.mapping.yaml, an EMAIL and an SMS
endpoint per row):

  validate  pinpoint-etl validate FILE --out DIR --report REPORT.json [--runner R]
  pandas    pd.read_csv(FILE, dtype=str).to_csv(OUT, index=False)
  pyarrow   pyarrow.csv.read_csv(FILE, all columns string) + pyarrow.csv.write_csv

and record wall seconds, rows/s, CPU seconds and peak memory. Every 50 ms the whole process tree
(the subprocess and all its descendants: worker processes, their fork server, Dask workers) is
sampled with psutil. Each step is timed (``--repeat`` times, the fastest kept) with cheap samples
only (RSS, CPU times, VmHWM: ~0.1 ms a process), then run once more with the tree's PSS sampled:
reading a process's PSS walks its page tables (~15 ms for a 400 MB process), so sampling five
processes every 50 ms keeps most of a core busy, which slows a run that uses both cores and not a
one-threaded copy. Memory is reported three ways:

  peak_rss_mb       the largest single process: the kernel's high-water mark of resident memory
                    (VmHWM in /proc/PID/status, last read before the process ended, and ru_maxrss
                    from os.wait4() for the subprocess itself), whichever is larger;
  tree_rss_mb       the largest sum of RSS over the tree at one sample (pages a fork server
                    shares with its workers are counted once per process);
  tree_pss_mb       the largest sum of PSS over the tree at one sample of the PSS-sampled run: shared
                    pages divided among the processes sharing them, so this is what the run really
                    occupies.

CPU seconds are the tree's: the last sampled user + system time of every process seen, or the
subprocess's rusage if larger.

Results go to the terminal (a table, then the targets) and to bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from generate import GENERATOR_VERSION
from generate_crm import GENERATOR_VERSION as CRM_GENERATOR_VERSION

SHAPES = {  # shape → (generator script, file name prefix, its version, extra validate arguments)
    "endpoints": ("generate.py", "endpoints", GENERATOR_VERSION, []),
    "crm": ("generate_crm.py", "crm", CRM_GENERATOR_VERSION,
            ["--mapping-file", str(REPO / "sample_data" / "crm_contacts.mapping.yaml")]),
}

STEPS = ("validate", "pandas", "pyarrow")
POLL_SECONDS = 0.05
TARGET_SPEEDUP = 2.0          # validate at least 2x faster than the bare pandas copy (on 1M rows)
TARGET_PEAK_MB = 500          # peak RSS of validate
TARGET_FLAT = 1.25            # peak RSS at the largest N at most 1.25x that at the smallest N

PANDAS_COPY = """\
import sys, pandas as pd
pd.read_csv(sys.argv[1], dtype=str).to_csv(sys.argv[2], index=False)
"""
PYARROW_COPY = """\
import sys, pyarrow as pa, pyarrow.csv as csv
with open(sys.argv[1], encoding="utf-8") as fh:
    header = fh.readline().rstrip("\\r\\n").split(",")
opts = csv.ConvertOptions(column_types={name: pa.string() for name in header})
csv.write_csv(csv.read_csv(sys.argv[1], convert_options=opts), sys.argv[2])
"""


# ------------------------------------------------------------------------------------------ data


def data_file(rows: int, seed: int, cache_dir: Path, shape: str = "endpoints") -> tuple[Path, dict]:
    """The generated CSV for ``rows`` (made once, then reused), and its generator metadata."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    script, prefix, version, _ = SHAPES[shape]
    path = cache_dir / f"{prefix}-{rows}-seed{seed}-v{version}.csv"
    meta_path = path.with_name(path.name + ".meta.json")
    if path.exists() and meta_path.exists():  # generate.py writes the meta last
        print(f"data: {path} (cached)", flush=True)
    else:
        print(f"data: generating {rows:,} rows into {path} …", flush=True)
        subprocess.run([sys.executable, str(BENCH / script), str(rows), str(path), "--seed", str(seed)],
                       check=True, stdout=subprocess.DEVNULL)
    return path, json.loads(meta_path.read_text())


def warm(path: Path) -> None:
    """Read the file once so every step starts with it in the page cache."""
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


# ------------------------------------------------------------------------------------ measuring


def measure(cmd: list[str], log_dir: Path, name: str, cwd: Path = REPO, env: dict | None = None,
            pss: bool = False) -> dict:
    """Run ``cmd`` to completion; wall time, CPU time, exact and sampled peak RSS, exit code, and with
    ``pss`` the sampled peak PSS of the tree (a costly reading: see the module docstring)."""
    out, err = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, cwd=cwd, env=env)
        tree_peak, pss_peak, with_pss = [0], [0], pss
        hwm: dict[int, int] = {}      # pid → VmHWM bytes (monotonic; the last read is kept)
        cpu: dict[int, float] = {}    # pid → user + system seconds (last read)
        done = threading.Event()

        def poll() -> None:
            try:
                root = psutil.Process(proc.pid)
            except psutil.NoSuchProcess:
                return
            while not done.is_set():
                rss = pss = 0
                try:
                    procs = [root, *root.children(recursive=True)]
                except psutil.NoSuchProcess:
                    break
                for p in procs:
                    try:
                        mem = p.memory_full_info() if with_pss else p.memory_info()
                        times = p.cpu_times()
                        rss, pss = rss + mem.rss, pss + (mem.pss if with_pss else 0)
                        cpu[p.pid] = times.user + times.system
                        hwm[p.pid] = max(hwm.get(p.pid, 0), _vm_hwm(p.pid))
                    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied, OSError):
                        pass
                tree_peak[0] = max(tree_peak[0], rss)
                pss_peak[0] = max(pss_peak[0], pss)
                done.wait(POLL_SECONDS)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        _, status, usage = os.wait4(proc.pid, 0)  # reaps the child: its own rusage, exactly
        wall = time.perf_counter() - t0
        done.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    largest = max([usage.ru_maxrss * 1024, *hwm.values()])  # ru_maxrss: KiB on Linux
    return {
        "command": cmd,
        "exit_code": proc.returncode,
        "seconds": round(wall, 3),
        "cpu_seconds": round(max(usage.ru_utime + usage.ru_stime, sum(cpu.values())), 3),
        "peak_rss_mb": round(largest / 2 ** 20, 1),
        "tree_rss_mb": round(tree_peak[0] / 2 ** 20, 1),
        "tree_pss_mb": round(pss_peak[0] / 2 ** 20, 1) if pss else None,
        "processes": len(cpu),
        "stderr_tail": _tail(err),
    }


def _vm_hwm(pid: int) -> int:
    """The kernel's peak resident set size of ``pid`` in bytes (VmHWM)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _tail(path: Path, lines: int = 3) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return "\n".join(text[-lines:])


# ------------------------------------------------------------------------------------ validate


def validate_command() -> tuple[list[str] | None, str]:
    """How to call the project's CLI, or None and why it is not available."""
    script = Path(sys.executable).parent / "pinpoint-etl"
    candidates = []
    if script.exists():
        candidates.append([str(script)])
    elif shutil.which("pinpoint-etl"):
        candidates.append([shutil.which("pinpoint-etl")])
    candidates.append([sys.executable, "-m", "pinpoint_etl.flows.cli"])
    reason = "no pinpoint-etl script and no pinpoint_etl.flows.cli module"
    for cmd in candidates:
        try:
            probe = subprocess.run([*cmd, "validate", "--help"], cwd=REPO, capture_output=True, text=True,
                                   timeout=120, env=_env(), check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = f"{cmd[0]}: {exc}"
            continue
        if probe.returncode == 0 and "--out" in probe.stdout:
            return cmd, ""
        reason = (probe.stderr.strip().splitlines() or probe.stdout.strip().splitlines() or ["no output"])[-1]
    return None, reason


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("DO_NOT_TRACK", "1")
    return env


def run_validate(cmd: list[str], data: Path, work: Path, runner: str | None, extra: list[str],
                 pss: bool = False) -> dict:
    out_dir, report = work / "validate-out", work / "validate-report.json"
    args = [*cmd, "validate", str(data), "--out", str(out_dir), "--report", str(report)]
    if runner:
        args += ["--runner", runner]
    res = measure(args + extra, work, "validate", env=_env(), pss=pss)
    # exit 1 = the run finished but rows were rejected (expected with this data); it must have reported
    res["ok"] = res["exit_code"] in (0, 1) and report.exists()
    if report.exists():
        rep = json.loads(report.read_text())
        res["report"] = {k: rep.get(k) for k in ("status", "unit", "source_rows", "rows_read", "rows_valid",
                                                  "rows_rejected", "rows_superseded", "rows_imported", "rows_failed")}
    return res


# ---------------------------------------------------------------------------------------- main


def run_step(step: str, data: Path, work: Path, args, validate_cmd: list[str] | None, pss: bool = False) -> dict:
    if step == "validate":
        shutil.rmtree(work / "validate-out", ignore_errors=True)
        (work / "validate-report.json").unlink(missing_ok=True)
        return run_validate(validate_cmd, data, work, args.runner, SHAPES[args.shape][3] + args.validate_arg, pss=pss)
    out = work / f"{step}-copy.csv"
    res = measure([sys.executable, "-c", PANDAS_COPY if step == "pandas" else PYARROW_COPY, str(data), str(out)],
                  work, step, pss=pss)
    res["ok"] = res["exit_code"] == 0
    res["command"] = [sys.executable, "-c", f"<{step} copy: see bench/run.py>", str(data), str(out)]
    return res


def bench_one(rows: int, args, validate_cmd: list[str] | None, why: str) -> dict:
    data, meta = data_file(rows, args.seed, args.cache_dir, args.shape)
    warm(data)
    work = Path(tempfile.mkdtemp(prefix=f"pinpoint-etl-bench-{rows}-"))
    result = {"rows": rows, "shape": args.shape, "file": str(data), "file_mb": round(data.stat().st_size / 2 ** 20, 1),
              "generated": meta, "work_dir": str(work), "steps": {}}
    try:
        for step in args.steps:
            if step == "validate" and validate_cmd is None:
                result["steps"]["validate"] = {"available": False, "reason": why}
                print(f"validate: not available ({why})", flush=True)
                continue
            tries = []
            for attempt in range(args.repeat):
                print(f"  {rows:>12,}  {step}{f' ({attempt + 1}/{args.repeat})' if args.repeat > 1 else ''} …",
                      flush=True)
                tries.append(run_step(step, data, work, args, validate_cmd))
                if not tries[-1]["ok"]:
                    break
            memory = None
            if tries[-1]["ok"]:  # one more run, for the tree's PSS: its sampling slows the run it samples
                print(f"  {rows:>12,}  {step} (PSS sampled) …", flush=True)
                memory = run_step(step, data, work, args, validate_cmd, pss=True)
            res = min(tries, key=lambda r: (not r["ok"], r["seconds"]))  # the fastest good timed attempt
            res["all_seconds"] = [t["seconds"] for t in tries]
            runs = tries + ([memory] if memory else [])
            res["peak_rss_mb"] = max(t["peak_rss_mb"] for t in runs)
            res["tree_rss_mb"] = max(t["tree_rss_mb"] for t in runs)
            res["tree_pss_mb"] = memory["tree_pss_mb"] if memory and memory["ok"] else None
            res["pss_run_seconds"] = memory["seconds"] if memory else None
            res["available"] = True
            res["rows_per_second"] = round(rows / res["seconds"]) if res["seconds"] else None
            if not res["ok"]:
                last = (res["stderr_tail"].splitlines() or ["no report, no stderr"])[-1]
                print(f"    {step} failed (exit {res['exit_code']}): {last}", flush=True)
            result["steps"][step] = res
    finally:
        if args.keep:
            print(f"  kept {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
            result["work_dir"] = None
    steps = result["steps"]
    v = steps.get("validate", {})
    for other in ("pandas", "pyarrow"):
        o = steps.get(other, {})
        if v.get("ok") and o.get("ok"):
            result[f"speedup_vs_{other}"] = round(o["seconds"] / v["seconds"], 2)
    return result


def machine() -> dict:
    import pandas
    import pyarrow

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2 ** 30, 1), "pandas": pandas.__version__,
            "pyarrow": pyarrow.__version__}


def targets(runs: list[dict]) -> list[dict]:
    """The README's targets, checked against what was measured (None = could not be checked)."""
    out = []
    by_n = {r["rows"]: r for r in runs}
    one_m = by_n.get(1_000_000) or runs[0]
    speed = one_m.get("speedup_vs_pandas")
    out.append({"target": f"validate >= {TARGET_SPEEDUP:g}x faster than the bare pandas copy ({one_m['rows']:,} rows)",
                "measured": speed, "met": None if speed is None else speed >= TARGET_SPEEDUP})
    for key, what in (("peak_rss_mb", "peak RSS (largest process)"), ("tree_pss_mb", "peak PSS (whole process tree)")):
        peaks = {r["rows"]: r["steps"]["validate"].get(key) for r in runs
                 if r["steps"].get("validate", {}).get("ok") and r["steps"]["validate"].get(key)}
        worst = max(peaks.values()) if peaks else None
        out.append({"target": f"validate {what} <= {TARGET_PEAK_MB} MB", "measured": worst,
                    "met": None if worst is None else worst <= TARGET_PEAK_MB})
        if len(peaks) > 1:
            lo, hi = min(peaks), max(peaks)
            ratio = round(peaks[hi] / peaks[lo], 2)
            out.append({"target": f"memory flat: {what} at {hi:,} rows <= {TARGET_FLAT}x that at {lo:,}",
                        "measured": ratio, "met": ratio <= TARGET_FLAT})
        else:
            out.append({"target": f"memory flat as N grows, {what} (needs two --rows values)", "measured": None,
                        "met": None})
    return out


def print_table(runs: list[dict], checks: list[dict]) -> None:
    head = ("rows", "step", "seconds", "rows/s", "CPU s", "procs", "peak RSS MB", "tree RSS MB", "tree PSS MB",
            "exit")
    body = []
    for r in runs:
        for step in STEPS:
            s = r["steps"].get(step)
            if s is None:
                continue
            if not s.get("available"):
                body.append((f"{r['rows']:,}", step, "not available", "", "", "", "", "", "", ""))
                continue
            body.append((f"{r['rows']:,}", step, f"{s['seconds']:.2f}", f"{s['rows_per_second']:,}",
                         f"{s['cpu_seconds']:.2f}", f"{s.get('processes', 1)}", f"{s['peak_rss_mb']:.0f}",
                         f"{s['tree_rss_mb']:.0f}",
                         f"{s['tree_pss_mb']:.0f}" if s.get("tree_pss_mb") is not None else "n/a",
                         f"{s['exit_code']}{'' if s['ok'] else ' FAILED'}"))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]

    def line(cells) -> str:
        return "  ".join(str(c).ljust(w) if i == 1 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print()
    print(line(head))
    print("  ".join("-" * w for w in widths))
    for row in body:
        print(line(row))
    print()
    for r in runs:
        for other in ("pandas", "pyarrow"):
            ratio = r.get(f"speedup_vs_{other}")
            text = f"{ratio:.2f}x" if ratio is not None else "n/a"
            print(f"{r['rows']:>12,} rows: validate speed / {other} copy speed = {text}")
    print()
    for c in checks:
        mark = {True: "MET", False: "NOT MET", None: "n/a"}[c["met"]]
        print(f"[{mark:>7}] {c['target']}: measured {c['measured']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Time pinpoint-etl validate against bare pandas/pyarrow CSV copies.")
    ap.add_argument("--rows", type=int, action="append", help="rows to generate (repeatable; default 1000000)")
    ap.add_argument("--keep", action="store_true", help="keep the outputs (validate folder, copies, logs)")
    ap.add_argument("--runner", help="passed to validate as --runner (auto, processes, threads, dask; "
                                     "default: validate's own)")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each step this many times; the fastest is reported, the largest peak RSS kept")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="endpoints",
                    help="endpoints: rows in Pinpoint's import shape; crm: a CRM export read with a two-channel "
                         "mapping spec (sample_data/crm_contacts.mapping.yaml)")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "pinpoint-etl-bench",
                    help="where generated files are kept between runs")
    ap.add_argument("--validate-arg", action="append", default=[],
                    help="extra argument for validate (repeatable), e.g. --validate-arg=--quiet")
    ap.add_argument("--results", type=Path, default=BENCH / "results.json")
    args = ap.parse_args(argv)
    args.rows = sorted(set(args.rows or [1_000_000]))
    args.steps = [s for s in args.steps.split(",") if s]
    unknown = set(args.steps) - set(STEPS)
    if unknown:
        ap.error(f"unknown steps: {', '.join(sorted(unknown))}")

    validate_cmd, why = validate_command() if "validate" in args.steps else (None, "not requested")
    if validate_cmd:
        print(f"validate: {' '.join(validate_cmd)}", flush=True)
    elif "validate" in args.steps:
        print(f"validate: not available ({why})", flush=True)
    runs = [bench_one(n, args, validate_cmd, why) for n in args.rows]
    checks = targets(runs)
    print_table(runs, checks)
    doc = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), "runner": args.runner,
           "rss_method": "peak_rss_mb = largest single process: max of VmHWM (last read) and ru_maxrss; "
                         "tree_rss_mb / tree_pss_mb = largest psutil sum of RSS / PSS over the process tree, "
                         "sampled every 50 ms; cpu_seconds = the tree's (sampled) or the subprocess's rusage",
           "runs": runs, "targets": checks}
    args.results.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"\nresults: {args.results}")
    failed = [s for r in runs for s in r["steps"].values() if s.get("available") and not s.get("ok")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
