"""Time the export's work after the job: Pinpoint's raw .gz files → one output file (no service needed).

    .venv/bin/python bench/export.py --rows 200000                 # csv, ndjson and parquet
    .venv/bin/python bench/export.py --rows 200000 --formats csv --repeat 3

Generates N EndpointResponse records as the local service's export job writes them (gzip NDJSON, 1000 per
file; e-mail, SMS and push endpoints with locations, demographics, 1-3 interests, metrics, user attributes,
export-only fields) into a cache folder once, then runs ``export.run.export_files`` on them for each format
in a fresh subprocess and prints wall seconds, endpoints/s, CPU seconds (user + system; steadier than wall
time on a shared machine) and the subprocess's peak RSS. Results: README.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PER_FILE = 1000
CITIES = [("US", "Washington", "Seattle", 47.6, -122.3, "en_US", "America/Los_Angeles"),
          ("DE", "Berlin", "Berlin", 52.5, 13.4, "de_DE", "Europe/Berlin"),
          ("GB", "England", "London", 51.5, -0.1, "en_GB", "Europe/London"),
          ("JP", "Tokyo", "Tokyo", 35.7, 139.7, "ja_JP", "Asia/Tokyo")]
INTERESTS = ["Music", "Books", "Travel", "Film", "Sports", "Cooking"]


def record(i: int, rng: random.Random) -> dict:
    country, region, city, lat, lon, locale, tz = CITIES[i % len(CITIES)]
    channel = ("EMAIL", "SMS", "GCM")[i % 3]
    address = {"EMAIL": f"user{i}@example.com", "SMS": f"+1206{200 + i % 800:03d}{i % 10_000:04d}",
               "GCM": f"fcm-token-{i:012d}-{rng.getrandbits(64):016x}"}[channel]
    return {"ChannelType": channel, "Address": address, "EndpointStatus": "ACTIVE", "OptOut": "NONE",
            "EffectiveDate": "2026-11-23T10:54:35.220Z", "CreationDate": "2026-11-23T10:54:35.220Z",
            "ApplicationId": "0" * 32, "Id": f"{channel.lower()}-{i}", "CohortId": str(i % 100),
            "RequestId": f"req-{i}",
            "Location": {"Country": country, "Region": region, "City": city, "Latitude": lat, "Longitude": lon},
            "Demographic": {"Locale": locale, "Timezone": tz, "Platform": "android", "AppVersion": "2.3.1"},
            "Attributes": {"Interests": rng.sample(INTERESTS, 1 + i % 3)},
            "Metrics": {"sessions": float(i % 50), "ltv": round(rng.random() * 1000, 2)},
            "User": {"UserId": f"u{i // 2}", "UserAttributes": {"FirstName": [f"Name{i % 997}"]}}}


def raw_files(rows: int, cache: Path) -> list[str]:
    folder = cache / f"export-{rows}"
    if not (folder / "done").exists():
        folder.mkdir(parents=True, exist_ok=True)
        rng = random.Random(7)
        for f in range(0, rows, PER_FILE):
            lines = "".join(json.dumps(record(i, rng), separators=(",", ":")) + "\n"
                            for i in range(f, min(f + PER_FILE, rows)))
            (folder / f"part-{f // PER_FILE:05d}.gz").write_bytes(gzip.compress(lines.encode(), compresslevel=6))
        (folder / "done").touch()
    return sorted(str(p) for p in folder.glob("part-*.gz"))


def child(fmt: str, listing: str, out: str) -> None:
    """One export in this process; prints {seconds, peak_rss_mb, rows}."""
    from pinpoint_etl.export.options import ExportOptions
    from pinpoint_etl.export.report import ExportReport
    from pinpoint_etl.export.run import export_files
    from pinpoint_etl.flows.runtime import Runtime

    uris = Path(listing).read_text().split()
    report = ExportReport(run_id="x-bench", status="failed", target="bench", application_id="a", segment_id=None,
                          segment_version=None, format=fmt, export_prefix="p")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, start = usage.ru_utime + usage.ru_stime, time.perf_counter()
    export_files(uris, out, ExportOptions(format=fmt), report, Runtime())
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    print(json.dumps({"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                      "peak_rss_mb": round(usage.ru_maxrss / 1024), "rows": report.rows_written}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--formats", default="csv,ndjson,parquet")
    ap.add_argument("--repeat", type=int, default=1, help="runs per format; the fastest is kept")
    ap.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "pinpoint-etl-bench"))
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    uris = raw_files(args.rows, Path(args.cache_dir))
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "files.txt"
        listing.write_text("\n".join(uris))
        print(f"{args.rows:,} endpoints in {len(uris)} raw files")
        for fmt in args.formats.split(","):
            runs = []
            for _ in range(args.repeat):
                out = subprocess.run([sys.executable, __file__, "--child", fmt, str(listing), f"{tmp}/out.{fmt}"],
                                     capture_output=True, text=True, check=True)
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            best = min(runs, key=lambda r: r["seconds"])
            print(f"{fmt:8} {best['seconds']:7.2f} s  {best['rows'] / best['seconds']:10,.0f} endpoints/s  "
                  f"CPU {best['cpu_seconds']:.2f} s  peak RSS {best['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
