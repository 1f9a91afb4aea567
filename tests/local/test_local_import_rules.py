"""One test per documented import rule: the bad row (or file) fails with a clear message, the rest imports."""

from __future__ import annotations

import json

HEADER = "Id,ChannelType,Address"


def _row_failure(pp, key: str, body: str, fmt: str = "CSV", *, good: tuple[str, ...] = ("ok1",),
                 bad: tuple[str, ...] = ()) -> str:
    """Import ``body``; expect COMPLETED with exactly one failed row; return its failure text."""
    url = pp.put(key, body)
    job = pp.import_job(url, fmt)
    assert job["JobStatus"] == "COMPLETED", job
    assert (job["TotalFailures"], len(job["Failures"]), job["FailedPieces"]) == (1, 1, 0), job
    for endpoint_id in good:
        assert pp.exists(endpoint_id), endpoint_id
    for endpoint_id in bad:
        assert not pp.exists(endpoint_id), endpoint_id
    return job["Failures"][0]


def _json_lines(*objs) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


def test_new_endpoint_without_address_and_channel_type(pp):
    body = f"{HEADER},Attributes.Tier\nok1,EMAIL,a@example.com,Gold\n,,,Silver\nnew2,EMAIL,,Gold\n"
    url = pp.put("rules/required.csv", body)
    job = pp.import_job(url)
    assert (job["JobStatus"], job["TotalProcessed"], job["TotalFailures"]) == ("COMPLETED", 3, 2)
    assert job["Failures"] == [
        f"{url} row 2: Missing Address and ChannelType: Address and ChannelType are required for a new endpoint",
        f"{url} row 3: Missing Address: Address and ChannelType are required for a new endpoint",
    ]
    assert not pp.exists("new2")


def test_row_with_id_of_existing_endpoint_is_an_update_without_address(pp):
    pp.batch([{"Id": "ok1", "ChannelType": "EMAIL", "Address": "a@example.com", "Attributes": {"Tier": ["Gold"]}}])
    job = pp.import_job(pp.put("rules/update.csv", "Id,Attributes.Tier\nok1,Platinum\n"))
    assert (job["JobStatus"], job["TotalFailures"]) == ("COMPLETED", 0)
    endpoint = pp.endpoint("ok1")
    assert (endpoint["Address"], endpoint["Attributes"]) == ("a@example.com", {"Tier": ["Platinum"]})


def test_invalid_channel_type(pp):
    failure = _row_failure(pp, "rules/channel.csv", f"{HEADER}\nok1,EMAIL,a@example.com\nbad,FAX,+1206\n",
                           bad=("bad",))
    assert failure.endswith("row 2: ChannelType 'FAX' is not valid; valid values: PUSH, GCM, APNS, APNS_SANDBOX, "
                            "APNS_VOIP, APNS_VOIP_SANDBOX, ADM, SMS, VOICE, EMAIL, BAIDU, CUSTOM, IN_APP")


def test_attribute_name_longer_than_50_characters(pp):
    name = "n" * 51
    body = f"{HEADER},Attributes.{name}\nok1,EMAIL,a@example.com,\nbad,EMAIL,b@example.com,x\n"
    failure = _row_failure(pp, "rules/name.csv", body, bad=("bad",))
    assert failure.endswith(f"row 2: attribute name 'Attributes.{name}' is 51 characters long; the limit is 50")


def test_attribute_value_longer_than_100_characters(pp):
    body = f"{HEADER},User.UserAttributes.Bio\nok1,EMAIL,a@example.com,{'v' * 100}\nbad,EMAIL,b@example.com,{'v' * 101}\n"
    failure = _row_failure(pp, "rules/value.csv", body, bad=("bad",))
    assert failure.endswith("row 2: a value of User.UserAttributes.Bio is 101 characters long; the limit is 100")


def test_more_than_50_values_per_attribute(pp):
    header = HEADER + ",Attributes.Tags" * 51
    ok = "ok1,EMAIL,a@example.com," + ",".join(f"t{i}" for i in range(50)) + ","
    bad = "bad,EMAIL,b@example.com," + ",".join(f"t{i}" for i in range(51))
    failure = _row_failure(pp, "rules/values.csv", f"{header}\n{ok}\n{bad}\n", bad=("bad",))
    assert failure.endswith("row 2: Attributes.Tags has 51 values; the limit is 50 values per attribute")
    assert len(pp.endpoint("ok1")["Attributes"]["Tags"]) == 50


def test_metric_must_be_numeric_csv(pp):
    body = f"{HEADER},Metrics.sessions\nok1,EMAIL,a@example.com,3.5\nbad,EMAIL,b@example.com,many\n"
    failure = _row_failure(pp, "rules/metric.csv", body, bad=("bad",))
    assert failure.endswith("row 2: Metrics.sessions value 'many' is not a number")
    assert pp.endpoint("ok1")["Metrics"] == {"sessions": 3.5}


def test_metric_must_be_numeric_json(pp):
    body = _json_lines({"Id": "ok1", "ChannelType": "EMAIL", "Address": "a@example.com", "Metrics": {"m": 1}},
                       {"Id": "bad", "ChannelType": "EMAIL", "Address": "b@example.com", "Metrics": {"m": "1"}})
    failure = _row_failure(pp, "rules/metric.json", body, "JSON", bad=("bad",))
    assert failure.endswith("row 2: Metrics.m value '1' is not a number")


def test_250_custom_attributes_per_application(pp):
    pp.batch([{"Id": "seed", "ChannelType": "EMAIL", "Address": "seed@example.com",
               "Attributes": {f"a{i}": ["x"] for i in range(200)}, "Metrics": {f"m{i}": 1.0 for i in range(49)}}])
    body = f"{HEADER},Attributes.a0,User.UserAttributes.new1,Metrics.new2\n" \
           "ok1,EMAIL,a@example.com,x,y,\nbad,EMAIL,b@example.com,x,,5\n"
    failure = _row_failure(pp, "rules/budget.csv", body, bad=("bad",))
    assert failure.endswith("row 2: custom attribute limit exceeded: the application would have 251 custom "
                            "attributes (Attributes, Metrics and User.UserAttributes names together); "
                            "the limit is 250 per application")


def test_endpoint_larger_than_15_kb(pp):
    big = {f"attr{i}": ["v" * 100] * 40 for i in range(4)}
    body = _json_lines({"Id": "ok1", "ChannelType": "EMAIL", "Address": "a@example.com"},
                       {"Id": "bad", "ChannelType": "EMAIL", "Address": "b@example.com", "Attributes": big})
    failure = _row_failure(pp, "rules/size.json", body, "JSON", bad=("bad",))
    assert "row 2: the endpoint is " in failure
    assert failure.endswith("bytes; the maximum endpoint size is 15 KB (15360 bytes)")


def test_sixteenth_endpoint_of_a_user_fails_its_row(pp):
    pp.batch([{"Id": f"e{i}", "ChannelType": "EMAIL", "Address": f"u{i}@example.com", "User": {"UserId": "u1"}}
              for i in range(15)])
    body = f"{HEADER},User.UserId\nok1,SMS,+12065550100,u2\nbad,SMS,+12065550101,u1\n"
    failure = _row_failure(pp, "rules/user.csv", body, bad=("bad",))
    assert failure.endswith("row 2: Exceeded maximum endpoint per user count: 15")


def test_sixteenth_push_endpoint_inactivates_the_oldest_push_endpoint(pp):
    items = [{"Id": "push-old", "ChannelType": "GCM", "Address": "tok-0", "User": {"UserId": "u1"},
              "EffectiveDate": "2024-01-01T00:00:00.000Z"},
             {"Id": "push-new", "ChannelType": "APNS", "Address": "tok-1", "User": {"UserId": "u1"},
              "EffectiveDate": "2025-01-01T00:00:00.000Z"}]
    items += [{"Id": f"e{i}", "ChannelType": "EMAIL", "Address": f"u{i}@example.com", "User": {"UserId": "u1"}}
              for i in range(13)]
    pp.batch(items)
    job = pp.import_job(pp.put("rules/push.csv", f"{HEADER},User.UserId\npush-16,GCM,tok-16,u1\n"))
    assert (job["JobStatus"], job["TotalFailures"]) == ("COMPLETED", 0)
    old = pp.endpoint("push-old")
    assert old["EndpointStatus"] == "INACTIVE"
    assert "UserId" not in old["User"]
    assert pp.endpoint("push-new")["EndpointStatus"] == "ACTIVE"
    users = pp.client.get_user_endpoints(ApplicationId=pp.app, UserId="u1")["EndpointsResponse"]["Item"]
    assert len(users) == 15 and "push-16" in {e["Id"] for e in users}


def test_unknown_csv_header_fails_the_piece(pp):
    pp.put("rules/hdr/good.csv", f"{HEADER}\nok1,EMAIL,a@example.com\n")
    url = pp.put("rules/hdr/bad.csv", f"{HEADER},location.country\nbad,EMAIL,b@example.com,US\n")
    job = pp.import_job(f"s3://{pp.bucket}/rules/hdr/")
    assert (job["JobStatus"], job["CompletedPieces"], job["FailedPieces"]) == ("FAILED", 1, 1)
    assert job["Failures"] == [(f"{url}: unknown column 'location.country' in the header: not a Pinpoint import "
                               "attribute (names are case-sensitive, e.g. Location.Country, Attributes.<name>)")]
    assert pp.exists("ok1") and not pp.exists("bad")


def test_endpoint_status_fails_its_row_alike_in_csv_and_ndjson(pp):
    message = "EndpointStatus is not supported in import files"
    csv_failure = _row_failure(pp, "rules/status.csv",
                               f"{HEADER},EndpointStatus\nok1,EMAIL,a@example.com,\nbad,EMAIL,b@example.com,ACTIVE\n",
                               bad=("bad",))
    assert csv_failure.endswith(f"row 2: {message}")
    body = _json_lines({"Id": "ok2", "ChannelType": "EMAIL", "Address": "c@example.com"},
                       {"Id": "bad2", "ChannelType": "EMAIL", "Address": "d@example.com", "EndpointStatus": "ACTIVE"})
    json_failure = _row_failure(pp, "rules/status.json", body, "JSON", good=("ok2",), bad=("bad2",))
    assert json_failure.endswith(f"row 2: {message}")


def test_sms_and_voice_addresses_must_be_e164(pp):
    body = (f"{HEADER}\nok1,SMS,+12065550100\nbad,SMS,2065550100\n")
    failure = _row_failure(pp, "rules/e164.csv", body, bad=("bad",))
    assert failure.endswith("row 2: SMS endpoints need an Address in E.164 format (+, country code and number, "
                            "at most 15 digits)")
    body = _json_lines({"Id": "ok2", "ChannelType": "VOICE", "Address": "+442079460000"},
                       {"Id": "bad2", "ChannelType": "VOICE", "Address": "+44 20 7946 0000"})
    failure = _row_failure(pp, "rules/e164.json", body, "JSON", good=("ok2",), bad=("bad2",))
    assert "row 2: VOICE endpoints need an Address in E.164 format" in failure
    # an update that changes only the channel is checked against the stored address
    pp.batch([{"Id": "mail", "ChannelType": "CUSTOM", "Address": "crm-1"}])
    failure = _row_failure(pp, "rules/e164-update.csv", f"{HEADER}\nok3,EMAIL,e@example.com\nmail,SMS,\n",
                           good=("ok3",))
    assert "row 2: SMS endpoints need an Address in E.164 format" in failure
    assert pp.endpoint("mail")["ChannelType"] == "CUSTOM"


def test_duplicated_scalar_header_fails_the_piece(pp):
    url = pp.put("rules/dup.csv", "Id,ChannelType,Address,Address\nbad,EMAIL,a@example.com,b@example.com\n")
    job = pp.import_job(url)
    assert (job["JobStatus"], job["FailedPieces"]) == ("FAILED", 1)
    assert job["Failures"] == [(f"{url}: column 'Address' appears more than once "
                               "(only Attributes.* and User.UserAttributes.* may repeat)")]


def test_unknown_json_field_fails_the_row(pp):
    body = _json_lines({"Id": "ok1", "ChannelType": "EMAIL", "Address": "a@example.com"},
                       {"Id": "bad", "ChannelType": "EMAIL", "Address": "b@example.com", "Colour": "red"},
                       {"Id": "bad2", "ChannelType": "EMAIL", "Address": "c@example.com", "Location": {"Planet": "Mars"}})
    url = pp.put("rules/unknown.json", body)
    job = pp.import_job(url, "JSON")
    assert (job["JobStatus"], job["TotalFailures"]) == ("COMPLETED", 2)
    assert job["Failures"] == [f"{url} row 2: unknown field 'Colour': not a Pinpoint import attribute",
                               f"{url} row 3: unknown field 'Location.Planet': not a Pinpoint import attribute"]


def test_line_break_or_tab_inside_a_csv_value_fails_the_row(pp):
    body = f'{HEADER},Attributes.Note\nok1,EMAIL,a@example.com,fine\nbad,EMAIL,b@example.com,"two\nlines"\n' \
           "bad2,EMAIL,c@example.com,tab\there\n"
    url = pp.put("rules/breaks.csv", body)
    job = pp.import_job(url)
    assert (job["JobStatus"], job["TotalFailures"]) == ("COMPLETED", 2)
    assert job["Failures"] == [f"{url} row 2: the value of Attributes.Note contains a line break or tab",
                               f"{url} row 3: the value of Attributes.Note contains a line break or tab"]
    assert pp.exists("ok1") and not pp.exists("bad") and not pp.exists("bad2")


def test_invalid_json_line_fails_the_row(pp):
    body = _json_lines({"Id": "ok1", "ChannelType": "EMAIL", "Address": "a@example.com"}) + "{Id: bad}\n[1, 2]\n"
    url = pp.put("rules/broken.json", body)
    job = pp.import_job(url, "JSON")
    assert (job["JobStatus"], job["TotalFailures"], job["TotalProcessed"]) == ("COMPLETED", 2, 3)
    assert job["Failures"][0].startswith(f"{url} row 2: invalid JSON: Expecting property name")
    assert job["Failures"][1] == f"{url} row 3: expected one JSON object per line (one endpoint per object)"


def test_invalid_opt_out_fails_the_row(pp):
    failure = _row_failure(pp, "rules/optout.csv",
                           f"{HEADER},OptOut\nok1,EMAIL,a@example.com,NONE\nbad,EMAIL,b@example.com,YES\n", bad=("bad",))
    assert failure.endswith("row 2: OptOut 'YES' is not valid; valid values: ALL, NONE")


def test_wrong_number_of_fields_fails_the_row(pp):
    failure = _row_failure(pp, "rules/fields.csv", f"{HEADER}\nok1,EMAIL,a@example.com\nbad,EMAIL,b@example.com,x\n",
                           bad=("bad",))
    assert failure.endswith("row 2: the row has 4 fields but the header has 3")


def test_failures_keep_only_the_first_100_entries(pp):
    rows = "".join(f"bad{i},FAX,x{i}\n" for i in range(120))
    url = pp.put("rules/many.csv", f"{HEADER}\nok1,EMAIL,a@example.com\n{rows}")
    job = pp.import_job(url)
    assert (job["JobStatus"], job["TotalProcessed"], job["TotalFailures"]) == ("COMPLETED", 121, 120)
    assert len(job["Failures"]) == 100
    assert job["Failures"][0].startswith(f"{url} row 2: ChannelType 'FAX'")
    assert job["Failures"][99].startswith(f"{url} row 101: ")


def test_user_id_only_file_defines_a_segment_of_registered_users(pp):
    pp.batch([{"Id": "a1", "ChannelType": "EMAIL", "Address": "a1@example.com", "User": {"UserId": "ua"}},
              {"Id": "a2", "ChannelType": "SMS", "Address": "+12065550100", "User": {"UserId": "ua"}},
              {"Id": "b1", "ChannelType": "EMAIL", "Address": "b1@example.com", "User": {"UserId": "ub"}},
              {"Id": "c1", "ChannelType": "EMAIL", "Address": "c1@example.com", "User": {"UserId": "uc"}}])
    url = pp.put("rules/users.csv", "User.UserId\nua ub\nnobody\n")
    job = pp.import_job(url, DefineSegment=True, SegmentName="users", RegisterEndpoints=False)
    assert (job["JobStatus"], job["TotalFailures"]) == ("COMPLETED", 1)
    assert job["Failures"] == [f"{url} row 2: no endpoints are registered for user id 'nobody'"]
    segment = pp.client.get_segment(ApplicationId=pp.app, SegmentId=job["Definition"]["SegmentId"])["SegmentResponse"]
    assert segment["ImportDefinition"]["Size"] == 3
    assert segment["ImportDefinition"]["ChannelCounts"] == {"EMAIL": 2, "SMS": 1}
