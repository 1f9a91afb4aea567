"""PutEvents: per-endpoint and per-event results, endpoint upsert, limits."""

from __future__ import annotations

import pytest

TS = "2026-11-20T10:00:00.000Z"


def _event(**extra):
    return {"EventType": "_session.start", "Timestamp": TS, **extra}


def test_put_events_accepts_events_with_app_fields_and_upserts_the_endpoint(pp):
    request = {"BatchItem": {"ep-1": {
        "Endpoint": {"ChannelType": "GCM", "Address": "fcm-token", "User": {"UserId": "u1"},
                     "Demographic": {"Platform": "android"}},
        "Events": {
            "evt-1": _event(AppPackageName="com.example.app", AppTitle="Example", AppVersionCode="42",
                            SdkName="aws-amplify", ClientSdkVersion="6.0",
                            Attributes={"screen": "home"}, Metrics={"duration": 1.5},
                            Session={"Id": "s1", "StartTimestamp": TS}),
            "evt-2": _event(EventType="purchase"),
        }}}}
    resp = pp.client.put_events(ApplicationId=pp.app, EventsRequest=request)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert resp["EventsResponse"]["Results"] == {"ep-1": {
        "EndpointItemResponse": {"StatusCode": 202, "Message": "Accepted"},
        "EventsItemResponse": {"evt-1": {"StatusCode": 202, "Message": "Accepted"},
                               "evt-2": {"StatusCode": 202, "Message": "Accepted"}}}}
    endpoint = pp.endpoint("ep-1")
    assert (endpoint["ChannelType"], endpoint["Address"], endpoint["User"]["UserId"]) == ("GCM", "fcm-token", "u1")


def test_invalid_events_get_400_and_valid_ones_202(pp):
    request = {"BatchItem": {"ep-1": {"Endpoint": {}, "Events": {
        "ok": _event(),
        "no-type": {"Timestamp": TS},
        "no-time": {"EventType": "x"},
        "bad-time": {"EventType": "x", "Timestamp": "yesterday"},
        "bad-session": _event(Session={"Id": "s"}),
        "long-value": _event(Attributes={"k": "v" * 201}),
        "too-many-keys": _event(Attributes={f"k{i}": "v" for i in range(41)}),
    }}}}
    client = pp.unvalidated_client()
    results = client.put_events(ApplicationId=pp.app, EventsRequest=request)["EventsResponse"]["Results"]["ep-1"]
    assert results["EndpointItemResponse"] == {"StatusCode": 202, "Message": "Accepted"}
    events = results["EventsItemResponse"]
    assert {k: v["StatusCode"] for k, v in events.items()} == {
        "ok": 202, "no-type": 400, "no-time": 400, "bad-time": 400, "bad-session": 400, "long-value": 400,
        "too-many-keys": 400}
    assert events["no-type"]["Message"] == "Missing EventType"
    assert events["no-time"]["Message"] == "Missing Timestamp"
    assert events["bad-time"]["Message"] == "Invalid Timestamp 'yesterday': use ISO 8601"
    assert events["bad-session"]["Message"] == "Session requires Id and StartTimestamp"
    assert events["long-value"]["Message"] == "Event attribute k is longer than 200 characters"
    assert events["too-many-keys"]["Message"] == "The event has 41 attribute and metric keys; the limit is 40"


def test_bad_endpoint_gets_400_but_its_events_are_still_judged(pp):
    request = {"BatchItem": {
        "bad-ep": {"Endpoint": {"ChannelType": "PIGEON", "Address": "coop"}, "Events": {"e": _event()}},
        "new-ep": {"Endpoint": {"Attributes": {"a": ["b"]}}, "Events": {"e": _event()}},
    }}
    results = pp.client.put_events(ApplicationId=pp.app, EventsRequest=request)["EventsResponse"]["Results"]
    assert results["bad-ep"]["EndpointItemResponse"]["StatusCode"] == 400
    assert results["bad-ep"]["EndpointItemResponse"]["Message"].startswith("ChannelType 'PIGEON' is not valid")
    assert results["bad-ep"]["EventsItemResponse"]["e"]["StatusCode"] == 202
    assert results["new-ep"]["EndpointItemResponse"] == {
        "StatusCode": 400, "Message": "Missing Address and ChannelType: Address and ChannelType are required "
                                      "for a new endpoint"}
    assert not pp.exists("bad-ep") and not pp.exists("new-ep")


def test_more_than_100_events_per_request_is_a_bad_request(pp):
    events = {f"e{i}": _event() for i in range(101)}
    with pytest.raises(pp.client.exceptions.BadRequestException) as err:
        pp.client.put_events(ApplicationId=pp.app, EventsRequest={"BatchItem": {"ep": {"Endpoint": {}, "Events": events}}})
    assert err.value.response["Error"]["Message"] == "The request has 101 events; at most 100 events are allowed per request"


def test_put_events_for_unknown_app_is_not_found(pp):
    with pytest.raises(pp.client.exceptions.NotFoundException):
        pp.client.put_events(ApplicationId="0" * 32, EventsRequest={"BatchItem": {"ep": {"Endpoint": {}, "Events": {}}}})
