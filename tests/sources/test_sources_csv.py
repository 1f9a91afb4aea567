"""CSV sources: features of the format, row numbers, chunking, and every error with file and row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pinpoint_etl.core.errors import ConfigError, SourceError
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.malformed import MalformedBatch
from pinpoint_etl.sources.read import read_header, read_tables
from tests.sources.helpers import read_all, read_chunks, records


def write(tmp_path, name: str, data: bytes | str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def test_plain_csv_types_and_bookkeeping_columns(tmp_path):
    path = write(tmp_path, "endpoints.csv", "Id,ChannelType,Metrics.sessions\ne1,EMAIL,12\ne2,SMS,\n")
    df = read_all(path)
    assert list(df.columns) == ["Id", "ChannelType", "Metrics.sessions", "_source", "_row"]
    assert df["Id"].dtype == "str" and df["Metrics.sessions"].dtype == "str"
    assert df["Metrics.sessions"].tolist()[0] == "12" and pd.isna(df["Metrics.sessions"][1])
    assert df["_row"].dtype == np.int64 and df["_row"].tolist() == [1, 2]
    assert isinstance(df["_source"].dtype, pd.CategoricalDtype)
    assert set(df["_source"].astype(str)) == {str(path)}


def test_bom_crlf_and_rfc4180_quoting(tmp_path):
    data = ('\ufeffId,Name,Note\r\n'
            'a,"Example, Inc.","he said ""hi"""\r\n'
            'b,"two\r\nlines","x"\r\n'
            'c,plain,\r\n')
    df = read_all(write(tmp_path, "q.csv", data))
    assert list(df.columns)[:3] == ["Id", "Name", "Note"]
    assert records(df) == [
        {"Id": "a", "Name": "Example, Inc.", "Note": 'he said "hi"'},
        {"Id": "b", "Name": "two\r\nlines", "Note": "x"},
        {"Id": "c", "Name": "plain"},
    ]
    assert df["_row"].tolist() == [1, 2, 3]


def test_quoted_newlines_do_not_shift_row_numbers_and_blank_lines_are_not_records(tmp_path):
    data = 'Id,Note\n1,"a\nb\nc"\n\n2,x\n3,"y\n"\n4,z\n'
    df = read_all(write(tmp_path, "nl.csv", data))
    assert df["Id"].tolist() == ["1", "2", "3", "4"]
    assert df["_row"].tolist() == [1, 2, 3, 4]
    assert df["Note"].tolist()[0] == "a\nb\nc"


def test_repeated_headers_become_slots_and_names_are_stripped(tmp_path):
    data = " Id ,Attributes.Interests,Attributes.Interests, Attributes.Interests\n1,Music,Books,Art\n"
    path = write(tmp_path, "slots.csv", data)
    expected = ["Id", "Attributes.Interests", "Attributes.Interests#2", "Attributes.Interests#3"]
    assert read_header(str(path), ReadOptions()) == expected
    df = read_all(path)
    assert records(df) == [dict(zip(expected, ["1", "Music", "Books", "Art"]))]


@pytest.mark.parametrize("delimiter, name", [(";", "semi.csv"), ("\t", "tab.txt"), ("tab", "tab2.csv")])
def test_delimiters(tmp_path, delimiter, name):
    sep = "\t" if delimiter == "tab" else delimiter
    data = f"Id{sep}Location.City\n1{sep}\"Paris{sep} FR\"\n2{sep}Rome\n"
    df = read_all(write(tmp_path, name, data), delimiter=delimiter)
    assert records(df) == [{"Id": "1", "Location.City": f"Paris{sep} FR"}, {"Id": "2", "Location.City": "Rome"}]


def test_tsv_extension_defaults_to_tab(tmp_path):
    df = read_all(write(tmp_path, "x.tsv", "Id\tLocation.City\n1\tSan Jose, CA\n"))
    assert records(df) == [{"Id": "1", "Location.City": "San Jose, CA"}]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16", "utf-8-sig"])
def test_other_encodings_are_transcoded(tmp_path, encoding):
    data = "Id,User.UserAttributes.FirstName,Note\n1,Jürgen,\"Café\nCrème\"\n2,Chloé,ok\n"
    if encoding == "cp1252":
        data = data.replace("ok", "€5")
    path = write(tmp_path, "enc.csv", data, encoding=encoding)
    df = read_all(path, encoding=encoding)
    assert list(df.columns)[:3] == ["Id", "User.UserAttributes.FirstName", "Note"]
    assert df["User.UserAttributes.FirstName"].tolist() == ["Jürgen", "Chloé"]
    assert df["Note"].tolist() == ["Café\nCrème", "€5" if encoding == "cp1252" else "ok"]
    assert df["_row"].tolist() == [1, 2]


def test_row_numbers_exact_across_small_chunks(tmp_path):
    lines = ["Id,Note"]
    for i in range(1, 26):
        lines.append(f'{i},"line\nbreak {i}"' if i % 4 == 0 else f"{i},n{i}")
        if i % 7 == 0:
            lines.append("")  # blank line: skipped, not counted
    path = write(tmp_path, "many.csv", "\n".join(lines) + "\n")
    chunks = list(read_chunks(str(path), ReadOptions(chunk_rows=4)))
    assert [len(c) for c in chunks] == [4, 4, 4, 4, 4, 4, 1]
    df = pd.concat(chunks, ignore_index=True)
    assert df["_row"].tolist() == list(range(1, 26))
    assert (df["Id"].astype(int) == df["_row"]).all()
    assert df.loc[df["Id"] == "8", "Note"].item() == "line\nbreak 8"


def test_rows_spanning_many_pyarrow_blocks(tmp_path, monkeypatch):
    from pinpoint_etl.sources import csv_reader

    monkeypatch.setattr(csv_reader, "BLOCK_SIZE", 256)  # many blocks, several per chunk
    body = "".join(f'{i},"v{i}\nx"\n' for i in range(1, 501))
    df = read_all(write(tmp_path, "blocks.csv", "Id,Note\n" + body), chunk_rows=37)
    assert df["_row"].tolist() == list(range(1, 501))
    assert (df["Id"].astype(int) == df["_row"]).all()


def test_header_only_is_zero_rows_not_an_error(tmp_path):
    path = write(tmp_path, "header.csv", "Id,Address\r\n")
    assert read_header(str(path), ReadOptions()) == ["Id", "Address"]
    assert list(read_chunks(str(path), ReadOptions())) == []
    for name, data in [("no-newline.csv", "Id,Address"), ("blank-lines.csv", "\n\nId,Address\n\r\n\n")]:
        assert list(read_chunks(str(write(tmp_path, name, data)), ReadOptions())) == []


def test_chunks_are_exactly_chunk_rows(tmp_path):
    path = write(tmp_path, "eight.csv", "Id\n" + "".join(f"{i}\n" for i in range(1, 9)))
    chunks = list(read_chunks(str(path), ReadOptions(chunk_rows=4)))
    assert [c["_row"].tolist() for c in chunks] == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert [c.index.tolist() for c in chunks] == [[0, 1, 2, 3], [0, 1, 2, 3]]


def test_quoted_empty_is_missing_and_quote_inside_unquoted_field_is_kept(tmp_path):
    df = read_all(write(tmp_path, "e.csv", 'Id,Model,Note\n1,"",15" screen\n'))
    assert pd.isna(df["Model"][0]) and df["Note"][0] == '15" screen'


# --- errors: each names the file (and row / field where there is one) -------------------------------


def raises(path, match, **options) -> SourceError:
    with pytest.raises(SourceError, match=match) as info:
        read_all(path, **options)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    return info.value


def test_missing_file(tmp_path):
    err = raises(tmp_path / "nope.csv", "file not found")
    assert err.source == str(tmp_path / "nope.csv")
    with pytest.raises(SourceError, match="file not found"):
        read_header(str(tmp_path / "nope.csv"), ReadOptions())


def test_empty_file(tmp_path):
    raises(write(tmp_path, "empty.csv", b""), "empty file")
    raises(write(tmp_path, "blank.csv", b"\r\n\n"), "empty file")


def test_empty_header_name_names_its_position(tmp_path):
    err = raises(write(tmp_path, "h.csv", "Id,,Address\n1,2,3\n"), r"empty column name .*column 2")
    assert err.row is None


def test_reserved_header_name(tmp_path):
    raises(write(tmp_path, "r.csv", "Id,_row\n1,2\n"), "reserved")


@pytest.mark.parametrize("line, found", [("3,4,5", 3), ("3", 1)])
def test_ragged_row(tmp_path, line, found):
    path = write(tmp_path, "ragged.csv", f'Id,Note\n1,"a\nb"\n\n2,x\n{line}\n4,y\n')
    err = raises(path, f"row 3: expected 2 fields, found {found}", on_malformed="fail")
    assert err.row == 3


def test_ragged_row_deep_in_a_large_file(tmp_path):
    body = "".join(f"{i},v{i}\n" for i in range(1, 30001))
    path = write(tmp_path, "deep.csv", "Id,Note\n" + body + "30001,a,b\n30002,c\n")
    err = raises(path, "row 30001: expected 2 fields, found 3", chunk_rows=1000, on_malformed="fail")
    assert err.row == 30001


def test_invalid_utf8_names_row_and_field(tmp_path):
    path = write(tmp_path, "bad.csv", b"Id,Name\n1,ok\n2,caf\xe9\n3,ok\n")
    err = raises(path, r"row 2, field Name: invalid utf-8 \(byte 0xe9\)")
    assert (err.row, err.field) == (2, "Name")


def test_invalid_utf8_in_the_header(tmp_path):
    raises(write(tmp_path, "badh.csv", b"Id,Nam\xe9\n1,2\n"), "invalid utf-8 in the header")


def test_invalid_bytes_for_a_declared_encoding(tmp_path):
    # 0x81 is undefined in cp1252
    path = write(tmp_path, "cp.csv", b"Id,Name\n1,ok\n2,x\x81y\n")
    err = raises(path, r"row 2, field Name: invalid cp1252", encoding="cp1252")
    assert err.row == 2


def test_unterminated_quote_at_end_of_file(tmp_path):
    # pyarrow alone would swallow the rest of the file into one field without complaint
    path = write(tmp_path, "unterminated.csv", 'Id,Note\n1,a\n2,"open\n3,b\n')
    chunks = read_chunks(str(path), ReadOptions(chunk_rows=1, on_malformed="fail"))
    first = next(chunks)
    assert first["Id"].tolist() == ["1"]
    with pytest.raises(SourceError, match=r"row 2: unterminated quoted field .*line 3"):
        list(chunks)


def test_unterminated_quote_longer_than_a_block(tmp_path):
    body = "".join(f"{i},v{i}\n" for i in range(1, 200001))
    path = write(tmp_path, "long.csv", 'Id,Note\n1,"never closed\n' + body)
    raises(path, r"row 1: field longer than \d+ characters: unterminated quoted field", on_malformed="fail")


def test_stray_quote_after_quoted_field(tmp_path):
    path = write(tmp_path, "stray.csv", 'Id,Note\n1,ok\n2,"ab"c,d\n3,x\n')
    err = raises(path, r"row 2: stray quote", on_malformed="fail")
    assert err.row == 2


def test_truncated_gzip(tmp_path):
    import gzip

    data = gzip.compress(("Id,Note\n" + "".join(f"{i},v\n" for i in range(5000))).encode())
    raises(write(tmp_path, "cut.csv.gz", data[: len(data) // 2]), "compressed stream ended early")


def test_corrupt_gzip(tmp_path):
    raises(write(tmp_path, "notgz.csv.gz", b"Id,Note\n1,2\n"), "not a gzip file")


def test_errors_do_not_quote_row_contents(tmp_path):
    path = write(tmp_path, "pii.csv", "Id,Address\n1,mary.major@example.com,+12065550100\n")
    err = raises(path, "row 1: expected 2 fields, found 3", on_malformed="fail")
    assert "example.com" not in str(err) and "2065550100" not in str(err)


def test_unknown_extension_and_bad_options(tmp_path):
    raises(write(tmp_path, "book.xlsx", b"PK"), "cannot tell the format")
    assert len(read_all(write(tmp_path, "data.dat", "Id\n1\n"), format="csv")) == 1
    with pytest.raises(ConfigError):
        ReadOptions(delimiter=";;")
    with pytest.raises(ConfigError):
        ReadOptions(encoding="no-such-codec")
    with pytest.raises(ConfigError):
        ReadOptions(chunk_rows=0)


# --- malformed records rejected (on_malformed="reject", the default) ----------------------------------


def malformed(path, **options) -> tuple[pd.DataFrame, list]:
    """(good rows, malformed records) of ``path``, read as the pipeline reads it (streaming)."""
    frames, bad = [], []
    for item in read_tables(str(path), ReadOptions(**options)):
        if isinstance(item, MalformedBatch):
            bad.extend(item.records)
        else:
            frames.append(item.to_pandas())
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), bad


@pytest.mark.parametrize("name", ["ragged.csv", "ragged.csv.gz"])
def test_a_ragged_row_is_rejected_with_its_row_line_reason_and_text(tmp_path, name):
    import gzip

    text = 'Id,Note\n1,"a\nb"\n\n2,x\n3,4,5\n4,y\n'
    data = gzip.compress(text.encode()) if name.endswith(".gz") else text.encode()
    rows, (bad,) = malformed(write(tmp_path, name, data))
    assert rows["Id"].tolist() == ["1", "2", "4"] and rows["_row"].tolist() == [1, 2, 4]
    assert (bad.row, bad.line, bad.reason, bad.raw) == (3, 6, "expected 2 fields, found 3", "3,4,5")


def test_an_unterminated_quote_rejects_its_first_line_and_reading_resumes(tmp_path):
    path = write(tmp_path, "open.csv", 'Id,Note\n1,a\n2,"open\n3,b\n')
    rows, (bad,) = malformed(path, chunk_rows=1)
    assert rows["Id"].tolist() == ["1", "3"] and rows["_row"].tolist() == [1, 3]
    assert (bad.row, bad.line, bad.raw) == (2, 3, '2,"open') and "unterminated quoted field" in bad.reason


def test_a_stray_quote_and_a_line_that_is_not_csv_are_rejected(tmp_path):
    path = write(tmp_path, "stray.csv", 'Id,Note\n1,ok\n2,"ab"c,d\nthis is a log line, not a record, at all\n3,x\n')
    rows, bad = malformed(path)
    assert rows["Id"].tolist() == ["1", "3"] and rows["_row"].tolist() == [1, 4]
    assert [(m.row, m.line) for m in bad] == [(2, 3), (3, 4)]
    assert "stray quote" in bad[0].reason and bad[1].reason == "expected 2 fields, found 3"


def test_a_file_in_the_wrong_encoding_still_fails_as_a_whole(tmp_path):
    with pytest.raises(SourceError, match=r"row 2, field Name: invalid utf-8 \(byte 0xe9\)"):
        malformed(write(tmp_path, "bad.csv", b"Id,Name\n1,2,3\n2,caf\xe9\n3,ok\n"))
    with pytest.raises(SourceError, match="compressed stream ended early"):
        import gzip

        data = gzip.compress(("Id,Note\n" + "".join(f"{i},v\n" for i in range(5000))).encode())
        malformed(write(tmp_path, "cut.csv.gz", data[: len(data) // 2]))
