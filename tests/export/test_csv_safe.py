"""Spreadsheet-safe CSV (issue #15): formula-looking values get a leading quote, plain numbers (``-2``, E.164
``+44…``) do not; the vectorised column rule equals the value rule; a CSV written with it and read back has no
cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import re

import pyarrow as pa
from hypothesis import example, given
from hypothesis import strategies as st

from pinpoint_etl.export.csv_safe import is_formula, neutralise, neutralise_array
from pinpoint_etl.export.write import OutputWriter

TRIGGERS = "=+-@\t\r"
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

NUMBERS = st.one_of(st.integers().map(str), st.integers().map(lambda i: f"+{abs(i)}"),
                    st.floats(allow_nan=False, allow_infinity=False).map(repr),
                    st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))  # E.164
FORMULAS = st.builds(lambda t, rest: t + rest, st.sampled_from(list(TRIGGERS)), st.text()).filter(
    lambda s: not NUMBER.fullmatch(s))
VALUES = st.one_of(st.text(), NUMBERS, FORMULAS)


def test_the_cases_of_issue_15():
    for formula in ('=HYPERLINK("http://x.example","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3",
                    "\t=1+2", "\r=1+2", "+44 7700 900123", "=1", "-", "+"):
        assert is_formula(formula) and neutralise(formula) == "'" + formula
    for plain in ("-2", "+447700900123", "-122.3", "1e5", "-.5", "12", "", "ann@example.com", "'=1", " =1"):
        assert not is_formula(plain) and neutralise(plain) == plain


@given(VALUES)
@example("-2")
@example("+447700900123")
def test_a_value_is_neutralised_exactly_when_it_starts_a_formula_and_is_no_plain_number(value):
    formula = value[:1] in TRIGGERS and value != "" and not NUMBER.fullmatch(value)
    assert neutralise(value) == ("'" + value if formula else value)


@given(st.lists(st.one_of(st.none(), VALUES), max_size=30))
def test_the_column_rule_is_the_value_rule(values):
    arr = pa.array(values, pa.large_string())
    out, n = neutralise_array(arr)
    assert out.to_pylist() == [None if v is None else neutralise(v) for v in values]
    assert n == sum(v is not None and is_formula(v) for v in values)


@given(st.lists(st.tuples(st.text(min_size=1), VALUES, NUMBERS), min_size=1, max_size=20))
def test_a_safe_csv_read_back_has_no_cell_a_spreadsheet_would_run(tmp_path_factory, rows):
    out = tmp_path_factory.mktemp("safe") / "e.csv"
    table = pa.table({"Id": [r[0] for r in rows], "Attributes.Note": [r[1] for r in rows],
                      "Metrics.n": [r[2] for r in rows]}).cast(pa.schema([(c, pa.large_string()) for c in
                                                                         ("Id", "Attributes.Note", "Metrics.n")]))
    writer = OutputWriter(str(out), "csv", ["Id", "Attributes.Note", "Metrics.n"], set(), None, None)
    writer.write(table)
    writer.close()
    cells = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))[1:]
    assert len(cells) == len(rows)
    for (id_, note, number), got in zip(rows, cells):
        assert got == [neutralise(id_), neutralise(note), number]  # numbers untouched
        assert not any(is_formula(cell) for cell in got)
