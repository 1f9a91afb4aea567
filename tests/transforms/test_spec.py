"""The mapping spec: its model (what a spec file may say) and how it expands a chunk's rows into endpoints."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
import yaml
from pinpoint_etl.core.errors import ColumnError, ConfigError
from pinpoint_etl.sources.frames import tag
from pinpoint_etl.transforms.expand import check_spec_columns, expand, no_endpoint_reason
from pinpoint_etl.transforms.spec import MappingSpec, is_spec, parse_spec, read_mapping_file

CRM = """
endpoints:
  - name: email
    address: email
    channel: email
    id: "{customer_id}-email"
  - name: mobile
    address: mobile
    channel: SMS
    id: "{customer_id}-sms"
  - name: push
    address: token
    channel_column: platform
    channel_map: {iOS: apns, android: GCM}
    id_hash: [customer_id, token]
    id_prefix: "p-"
    fields:
      Demographic.Platform: platform
fields:
  User.UserId: customer_id
  User.UserAttributes.FullName: {template: "{first_name} {last_name}"}
  Attributes.Source: {value: crm}
  Attributes.Tags: tags
  OptOut: {column: opted_out, map: boolean}
  EffectiveDate: {column: signup, date_formats: ["%d/%m/%Y", "%Y-%m-%d %H:%M%z"]}
  Attributes.Plan: {column: plan, map: {pro: Professional, "": Free}}
ignore: [notes]
"""
COLUMNS = ["customer_id", "email", "mobile", "token", "platform", "first_name", "last_name", "tags", "tags#2",
           "opted_out", "signup", "plan", "notes"]


def spec(text: str = CRM) -> MappingSpec:
    return parse_spec(yaml.safe_load(text), "spec.yaml")


def chunk(rows: list[dict]) -> pa.Table:
    table = pa.table({c: pa.array([r.get(c) for r in rows], pa.large_string()) for c in COLUMNS})
    return tag(table, "crm.csv", 1)


def endpoints(exp) -> list[dict]:
    return [{k: v for k, v in r.items() if v is not None} for r in exp.table.to_pylist()]


# --- the model ----------------------------------------------------------------------------------------


def test_a_spec_is_normalised_when_read():
    s = spec()
    assert [b.name for b in s.endpoints] == ["email", "mobile", "push"]
    assert s.endpoints[0].channel == "EMAIL" and s.endpoints[2].channel_map == {"iOS": "APNS", "android": "GCM"}
    assert s.fields["User.UserId"].column == "customer_id"  # the short form is a column
    assert s.fields["OptOut"].map == "boolean"
    assert s.columns()[:4] == ["email", "customer_id", "mobile", "token"]
    assert MappingSpec.model_validate(json.loads(s.model_dump_json())) == s  # a flow parameter round-trips


@pytest.mark.parametrize("text, message", [
    ("endpoints: []", "at least 1 item"),
    ("endpoints: [{address: e, channel: FAX, id: '{x}'}]", "'FAX' is not a ChannelType"),
    ("endpoints: [{address: e, channel: SMS}]", "give exactly one of id"),
    ("endpoints: [{address: e, channel: SMS, id: 'fixed'}]", "names no column"),
    ("endpoints: [{address: e, id: '{x}'}]", "exactly one of channel"),
    ("endpoints: [{address: e, channel: SMS, id: '{x!r}'}]", "plain {column} placeholders"),
    ("endpoints: [{address: e, channel: SMS, id: '{x}'}, {address: e, channel: EMAIL, id: '{x}'}]",
     "block names must differ"),
    ("endpoints: [{address: e, channel: SMS, id: '{x}'}]\nfields: {Address: x}", "comes from the endpoints blocks"),
    ("endpoints: [{address: e, channel: SMS, id: '{x}'}]\nfields: {Shoe.Size: x}", "not a Pinpoint field"),
    ("endpoints: [{address: e, channel: SMS, id: '{x}'}]\nfields: {EffectiveDate: x}", "needs date_formats"),
    ("endpoints: [{address: e, channel: SMS, id: '{x}'}]\nfields: {Attributes.A: {column: x, value: y}}",
     "exactly one of column, value or template"),
    ("endpoints: [{address: e, channel: SMS, id: '{x}'}]\nfields: {Attributes.A: {column: x, map: boolean}}",
     "for OptOut only"),
    ("endpoints: [{address: e, channel: SMS, id: '{x}', colour: red}]", "Extra inputs"),
])
def test_a_wrong_spec_is_a_config_error_naming_the_problem(text, message):
    with pytest.raises(ConfigError, match="mapping spec spec.yaml") as info:
        spec(text)
    assert message in str(info.value)


def test_mapping_files_are_read_as_yaml_or_json_and_told_apart(tmp_path):
    (tmp_path / "s.yaml").write_text(CRM)
    (tmp_path / "m.json").write_text('{"email": "Address"}')
    (tmp_path / "bad.yml").write_text("endpoints: [\n")
    assert is_spec(read_mapping_file(tmp_path / "s.yaml"))
    assert not is_spec(read_mapping_file(tmp_path / "m.json"))
    with pytest.raises(ConfigError, match=r"bad.yml is not valid YAML \(line"):
        read_mapping_file(tmp_path / "bad.yml")
    with pytest.raises(ConfigError, match="not found"):
        read_mapping_file(tmp_path / "nope.yaml")


# --- columns -------------------------------------------------------------------------------------------


def test_columns_the_spec_names_must_exist_and_every_column_must_be_used():
    s = spec()
    check_spec_columns(s, COLUMNS, require=True)
    check_spec_columns(s, [c.upper() for c in COLUMNS], require=True)  # names match ignoring case
    with pytest.raises(ColumnError, match="does not have: mobile"):
        check_spec_columns(s, [c for c in COLUMNS if c != "mobile"], require=True)
    check_spec_columns(s, [c for c in COLUMNS if c != "mobile"], require=False)  # a JSON field may be absent
    with pytest.raises(ColumnError, match="does not use: shoe_size .*ignore:"):
        check_spec_columns(s, COLUMNS + ["shoe_size"], require=True)
    check_spec_columns(s.model_copy(update={"unmapped": "ignore"}), COLUMNS + ["shoe_size"], require=True)


# --- expansion ------------------------------------------------------------------------------------------


ROWS = [
    {"customer_id": "c1", "email": "a@example.com", "mobile": "+12065550100", "first_name": "Ann", "last_name": "Lee",
     "tags": "gold", "tags#2": "vip", "opted_out": "Yes", "signup": "01/02/2024", "plan": "pro", "notes": "x"},
    {"customer_id": " c2 ", "email": "  ", "token": "tok-2", "platform": "iOS", "first_name": "Bo",
     "opted_out": "no", "signup": "2024-03-01 09:30+0100", "plan": ""},
    {"customer_id": "c3", "mobile": "+12065550101", "opted_out": "maybe", "signup": "31/02/2024"},
    {"customer_id": "c4", "first_name": "Di"},
    {"email": "e@example.com", "token": "tok-5", "platform": "web"},
]


def test_each_row_yields_one_endpoint_per_block_with_an_address_in_row_then_block_order():
    exp = expand(chunk(ROWS), spec())
    got = endpoints(exp)
    assert [e["_row"] for e in got] == [1, 1, 2, 3, 5, 5]
    assert [e["ChannelType"] for e in got] == ["EMAIL", "SMS", "APNS", "SMS", "EMAIL", "web"]
    assert exp.rows.tolist() == [0, 0, 1, 2, 4, 4] and exp.blocks.tolist() == [0, 1, 2, 1, 0, 2]
    assert exp.no_endpoint.tolist() == [3]  # c4 has no address at all; c2's blank email is no address
    first, sms = got[0], got[1]
    assert first["Id"] == "c1-email" and sms["Id"] == "c1-sms" and sms["Address"] == "+12065550100"
    for e in (first, sms):  # shared fields on every endpoint of the row
        assert e["User.UserId"] == "c1" and e["User.UserAttributes.FullName"] == "Ann Lee"
        assert e["Attributes.Source"] == "crm" and e["OptOut"] == "ALL"
        assert e["Attributes.Tags"] == "gold" and e["Attributes.Tags#2"] == "vip"  # slots of a repeated column
        assert e["EffectiveDate"] == "2024-02-01T00:00:00Z" and e["Attributes.Plan"] == "Professional"
    assert "Demographic.Platform" not in first  # a block's own field
    push = got[2]
    assert push["Demographic.Platform"] == "iOS" and push["OptOut"] == "NONE"
    assert push["EffectiveDate"] == "2024-03-01T08:30:00Z"  # %z read, written in UTC
    assert push["Attributes.Plan"] == "Free"  # the map's "" key
    assert push["User.UserId"] == " c2 " and "User.UserAttributes.FullName" not in push  # trimmed later; no last name
    assert push["Id"] == expand(chunk([{**ROWS[1], "customer_id": "c2"}]), spec()).table.column("Id")[0].as_py()
    assert got[3]["OptOut"] == "maybe"  # not in the boolean map: kept, for the schema to reject


def test_ids_are_stable_and_a_missing_id_value_or_a_bad_date_rejects_the_endpoint():
    exp = expand(chunk(ROWS), spec())
    again = expand(chunk(ROWS), spec())
    assert exp.table.column("Id").to_pylist() == again.table.column("Id").to_pylist()
    push_id = exp.table.column("Id")[2].as_py()
    assert push_id.startswith("p-") and len(push_id) == 22
    assert exp.reasons == {
        3: ["EffectiveDate is not a date in the formats %d/%m/%Y or %Y-%m-%d %H:%M%z"],  # 31/02/2024
        4: ["Id of the email endpoint needs customer_id, which is missing"],
        5: ["Id of the push endpoint needs customer_id, token, which is missing"],
    }
    assert no_endpoint_reason(spec()) == "no endpoint: none of the address columns (email, mobile, token) holds a value"
    # OptOut: Yes, no and two missing values; plan: pro, "" and three missing ones; platform: iOS
    assert exp.changes == {"value_map": 4 + 5 + 1, "date": 2}


def test_a_chunk_without_rows_or_without_a_column_the_spec_names():
    exp = expand(chunk([]), spec())
    assert exp.table.num_rows == 0 and exp.no_endpoint.size == 0
    table = chunk(ROWS[:1]).drop_columns(["mobile"])  # a JSON chunk may lack a field
    assert [e["ChannelType"] for e in endpoints(expand(table, spec()))] == ["EMAIL"]


def test_a_large_chunk_keeps_row_order_and_counts():
    n = 50_000
    rows = [{"customer_id": f"c{i}", "email": f"u{i}@example.com", "mobile": None if i % 3 else f"+1206555{i % 10000:04d}",
             "opted_out": ("yes", "no", "")[i % 3], "signup": f"{1 + i % 28:02d}/03/2024", "plan": "pro"}
            for i in range(n)]
    exp = expand(chunk(rows), spec())
    assert exp.table.num_rows == n + (n + 2) // 3
    assert np.all(np.diff(exp.rows) >= 0) and exp.changes["date"] == n
    counts = {d["values"]: d["counts"] for d in exp.table.column("OptOut").value_counts().to_pylist()}
    assert counts == {"ALL": (n + 2) // 3 * 2, "NONE": n - (n + 2) // 3}  # yes: 2 endpoints; no, blank: 1
