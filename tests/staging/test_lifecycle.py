"""Writers' lifecycles: whatever fails, no upload stays open and nothing complete-looking stays behind —
a failed completion on the local service over HTTP, and a full disk (a real small tmpfs)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.flows.helpers import good_rows, write_csv
from tests.flows.test_cli import ROOT, run_cli, service_env


def test_a_failed_upload_aborts_every_open_upload_even_when_an_abort_fails_once(tmp_path, pinpoint_env, s3_client):
    pinpoint_env.set_faults("S3:UploadPart", error500=2)  # the part's upload fails at its close (2 attempts)...
    pinpoint_env.set_faults("S3:AbortMultipartUpload", error500=2)  # ...and so does the first abort
    src = write_csv(tmp_path / "in.csv", good_rows(5) + [["x", "SMS", "+1 000", "US", "", "", "", "", ""]])
    out = run_cli("import", str(src), env={**service_env(pinpoint_env), "AWS_MAX_ATTEMPTS": "1"})
    pinpoint_env.clear_faults()
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert out.returncode == 1 and len(errors) == 1 and "InternalError" in errors[0], out.stderr
    assert not s3_client.list_multipart_uploads(Bucket=pinpoint_env.bucket).get("Uploads")
    assert [o["Key"] for o in s3_client.list_objects_v2(Bucket=pinpoint_env.bucket).get("Contents", [])] == []


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs unshare -rm (a private mount namespace) to mount a tmpfs")
def test_validate_onto_a_full_disk_leaves_no_output_and_names_the_run_and_the_file(tmp_path):
    """A 640 KiB tmpfs, mounted in a private mount namespace (unshare -rm: no change to this machine's
    mounts), holds the part and the rejects this run writes (~445 KB) but not its ledger (~370 KB more)."""
    src = write_csv(tmp_path / "in.csv", good_rows(5000) + [["x", "SMS", "+1 000", "US", "", "", "", "", ""]])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    script = (f'mount -t tmpfs -o size=640k tmpfs "{out_dir}" && '
              f'"{sys.executable}" -m pinpoint_etl.flows.cli validate "{src}" --out "{out_dir}" -q; '
              f'echo "rc=$?"; find "{out_dir}" -type f')
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)
    lines = done.stdout.splitlines()
    assert lines and lines[0] == "rc=2", (done.stdout, done.stderr)
    assert lines[1:] == []  # no part, rejects, ledger or manifest: nothing that looks complete, no temporary file
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "run r-" in errors[0] and str(out_dir) in errors[0] and "No space left on device" in errors[0]
