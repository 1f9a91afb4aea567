"""Formula-like values (CSV injection) are noted per field and never changed."""

from __future__ import annotations

import pyarrow as pa
import pytest
from pinpoint_etl.transforms.formula import formula_like
from pinpoint_etl.transforms.normalise import normalise

from tests.transforms.helpers import series, values_of


@pytest.mark.parametrize("value, formula", [
    ('=HYPERLINK("http://x.example","click")', True), ("+cmd|' /C calc'!A0", True), ("@SUM(A1:A9)", True),
    ("-2+3", True), ("=1", True), ("- item", True), ("@handle", True),
    ("-2", False), ("+2", False), ("-0.5", False), ("+1.5e3", False), ("+44 (0) 7700-900-123", False),
    ("+12065550100", False), ("-", False), ("+", False), ("1-2", False), ("hello", False), ("", False),
])
def test_formula_like(value, formula):
    assert formula_like(pa.array([value, None], pa.large_string())).tolist() == [formula, False]


def test_formulas_are_counted_per_field_and_staged_unchanged_even_behind_a_defensive_tab():
    frame = series(["=HYPERLINK(\"x\")", "\t=1+2", "plain", "-3"]).to_frame("Attributes.Note")
    frame["Attributes.Note#2"] = series(["@SUM(A1)", None, None, None])
    frame["User.UserAttributes.Phone"] = series(["+44 20 7946 0000", "+cmd", None, None])
    frame["ChannelType"] = series(["GCM", "GCM", "GCM", "GCM"])
    frame["Address"] = series(["-1bwqDB0o4U:APA91b", "-x", "=y", "-z"])  # push tokens start with - often
    result = normalise(frame)
    # the TAB is replaced and trimmed as every TAB is (import files hold none), which re-arms the formula: noted
    assert values_of(result.frame["Attributes.Note"]) == ['=HYPERLINK("x")', "=1+2", "plain", "-3"]
    assert result.notes == {"formula:Attributes.Note": 3, "formula:User.UserAttributes.Phone": 1}
    assert not any(k.startswith("formula:") for k in result.changes)  # notes are not changes
