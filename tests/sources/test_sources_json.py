"""JSON array and NDJSON sources: flattening, slots, scalar rendering, row numbers and errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pinpoint_etl.core.errors import SourceError
from pinpoint_etl.sources.flatten import iter_flat
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.malformed import MalformedBatch
from pinpoint_etl.sources.read import read_header, read_tables
from tests.sources.helpers import read_all, read_chunks, records

ENDPOINT = {
    "Id": "email-u0004", "ChannelType": "EMAIL", "Address": "wang.xiulan@example.com",
    "Location": {"Country": "CN", "Latitude": 31.2, "Longitude": 121.5},
    "Attributes": {"Interests": ["Music", "Travel", "Books"], "Tier": ["Gold"]},
    "Metrics": {"sessions": 27, "cart_items": 1.0},
    "User": {"UserId": "u0004", "UserAttributes": {"FirstName": ["Xiulan"]}},
    "OptOut": None, "Flag": True,
}
FLAT = {
    "Id": "email-u0004", "ChannelType": "EMAIL", "Address": "wang.xiulan@example.com",
    "Location.Country": "CN", "Location.Latitude": "31.2", "Location.Longitude": "121.5",
    "Attributes.Interests": "Music", "Attributes.Interests#2": "Travel", "Attributes.Interests#3": "Books",
    "Attributes.Tier": "Gold", "Metrics.sessions": "27", "Metrics.cart_items": "1.0",
    "User.UserId": "u0004", "User.UserAttributes.FirstName": "Xiulan", "Flag": "true",
}


def write(tmp_path, name, text: str | bytes):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_flatten_rules():
    assert dict(iter_flat(ENDPOINT)) == {**FLAT, "OptOut": None}
    nested = dict(iter_flat({"A": {"x": [{"k": 1}, [1, 2], None, 12, 0.5, False]}, "E": {}, "L": []}))
    assert nested == {"A.x": '{"k":1}', "A.x#2": "[1,2]", "A.x#3": None, "A.x#4": "12", "A.x#5": "0.5",
                      "A.x#6": "false"}


def test_ndjson_flattened_with_line_numbers_counting_blank_lines(tmp_path):
    lines = [json.dumps(ENDPOINT), "", "   ", json.dumps({"Id": "sms-1", "Location": {"Country": "US"}}), ""]
    df = read_all(write(tmp_path, "e.ndjson", "\r\n".join(lines)))
    assert records(df) == [FLAT, {"Id": "sms-1", "Location.Country": "US"}]
    assert df["_row"].tolist() == [1, 4]
    assert pd.isna(df["OptOut"]).all()
    assert all(df[c].dtype == "str" for c in df.columns if not c.startswith("_"))


def test_json_array_streamed_with_element_index(tmp_path):
    body = "[\n" + ",\n".join(json.dumps({"Id": str(i), "Attributes": {"N": [str(i)] * (i % 3)}}) for i in range(1, 8)) + "\n]\n"
    chunks = list(read_chunks(str(write(tmp_path, "a.json", body)), ReadOptions(chunk_rows=3)))
    assert [len(c) for c in chunks] == [3, 3, 1]
    df = pd.concat(chunks, ignore_index=True)
    assert df["_row"].tolist() == list(range(1, 8))
    assert df["Id"].tolist() == [str(i) for i in range(1, 8)]
    assert df.loc[df["Id"] == "5", "Attributes.N#2"].item() == "5"


def test_json_array_across_the_read_buffer(tmp_path, monkeypatch):
    from pinpoint_etl.sources import json_reader

    monkeypatch.setattr(json_reader, "_READ", 7)  # elements and numbers cut at every buffer edge
    items = [{"Id": f"id-{i}", "Metrics": {"v": 1234567 + i}, "n": 3.25} for i in range(40)]
    df = read_all(write(tmp_path, "a.json", json.dumps(items, indent=1)), chunk_rows=9)
    assert df["Metrics.v"].tolist() == [str(1234567 + i) for i in range(40)]
    assert df["_row"].tolist() == list(range(1, 41))


def test_dot_json_sniffs_ndjson_and_ndjson_format_is_forced(tmp_path):
    path = write(tmp_path, "lines.json", '\ufeff{"Id": "1"}\n{"Id": "2"}\n')
    assert read_all(path)["Id"].tolist() == ["1", "2"]
    path = write(tmp_path, "endpoints.data", '{"Id": "1"}\n')
    assert read_all(path, format="ndjson")["Id"].tolist() == ["1"]
    assert read_all(write(tmp_path, "x.jsonl", '{"Id": "9"}\n'))["Id"].tolist() == ["9"]


def test_chunks_may_have_different_columns(tmp_path):
    text = '{"Id": "1", "A": 1}\n{"Id": "2", "B": 2}\n'
    chunks = list(read_chunks(str(write(tmp_path, "c.ndjson", text)), ReadOptions(chunk_rows=1)))
    assert list(chunks[0].columns) == ["Id", "A", "_source", "_row"]
    assert list(chunks[1].columns) == ["Id", "B", "_source", "_row"]


def test_read_header_is_union_of_first_chunk(tmp_path):
    text = '{"Id": "1", "Location": {"Country": "US"}}\n{"Id": "2", "Attributes": {"I": ["a", "b"]}}\n{"Late": 1}\n'
    path = str(write(tmp_path, "h.ndjson", text))
    assert read_header(path, ReadOptions(chunk_rows=2)) == ["Id", "Location.Country", "Attributes.I", "Attributes.I#2"]
    assert read_header(str(write(tmp_path, "empty.json", " [ ] ")), ReadOptions()) == []


def test_empty_array_is_zero_rows(tmp_path):
    assert list(read_chunks(str(write(tmp_path, "e.json", "[]")), ReadOptions())) == []


def test_json_in_another_encoding(tmp_path):
    path = tmp_path / "u16.ndjson"
    path.write_bytes('{"Id": "1", "Name": "Jürgen"}\n'.encode("utf-16"))
    assert read_all(path, encoding="utf-16")["Name"].tolist() == ["Jürgen"]


# --- errors --------------------------------------------------------------------------------------


def raises(path, match, **options) -> SourceError:
    with pytest.raises(SourceError, match=match) as info:
        read_all(path, **options)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    return info.value


def test_ndjson_invalid_line_names_line_and_json_error(tmp_path):
    lines = ['{"Id": "1"}'] * 16 + ['{"Id": "17", "Address": "a@example.com" "x": 1}']
    err = raises(write(tmp_path, "orders.ndjson", "\n".join(lines)), r"row 17: invalid JSON: Expecting ',' delimiter at column 41",
                 on_malformed="fail")
    assert err.row == 17


@pytest.mark.parametrize("line, kind", [("12", "a number"), ('"text"', "a string"), ("[1]", "an array"), ("null", "null")])
def test_ndjson_line_that_is_not_an_object(tmp_path, line, kind):
    err = raises(write(tmp_path, "x.ndjson", '{"Id": "1"}\n\n' + line + "\n"), f"row 3: not a JSON object: found {kind}",
                 on_malformed="fail")
    assert err.row == 3


def test_ndjson_invalid_utf8_names_the_line(tmp_path):
    data = b'{"Id": "1"}\n' * 3000 + b'{"Id": "caf\xe9"}\n' + b'{"Id": "2"}\n'
    err = raises(write(tmp_path, "bad.ndjson", data), r"row 3001: invalid utf-8 \(byte 0xe9\)")
    assert err.row == 3001


def test_json_array_errors(tmp_path):
    raises(write(tmp_path, "a.json", '[{"Id": "1"},\n {"Id": "2",}]'),
           r"row 2: invalid JSON: Expecting property name enclosed in double quotes at line 2 column 13")
    raises(write(tmp_path, "b.json", '[{"Id": "1"}, 7]'), "row 2: not a JSON object: element is a number",
           on_malformed="fail")
    raises(write(tmp_path, "c.json", '[{"Id": "1"}, {"Id": "2"}'), "row 2: JSON array not closed")
    raises(write(tmp_path, "d.json", '[{"Id": "1"} {"Id": "2"}]'), r"row 1: invalid JSON: expected ',' or '\]'")
    raises(write(tmp_path, "e.json", '[{"Id": "1"}] x'), "extra data after the JSON array")
    raises(write(tmp_path, "f.json", b'[{"Id": "1"},\n{"Id": "\xff"}]'), r"row 2: invalid utf-8 \(byte 0xff\)")


def test_empty_json_files(tmp_path):
    raises(write(tmp_path, "empty.ndjson", ""), "empty file")
    raises(write(tmp_path, "blank.json", "\n  \n"), "empty file")


def test_reserved_key(tmp_path):
    raises(write(tmp_path, "r.ndjson", '{"Id": "1"}\n{"_row": 5}\n'), "row 2, field _row: key _row is reserved")


# --- malformed records rejected (on_malformed="reject", the default) ----------------------------------


def malformed(path, **options) -> tuple[pd.DataFrame, list]:
    frames, bad = [], []
    for item in read_tables(str(path), ReadOptions(**options)):
        if isinstance(item, MalformedBatch):
            bad.extend(item.records)
        else:
            frames.append(item.to_pandas())
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), bad


def test_broken_ndjson_lines_are_rejected_with_their_line_reason_and_text(tmp_path):
    lines = ['{"Id": "1"}', '{"Id": "2", "Address": "a@example.com"', "", "42", '{"Id": "5"}']
    rows, bad = malformed(write(tmp_path, "b.ndjson", "\n".join(lines) + "\n"), chunk_rows=1)
    assert rows["Id"].tolist() == ["1", "5"] and rows["_row"].tolist() == [1, 5]
    assert [(m.row, m.line, m.raw) for m in bad] == [(2, 2, lines[1]), (4, 4, "42")]
    assert bad[0].reason.startswith("invalid JSON: Expecting ',' delimiter")
    assert bad[1].reason == "not a JSON object: found a number"


def test_a_json_array_on_the_first_ndjson_line_is_still_a_format_error(tmp_path):
    with pytest.raises(SourceError, match="row 1: not a JSON object: found an array .*format=json"):
        malformed(write(tmp_path, "a.ndjson", '[{"Id": "1"}]\n'))


@pytest.mark.parametrize("nested", [False, True])
def test_a_key_twice_in_one_object_is_never_resolved_silently(tmp_path, nested):
    dup = ('{"Id": "2", "Location": {"Country": "US", "Country": "DE"}}' if nested
           else '{"Id": "2", "Address": "a@example.com", "Address": "b@example.com"}')
    path = write(tmp_path, "d.ndjson", '{"Id": "1"}\n' + dup + '\n{"Id": "3"}\n')
    rows, (bad,) = malformed(path)
    key = "Country" if nested else "Address"
    assert rows["Id"].tolist() == ["1", "3"]
    assert (bad.row, bad.reason, bad.raw) == (2, f"key '{key}' appears twice in one object", dup)
    with pytest.raises(SourceError, match=f"row 2: key '{key}' appears twice in one object"):
        malformed(path, on_malformed="fail")


def test_a_json_array_element_that_is_not_a_record_is_rejected(tmp_path):
    body = '[{"Id": "1"},\n 7,\n {"Id": "3", "Id": "4"},\n {"Id": "5"}]'
    rows, bad = malformed(write(tmp_path, "a.json", body))
    assert rows["Id"].tolist() == ["1", "5"] and rows["_row"].tolist() == [1, 4]
    assert [(m.row, m.line, m.raw) for m in bad] == [(2, 2, "7"), (3, 3, '{"Id": "3", "Id": "4"}')]
    with pytest.raises(SourceError, match="row 2: invalid JSON"):  # a syntax error in an array still fails
        malformed(write(tmp_path, "b.json", '[{"Id": "1"},\n {"Id": "2",}]'))
