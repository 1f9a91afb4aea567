"""Every implemented Pinpoint operation answers what botocore's model says it answers.

One scenario calls each operation the service implements (the list comes from the service's own
registry, so a new operation without a call here fails the test) through a real boto3 client, and
checks the raw answer: the model's status code, a JSON content type, and the body checked
recursively against the operation's output shape (required members, types, enums, no member the
model lacks). Then every operation of the model the service does not implement answers one JSON
error shape with 501, and requests that are no operation, unsigned or malformed never get HTML.
"""

from __future__ import annotations

import json
import time

import botocore.session
import pytest
from botocore import xform_name

from pinpoint_etl.local.api import OPERATIONS
from tests.local.shape_check import payload_shape, problems

MODEL = botocore.session.get_session().get_service_model("pinpoint")
TS = "2026-11-20T10:00:00.000Z"


class Recorder:
    """Calls operations through boto3 and checks each raw answer against the model."""

    def __init__(self, client):
        self.client = client
        self.seen: dict[str, list[str]] = {}
        self._last = None
        client.meta.events.register("after-call.pinpoint.*", self._capture)

    def _capture(self, http_response, parsed, model, **_):
        self._last = (http_response, model)

    def __call__(self, operation: str, **params):
        parsed = getattr(self.client, xform_name(operation))(**params)
        http, model = self._last
        assert model.name == operation
        found = []
        if http.status_code != model.http.get("responseCode", 200):
            found.append(f"status {http.status_code}, the model says {model.http.get('responseCode', 200)}")
        shape = payload_shape(model.output_shape)
        if shape is None or http.status_code == 204:
            if http.content:
                found.append(f"a body where the model has none: {http.content[:80]!r}")
        else:
            if not http.headers.get("Content-Type", "").startswith("application/json"):
                found.append(f"Content-Type {http.headers.get('Content-Type')!r}")
            found += problems(json.loads(http.content), shape)
        self.seen[operation] = found
        return parsed


@pytest.fixture()
def rec(pp):
    return Recorder(pp.client)


def _wait(get, key):
    deadline = time.monotonic() + 20
    while True:
        job = get()[key]
        if job["JobStatus"] in ("COMPLETED", "FAILED"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def test_every_implemented_operation_answers_its_model_shape(pp, rec):
    app = rec("CreateApp", CreateApplicationRequest={"Name": "conformance", "tags": {"team": "data"}})
    app_id, arn = app["ApplicationResponse"]["Id"], app["ApplicationResponse"]["Arn"]
    rec("GetApp", ApplicationId=app_id)
    rec("GetApps", PageSize="1")
    rec("UpdateApplicationSettings", ApplicationId=app_id, WriteApplicationSettingsRequest={
        "QuietTime": {"Start": "22:00", "End": "06:00"}, "Limits": {"Daily": 3}})
    rec("GetApplicationSettings", ApplicationId=app_id)
    rec("TagResource", ResourceArn=arn, TagsModel={"tags": {"env": "test"}})
    rec("UntagResource", ResourceArn=arn, TagKeys=["team"])
    tags = rec("ListTagsForResource", ResourceArn=arn)
    assert tags["TagsModel"]["tags"] == {"env": "test"}
    stream = {"DestinationStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
              "RoleArn": "arn:aws:iam::123456789012:role/r"}
    rec("PutEventStream", ApplicationId=app_id, WriteEventStream=stream)
    rec("GetEventStream", ApplicationId=app_id)
    rec("DeleteEventStream", ApplicationId=app_id)
    rec("UpdateEmailChannel", ApplicationId=app_id, EmailChannelRequest={
        "FromAddress": "noreply@example.com", "Identity": "arn:aws:ses:us-east-1:123456789012:identity/example.com"})
    rec("GetEmailChannel", ApplicationId=app_id)
    rec("UpdateSmsChannel", ApplicationId=app_id, SMSChannelRequest={"Enabled": True, "SenderId": "EXAMPLE"})
    rec("GetSmsChannel", ApplicationId=app_id)
    channels = rec("GetChannels", ApplicationId=app_id)
    assert set(channels["ChannelsResponse"]["Channels"]) == {"EMAIL", "SMS"}
    rec("DeleteEmailChannel", ApplicationId=app_id)
    rec("DeleteSmsChannel", ApplicationId=app_id)

    rec("UpdateEndpoint", ApplicationId=app_id, EndpointId="e1", EndpointRequest={
        "ChannelType": "EMAIL", "Address": "a@example.com", "Attributes": {"Tier": ["Gold"]},
        "Metrics": {"visits": 3}, "Location": {"Country": "US", "Latitude": 47.6, "Longitude": -122.3},
        "Demographic": {"Platform": "ios"}, "User": {"UserId": "u1", "UserAttributes": {"Name": ["Ann"]}}})
    rec("UpdateEndpointsBatch", ApplicationId=app_id, EndpointBatchRequest={"Item": [
        {"Id": "e2", "ChannelType": "SMS", "Address": "+12065550100", "User": {"UserId": "u1"}},
        {"Id": "e3", "ChannelType": "EMAIL", "Address": "c@example.com", "User": {"UserId": "u2"}}]})
    rec("GetEndpoint", ApplicationId=app_id, EndpointId="e1")
    rec("GetUserEndpoints", ApplicationId=app_id, UserId="u1")
    rec("PutEvents", ApplicationId=app_id, EventsRequest={"BatchItem": {"e1": {
        "Endpoint": {"ChannelType": "EMAIL", "Address": "a@example.com"},
        "Events": {"ev1": {"EventType": "_session.start", "Timestamp": TS}}}}})
    rec("PhoneNumberValidate", NumberValidateRequest={"PhoneNumber": "+12065550100"})

    url = pp.put("conf/a.csv", "Id,ChannelType,Address,User.UserId\ni1,EMAIL,i1@example.com,u3\n")
    created = rec("CreateImportJob", ApplicationId=app_id, ImportJobRequest={
        "S3Url": url, "RoleArn": pp.service.import_role_arn, "Format": "CSV", "RegisterEndpoints": True,
        "DefineSegment": True, "SegmentName": "imported"})["ImportJobResponse"]
    job = _wait(lambda: rec("GetImportJob", ApplicationId=app_id, JobId=created["Id"]), "ImportJobResponse")
    assert job["JobStatus"] == "COMPLETED"
    rec("GetImportJobs", ApplicationId=app_id)
    imported = job["Definition"]["SegmentId"]
    rec("GetSegmentImportJobs", ApplicationId=app_id, SegmentId=imported)

    dimensional = rec("CreateSegment", ApplicationId=app_id, WriteSegmentRequest={
        "Name": "gold", "Dimensions": {"Attributes": {"Tier": {"AttributeType": "INCLUSIVE", "Values": ["Gold"]}},
                                       "Demographic": {"Channel": {"Values": ["EMAIL"]}}}})
    segment_id = dimensional["SegmentResponse"]["Id"]
    rec("UpdateSegment", ApplicationId=app_id, SegmentId=segment_id, WriteSegmentRequest={
        "Name": "gold or group", "SegmentGroups": {"Include": "ANY", "Groups": [
            {"Type": "ANY", "SourceType": "ANY", "SourceSegments": [{"Id": imported}],
             "Dimensions": [{"Metrics": {"visits": {"ComparisonOperator": "GREATER_THAN", "Value": 1.0}}}]}]}})
    rec("GetSegment", ApplicationId=app_id, SegmentId=segment_id)
    rec("GetSegment", ApplicationId=app_id, SegmentId=imported)
    rec("GetSegmentVersion", ApplicationId=app_id, SegmentId=segment_id, Version="1")
    rec("GetSegmentVersions", ApplicationId=app_id, SegmentId=segment_id)
    rec("GetSegments", ApplicationId=app_id)

    created = rec("CreateExportJob", ApplicationId=app_id, ExportJobRequest={
        "S3UrlPrefix": f"s3://{pp.bucket}/conf-out/", "RoleArn": pp.service.export_role_arn,
        "SegmentId": segment_id})["ExportJobResponse"]
    job = _wait(lambda: rec("GetExportJob", ApplicationId=app_id, JobId=created["Id"]), "ExportJobResponse")
    assert job["JobStatus"] == "COMPLETED"
    rec("GetExportJobs", ApplicationId=app_id)
    rec("GetSegmentExportJobs", ApplicationId=app_id, SegmentId=segment_id)

    removed = rec("RemoveAttributes", ApplicationId=app_id, AttributeType="endpoint-custom-attributes",
                  UpdateAttributesRequest={"Blacklist": ["Ti*"]})
    assert removed["AttributesResource"]["Attributes"] == ["Tier"]
    rec("DeleteEndpoint", ApplicationId=app_id, EndpointId="e3")
    rec("DeleteUserEndpoints", ApplicationId=app_id, UserId="u1")
    rec("DeleteSegment", ApplicationId=app_id, SegmentId=segment_id)
    rec("DeleteApp", ApplicationId=app_id)

    assert set(rec.seen) == set(OPERATIONS), f"operations never called: {sorted(set(OPERATIONS) - set(rec.seen))}"
    assert {op: p for op, p in rec.seen.items() if p} == {}


def test_the_shape_check_reports_what_the_model_forbids():
    app_shape = MODEL.shape_for("ApplicationResponse")
    good = {"Arn": "a", "Id": "i", "Name": "n", "CreationDate": "2026-01-01T00:00:00.000Z", "tags": {}}
    assert problems(good, app_shape) == []
    assert problems({**good, "CreationDate": 1.5}, app_shape) == ["$.CreationDate: expected a string (__string), got float 1.5"]
    assert problems({k: v for k, v in good.items() if k != "Name"}, app_shape) == [
        "$.Name: required member of ApplicationResponse missing"]
    assert problems({**good, "Extra": 1}, app_shape) == ["$.Extra: not a member of ApplicationResponse"]
    job_shape = MODEL.shape_for("ImportJobResponse")
    assert any("not one of JobStatus" in p for p in problems({"JobStatus": "DONE"}, job_shape))


def _path_for(operation: str) -> str:
    uri = MODEL.operation_model(operation).http["requestUri"].split("?")[0]
    parts = [("x" if p.startswith("{") else p) for p in uri.strip("/").split("/")]
    return "/" + "/".join(parts)


def test_every_operation_not_implemented_answers_one_json_error_with_501(pp):
    missing = sorted(set(MODEL.operation_names) - set(OPERATIONS))
    assert len(missing) > 60
    for operation in missing:
        method = MODEL.operation_model(operation).http["method"]
        body = "{}" if method in ("POST", "PUT") else None
        status, headers, raw = pp.signed(method, _path_for(operation), body=body)
        assert (status, headers.get("x-amzn-errortype"), headers.get("content-type")) == (
            501, "NotImplemented", "application/json"), operation
        payload = json.loads(raw)
        assert payload == {"Message": f"pinpoint-etl local service: {operation} is not implemented",
                           "RequestID": headers["x-amzn-requestid"]}, operation


@pytest.mark.parametrize("method, path, status, error_type", [
    ("GET", "/v1/nothing/here", 400, "UnknownOperationException"),
    ("GET", "/", 400, "UnknownOperationException"),
    ("POST", "/v1/apps/x/endpoints/e", 405, "MethodNotAllowedException"),
])
def test_requests_that_are_no_operation_get_the_json_error_shape(pp, method, path, status, error_type):
    got, headers, raw = pp.signed(method, path, body="{}" if method == "POST" else None)
    assert (got, headers["x-amzn-errortype"], headers["content-type"]) == (status, error_type, "application/json")
    assert set(json.loads(raw)) == {"Message", "RequestID"}


def test_application_operations_follow_the_model(pp):
    client = pp.unvalidated_client()
    with pytest.raises(client.exceptions.BadRequestException) as err:
        client.create_app(CreateApplicationRequest={})
    assert err.value.response["Error"]["Message"] == "Missing Name: CreateApplicationRequest requires a non-empty Name"
    status, headers, raw = pp.signed("POST", "/v1/apps", body="{not json")
    assert (status, headers["x-amzn-errortype"]) == (400, "BadRequestException")
    assert json.loads(raw)["Message"].startswith("The request body is not valid JSON")
    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_event_stream(ApplicationId=pp.app)
    with pytest.raises(client.exceptions.NotFoundException):
        client.list_tags_for_resource(ResourceArn=f"arn:aws:mobiletargeting:us-east-1:123456789012:apps/{'0' * 32}")
    created = client.create_app(CreateApplicationRequest={"Name": "x"})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["ApplicationResponse"]["CreationDate"].endswith("Z")
    arn = created["ApplicationResponse"]["Arn"]
    assert client.tag_resource(ResourceArn=arn, TagsModel={"tags": {"a": "b"}})["ResponseMetadata"][
        "HTTPStatusCode"] == 204
    assert client.untag_resource(ResourceArn=arn, TagKeys=["a"])["ResponseMetadata"]["HTTPStatusCode"] == 204
