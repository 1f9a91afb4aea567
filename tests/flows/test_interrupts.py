"""Interrupts, with real processes and signals: kill -9 takes the worker processes along and the next
run sweeps what was left; Ctrl-C and SIGTERM stop a polling run at once; a run killed while uploading
leaves open multipart uploads that the re-run aborts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.flows.helpers import good_rows, write_csv
from tests.flows.test_cli import ROOT, run_cli, service_env


def _cli(*args, env=None, **kw) -> subprocess.Popen:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PINPOINT_"))}
    base.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "pinpoint_etl.flows.cli", *args], cwd=ROOT, env=base, **kw)


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d))
    return out


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def test_kill_9_of_validate_takes_the_fork_server_and_workers_along_and_the_next_run_sweeps_its_spill(tmp_path):
    src = write_csv(tmp_path / "big.csv", good_rows(120_000))
    spill = tmp_path / "tmp"
    spill.mkdir()
    proc = _cli("validate", str(src), "--out", str(tmp_path / "out"), "--runner", "processes", "--chunk-rows", "2000",
                "-q", env={"TMPDIR": str(spill)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    family: list[int] = []
    try:
        def workers_at_work():
            kids = _children(proc.pid)
            grandchildren = [g for k in kids for g in _children(k)]
            return (kids + grandchildren) if grandchildren and any(spill.iterdir()) else None

        family = _wait_for(workers_at_work, 60, "worker processes and a spill folder")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while any(_running(p) for p in family) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [p for p in family if _running(p)]
        assert left == [], "processes outlived the run"
    finally:
        for pid in family:  # on failure, do not leave them running
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
    assert any(p.name.startswith("pinpoint-etl-") for p in spill.iterdir())  # kill -9 leaves it behind
    small = write_csv(tmp_path / "small.csv", good_rows(3))
    out = run_cli("validate", str(small), "--out", str(tmp_path / "out2"), "-q", env={"TMPDIR": str(spill)})
    assert out.returncode == 0, out.stderr
    assert [p.name for p in spill.iterdir() if p.name.startswith("pinpoint-etl-")] == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_polling_stops_at_once_with_one_line_naming_the_run_and_how_to_resume(
        tmp_path, pinpoint_env, pinpoint_client, sig):
    pinpoint_env.set_faults("ImportJob", state_delay=3600)
    src = write_csv(tmp_path / "in.csv", good_rows(3))
    proc = _cli("import", str(src), "--poll-initial", "0.1", "--poll-max", "30", "-q", env=service_env(pinpoint_env),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: pinpoint_client.get_import_jobs(ApplicationId=pinpoint_env.application_id)
                  ["ImportJobsResponse"]["Item"] or proc.poll() is not None, 120, "the import job")
        time.sleep(0.5)  # polling now
        sent = time.monotonic()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        pinpoint_env.clear_faults()
    assert proc.returncode == 2 and took < 5, (proc.returncode, took, stderr)
    lines = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert "run r-" in lines[0] and "interrupted while polling" in lines[0] and "re-run the same command" in lines[0]


def test_an_import_killed_while_uploading_leaves_uploads_that_the_rerun_aborts(tmp_path, pinpoint_env, s3_client):
    pinpoint_env.set_faults("S3:UploadPart", latency=60)  # the first upload of a part hangs: kill it there
    src = write_csv(tmp_path / "in.csv", good_rows(6))
    proc = _cli("import", str(src), "-q", env=service_env(pinpoint_env), stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: len(s3_client.list_multipart_uploads(Bucket=pinpoint_env.bucket).get("Uploads", [])) >= 3,
                  120, "three open uploads (ledger, rejects, part)")
    finally:
        proc.kill()
        proc.wait()
    pinpoint_env.clear_faults()
    out = run_cli("import", str(src), "--poll-initial", "0.1", "--report", str(tmp_path / "r.json"),
                  env=service_env(pinpoint_env))
    assert out.returncode == 0, out.stderr
    assert "aborted 3 unfinished upload(s)" in out.stderr
    assert not s3_client.list_multipart_uploads(Bucket=pinpoint_env.bucket).get("Uploads")
    assert json.loads((tmp_path / "r.json").read_text())["rows_imported"] == 6
