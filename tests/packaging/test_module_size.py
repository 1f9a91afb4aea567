"""No module over 400 lines, tests included, outside the local service, bench/ and the sample-data
generator (issue #16): split where it reads better."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400
EXEMPT = ("local/", "bench/", "sample_data/make_sample_data.py")


def test_no_module_over_the_limit():
    long = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".", "build/")) or "/." in rel or rel.startswith(EXEMPT):
            continue
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT:
            long[rel] = n
    assert long == {}
