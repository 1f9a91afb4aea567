"""Endpoint APIs: UpdateEndpoint(s), GetEndpoint, DeleteEndpoint, GetUserEndpoints and their rules."""

from __future__ import annotations

import pytest

RESPONSE_FIELDS = {"Address", "ApplicationId", "Attributes", "ChannelType", "CohortId", "CreationDate",
                   "Demographic", "EffectiveDate", "EndpointStatus", "Id", "Location", "Metrics", "OptOut",
                   "RequestId", "User"}


def _update(pp, endpoint_id: str, **request):
    return pp.client.update_endpoint(ApplicationId=pp.app, EndpointId=endpoint_id, EndpointRequest=request)


def _bad_request(call) -> str:
    with pytest.raises(Exception) as err:
        call()
    response = err.value.response
    assert response["Error"]["Code"] == "BadRequestException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return response["Error"]["Message"]


def test_update_endpoint_then_get_returns_every_field(pp):
    resp = _update(pp, "mary@example.com", ChannelType="EMAIL", Address="mary@example.com",
                   Attributes={"Interests": ["Music", "Books"]}, Metrics={"sessions": 3},
                   Demographic={"Locale": "en_US", "Platform": "ios"}, Location={"Country": "US", "Latitude": 47.6},
                   User={"UserId": "u1", "UserAttributes": {"FirstName": ["Mary"]}})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert resp["MessageBody"]["Message"] == "Accepted"
    assert resp["MessageBody"]["RequestID"] == resp["ResponseMetadata"]["RequestId"]
    endpoint = pp.endpoint("mary@example.com")
    assert set(endpoint) == RESPONSE_FIELDS
    assert endpoint["Id"] == "mary@example.com"
    assert endpoint["ApplicationId"] == pp.app
    assert (endpoint["EndpointStatus"], endpoint["OptOut"]) == ("ACTIVE", "NONE")
    assert endpoint["Metrics"] == {"sessions": 3.0}
    assert endpoint["User"] == {"UserId": "u1", "UserAttributes": {"FirstName": ["Mary"]}}
    assert 0 <= int(endpoint["CohortId"]) <= 99
    assert endpoint["RequestId"] == resp["MessageBody"]["RequestID"]
    assert endpoint["CreationDate"].endswith("Z") and endpoint["EffectiveDate"] >= endpoint["CreationDate"]


def test_update_overwrites_listed_attributes_and_keeps_the_others(pp):
    _update(pp, "e1", ChannelType="EMAIL", Address="e1@example.com",
            Attributes={"Interests": ["Music"], "Tier": ["Gold"]}, User={"UserId": "u1"})
    created = pp.endpoint("e1")["CreationDate"]
    _update(pp, "e1", Attributes={"Interests": ["Travel", "Food"]}, OptOut="ALL")
    endpoint = pp.endpoint("e1")
    assert endpoint["Attributes"] == {"Interests": ["Travel", "Food"], "Tier": ["Gold"]}
    assert (endpoint["OptOut"], endpoint["Address"], endpoint["User"]["UserId"]) == ("ALL", "e1@example.com", "u1")
    assert endpoint["CreationDate"] == created


def test_new_endpoint_needs_address_and_channel_type(pp):
    message = _bad_request(lambda: _update(pp, "e1", ChannelType="EMAIL"))
    assert message == "Missing Address: Address and ChannelType are required for a new endpoint"
    assert not pp.exists("e1")


def test_invalid_values_are_bad_requests(pp):
    base = {"ChannelType": "EMAIL", "Address": "a@example.com"}
    cases = [
        ({"ChannelType": "FAX"}, "ChannelType 'FAX' is not valid"),
        ({"Attributes": {"n" * 51: ["x"]}}, "attribute name 'Attributes." + "n" * 51 + "' is 51 characters long"),
        ({"Attributes": {"a": ["v" * 101]}}, "a value of Attributes.a is 101 characters long; the limit is 100"),
        ({"Attributes": {"a": [str(i) for i in range(51)]}}, "Attributes.a has 51 values; the limit is 50"),
        ({"Attributes": {f"k{i}": ["v" * 100] * 40 for i in range(4)}}, "the maximum endpoint size is 15 KB"),
        ({"OptOut": "MAYBE"}, "OptOut 'MAYBE' is not valid"),
        ({"ChannelType": "SMS", "Address": "(206) 555-0100"}, "SMS endpoints need an Address in E.164 format"),
    ]
    for extra, expected in cases:
        message = _bad_request(lambda extra=extra: _update(pp, "bad", **{**base, **extra}))
        assert expected in message
    assert not pp.exists("bad")


def test_same_address_makes_the_other_endpoint_inactive(pp):
    _update(pp, "old", ChannelType="SMS", Address="+12065550100")
    _update(pp, "new", ChannelType="SMS", Address="+12065550100")
    assert pp.endpoint("old")["EndpointStatus"] == "INACTIVE"
    assert pp.endpoint("new")["EndpointStatus"] == "ACTIVE"
    _update(pp, "old", ChannelType="SMS", Address="+12065550100")
    assert (pp.endpoint("old")["EndpointStatus"], pp.endpoint("new")["EndpointStatus"]) == ("ACTIVE", "INACTIVE")


def test_batch_of_100_is_accepted(pp):
    resp = pp.batch([{"Id": f"b{i}", "ChannelType": "EMAIL", "Address": f"b{i}@example.com"} for i in range(100)])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert resp["MessageBody"]["Message"] == "Accepted"
    assert pp.endpoint("b99")["Address"] == "b99@example.com"


def test_batch_of_101_is_refused_and_stores_nothing(pp):
    items = [{"Id": f"b{i}", "ChannelType": "EMAIL", "Address": f"b{i}@example.com"} for i in range(101)]
    message = _bad_request(lambda: pp.batch(items))
    assert message == "The batch has 101 items; at most 100 EndpointBatchItems are allowed per request"
    assert not pp.exists("b0")


def test_batch_with_one_bad_item_stores_nothing(pp):
    pp.batch([{"Id": "keep", "ChannelType": "SMS", "Address": "+12065550100", "Attributes": {"T": ["1"]}}])
    items = [{"Id": "keep", "ChannelType": "SMS", "Address": "+12065550100", "Attributes": {"T": ["2"]}},
             {"Id": "dup", "ChannelType": "SMS", "Address": "+12065550100"},
             {"Id": "bad", "ChannelType": "EMAIL"}]
    message = _bad_request(lambda: pp.batch(items))
    assert message == "Item 2 (Id bad): Missing Address: Address and ChannelType are required for a new endpoint"
    keep = pp.endpoint("keep")
    assert (keep["Attributes"], keep["EndpointStatus"]) == ({"T": ["1"]}, "ACTIVE")
    assert not pp.exists("dup")


def test_delete_endpoint_returns_it_and_removes_it(pp):
    _update(pp, "gone", ChannelType="EMAIL", Address="gone@example.com", User={"UserId": "u9"})
    resp = pp.client.delete_endpoint(ApplicationId=pp.app, EndpointId="gone")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert resp["EndpointResponse"]["Address"] == "gone@example.com"
    assert not pp.exists("gone")
    with pytest.raises(pp.client.exceptions.NotFoundException):
        pp.client.delete_endpoint(ApplicationId=pp.app, EndpointId="gone")
    with pytest.raises(pp.client.exceptions.NotFoundException):
        pp.client.get_user_endpoints(ApplicationId=pp.app, UserId="u9")


def test_get_user_endpoints(pp):
    pp.batch([{"Id": f"u{i}", "ChannelType": "EMAIL", "Address": f"u{i}@example.com", "User": {"UserId": "alice"}}
              for i in range(3)] + [{"Id": "other", "ChannelType": "SMS", "Address": "+12065550199", "User": {"UserId": "bob"}}])
    items = pp.client.get_user_endpoints(ApplicationId=pp.app, UserId="alice")["EndpointsResponse"]["Item"]
    assert [e["Id"] for e in items] == ["u0", "u1", "u2"]
    with pytest.raises(pp.client.exceptions.NotFoundException):
        pp.client.get_user_endpoints(ApplicationId=pp.app, UserId="nobody")
    deleted = pp.client.delete_user_endpoints(ApplicationId=pp.app, UserId="alice")["EndpointsResponse"]["Item"]
    assert len(deleted) == 3 and not pp.exists("u0") and pp.exists("other")


def test_sixteenth_endpoint_of_a_non_push_channel_is_refused(pp):
    pp.batch([{"Id": f"e{i}", "ChannelType": "EMAIL", "Address": f"e{i}@example.com", "User": {"UserId": "u1"}}
              for i in range(15)])
    message = _bad_request(lambda: _update(pp, "e15", ChannelType="SMS", Address="+12065550100", User={"UserId": "u1"}))
    assert message == "Exceeded maximum endpoint per user count: 15"
    items = pp.client.get_user_endpoints(ApplicationId=pp.app, UserId="u1")["EndpointsResponse"]["Item"]
    assert len(items) == 15


def test_sixteenth_push_endpoint_inactivates_the_oldest_push_endpoint(pp):
    items = [{"Id": f"apns{i}", "ChannelType": "APNS", "Address": f"tok{i}", "User": {"UserId": "u1"},
              "EffectiveDate": f"2024-01-0{i + 1}T00:00:00.000Z"} for i in range(3)]
    items += [{"Id": f"e{i}", "ChannelType": "EMAIL", "Address": f"e{i}@example.com", "User": {"UserId": "u1"}}
              for i in range(12)]
    pp.batch(items)
    _update(pp, "gcm-new", ChannelType="GCM", Address="fcm-token", User={"UserId": "u1"})
    oldest = pp.endpoint("apns0")
    assert oldest["EndpointStatus"] == "INACTIVE" and "UserId" not in oldest["User"]
    assert pp.endpoint("apns1")["EndpointStatus"] == "ACTIVE"
    ids = {e["Id"] for e in pp.client.get_user_endpoints(ApplicationId=pp.app, UserId="u1")["EndpointsResponse"]["Item"]}
    assert len(ids) == 15 and "gcm-new" in ids and "apns0" not in ids


def test_sixteenth_push_endpoint_without_push_endpoints_to_replace_is_refused(pp):
    pp.batch([{"Id": f"e{i}", "ChannelType": "EMAIL", "Address": f"e{i}@example.com", "User": {"UserId": "u1"}}
              for i in range(15)])
    message = _bad_request(lambda: _update(pp, "gcm", ChannelType="GCM", Address="tok", User={"UserId": "u1"}))
    assert message == "Exceeded maximum endpoint per user count: 15"


def test_250_custom_attributes_per_application(pp):
    pp.batch([{"Id": "a", "ChannelType": "EMAIL", "Address": "a@example.com",
               "Attributes": {f"a{i}": ["x"] for i in range(150)},
               "User": {"UserAttributes": {f"u{i}": ["x"] for i in range(100)}}}])
    _update(pp, "a", Attributes={"a0": ["changed"]})
    message = _bad_request(lambda: _update(pp, "b", ChannelType="EMAIL", Address="b@example.com", Metrics={"new": 1}))
    assert message.startswith("custom attribute limit exceeded: the application would have 251 custom attributes")


def test_unknown_app_and_endpoint_are_not_found(pp):
    with pytest.raises(pp.client.exceptions.NotFoundException) as err:
        pp.client.get_endpoint(ApplicationId="0" * 32, EndpointId="x")
    assert err.value.response["Error"]["Message"] == "Resource not found"
    with pytest.raises(pp.client.exceptions.NotFoundException) as err:
        pp.client.get_endpoint(ApplicationId=pp.app, EndpointId="x")
    assert err.value.response["Error"]["Message"] == "Endpoint x not found"


@pytest.mark.parametrize("endpoint_id", ["+12065550100", "mary@example.com", "a b", "x%y", "ü", "with/slash"])
def test_ids_with_special_characters(pp, endpoint_id):
    _update(pp, endpoint_id, ChannelType="SMS", Address="+12065550100", User={"UserId": f"user {endpoint_id}"})
    assert pp.endpoint(endpoint_id)["Id"] == endpoint_id
    items = pp.client.get_user_endpoints(ApplicationId=pp.app, UserId=f"user {endpoint_id}")["EndpointsResponse"]["Item"]
    assert [e["Id"] for e in items] == [endpoint_id]
    assert pp.client.delete_endpoint(ApplicationId=pp.app, EndpointId=endpoint_id)["EndpointResponse"]["Id"] == endpoint_id
