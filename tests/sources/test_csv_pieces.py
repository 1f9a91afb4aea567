"""CSV pieces: a local UTF-8 file cut at record ends by a byte scan, each piece parsed on its own, gives
exactly what the streaming reader gives — rows, row numbers and errors — whatever the quoting, line
ends, blank lines, chunk size and scan block size."""

from __future__ import annotations

from unittest import mock

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinpoint_etl.core.errors import SourceError
from pinpoint_etl.sources import csv_pieces
from pinpoint_etl.sources.csv_pieces import CsvPiece, can_split, read_piece
from pinpoint_etl.sources.malformed import MalformedBatch
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.read import read_tables

_MALFORMED: list = []  # the malformed records of the last _read


def _read(path, options: ReadOptions, pieces: bool) -> tuple[pa.Table | None, str | None, list[str]]:
    """(all records, or None; the error message, or None; the kinds of items read); the malformed
    records read are left in ``_MALFORMED``, in row order."""
    kinds: list[str] = []
    _MALFORMED.clear()
    try:
        tables = []
        for item in read_tables(str(path), options, pieces=pieces):
            kinds.append(type(item).__name__)
            if isinstance(item, MalformedBatch):
                _MALFORMED.extend(item.records)
                continue
            if isinstance(item, CsvPiece):
                item, bad = read_piece(item)
                _MALFORMED.extend(bad)
            if item.num_rows:
                tables.append(item)
        _MALFORMED.sort(key=lambda m: m.row)
        return (pa.concat_tables(tables) if tables else None), None, kinds
    except SourceError as exc:
        return None, str(exc), kinds


_CHARS = st.sampled_from(["a", "b", "é", " ", ",", '"', "\n", "\r", "\r\n", ";", "x y"])
_FIELD = st.lists(_CHARS, max_size=4).map("".join)


@st.composite
def _csv(draw) -> bytes:
    """A CSV text: fields quoted when they must be (sometimes when they need not), CRLF/LF/CR line
    ends, blank lines, a BOM, no final line end, and now and then a stray quote or a ragged row."""
    ncols = draw(st.integers(1, 3))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [",".join(f"c{i}" for i in range(ncols))]
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 9)) == 0:
            lines.append("")  # a blank line
            continue
        width = ncols if draw(st.integers(0, 19)) else ncols + 1  # now and then a ragged row
        fields = []
        for _ in range(width):
            value = draw(_FIELD)
            must = any(c in value for c in ',"\r\n') or value == ""
            if must or draw(st.booleans()):
                value = '"' + value.replace('"', '""') + '"'
            fields.append(value)
        lines.append(",".join(fields))
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    if draw(st.integers(0, 7)) == 0:  # a stray quote somewhere
        at = draw(st.integers(0, len(text)))
        text = text[:at] + '"' + text[at:]
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode("utf-8")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_csv(), chunk_rows=st.integers(1, 5), block=st.integers(1, 9),
       on_malformed=st.sampled_from(["reject", "fail"]))
def test_pieces_read_exactly_what_the_streaming_reader_reads(tmp_path, data, chunk_rows, block, on_malformed):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    options = ReadOptions(chunk_rows=chunk_rows, on_malformed=on_malformed)
    expected, expected_error, _ = _read(path, options, pieces=False)
    expected_bad = list(_MALFORMED)
    with mock.patch.object(csv_pieces, "SCAN_BLOCK", block):
        got, error, _ = _read(path, options, pieces=True)
    assert error == expected_error
    assert _MALFORMED == expected_bad
    if expected is None:
        assert got is None
    else:
        assert got is not None and got.equals(expected)
    if on_malformed == "reject" and expected_error is None:  # every record is a row or a malformed record
        rows = (expected.column("_row").to_pylist() if expected is not None else []) + [m.row for m in expected_bad]
        assert sorted(rows) == list(range(1, len(rows) + 1))


def test_a_clean_file_is_read_in_pieces_only_and_a_stray_quote_hands_the_rest_to_the_streaming_reader(tmp_path):
    rows = ['e1,"Example, Inc.","two\nlines"', 'e2,b,"he said ""hi"""', "e3,c,d", "e4,e,f", "e5,g,h"]
    clean = tmp_path / "clean.csv"
    clean.write_text("Id,Name,Note\n" + "\n".join(rows) + "\n")
    table, error, kinds = _read(clean, ReadOptions(chunk_rows=2), pieces=True)
    assert error is None and kinds == ["CsvPiece"] * 3
    assert table.column("_row").to_pylist() == [1, 2, 3, 4, 5]
    assert table.column("Note").to_pylist()[:2] == ["two\nlines", 'he said "hi"']

    stray = tmp_path / "stray.csv"
    stray.write_text("Id,Name,Note\n" + "\n".join(rows[:4] + ['e5,5" screen,x']) + "\n")
    table, error, kinds = _read(stray, ReadOptions(chunk_rows=2), pieces=True)
    assert error is None and kinds == ["CsvPiece", "CsvPiece", "Table"]  # rows 1-4 in pieces, row 5 streamed
    assert table.column("Name").to_pylist()[-1] == '5" screen'
    assert table.column("_row").to_pylist() == [1, 2, 3, 4, 5]


def test_an_error_inside_a_piece_names_the_file_and_row(tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("Id,Name\n" + "".join(f"e{i},n\n" for i in range(1, 8)) + "e8,n,extra\ne9,n\n")
    _, error, kinds = _read(ragged, ReadOptions(chunk_rows=3, on_malformed="fail"), pieces=True)
    assert kinds == ["CsvPiece"] * 3 and error == f"{ragged}, row 8: expected 2 fields, found 3"
    for mode in ("fail", "reject"):  # bad bytes are the whole file's problem either way
        bad = tmp_path / "bad.csv"
        bad.write_bytes(b"Id,Name\ne1,ok\ne2,caf\xe9\n")
        _, error, _ = _read(bad, ReadOptions(chunk_rows=1, on_malformed=mode), pieces=True)
        assert error.startswith(f"{bad}, row 2, field Name: invalid utf-8 (byte 0xe9)")


def test_a_ragged_row_inside_a_piece_is_rejected_with_its_row_line_and_text(tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("Id,Name\n\n" + 'e1,"two\nlines"\n' + "".join(f"e{i},n\n" for i in range(2, 8))
                      + "e8,n,extra\ne9,n\n")
    table, error, kinds = _read(ragged, ReadOptions(chunk_rows=3), pieces=True)
    assert error is None and kinds == ["CsvPiece"] * 3
    assert table.column("_row").to_pylist() == [1, 2, 3, 4, 5, 6, 7, 9]
    (bad,) = _MALFORMED
    assert (bad.source, bad.row, bad.line, bad.reason, bad.raw) == (str(ragged), 8, 11, "expected 2 fields, found 3",
                                                                     "e8,n,extra")


def test_only_plain_local_utf8_files_are_cut():
    assert can_split("data/a.csv", ReadOptions())
    assert can_split("data/a.csv", ReadOptions(encoding="utf-8-sig"))
    assert not can_split("data/a.csv.gz", ReadOptions())
    assert not can_split("s3://bucket/a.csv", ReadOptions())
    assert not can_split("https://example.com/a.csv", ReadOptions())
    assert not can_split("data/a.csv", ReadOptions(encoding="cp1252"))


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_blank_lines_and_a_missing_last_line_end_do_not_shift_row_numbers(tmp_path, end):
    path = tmp_path / "b.csv"
    path.write_text(end.join(["Id,X", "", "a,1", "", "", "b,2", "c,3"]), newline="")
    table, error, kinds = _read(path, ReadOptions(chunk_rows=2), pieces=True)
    assert error is None and set(kinds) == {"CsvPiece"}
    assert table.column("Id").to_pylist() == ["a", "b", "c"] and table.column("_row").to_pylist() == [1, 2, 3]


@pytest.mark.parametrize("mode", ["fail", "reject"])
@pytest.mark.parametrize("size", [(1 << 20) - 100, (1 << 20) + 100, 3 << 20])
def test_a_line_longer_than_a_streaming_block_is_left_to_the_streaming_reader(tmp_path, size, mode):
    path = tmp_path / "long.csv"
    path.write_text("Id,Note\ne1,a\ne2,\"" + "x" * size + "\"\ne3,c\ne4,d\n")
    options = ReadOptions(chunk_rows=1, on_malformed=mode)
    expected, expected_error, _ = _read(path, options, pieces=False)
    expected_bad = list(_MALFORMED)
    got, error, kinds = _read(path, options, pieces=True)
    assert error == expected_error and (got is None) == (expected is None) and _MALFORMED == expected_bad
    assert got is None or got.equals(expected)
    assert kinds[0] == "CsvPiece"  # e1 in a piece; from e2 on streamed if e2 is longer than a block
    if size < 1 << 20:
        assert kinds[1:] == ["CsvPiece"] * 3
    elif size < 3 << 20:
        assert kinds[1:] == ["Table"] * 3
    elif mode == "fail":  # the 3 MiB field is refused, as the streaming reader does
        assert kinds[1:] == [] and expected_error is not None
    else:  # ... or its record is rejected (its first 10,000 characters kept) and the next rows read
        assert got.column("Id").to_pylist() == ["e1", "e3", "e4"]
        (bad,) = expected_bad
        assert (bad.row, bad.line, len(bad.raw)) == (2, 3, 10_001) and "longer than" in bad.reason


def test_a_piece_is_parsed_into_one_chunk_per_column(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("Id,Note\n" + "".join(f"e{i},{'n' * 200}\n" for i in range(20000)))  # ~4 MB: several blocks
    (piece,) = list(read_tables(str(path), ReadOptions(chunk_rows=20000), pieces=True))
    table, _ = read_piece(piece)
    assert table.num_rows == 20000 and {table.column(c).num_chunks for c in table.column_names} == {1}


@pytest.mark.parametrize("mode", ["fail", "reject"])
def test_text_after_a_closing_quote_is_found_wherever_the_scan_blocks_end(tmp_path, mode):
    path = tmp_path / "after.csv"
    path.write_bytes(b'Id,Name\ne1,"ab"c\ne2,d\n')  # the streaming reader refuses text after a closing quote
    options = ReadOptions(chunk_rows=1, on_malformed=mode)
    expected = _read(path, options, pieces=False)[:2]
    expected_bad = list(_MALFORMED)
    assert (expected[1] is not None) == (mode == "fail")
    assert [m.row for m in expected_bad] == ([1] if mode == "reject" else [])
    for block in range(1, len(path.read_bytes()) + 1):
        with mock.patch.object(csv_pieces, "SCAN_BLOCK", block):
            got = _read(path, options, pieces=True)[:2]
            assert (got[1], _MALFORMED) == (expected[1], expected_bad), block
            assert (got[0] is None and expected[0] is None) or got[0].equals(expected[0]), block
