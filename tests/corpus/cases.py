"""The bad-input corpus (issue 5): one row per case — input bytes, file name, read options and the
exact outcome the pipeline's prepare stage (read → map → normalise → validate → dedupe → stage)
must give.

An outcome is either

* :class:`Raises` — ``prepare`` raises exactly that ``PipelineError`` subclass, with that ``row`` /
  ``field`` (``None`` = none), and a one-line message that holds every ``contains`` substring; or
* :class:`Rows` — exact ``(rows_read, rows_valid, rows_rejected, rows_superseded)``, the rejected
  row numbers (each with a substring of one of its reasons) and, where normalisation is the point,
  values of staged rows (keyed by their staged ``Id``).

A case with ``bug`` set states what the pipeline SHOULD do; the test runs it as a strict xfail
until the bug is fixed. Keep the README's case list in step (a test checks it).
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Mapping
from dataclasses import dataclass, field

from pinpoint_etl.core.errors import ColumnError, PipelineError, SourceError

# ---------------------------------------------------------------------------------------------
# outcome types


@dataclass(frozen=True)
class Raises:
    """``prepare`` fails with exactly ``cls``; ``row``/``field`` are the error's attributes."""

    cls: type[PipelineError]
    row: int | None = None
    field: str | None = None
    contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rows:
    """``prepare`` succeeds with these counts, rejects and staged values."""

    counts: tuple[int, int, int, int]  # rows_read, rows_valid, rows_rejected, rows_superseded
    #: rejected row number → a substring of one of its reasons (or a tuple: each must occur)
    rejects: Mapping[int, str | tuple[str, ...]] = field(default_factory=dict)
    #: staged Id → {column: exact staged text, or the list of a repeated (multi-value) column}
    staged: Mapping[str, Mapping[str, str | list[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    id: str
    description: str
    name: str  # file name the input is written to (its extension picks the format)
    data: bytes | None  # None: the file is not created (missing-file case)
    expect: Raises | Rows
    read: Mapping[str, object] = field(default_factory=dict)  # ReadOptions(**read)
    mapping: Mapping[str, str] = field(default_factory=dict)  # StageOptions.mapping
    bug: str | None = None  # set → strict xfail: ``expect`` is what the pipeline SHOULD do


# ---------------------------------------------------------------------------------------------
# input helpers

H4 = "Id,ChannelType,Address,Location.Country"
HN = "Id,ChannelType,Address,Attributes.Note"


def text(*lines: str, eol: str = "\n", encoding: str = "utf-8") -> bytes:
    """Lines joined with ``eol`` (and a final ``eol``), encoded."""
    return (eol.join(lines) + eol).encode(encoding)


def nd(*records: str) -> bytes:
    """NDJSON: one JSON text per line."""
    return ("\n".join(records) + "\n").encode("utf-8")


def _zstd(data: bytes) -> bytes:
    from backports import zstd  # what smart_open uses for .zst on Python < 3.14

    return zstd.compress(data)


def _truncated_gzip() -> bytes:
    full = gzip.compress(text(H4, *[f"e{i},EMAIL,u{i}@example.com,US" for i in range(2000)]))
    return full[: len(full) // 2]


BIG = 200_000  # a 200 KB field
LAT = "Id,ChannelType,Address,Location.Latitude,Location.Longitude"
EMAIL_ROW = "EMAIL,{}@example.com"

_ATTRS_251 = [f"Attributes.a{i}" for i in range(251)]
_ATTRS_250 = _ATTRS_251[:250]
_TAGS = ["Attributes.Tags"] * 51
_SAME_USER = [f"e{i},EMAIL,u{i}@example.com,same-user" for i in range(1, 17)]

# ---------------------------------------------------------------------------------------------
# the corpus

CASES: list[Case] = [
    # --- encodings and BOMs ------------------------------------------------------------------
    Case("enc-latin1-with-option", "latin-1 bytes read with encoding=latin-1: accents kept in UTF-8",
         "latin1.csv", text("Id,ChannelType,Address,Location.City", "e1,EMAIL,a@example.com,Zürich",
                            "e2,EMAIL,b@example.com,São Paulo", encoding="latin-1"),
         Rows((2, 2, 0, 0), staged={"e1": {"Location.City": "Zürich"}, "e2": {"Location.City": "São Paulo"}}),
         read={"encoding": "latin-1"}),
    Case("enc-latin1-without-option", "latin-1 bytes read as UTF-8: error naming row, field and the encoding hint",
         "latin1.csv", text("Id,ChannelType,Address,Location.City", "e1,EMAIL,a@example.com,Berlin",
                            "e2,EMAIL,b@example.com,Zürich", encoding="latin-1"),
         Raises(SourceError, row=2, field="Location.City", contains=("invalid utf-8", "byte 0xfc", "latin-1"))),
    Case("enc-utf16-bom-with-option", "UTF-16 with BOM and encoding=utf-16: transcoded, BOM gone",
         "utf16.csv", text("Id,ChannelType,Address,Location.City", "e1,EMAIL,a@example.com,Zürich",
                           encoding="utf-16"),
         Rows((1, 1, 0, 0), staged={"e1": {"Location.City": "Zürich", "Address": "a@example.com"}}),
         read={"encoding": "utf-16"}),
    Case("enc-utf16-bom-without-option", "UTF-16 with BOM read as UTF-8: error in the header, no row",
         "utf16.csv", text(H4, "e1,EMAIL,a@example.com,US", encoding="utf-16"),
         Raises(SourceError, contains=("invalid utf-8 in the header", "byte 0xff"))),
    Case("enc-utf16le-no-bom-without-option",
         "UTF-16LE without BOM read as UTF-8 (NUL after every ASCII byte): a SourceError about the encoding",
         "utf16le.csv", text("Id,ChannelType,Address", "e1,EMAIL,a@example.com", encoding="utf-16-le"),
         Raises(SourceError, contains=("encoding",))),
    Case("enc-utf8-bom-csv", "UTF-8 BOM before the header: first column is still Id",
         "bom.csv", b"\xef\xbb\xbf" + text(H4, "e1,EMAIL,a@example.com,US"),
         Rows((1, 1, 0, 0), staged={"e1": {"Location.Country": "US"}})),
    Case("enc-utf8-bom-quoted-header", "UTF-8 BOM before a quoted header name",
         "bomq.csv", b'\xef\xbb\xbf"Id","ChannelType","Address"\ne1,EMAIL,a@example.com\n',
         Rows((1, 1, 0, 0), staged={"e1": {"ChannelType": "EMAIL"}})),
    Case("enc-utf8-bom-header-only", "UTF-8 BOM and a header, no rows: 0 rows, no error",
         "bomhdr.csv", b"\xef\xbb\xbf" + text(H4), Rows((0, 0, 0, 0))),
    Case("enc-utf8-bom-ndjson", "UTF-8 BOM before the first NDJSON line",
         "bom.ndjson", b"\xef\xbb\xbf" + nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}'),
         Rows((1, 1, 0, 0), staged={"e1": {"Address": "a@example.com"}})),
    Case("enc-utf8-bom-json-array", "UTF-8 BOM before a JSON array",
         "bom.json", b'\xef\xbb\xbf[{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}]',
         Rows((1, 1, 0, 0), staged={"e1": {"Address": "a@example.com"}})),
    Case("enc-cp1252-smart-quotes", "cp1252 curly quotes and en dash read with encoding=cp1252",
         "cp1252.csv", text(HN, "e1,EMAIL,a@example.com,\u201chi\u201d \u2013 ok", encoding="cp1252"),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.Note": "\u201chi\u201d \u2013 ok"}}),
         read={"encoding": "cp1252"}),
    Case("enc-cp1252-without-option", "cp1252 curly quote read as UTF-8: error naming row 1 and the field",
         "cp1252.csv", text(HN, "e1,EMAIL,a@example.com,\u201chi\u201d", encoding="cp1252"),
         Raises(SourceError, row=1, field="Attributes.Note", contains=("invalid utf-8", "byte 0x93", "cp1252"))),
    Case("enc-utf16-ndjson-with-option", "UTF-16 NDJSON with encoding=utf-16",
         "utf16.ndjson", '{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Location":{"City":"Zürich"}}\n'
         .encode("utf-16"),
         Rows((1, 1, 0, 0), staged={"e1": {"Location.City": "Zürich"}}), read={"encoding": "utf-16"}),

    # --- delimiters ------------------------------------------------------------------------------
    Case("delim-semicolon", "';' delimiter with delimiter=';': a ',' inside a value is data",
         "semi.csv", text("Id;ChannelType;Address;Attributes.Note", "e1;EMAIL;a@example.com;a,b"),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.Note": "a,b"}}), read={"delimiter": ";"}),
    Case("delim-semicolon-without-option", "';' file read with ',': the whole header is one unknown column",
         "semi.csv", text("Id;ChannelType;Address;Location.Country", "e1;EMAIL;a@example.com;US"),
         Raises(ColumnError, contains=("unknown column", "Id;ChannelType;Address;Location.Country", "--map"))),
    Case("delim-tab-tsv", ".tsv picks TAB; a quoted TAB inside a value becomes a space",
         "tabs.tsv", text("Id\tChannelType\tAddress\tAttributes.Note", 'e1\tEMAIL\ta@example.com\t"a\tb"'),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.Note": "a b", "Address": "a@example.com"}})),
    Case("delim-tab-alias", "delimiter='tab' on a .csv file",
         "tabs.csv", text("Id\tChannelType\tAddress", "e1\tEMAIL\ta@example.com"),
         Rows((1, 1, 0, 0), staged={"e1": {"ChannelType": "EMAIL"}}), read={"delimiter": "tab"}),
    Case("delim-pipe-txt", "'|' delimiter on a .txt file",
         "pipes.txt", text("Id|ChannelType|Address|Attributes.Note", "e1|EMAIL|a@example.com|x, y"),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.Note": "x, y"}}), read={"delimiter": "|"}),

    # --- ragged rows -------------------------------------------------------------------------------
    Case("ragged-more-fields", "a row with one field too many: rejected with its row and reason, the rest staged",
         "ragged.csv", text(H4, "e1,EMAIL,a@example.com,US", "e2,EMAIL,b@example.com,US,extra"),
         Rows((2, 1, 1, 0), rejects={2: "expected 4 fields, found 5"}, staged={"e1": {"Address": "a@example.com"}})),
    Case("ragged-more-fields-fail", "with on_malformed=fail, a row with one field too many: error naming the row",
         "ragged.csv", text(H4, "e1,EMAIL,a@example.com,US", "e2,EMAIL,b@example.com,US,extra"),
         Raises(SourceError, row=2, contains=("expected 4 fields, found 5",)), read={"on_malformed": "fail"}),
    Case("ragged-fewer-fields", "a row with one field too few: rejected with its row and reason",
         "ragged.csv", text(H4, "e1,EMAIL,a@example.com,US", "e2,EMAIL,b@example.com,US", "e3,EMAIL,c@example.com"),
         Rows((3, 2, 1, 0), rejects={3: "expected 4 fields, found 3"})),
    Case("ragged-after-quoted-newline", "a quoted newline in row 1 does not shift the row number of a later ragged row",
         "ragged.csv", text(HN, 'e1,EMAIL,a@example.com,"two\nlines"', "e2,EMAIL,b@example.com,x",
                            "e3,EMAIL,c@example.com"),
         Rows((3, 2, 1, 0), rejects={3: "expected 4 fields, found 3"})),
    Case("not-csv-line", "a line that is not CSV (a log line) in the middle: rejected, the rows around it staged",
         "log.csv", text(H4, "e1,EMAIL,a@example.com,US", "2026-11-30 12:00:01 export paused",
                         "e3,EMAIL,c@example.com,US"),
         Rows((3, 2, 1, 0), rejects={2: "expected 4 fields, found 1"}, staged={"e3": {"Address": "c@example.com"}})),

    # --- quotes ------------------------------------------------------------------------------------
    Case("quote-doubled", "doubled quotes inside a quoted value are one quote",
         "quotes.csv", text(HN, 'e1,EMAIL,a@example.com,"He said ""hi"""'),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.Note": 'He said "hi"'}})),
    Case("quote-inside-unquoted", 'a quote inside an unquoted value (5" screen) is kept as a character',
         "quotes.csv", text(HN, 'e1,EMAIL,a@example.com,5" screen'),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.Note": '5" screen'}})),
    Case("quote-unterminated", "a quoted value never closed: its first line rejected (row where it starts), "
         "the next rows read again and staged",
         "quotes.csv", text(H4, "e1,EMAIL,a@example.com,US", 'e2,EMAIL,"b@example.com,US', "e3,EMAIL,c@example.com,US"),
         Rows((3, 2, 1, 0), rejects={2: "unterminated quoted field"}, staged={"e3": {"Address": "c@example.com"}})),
    Case("quote-unterminated-fail", "with on_malformed=fail, a quoted value never closed: error naming its row",
         "quotes.csv", text(H4, "e1,EMAIL,a@example.com,US", 'e2,EMAIL,"b@example.com,US', "e3,EMAIL,c@example.com,US"),
         Raises(SourceError, row=2, contains=("unterminated quoted field",)), read={"on_malformed": "fail"}),
    Case("quote-stray-after-closing", 'a quoted value followed by other characters ("b@example.com"x): rejected',
         "quotes.csv", text(H4, "e1,EMAIL,a@example.com,US", 'e2,EMAIL,"b@example.com"x,US'),
         Rows((2, 1, 1, 0), rejects={2: "stray quote"})),
    Case("quote-stray-swallows-next-row",
         "an opening quote closed by a stray quote one line later: the first line rejected, not two rows merged",
         "quotes.csv", text(HN, 'e1,EMAIL,a@example.com,"abc', 'e2,EMAIL,b@example.com,x"y'),
         Rows((2, 1, 1, 0), rejects={1: "stray quote"}, staged={"e2": {"Attributes.Note": 'x"y'}})),

    # --- control characters ------------------------------------------------------------------------
    Case("ctrl-tab-cr-lf-quoted", "TAB, CR, LF and CRLF inside a quoted value each become spaces",
         "ctrl.csv", text(HN, 'e1,EMAIL,a@example.com,"a\tb\rc\nd\r\ne"'),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.Note": "a b c d  e"}})),
    Case("ctrl-unicode-line-breaks", "VT, NEL (U+0085) and LS (U+2028) inside a value become spaces",
         "ctrl.csv", text(HN, "e1,EMAIL,a@example.com,a\u2028b\x0bc\u0085d"),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.Note": "a b c d"}})),
    Case("ctrl-nul-byte-csv", "a NUL byte inside a CSV value: the row is rejected, no NUL reaches the import file",
         "nul.csv", text(HN, "e1,EMAIL,a@example.com,a\x00b", "e2,EMAIL,b@example.com,ok"),
         Rows((2, 1, 1, 0), rejects={1: "Attributes.Note"}, staged={"e2": {"Attributes.Note": "ok"}})),
    Case("ctrl-nul-escape-ndjson", "\\u0000 inside an NDJSON string: the row is rejected, no NUL staged",
         "nul.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Attributes":{"Note":"a\\u0000b"}}'),
         Rows((1, 0, 1, 0), rejects={1: "Attributes.Note"})),

    # --- line endings, blank lines, whitespace ---------------------------------------------------------
    Case("eol-crlf", "CRLF line endings; a quoted CRLF inside a value becomes two spaces; rows counted by record",
         "crlf.csv", text(HN, "e1,EMAIL,a@example.com,x", 'e2,EMAIL,b@example.com,"multi\r\nline"',
                          "e3,EMAIL,not-an-email,x", eol="\r\n"),
         Rows((3, 2, 1, 0), rejects={3: "not a valid email"}, staged={"e2": {"Attributes.Note": "multi  line"}})),
    Case("eol-cr-only", "classic-Mac CR-only line endings",
         "cr.csv", text(HN, "e1,EMAIL,a@example.com,x", "e2,EMAIL,b@example.com,y", eol="\r"),
         Rows((2, 2, 0, 0), staged={"e2": {"Attributes.Note": "y"}})),
    Case("eol-no-final-newline", "last row without a line end",
         "noeol.csv", (H4 + "\ne1,EMAIL,a@example.com,US").encode(),
         Rows((1, 1, 0, 0), staged={"e1": {"Location.Country": "US"}})),
    Case("blank-lines", "blank lines are skipped and not counted; a row of empty cells is a (rejected) row",
         "blank.csv", text(H4, "", "e1,EMAIL,a@example.com,US", "", "", ",,,", "e2,EMAIL,bad,US"),
         Rows((3, 1, 2, 0), rejects={2: "required for a new endpoint", 3: "not a valid email"})),
    Case("whitespace-only-values", "whitespace-only values are missing; surrounding blanks trimmed",
         "ws.csv", text(H4, "e1,   ,   ,  ", "e2,EMAIL,  b@example.com  ,  us  "),
         Rows((2, 2, 0, 0), staged={"e1": {"ChannelType": "", "Address": "", "Location.Country": ""},
                                    "e2": {"Address": "b@example.com", "Location.Country": "US"}})),
    Case("header-names-padded", "header names with surrounding blanks are stripped",
         "hdr.csv", text(" Id , ChannelType ,Address ", "e1,EMAIL,a@example.com"),
         Rows((1, 1, 0, 0), staged={"e1": {"ChannelType": "EMAIL"}})),

    # --- empty, missing and compressed files ------------------------------------------------------------
    Case("empty-csv", "a 0-byte CSV: error", "empty.csv", b"", Raises(SourceError, contains=("empty file",))),
    Case("empty-ndjson", "a 0-byte NDJSON: error", "empty.ndjson", b"", Raises(SourceError, contains=("empty file",))),
    Case("header-only", "a header and no rows: 0 rows, no error", "header.csv", text(H4, eol="\r\n"),
         Rows((0, 0, 0, 0))),
    Case("json-empty-array", "[]: 0 rows, no error", "empty.json", b"[]\n", Rows((0, 0, 0, 0))),
    Case("missing-file", "a path that does not exist", "missing.csv", None, Raises(SourceError, contains=("file not found",))),
    Case("gzip-truncated", "a .csv.gz cut in half", "cut.csv.gz", _truncated_gzip(),
         Raises(SourceError, contains=("compressed stream ended early",))),
    Case("gzip-not-gzip", "a .gz file that is plain text", "plain.csv.gz", text(H4, "e1,EMAIL,a@example.com,US"),
         Raises(SourceError, contains=("not a gzip file",))),
    Case("zst-csv", "a .csv.zst file", "in.csv.zst",
         _zstd(text(H4, "e1,EMAIL,a@example.com,US", "e2,SMS,+1 206 555 0100,US")),
         Rows((2, 2, 0, 0), staged={"e2": {"Address": "+12065550100"}})),
    Case("bz2-csv", "a .csv.bz2 file", "in.csv.bz2",
         bz2.compress(text(H4, "e1,EMAIL,a@example.com,US", "e2,SMS,+1 206 555 0100,US")),
         Rows((2, 2, 0, 0), staged={"e2": {"Address": "+12065550100"}})),
    Case("gz-ndjson", "an .ndjson.gz file", "in.ndjson.gz",
         gzip.compress(nd('{"Id":"e1","ChannelType":"email","Address":"a@example.com"}')),
         Rows((1, 1, 0, 0), staged={"e1": {"ChannelType": "EMAIL"}})),
    Case("unknown-extension", "an .xlsx file: cannot tell the format", "book.xlsx", b"PK\x03\x04junk",
         Raises(SourceError, contains=("cannot tell the format", ".xlsx"))),

    # --- nested JSON ---------------------------------------------------------------------------------------
    Case("json-nested-objects", "nested objects become dotted Pinpoint names",
         "nested.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Location":{"Country":"usa"},'
                             '"User":{"UserId":"u1","UserAttributes":{"FirstName":"Ann"}}}'),
         Rows((1, 1, 0, 0), staged={"e1": {"Location.Country": "US", "User.UserId": "u1",
                                           "User.UserAttributes.FirstName": "Ann"}})),
    Case("json-deep-nesting", "an object nested 4 levels under Attributes: one dotted attribute name",
         "deep.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Attributes":{"a":{"b":{"c":{"d":"x"}}}}}'),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.a.b.c.d": "x"}})),
    Case("json-deep-unknown", "a nested object outside Pinpoint names: ColumnError naming the dotted path",
         "deep.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Foo":{"Bar":{"Baz":1}}}'),
         Raises(ColumnError, contains=("unknown column", "Foo.Bar.Baz", "--map"))),
    Case("json-array-of-objects", "an array of objects in an attribute: rejected, not staged as JSON text",
         "arrobj.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Attributes":{"Items":[{"sku":"1"},{"sku":"2"}]}}',
                             '{"Id":"e2","ChannelType":"EMAIL","Address":"b@example.com","Attributes":{"Items":["x"]}}'),
         Rows((2, 1, 1, 0), rejects={1: "Attributes.Items value is a JSON object"}, staged={"e2": {"Attributes.Items": ["x", ""]}})),
    Case("json-array-null-element", "an array of strings with a null element: values staged as slots",
         "arr.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Attributes":{"Interests":["a","b",null,"c"]}}'),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.Interests": ["a", "b", "", "c"]}})),
    Case("json-null-values", "null values are missing",
         "nulls.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Location":{"Country":null},"OptOut":null}'),
         Rows((1, 1, 0, 0), staged={"e1": {"Location.Country": "", "OptOut": ""}})),
    Case("json-empty-objects", "empty objects contribute nothing; an empty record is a new endpoint without fields",
         "empty-obj.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Location":{},"Attributes":{}}', "{}"),
         Rows((2, 1, 1, 0), rejects={2: "required for a new endpoint"}, staged={"e1": {"Address": "a@example.com"}})),
    Case("json-numbers-as-strings", 'metrics as "12", 12, 1.50 and "1.50" all stage as canonical numbers',
         "numstr.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Metrics":{"a":"12","b":12,"c":1.50,"d":"1.50"}}'),
         Rows((1, 1, 0, 0), staged={"e1": {"Metrics.a": "12", "Metrics.b": "12", "Metrics.c": "1.5", "Metrics.d": "1.5"}})),
    Case("json-booleans", "true in an attribute is the text 'true'; true in a metric is rejected",
         "bool.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Attributes":{"vip":true}}',
                           '{"Id":"e2","ChannelType":"EMAIL","Address":"b@example.com","Metrics":{"flag":true}}'),
         Rows((2, 1, 1, 0), rejects={2: "metric value is not a finite number"}, staged={"e1": {"Attributes.vip": "true"}})),
    Case("json-numbers-in-text-fields", "a numeric Id and numeric coordinates become text",
         "idnum.ndjson", nd('{"Id":12345,"ChannelType":"EMAIL","Address":"a@example.com","Location":{"Latitude":47.61,"Longitude":-122}}'),
         Rows((1, 1, 0, 0), staged={"12345": {"Location.Latitude": "47.6", "Location.Longitude": "-122.0"}})),
    Case("json-top-level-array", "a .json file holding one array of objects",
         "array.json", b'[{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"},\n'
                       b' {"Id":"e2","ChannelType":"SMS","Address":"+1 (206) 555-0100"}]',
         Rows((2, 2, 0, 0), staged={"e2": {"Address": "+12065550100"}})),
    Case("json-array-in-ndjson", "a JSON array in an .ndjson file: error on line 1 with a format hint",
         "array.ndjson", b'[{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}]\n',
         Raises(SourceError, row=1, contains=("not a JSON object: found an array", "format=json"))),
    Case("json-ndjson-in-dot-json", "NDJSON inside a .json file is sniffed as NDJSON",
         "lines.json", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}',
                          '{"Id":"e2","ChannelType":"EMAIL","Address":"b@example.com"}'),
         Rows((2, 2, 0, 0), staged={"e2": {"Address": "b@example.com"}})),
    Case("json-broken-line", "an NDJSON line cut short: rejected with its line number",
         "broken.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}',
                             '{"Id":"e2","ChannelType":"EMAIL","Address":"b@example.com"'),
         Rows((2, 1, 1, 0), rejects={2: "invalid JSON"})),
    Case("json-broken-line-fail", "with on_malformed=fail, an NDJSON line cut short: error naming the line",
         "broken.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}',
                             '{"Id":"e2","ChannelType":"EMAIL","Address":"b@example.com"'),
         Raises(SourceError, row=2, contains=("invalid JSON",)), read={"on_malformed": "fail"}),
    Case("json-bare-number-line", "a line holding just 42: rejected with its line number",
         "bare.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}', "42"),
         Rows((2, 1, 1, 0), rejects={2: "not a JSON object: found a number"})),
    Case("json-duplicate-key", "Address twice in one NDJSON object: rejected, never resolved silently",
         "dup.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Address":"b@example.com"}',
                          '{"Id":"e2","ChannelType":"EMAIL","Address":"c@example.com"}'),
         Rows((2, 1, 1, 0), rejects={1: "key 'Address' appears twice"}, staged={"e2": {"Address": "c@example.com"}})),
    Case("json-duplicate-key-array", "a key twice in a nested object of a JSON-array element: that element rejected",
         "dup.json", b'[{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Location":{"Country":"US",'
                     b'"Country":"DE"}}, {"Id":"e2","ChannelType":"EMAIL","Address":"c@example.com"}]',
         Rows((2, 1, 1, 0), rejects={1: "key 'Country' appears twice"})),
    Case("json-trailing-comma-array", "a trailing comma before ] in a JSON array",
         "trail.json", b'[{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"},]',
         Raises(SourceError, row=2, contains=("invalid JSON",))),
    Case("json-trailing-comma-object", "a trailing comma before } in an NDJSON record: the line rejected",
         "trail.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com",}'),
         Rows((1, 0, 1, 0), rejects={1: "invalid JSON"})),
    Case("json-unclosed-array", "a JSON array never closed", "open.json",
         b'[{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}',
         Raises(SourceError, row=1, contains=("not closed",))),
    Case("json-nan-infinity-metrics", "NaN, Infinity, -Infinity and 1e999 (overflow) metrics are rejected",
         "nan.ndjson", nd(*[f'{{"Id":"e{i}","ChannelType":"EMAIL","Address":"u{i}@example.com","Metrics":{{"m":{v}}}}}'
                            for i, v in enumerate(["NaN", "Infinity", "-Infinity", "1e999", "2.5"], start=1)]),
         Rows((5, 1, 4, 0), rejects={1: "not a finite number", 2: "not a finite number", 3: "not a finite number",
                                     4: "not a finite number"}, staged={"e5": {"Metrics.m": "2.5"}})),
    Case("json-blank-lines-counted", "NDJSON rows are line numbers: blank lines count",
         "blank.ndjson", b'\n{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}\n\n\n'
                         b'{"Id":"e2","ChannelType":"EMAIL","Address":"bad"}\n',
         Rows((2, 1, 1, 0), rejects={5: "not a valid email"})),
    Case("json-known-field-in-later-chunk",
         "a Pinpoint field first seen after the first chunk (chunk_rows=2) is still staged",
         "late.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}',
                           '{"Id":"e2","ChannelType":"EMAIL","Address":"b@example.com"}',
                           '{"Id":"e3","ChannelType":"EMAIL","Address":"c@example.com","Location":{"Country":"Germany"}}'),
         Rows((3, 3, 0, 0), staged={"e3": {"Location.Country": "DE"}}), read={"chunk_rows": 2}),
    Case("json-unknown-field-in-later-chunk",
         "an unknown key first seen after the first chunk (chunk_rows=2): ColumnError, not silently dropped",
         "late.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com"}',
                           '{"Id":"e2","ChannelType":"EMAIL","Address":"b@example.com"}',
                           '{"Id":"e3","ChannelType":"EMAIL","Address":"c@example.com","shoe_size":"42"}'),
         Raises(ColumnError, contains=("shoe_size",)), read={"chunk_rows": 2}),

    # --- huge fields ---------------------------------------------------------------------------------------
    Case("huge-address-200kb", "a 200 KB email address: rejected for size, the next row still staged",
         "huge.csv", text(H4, "e1,EMAIL," + "x" * BIG + "@example.com,US", "e2,EMAIL,b@example.com,US"),
         Rows((2, 1, 1, 0), rejects={1: ("larger than 15 KB", "not a valid email")}, staged={"e2": {"Address": "b@example.com"}})),
    Case("huge-push-token-200kb", "a 200 KB push token: rejected for endpoint size",
         "huge.csv", text(H4, "e1,APNS," + "t" * BIG + ",US"), Rows((1, 0, 1, 0), rejects={1: "larger than 15 KB"})),
    Case("huge-attribute-200kb", "a 200 KB attribute value: rejected for length and size",
         "huge.csv", text(HN, "e1,EMAIL,a@example.com," + "y" * BIG),
         Rows((1, 0, 1, 0), rejects={1: ("Attributes.Note value is longer than 100 characters", "larger than 15 KB")})),
    Case("huge-attribute-200kb-ndjson", "a 200 KB attribute value in NDJSON",
         "huge.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","Attributes":{"Note":"' + "y" * BIG + '"}}',
                           '{"Id":"e2","ChannelType":"EMAIL","Address":"b@example.com"}'),
         Rows((2, 1, 1, 0), rejects={1: "longer than 100 characters"}, staged={"e2": {"Address": "b@example.com"}})),
    Case("id-length-limit", "an Id of 256 characters is valid; 257 is rejected with the Id's own limit",
         "longid.csv", text(H4, "a" * 256 + ",EMAIL,a@example.com,US", "b" * 257 + ",EMAIL,b@example.com,US"),
         Rows((2, 1, 1, 0), rejects={2: "Id value is longer than 256 characters"}, staged={"a" * 256: {"Location.Country": "US"}})),

    # --- headers and columns -----------------------------------------------------------------------------
    Case("dup-header-multi-value", "a repeated attribute header: slots of one multi-value attribute",
         "slots.csv", text("Id,ChannelType,Address,Attributes.Interests,Attributes.Interests,Attributes.Interests",
                           "e1,EMAIL,a@example.com,Music,,Books"),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.Interests": ["Music", "", "Books"]}})),
    Case("dup-header-scalar", "two Address columns: ColumnError naming Address before anything is staged",
         "dup.csv", text("Id,ChannelType,Address,Address", "e1,EMAIL,a@example.com,b@example.com"),
         Raises(ColumnError, contains=("Address", "single value", "--map"))),
    Case("dup-header-scalar-case", "Address and address: ColumnError (same field in another case)",
         "dup.csv", text("Id,ChannelType,Address,address", "e1,EMAIL,a@example.com,b@example.com"),
         Raises(ColumnError, contains=("Address", "address", "single value"))),
    Case("dup-header-scalar-suggested-fix", "following the ColumnError's advice (--map Address#2=-) stages the first Address",
         "dup.csv", text("Id,ChannelType,Address,Address", "e1,EMAIL,a@example.com,b@example.com"),
         Rows((1, 1, 0, 0), staged={"e1": {"Address": "a@example.com"}}), mapping={"Address#2": "-"}),
    Case("unknown-column", "an unknown column: ColumnError naming it and suggesting --map",
         "unknown.csv", text("Id,ChannelType,Address,shoe_size", "e1,EMAIL,a@example.com,42"),
         Raises(ColumnError, contains=("unknown column: shoe_size", "--map shoe_size=", "--fold-unknown"))),
    Case("column-wrong-case", "Pinpoint names in the wrong case are accepted in Pinpoint's spelling",
         "case.csv", text("id,CHANNELTYPE,address,location.country,attributes.Tier", "e1,email,a@example.com,us,gold"),
         Rows((1, 1, 0, 0), staged={"e1": {"ChannelType": "EMAIL", "Location.Country": "US", "Attributes.Tier": "gold"}})),
    Case("headerless-csv-pii", "a CSV without header: the unknown-column error does not show the email or phone",
         "noheader.csv", text("e1,EMAIL,ann.smith@example.com,+12065550100", "e2,EMAIL,bob@example.com,+12065550101"),
         Raises(ColumnError, contains=("unknown columns",))),
    Case("json-key-pii", "an email used as a JSON key: the unknown-column error does not show it",
         "pii.ndjson", nd('{"Id":"e1","ChannelType":"EMAIL","Address":"a@example.com","ann.smith@example.com":"x"}'),
         Raises(ColumnError, contains=("unknown column",))),
    Case("attributes-250", "250 custom attributes: at the limit, accepted",
         "a250.csv", text(",".join(["Id", "ChannelType", "Address", *_ATTRS_250]),
                          ",".join(["e1", "EMAIL", "a@example.com", *["v"] * 250])),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes.a249": "v"}})),
    Case("attributes-251", "251 custom attributes: ColumnError naming the file",
         "a251.csv", text(",".join(["Id", "ChannelType", "Address", *_ATTRS_251]),
                          ",".join(["e1", "EMAIL", "a@example.com", *["v"] * 251])),
         Raises(ColumnError, contains=("251 custom attributes", "250"))),
    Case("attribute-name-50", "an attribute name of 50 characters: accepted",
         "n50.csv", text("Id,ChannelType,Address,Attributes." + "n" * 50, "e1,EMAIL,a@example.com,v"),
         Rows((1, 1, 0, 0), staged={"e1": {"Attributes." + "n" * 50: "v"}})),
    Case("attribute-name-51", "an attribute name of 51 characters: ColumnError naming it and the file",
         "n51.csv", text("Id,ChannelType,Address,Attributes." + "n" * 51, "e1,EMAIL,a@example.com,v"),
         Raises(ColumnError, contains=("longer than 50 characters", "n" * 51))),
    Case("values-per-attribute-51", "51 values for one multi-value attribute: rejected; 50 staged",
         "tags.csv", text(",".join(["Id", "ChannelType", "Address", *_TAGS]),
                          ",".join(["e1", "EMAIL", "a@example.com", *[f"t{i}" for i in range(51)]]),
                          ",".join(["e2", "EMAIL", "b@example.com", *[f"t{i}" for i in range(50)], ""])),
         Rows((2, 1, 1, 0), rejects={1: "more than 50 values"},
              staged={"e2": {"Attributes.Tags": [f"t{i}" for i in range(50)] + [""]}})),

    # --- metrics -------------------------------------------------------------------------------------------
    Case("metrics-numbers-as-strings", 'metric text: "1e3", " 12 ", "+7", ".5" staged canonical; "0x10", "1_000", "1,000" rejected',
         "metrics.csv", text("Id,ChannelType,Address,Metrics.m", "e1,EMAIL,a@example.com,1e3", "e2,EMAIL,b@example.com, 12 ",
                             "e3,EMAIL,c@example.com,0x10", "e4,EMAIL,d@example.com,1_000", 'e5,EMAIL,e@example.com,"1,000"',
                             "e6,EMAIL,f@example.com,+7", "e7,EMAIL,g@example.com,.5"),
         Rows((7, 4, 3, 0), rejects={3: "not a finite number", 4: "not a finite number", 5: "not a finite number"},
              staged={"e1": {"Metrics.m": "1000"}, "e2": {"Metrics.m": "12"}, "e6": {"Metrics.m": "7"},
                      "e7": {"Metrics.m": "0.5"}})),
    Case("metrics-nan-infinity-csv", "NaN, Infinity, -inf, nan, inf and 1e400 metrics are rejected",
         "nan.csv", text("Id,ChannelType,Address,Metrics.m",
                         *[f"e{i},EMAIL,u{i}@example.com,{v}" for i, v in
                           enumerate(["NaN", "Infinity", "-inf", "nan", "inf", "1e400"], start=1)]),
         Rows((6, 0, 6, 0), rejects={i: "metric value is not a finite number" for i in range(1, 7)})),

    # --- countries -----------------------------------------------------------------------------------------
    Case("country-cyrillic-lookalike", "Cyrillic А in 'Аustria' is not Austria: rejected; 'Austria' → AT",
         "country.csv", text(H4, "e1,EMAIL,a@example.com,\u0410ustria", "e2,EMAIL,b@example.com,Austria"),
         Rows((2, 1, 1, 0), rejects={1: "Location.Country"}, staged={"e2": {"Location.Country": "AT"}})),
    Case("country-native-name", "'Deutschland', 'España', '日本': country names in other languages (CLDR) → alpha-2",
         "country.csv", text(H4, "e1,EMAIL,a@example.com,Deutschland", "e2,EMAIL,b@example.com,Espa\u00f1a",
                             "e3,EMAIL,c@example.com,\u65e5\u672c"),
         Rows((3, 3, 0, 0), staged={"e1": {"Location.Country": "DE"}, "e2": {"Location.Country": "ES"},
                                   "e3": {"Location.Country": "JP"}})),
    Case("country-fullwidth", "full-width 'ＵＳ' is rejected, not folded to US",
         "country.csv", text(H4, "e1,EMAIL,a@example.com,\uff35\uff33"), Rows((1, 0, 1, 0), rejects={1: "Location.Country"})),
    Case("country-accents-and-dots", "accented and dotted names: Côte d'Ivoire → CI, U.S.A. → US",
         "country.csv", text(H4, "e1,EMAIL,a@example.com,C\u00f4te d'Ivoire", "e2,EMAIL,b@example.com,U.S.A."),
         Rows((2, 2, 0, 0), staged={"e1": {"Location.Country": "CI"}, "e2": {"Location.Country": "US"}})),

    # --- ids, channels and per-user limits ---------------------------------------------------------------------
    Case("id-repeated-3-times", "an Id three times across chunks: 2 superseded, the last wins",
         "dups.csv", text(H4, "dup,EMAIL,a@example.com,US", "other,EMAIL,o@example.com,US",
                          "dup,EMAIL,b@example.com,US", "dup,EMAIL,c@example.com,Germany"),
         Rows((4, 2, 0, 2), staged={"dup": {"Address": "c@example.com", "Location.Country": "DE"},
                                    "other": {"Address": "o@example.com"}}), read={"chunk_rows": 2}),
    Case("id-padded-duplicates", "' dup ' and 'dup' are the same Id once trimmed: the later wins",
         "dups.csv", text(H4, " dup ,EMAIL,a@example.com,US", "dup,EMAIL,b@example.com,US"),
         Rows((2, 1, 0, 1), staged={"dup": {"Address": "b@example.com"}})),
    Case("id-only-row", "a row with only an Id (update of an existing endpoint) is valid",
         "idonly.csv", text("Id,ChannelType,Address", "e1,,"), Rows((1, 1, 0, 0), staged={"e1": {"ChannelType": "", "Address": ""}})),
    Case("new-row-missing-fields", "rows without Id need ChannelType and Address",
         "noid.csv", text(H4, ",,a@example.com,US", ",EMAIL,,US", ",EMAIL,b@example.com,US"),
         Rows((3, 1, 2, 0), rejects={1: "required for a new endpoint", 2: "required for a new endpoint"},
              staged={"": {"Address": "b@example.com"}})),
    Case("channel-lowercase", "lower-case and dashed channel types map onto the enum",
         "chan.csv", text(H4, "e1,email,a@example.com,US", "e2,sms,(206) 555-0100,US", "e3,apns_sandbox,tok,US",
                          "e4,In-App,x,US"),
         Rows((4, 4, 0, 0), staged={"e1": {"ChannelType": "EMAIL"}, "e2": {"ChannelType": "SMS", "Address": "+12065550100"},
                                    "e3": {"ChannelType": "APNS_SANDBOX"}, "e4": {"ChannelType": "IN_APP"}})),
    Case("channel-unknown", "an unknown channel type is rejected",
         "chan.csv", text(H4, "e1,WHATSAPP,a@example.com,US", "e2,EMAIL,b@example.com,US"),
         Rows((2, 1, 1, 0), rejects={1: "ChannelType is not one of"})),
    Case("user-16-endpoints", "16 endpoints for one user id across chunks: the 16th is rejected",
         "users.csv", text("Id,ChannelType,Address,User.UserId", *_SAME_USER, "x,EMAIL,x@example.com,other-user"),
         Rows((17, 16, 1, 0), rejects={16: "more than 15 endpoints"}, staged={"e15": {"User.UserId": "same-user"}}),
         read={"chunk_rows": 5}),

    # --- field rules -----------------------------------------------------------------------------------------
    Case("latitude-out-of-range", "Latitude 91 and 'abc' rejected; ' 47.61 ' staged as 47.6",
         "lat.csv", text(LAT, "e1,EMAIL,a@example.com,91,0", "e2,EMAIL,b@example.com,abc,0",
                         "e3,EMAIL,c@example.com, 47.61 , -122.33 ", "e4,EMAIL,d@example.com,0,180.1"),
         Rows((4, 1, 3, 0), rejects={1: "Location.Latitude", 2: "Location.Latitude", 4: "Location.Longitude"},
              staged={"e3": {"Location.Latitude": "47.6", "Location.Longitude": "-122.3"}})),
    Case("optout-maybe", "OptOut 'maybe' rejected; 'all' and ' none ' canonical",
         "opt.csv", text("Id,ChannelType,Address,OptOut", "e1,EMAIL,a@example.com,maybe", "e2,EMAIL,b@example.com,all",
                         "e3,EMAIL,c@example.com, none "),
         Rows((3, 2, 1, 0), rejects={1: "OptOut must be ALL or NONE"},
              staged={"e2": {"OptOut": "ALL"}, "e3": {"OptOut": "NONE"}})),
    Case("locale-unknown", "Locale xx_YY rejected; 'en-us' → en_US",
         "loc.csv", text("Id,ChannelType,Address,Demographic.Locale", "e1,EMAIL,a@example.com,xx_YY",
                         "e2,EMAIL,b@example.com,en-us"),
         Rows((2, 1, 1, 0), rejects={1: "Demographic.Locale"}, staged={"e2": {"Demographic.Locale": "en_US"}})),
    Case("timezone-unknown", "Timezone Mars/Base rejected; 'europe/london' → Europe/London",
         "tz.csv", text("Id,ChannelType,Address,Demographic.Timezone", "e1,EMAIL,a@example.com,Mars/Base",
                        "e2,EMAIL,b@example.com,europe/london"),
         Rows((2, 1, 1, 0), rejects={1: "Demographic.Timezone"}, staged={"e2": {"Demographic.Timezone": "Europe/London"}})),
    Case("address-normalised", "email domain lower-cased and trimmed; national phone numbers → E.164 by country",
         "addr.csv", text(H4, "e1,EMAIL,  Ann.Smith@EXAMPLE.COM ,US", "e2,SMS,(206) 555-0100,us",
                          "e3,SMS,020 7946 0018,United Kingdom"),
         Rows((3, 3, 0, 0), staged={"e1": {"Address": "Ann.Smith@example.com"}, "e2": {"Address": "+12065550100"},
                                    "e3": {"Address": "+442079460018", "Location.Country": "GB"}})),
]
