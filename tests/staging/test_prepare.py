"""Two-pass staging into a local folder: books, dedupe, per-user limit, parts, rejects, file format."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pinpoint_etl.core.errors import ColumnError
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.staging.prepare import StageOptions, prepare
from tests.flows.helpers import good_rows, write_csv


def _stage(tmp_path, *paths, **kw):
    opts = StageOptions(sources=[str(p) for p in paths], read=ReadOptions(chunk_rows=kw.pop("chunk_rows", 100_000)),
                        **kw)
    return prepare(opts, run_id="r-test", out_base=str(tmp_path / "out"))


def _rows(part_uri: str) -> list[list[str]]:
    with open(part_uri, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_books_balance_and_staged_file_is_import_ready(tmp_path):
    rows = good_rows(10) + [["bad-1", "SMS", "+1 000", "US", "", "", "", "", ""],
                            ["bad-2", "EMAIL", "no-domain", "Atlantis", "Mars/Olympus", "", "", "", "NaN"]]
    p = _stage(tmp_path, write_csv(tmp_path / "in.csv", rows))
    assert (p.rows_read, p.rows_valid, p.rows_rejected, p.rows_superseded) == (12, 10, 2, 0)
    (part,) = p.parts
    staged = _rows(part.uri)
    assert staged[0][:3] == ["Id", "ChannelType", "Address"]
    assert staged[0].count("Attributes.Interests") == 2
    assert len(staged) == 11 and part.rows == 10 and part.bytes == Path(part.uri).stat().st_size
    raw = Path(part.uri).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw and b"\t" not in raw
    by_id = {r[0]: dict(zip(staged[0], r)) for r in staged[1:]}
    assert by_id["sms-1"]["Address"] == "+12065550101" and by_id["sms-1"]["Location.Country"] == "US"
    rejects = [json.loads(x) for x in Path(p.rejects_uri).read_text().splitlines()]
    assert [r["row"] for r in rejects] == [11, 12]
    second = rejects[1]
    assert len(second["reasons"]) >= 4  # email, country, timezone, metric: every reason, not the first
    assert second["values"]["Location.Country"] == "Atlantis"  # original values are kept
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["rows_read"] == 12 and manifest["staged"][0]["rows"] == 10


def test_last_occurrence_of_an_id_wins_across_chunks_and_files(tmp_path):
    a = write_csv(tmp_path / "a.csv", good_rows(3000))
    later = good_rows(2)
    later[1][4] = "Europe/Paris"  # sms-1 again, with a new time zone
    b = write_csv(tmp_path / "b.csv", later)
    p = _stage(tmp_path, a, b, chunk_rows=1000)
    assert p.rows_read == 3002 and p.rows_superseded == 2 and p.rows_valid == 3000
    staged = _rows(p.parts[0].uri)
    header = staged[0]
    sms1 = [dict(zip(header, r)) for r in staged[1:] if r[0] == "sms-1"]
    assert len(sms1) == 1 and sms1[0]["Demographic.Timezone"] == "Europe/Paris"


def test_sixteenth_endpoint_of_a_user_is_rejected(tmp_path):
    rows = [[f"e{i}", "EMAIL", f"u{i}@example.com", "US", "", "same-user", "", "", ""] for i in range(17)]
    p = _stage(tmp_path, write_csv(tmp_path / "in.csv", rows))
    assert (p.rows_valid, p.rows_rejected) == (15, 2)
    rejects = [json.loads(x) for x in Path(p.rejects_uri).read_text().splitlines()]
    assert [r["row"] for r in rejects] == [16, 17] and "more than 15 endpoints" in rejects[0]["reasons"][0]


def test_rows_read_back_from_csv_lines_match_the_rows_kept_as_arrow(tmp_path):
    """A CSV source staged as CSV keeps only its workers' lines: the last pass reads rows back from
    them (a user's 16th endpoint; a chunk lacking some of the run's columns). NDJSON staging keeps
    the rows as Arrow; both give the same rejects and the same staged values."""
    tricky = ['a, "quoted" value', "ünïcödé ✓", "", "x" * 99]
    rows = [[f"e{i}", "EMAIL", f"u{i}@example.com", "US", "", "same-user", tricky[i % 4], tricky[(i + 1) % 4], ""]
            for i in range(18)]
    a = write_csv(tmp_path / "a.csv", rows)
    b = write_csv(tmp_path / "b.csv", [["b1", "EMAIL", "b1@example.com", "DE", 'say "hi", ok']],
                  header=["Id", "ChannelType", "Address", "Location.Country", "Attributes.Note"])
    runs = {fmt: _stage(tmp_path / fmt, a, b, fmt=fmt, chunk_rows=5) for fmt in ("CSV", "JSON")}
    rejects = {fmt: [json.loads(x) for x in Path(p.rejects_uri).read_text().splitlines()] for fmt, p in runs.items()}
    assert [r["row"] for r in rejects["CSV"]] == [16, 17, 18]
    assert rejects["CSV"] == rejects["JSON"]
    assert rejects["CSV"][0]["values"]["Attributes.Interests"] == tricky[15 % 4]
    staged = _rows(runs["CSV"].parts[0].uri)
    by_id = {r[0]: r for r in staged[1:]}
    header = staged[0]
    assert by_id["b1"][header.index("Attributes.Note")] == 'say "hi", ok'
    assert by_id["b1"][header.index("Attributes.Interests")] == ""  # b.csv has no such column
    e1 = by_id["e1"]
    assert [e1[i] for i, h in enumerate(header) if h == "Attributes.Interests"] == [tricky[1], tricky[2]]
    lines = [json.loads(x) for x in Path(runs["JSON"].parts[0].uri).read_text().splitlines()]
    assert {r["Id"] for r in lines} == set(by_id) and len(lines) == len(by_id) == 16


def test_parts_respect_the_size_limit_and_keep_every_row(tmp_path):
    p = _stage(tmp_path, write_csv(tmp_path / "in.csv", good_rows(200)), max_part_bytes=4096)
    assert len(p.parts) > 3
    assert all(part.bytes <= 4096 and Path(part.uri).stat().st_size == part.bytes for part in p.parts)
    assert sum(part.rows for part in p.parts) == 200 == sum(len(_rows(x.uri)) - 1 for x in p.parts)


def test_ndjson_parts_respect_the_size_limit_and_keep_every_row(tmp_path):
    p = _stage(tmp_path, write_csv(tmp_path / "in.csv", good_rows(200)), fmt="JSON", max_part_bytes=4096)
    assert len(p.parts) > 3
    assert all(part.bytes <= 4096 and Path(part.uri).stat().st_size == part.bytes for part in p.parts)
    lines = [json.loads(line) for x in p.parts for line in Path(x.uri).read_text(encoding="utf-8").splitlines()]
    assert sum(part.rows for part in p.parts) == 200 == len(lines) == len({r["Id"] for r in lines})


def test_ndjson_staging_nests_objects_and_arrays(tmp_path):
    p = _stage(tmp_path, write_csv(tmp_path / "in.csv", good_rows(2)), fmt="JSON")
    lines = [json.loads(x) for x in Path(p.parts[0].uri).read_text().splitlines()]
    first = lines[0]
    assert first["Location"]["Country"] == "DE" and first["Attributes"]["Interests"] == ["Travel"]
    assert first["Metrics"]["sessions"] == 1.5 and first["User"]["UserId"] == "u0"


def test_too_many_custom_attributes_fail_before_anything_is_written(tmp_path):
    header = ["Id", "ChannelType", "Address"] + [f"Attributes.a{i}" for i in range(251)]
    src = write_csv(tmp_path / "in.csv", [["x", "EMAIL", "x@example.com"] + ["v"] * 251], header=header)
    with pytest.raises(ColumnError, match="251 custom attributes"):
        _stage(tmp_path, src)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.csv"))


def test_attribute_name_over_50_characters_is_a_column_error(tmp_path):
    name = "Attributes." + "n" * 51
    src = write_csv(tmp_path / "in.csv", [["x", "EMAIL", "x@example.com", "v"]],
                    header=["Id", "ChannelType", "Address", name])
    with pytest.raises(ColumnError, match="longer than 50 characters"):
        _stage(tmp_path, src)


def test_ledger_records_every_rows_fate(tmp_path):
    from pinpoint_etl.staging.ledger import read_batches

    rows = good_rows(4) + [["bad", "SMS", "+1 000", "US", "", "", "", "", ""]] + good_rows(1)
    src = write_csv(tmp_path / "in.csv", rows)
    p = _stage(tmp_path, src)
    table = __import__("pyarrow").concat_tables(
        [__import__("pyarrow").Table.from_batches([b]) for b in read_batches(p.ledger_uri)]).to_pandas()
    assert len(table) == p.rows_read == 6
    by_row = table.set_index("row")
    assert by_row.loc[5, "fate"] == "rejected" and "phone" in by_row.loc[5, "detail"]
    assert by_row.loc[1, "fate"] == "superseded" and by_row.loc[1, "detail"] == f"superseded by {src} row 6"
    staged = table[table["fate"] == "staged"].sort_values("part_row")
    assert staged["row"].tolist() == [2, 3, 4, 6] and staged["part_row"].tolist() == [1, 2, 3, 4]
    assert set(staged["part"]) == {p.parts[0].uri}


@pytest.mark.parametrize("max_bytes", [300, 4096, 1 << 20])
def test_worker_encoded_lines_and_arrow_rows_make_identical_parts(tmp_path, max_bytes):
    """The fast path (CSV lines encoded by the chunk's worker, kept lines spliced) and the fallback
    (kept Arrow rows encoded in the last pass) cut the same parts, byte for byte, with the same
    ledger rows; a row larger than the limit gets a part of its own."""
    import numpy as np
    import pyarrow as pa

    from pinpoint_etl.storage import write
    from pinpoint_etl.core import catalogue as cat
    from pinpoint_etl.staging.ledger import LedgerWriter, read_batches
    from pinpoint_etl.staging.parts import PartWriter
    from pinpoint_etl.staging.prepare import Prepared
    from pinpoint_etl.staging.writers import csv_rows

    n = 60
    columns = ["Id", "ChannelType", "Address", "Attributes.Note"]
    table = pa.table({"Id": [f"id-{i}" for i in range(n)], "ChannelType": ["EMAIL"] * n,
                      "Address": [f"user{i}@example.com" for i in range(n)],
                      "Attributes.Note": ["x" * (400 if i == 7 else i % 5) or None for i in range(n)],
                      cat.ROW_COL: np.arange(1, n + 1, dtype=np.int64)})
    keep = np.ones(n, dtype=bool)
    keep[[0, 3, 4, 30, 59]] = False

    def run(name, lines: bool):
        out = tmp_path / name
        result = Prepared(run_id="r", out_base=str(out))
        ledger = LedgerWriter(str(out / "ledger.csv"))
        outputs = write.Outputs()
        writer = PartWriter(str(out), "CSV", columns, max_bytes, outputs, result.parts, ledger)
        if lines:
            buf = np.frombuffer(csv_rows(table, columns), dtype=np.uint8)
            writer.write_lines(buf, keep, table.column(cat.ROW_COL).to_numpy()[keep], "in.csv")
        else:
            writer.write(table.filter(pa.array(keep)), "in.csv")
        writer.close()
        ledger.close()
        outputs.commit()
        parts = [(Path(p.uri).name, p.rows, p.bytes, Path(p.uri).read_bytes()) for p in result.parts]
        rows = [(r["row"], r["part"].rsplit("/", 1)[-1], r["part_row"])
                for b in read_batches(str(out / "ledger.csv")) for r in b.to_pylist()]
        return parts, rows

    lines, arrow = run("lines", True), run("arrow", False)
    assert lines == arrow
    parts, rows = lines
    assert sum(p[1] for p in parts) == int(keep.sum()) == len(rows)
    assert [r[0] for r in rows] == [i + 1 for i in range(n) if keep[i]]
    big = [p for p in parts if p[2] > max_bytes]  # only a part holding the one oversized row alone
    assert all(p[1] == 1 and b"x" * 400 in p[3] for p in big) and (max_bytes >= 4096 or big)


def test_manifest_names_a_source_without_its_credentials(tmp_path):
    """A source URL's password and presigned parameters never reach manifest.json (issue #15)."""
    import functools
    import http.server
    import threading

    www = tmp_path / "www"
    www.mkdir()
    write_csv(www / "e.csv", good_rows(3))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://bob:s3cr3t-pw@127.0.0.1:{server.server_address[1]}"
        uri = f"{base}/e.csv?X-Amz-Credential=ASIAEXAMPLE&X-Amz-Security-Token=tok-123456&X-Amz-Signature=sig-abcdef"
        p = _stage(tmp_path, uri)
    finally:
        server.shutdown()
        server.server_close()
    assert p.rows_valid == 3
    text = (tmp_path / "out" / "manifest.json").read_text()
    for secret in ("s3cr3t-pw", "ASIAEXAMPLE", "tok-123456", "sig-abcdef", "bob"):
        assert secret not in text, secret
    assert json.loads(text)["sources"] == [f"http://****@127.0.0.1:{server.server_address[1]}/e.csv?"
                                           "X-Amz-Credential=****&X-Amz-Security-Token=****&X-Amz-Signature=****"]
