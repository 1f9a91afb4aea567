"""The bad-input corpus (issue 5), run through the whole prepare stage into a local folder.

Each case of :mod:`tests.corpus.cases` is written to ``tmp_path`` and staged with
``staging.prepare.prepare``; the outcome is asserted exactly (see ``cases.py``). On top of each
case's own expectation, every outcome is held to the contracts that hold for all inputs:

* errors: exactly the named ``PipelineError`` subclass, a one-line message free of control
  characters that names the file (and row / field where the case says so) and shows no email
  address or phone number from the input; nothing written under ``out_base``;
* counts: the books balance, the rejects file has one record per rejected row (source, row,
  reasons, original values), the staged parts hold exactly the valid rows and are import-ready
  (UTF-8 without BOM, no CR / TAB / NUL anywhere, no LF inside a value);
* no spill files are left behind either way.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from pinpoint_etl.core.errors import PipelineError
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.staging.prepare import Prepared, StageOptions, prepare
from tests.corpus.cases import CASES
from tests.corpus.kinds import Case, Raises, Rows

_EMAIL = re.compile(rb"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(rb"\+?\(?\d[\d ().-]{6,}\d")
_README = Path(__file__).with_name("README.md")


def _params() -> list:
    return [pytest.param(case, id=case.id,
                         marks=[pytest.mark.xfail(strict=True, reason=f"bug: {case.bug}")] if case.bug else [])
            for case in CASES]


def _personal_data(data: bytes) -> set[str]:
    """Email addresses and phone numbers in the input (raw and with separators removed)."""
    found: set[str] = set()
    for m in _EMAIL.finditer(data):
        found.add(m.group().decode("latin-1"))
    for m in _PHONE.finditer(data):
        raw = m.group().decode("latin-1").strip()
        digits = re.sub(r"[ ().-]", "", raw)
        if len(digits.lstrip("+")) >= 7:
            found.update({raw, digits})
    return found


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _staged_rows(prepared: Prepared) -> list[dict[str, str | list[str]]]:
    """Staged rows of every part; a repeated header (multi-value attribute) gives a list."""
    out = []
    for part in prepared.parts:
        raw = Path(part.uri).read_bytes()
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
        header, body = rows[0], rows[1:]
        assert len(body) == part.rows, f"{part.uri}: {len(body)} rows, manifest says {part.rows}"
        for values in body:
            assert len(values) == len(header)
            record: dict[str, list[str]] = {}
            for name, value in zip(header, values):
                record.setdefault(name, []).append(value)
            out.append({k: v[0] if len(v) == 1 else v for k, v in record.items()})
    return out


def _check_error(case: Case, expect: Raises, exc: PipelineError, src: Path, out: Path) -> None:
    message = str(exc)
    assert type(exc) is expect.cls, f"{type(exc).__name__} raised, expected {expect.cls.__name__}: {message}"
    assert "\n" not in message and "\r" not in message, "message is not one line"
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in message), f"control characters in {message!r}"
    assert str(src) in message, f"message does not name the file: {message}"
    assert exc.row == expect.row, f"row {exc.row}, expected {expect.row}: {message}"
    if expect.row is not None:
        assert f"row {expect.row}" in message
    assert exc.field == expect.field, f"field {exc.field}, expected {expect.field}: {message}"
    if expect.field is not None:
        assert f"field {expect.field}" in message
    for part in expect.contains:
        assert part in message, f"{part!r} not in {message!r}"
    leaked = sorted(p for p in _personal_data(case.data or b"") if p in message)
    assert not leaked, f"raw personal data in the message: {leaked}"
    written = _files(out)
    assert not written, f"files written despite the error: {written}"


def _check_rows(expect: Rows, prepared: Prepared, src: Path, out: Path) -> None:
    counts = (prepared.rows_read, prepared.rows_valid, prepared.rows_rejected, prepared.rows_superseded)
    rejects = [json.loads(line) for line in Path(prepared.rejects_uri).read_text(encoding="utf-8").splitlines()]
    summary = {r["row"]: r["reasons"] for r in rejects}
    assert counts == expect.counts, f"(read, valid, rejected, superseded) = {counts}; rejects: {summary}"
    assert prepared.balanced()

    # rejects: exactly the expected rows, each with its reason, source and original values
    assert len(rejects) == prepared.rows_rejected
    assert sorted(r["row"] for r in rejects) == sorted(expect.rejects), f"rejected rows: {summary}"
    for record in rejects:
        assert record["source"] == str(src)
        assert isinstance(record["values"], dict) and record["reasons"]
        wanted = expect.rejects[record["row"]]
        for part in (wanted,) if isinstance(wanted, str) else wanted:
            assert any(part in reason for reason in record["reasons"]), \
                f"row {record['row']}: {part!r} not in {record['reasons']}"

    # staged parts: import-ready, exactly the valid rows, expected values
    for part in prepared.parts:
        raw = Path(part.uri).read_bytes()
        assert part.bytes == len(raw)
        assert not raw.startswith(b"\xef\xbb\xbf"), "BOM in the import file"
        for bad, name in ((b"\r", "CR"), (b"\t", "TAB"), (b"\x00", "NUL")):
            assert bad not in raw, f"{name} in the import file {part.uri}"
    staged = _staged_rows(prepared)
    assert len(staged) == prepared.rows_valid
    for row in staged:
        for name, value in row.items():
            for v in value if isinstance(value, list) else [value]:
                assert "\n" not in v, f"line break inside {name}"
    by_id: dict[str, list[dict]] = {}
    for row in staged:
        by_id.setdefault(row.get("Id", ""), []).append(row)
    for key, values in expect.staged.items():
        assert len(by_id.get(key, [])) == 1, f"Id {key[:40]!r} staged {len(by_id.get(key, []))} times"
        (row,) = by_id[key]
        for column, value in values.items():
            assert column in row, f"Id {key[:40]!r}: column {column} not staged (columns: {list(row)})"
            assert row[column] == value, f"Id {key[:40]!r}: {column} = {row[column]!r}, expected {value!r}"
    if prepared.rows_valid == 0:
        assert prepared.parts == []


@pytest.mark.parametrize("case", _params())
def test_corpus_case(case: Case, tmp_path: Path) -> None:
    src = tmp_path / "in" / case.name
    src.parent.mkdir()
    if case.data is not None:
        src.write_bytes(case.data)
    out, spill = tmp_path / "out", tmp_path / "spill"
    spill.mkdir()
    opts = StageOptions(sources=[str(src)], read=ReadOptions(**case.read), mapping=dict(case.mapping))

    if isinstance(case.expect, Raises):
        with pytest.raises(PipelineError) as info:
            prepare(opts, run_id="corpus", out_base=str(out), spill_dir=str(spill))
        _check_error(case, case.expect, info.value, src, out)
    else:
        prepared = prepare(opts, run_id="corpus", out_base=str(out), spill_dir=str(spill))
        _check_rows(case.expect, prepared, src, out)
    assert not _files(spill), "spill files left behind"


# --- the table itself ----------------------------------------------------------------------------


def test_corpus_is_large_and_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 45
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    for case in CASES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", case.id), case.id
        assert case.description and "\n" not in case.description
        if isinstance(case.expect, Rows):
            assert len(case.expect.rejects) <= case.expect.counts[2], case.id


def test_readme_lists_every_case() -> None:
    readme = _README.read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", readme, flags=re.MULTILINE)
    assert sorted(listed) == sorted(c.id for c in CASES)
    bugs = set(re.findall(r"^\| `([a-z0-9-]+)` \|.*\*\*bug\*\*", readme, flags=re.MULTILINE))
    assert bugs == {c.id for c in CASES if c.bug}
