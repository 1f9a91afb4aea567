"""Property: with a mapping spec, every source row is in the ledger once per endpoint it produced (once if
it produced none), whatever the spec and the rows — staged, rejected or superseded — and the books balance."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.staging.ledger import STAGING_NAME
from pinpoint_etl.staging.prepare import StageOptions, prepare
from pinpoint_etl.transforms.spec import MappingSpec

COLUMNS = ["k", "a0", "a1", "a2", "x", "d"]
_ADDRESS = st.sampled_from([None, "", "  ", "u@example.com", "v@example.org", "not-an-email", "+12065550100",
                            "tok-123", "=cmd"])
_VALUE = st.sampled_from([None, "", "k1", "k2", "k3", " k1 ", "gold", "01/02/2024", "31/02/2024"])


@st.composite
def specs(draw) -> MappingSpec:
    blocks = []
    for i in range(draw(st.integers(1, 3))):
        block = {"name": f"b{i}", "address": f"a{i}", "channel": draw(st.sampled_from(["EMAIL", "SMS", "CUSTOM"]))}
        if draw(st.booleans()):
            block["id"] = f"{{k}}-b{i}" if draw(st.booleans()) else "{k}"  # "{k}" alone: blocks share an Id
        else:
            block["id_hash"] = ["k", f"a{i}"]
        blocks.append(block)
    fields = {}
    if draw(st.booleans()):
        fields["User.UserId"] = "k"
    if draw(st.booleans()):
        fields["Attributes.X"] = {"column": "x", "map": {"gold": "Gold"}}
    if draw(st.booleans()):
        fields["Attributes.Day"] = {"column": "d", "date_formats": ["%d/%m/%Y"]}
    return MappingSpec.model_validate({"endpoints": blocks, "fields": fields, "unmapped": "ignore"})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(spec=specs(), rows=st.lists(st.fixed_dictionaries({c: _ADDRESS if c.startswith("a") else _VALUE
                                                          for c in COLUMNS}), min_size=1, max_size=25),
       chunk_rows=st.integers(1, 10))
def test_every_source_row_is_in_the_ledger_once_per_endpoint_it_produced(tmp_path_factory, spec, rows, chunk_rows):
    tmp = tmp_path_factory.mktemp("spec")
    src = tmp / "in.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows([[r[c] or "" for c in COLUMNS] for r in rows])
    out = tmp / "out"
    prepared = prepare(StageOptions(sources=[str(src)], read=ReadOptions(chunk_rows=chunk_rows), spec=spec,
                                    runner="threads", workers=2), run_id="prop", out_base=str(out))

    expected = {}
    for row, r in enumerate(rows, start=1):
        made = sum(1 for b in spec.endpoints if (r[b.address] or "").strip())
        expected[row] = max(made, 1)  # a row that yields none is in the ledger once, rejected
    ledger = list(csv.DictReader((out / STAGING_NAME).open(encoding="utf-8")))
    counted: dict[int, int] = {}
    for entry in ledger:
        assert entry["source"] == str(src)
        counted[int(entry["row"])] = counted.get(int(entry["row"]), 0) + 1
    assert counted == expected
    assert prepared.balanced() and prepared.rows_read == len(ledger) == sum(expected.values())
    assert prepared.source_rows_read == len(rows)
    fates = [e["fate"] for e in ledger]
    assert fates.count("staged") == prepared.rows_valid and fates.count("superseded") == prepared.rows_superseded
    rejects = [json.loads(line) for line in Path(prepared.rejects_uri).read_text(encoding="utf-8").splitlines()]
    assert sorted(r["row"] for r in rejects) == sorted(int(e["row"]) for e in ledger if e["fate"] == "rejected")
    for r in rejects:  # a rejected endpoint names its block; a row without any endpoint does not
        made = sum(1 for b in spec.endpoints if (rows[r["row"] - 1][b.address] or "").strip())
        over = any("more than 15 endpoints" in why for why in r["reasons"])  # decided after the chunks: no block
        assert ("endpoint" in r) == (made > 0 and not over)
