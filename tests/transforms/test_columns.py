import json

import pandas as pd
import pytest

from pinpoint_etl.core.errors import ColumnError, ConfigError
from pinpoint_etl.transforms.columns import apply_columns, load_mapping_file, parse_map_options, plan_columns


def test_pinpoint_names_match_in_any_case():
    plan = plan_columns(["_source", "_row", "id", "CHANNELTYPE", "location.country", "Metrics.Sessions",
                         "attributes.Interests", "user.userattributes.FirstName"])
    assert plan == {"_source": "_source", "_row": "_row", "id": "Id", "CHANNELTYPE": "ChannelType",
                    "location.country": "Location.Country", "Metrics.Sessions": "Metrics.Sessions",
                    "attributes.Interests": "Attributes.Interests",
                    "user.userattributes.FirstName": "User.UserAttributes.FirstName"}


def test_mapping_drop_and_fold():
    plan = plan_columns(["email", "Country", "notes", "junk", "fname", "Phone"],
                        {"email": "address", "Country": "Location.Country", "notes": "-", "Phone": ""},
                        drop={"junk"}, fold_unknown=True)
    assert plan == {"email": "Address", "Country": "Location.Country", "fname": "Attributes.fname"}


def test_mapping_keys_match_case_insensitively_when_unambiguous():
    assert plan_columns(["EMAIL"], {"email": "Address"}) == {"EMAIL": "Address"}
    with pytest.raises(ColumnError):
        plan_columns(["EMAIL"], {"email": "Address", "Email": "User.UserId"})


def test_mapping_wins_over_pinpoint_name():
    assert plan_columns(["Address", "Id"], {"Address": "-", "Id": "User.UserId"}) == {"Id": "User.UserId"}


def test_unknown_columns_message():
    with pytest.raises(ColumnError) as err:
        plan_columns(["Id", "email_addr", "fname"])
    assert str(err.value) == (
        "unknown columns: email_addr, fname — map them with --map email_addr=Address, drop them with "
        "--map fname=-, or fold them into Attributes.<name> with --fold-unknown")
    assert "\n" not in str(err.value)


def test_one_unknown_column_message():
    with pytest.raises(ColumnError, match=r"unknown column: zip_code — map it with --map zip_code=Location.PostalCode"):
        plan_columns(["zip_code"])


def test_unknown_slots_listed_once():
    with pytest.raises(ColumnError, match=r"unknown columns?: tags —"):
        plan_columns(["tags", "tags#2", "tags#3"])


def test_bad_mapping_target():
    with pytest.raises(ColumnError, match="not Pinpoint names: email=Emial"):
        plan_columns(["email"], {"email": "Emial"})


def test_slots_from_repeated_headers_and_arrays():
    plan = plan_columns(["Interests", "Interests#2", "Attributes.X", "Attributes.X#2", "Attributes.X#3"],
                        {"Interests": "Attributes.Interests"})
    assert plan == {"Interests": "Attributes.Interests", "Interests#2": "Attributes.Interests#2",
                    "Attributes.X": "Attributes.X", "Attributes.X#2": "Attributes.X#2",
                    "Attributes.X#3": "Attributes.X#3"}


def test_several_sources_onto_one_multi_value_attribute_become_slots_in_source_order():
    plan = plan_columns(["hobby", "Attributes.Interests", "sport", "sport#2"],
                        {"hobby": "Attributes.Interests", "sport": "attributes.Interests"})
    assert plan == {"hobby": "Attributes.Interests", "Attributes.Interests": "Attributes.Interests#2",
                    "sport": "Attributes.Interests#3", "sport#2": "Attributes.Interests#4"}


def test_two_sources_onto_one_scalar_field_is_an_error():
    with pytest.raises(ColumnError, match="map to Address, which holds a single value"):
        plan_columns(["email", "Address"], {"email": "Address"})
    with pytest.raises(ColumnError, match="Metrics.score"):
        plan_columns(["score", "Metrics.score"], {"score": "Metrics.score"})


def test_apply_columns_renames_drops_and_renumbers():
    frame = pd.DataFrame({"_source": ["f"], "_row": ["1"], "email": ["a@b.c"], "notes": ["x"],
                          "hobby": ["golf"], "Attributes.Interests": ["chess"]}, dtype="str")
    plan = plan_columns(list(frame.columns), {"email": "Address", "notes": "-", "hobby": "Attributes.Interests"})
    out = apply_columns(frame, plan)
    assert list(out.columns) == ["_source", "_row", "Address", "Attributes.Interests", "Attributes.Interests#2"]
    assert out.iloc[0].tolist() == ["f", "1", "a@b.c", "golf", "chess"]
    assert list(frame.columns)[2] == "email"  # input untouched


def test_apply_columns_hand_made_plan_renumbers_slots():
    frame = pd.DataFrame({"a": ["1"], "b": ["2"]}, dtype="str")
    out = apply_columns(frame, {"a": "Attributes.X", "b": "Attributes.X"})
    assert list(out.columns) == ["Attributes.X", "Attributes.X#2"]
    with pytest.raises(ColumnError):
        apply_columns(frame, {"a": "Address", "b": "Address"})


def test_load_mapping_file(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"email": "Address", "notes": None, "x": "-"}))
    assert load_mapping_file(path) == {"email": "Address", "notes": "-", "x": "-"}
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must hold a JSON object"):
        load_mapping_file(path)
    path.write_text("{oops")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_mapping_file(path)
    path.write_text('{"a": 3}')
    with pytest.raises(ConfigError, match="values must be"):
        load_mapping_file(path)
    with pytest.raises(ConfigError, match="not found"):
        load_mapping_file(tmp_path / "missing.json")


def test_parse_map_options():
    assert parse_map_options(["email=Address", " notes = - ", "junk=", "a=b=Attributes.c"]) == {
        "email": "Address", "notes": "-", "junk": "", "a=b": "Attributes.c"}
    for bad in (["email"], ["=Address"]):
        with pytest.raises(ConfigError, match="is not SOURCE=TARGET"):
            parse_map_options(bad)
    with pytest.raises(ConfigError, match="two targets"):
        parse_map_options(["email=Address", "email=User.UserId"])
