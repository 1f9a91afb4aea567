"""Import jobs: lifecycle, counters, file selection, formats, role check, validation, paging, concurrency."""

from __future__ import annotations

import gzip
import json
import time

import pytest
from botocore.exceptions import ClientError

CSV_HEADER = "Id,ChannelType,Address"


def test_lifecycle_states_are_observable_and_counters_filled(pp):
    pp.admin("POST", "/_local/config", {"state_delay": 0.4})
    url = pp.put("life/a.csv", f"{CSV_HEADER}\ne1,EMAIL,a@example.com\ne2,SMS,+12065550100\n")
    created = pp.import_job(url, wait=False)
    assert created["JobStatus"] == "CREATED"
    assert created["Type"] == "IMPORT"
    assert "TotalPieces" not in created
    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = pp.client.get_import_job(ApplicationId=pp.app, JobId=created["Id"])["ImportJobResponse"]
        if not seen or seen[-1] != job["JobStatus"]:
            seen.append(job["JobStatus"])
        if job["JobStatus"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(0.03)
    assert seen == ["CREATED", "INITIALIZING", "PROCESSING", "COMPLETING", "COMPLETED"]
    assert job["TotalPieces"] == 1
    assert job["CompletedPieces"] == 1
    assert job["FailedPieces"] == 0
    assert job["TotalProcessed"] == 2
    assert job["TotalFailures"] == 0
    assert "Failures" not in job  # as in DG-import's completed-job example
    assert job["CompletionDate"] >= job["CreationDate"]
    assert job["Definition"]["S3Url"] == url
    assert job["Definition"]["ExternalId"] == pp.service.account_id


def test_csv_features_dotted_headers_repeated_headers_quoting_utf8(pp):
    header = ("Id,ChannelType,Address,OptOut,Location.Country,Location.Latitude,Demographic.Locale,"
              "Attributes.Interests,Attributes.Interests,Metrics.sessions,User.UserId,"
              "User.UserAttributes.Company")
    rows = [
        'e1,EMAIL,mary@example.com,NONE,US,47.6,en_US,Music,Books,12,u1,"ExampleCorp, Inc."',
        'e2,GCM,token-2,ALL,DE,52.5,de_DE,Travel,,4.5,u2,"Beispiel ""GmbH"" Jürgen"',
    ]
    job = pp.import_job(pp.put("csv/endpoints.csv", "\n".join([header, *rows]) + "\n"))
    assert (job["JobStatus"], job["TotalProcessed"], job["TotalFailures"]) == ("COMPLETED", 2, 0)
    e1 = pp.endpoint("e1")
    assert e1["Attributes"] == {"Interests": ["Music", "Books"]}
    assert e1["Metrics"] == {"sessions": 12.0}
    assert e1["Location"] == {"Country": "US", "Latitude": 47.6}
    assert e1["Demographic"] == {"Locale": "en_US"}
    assert e1["User"] == {"UserId": "u1", "UserAttributes": {"Company": ["ExampleCorp, Inc."]}}
    e2 = pp.endpoint("e2")
    assert e2["Attributes"] == {"Interests": ["Travel"]}
    assert e2["OptOut"] == "ALL"
    assert e2["User"]["UserAttributes"]["Company"] == ['Beispiel "GmbH" Jürgen']


def test_json_format_nested_objects_and_update_by_id(pp):
    lines = [
        {"Id": "j1", "ChannelType": "EMAIL", "Address": "w@example.com",
         "Location": {"Country": "CN", "Latitude": 31.2}, "Demographic": {"Timezone": "Asia/Shanghai"},
         "Attributes": {"Interests": ["Music", "Travel", "Books"]}, "Metrics": {"sessions": 27},
         "User": {"UserId": "u4", "UserAttributes": {"FirstName": ["Xiulan"]}}},
        {"Id": "j1", "Attributes": {"Interests": ["Cooking"]}},
    ]
    url = pp.put("json/e.ndjson", "\n".join(json.dumps(x) for x in lines) + "\n")
    job = pp.import_job(url, "JSON")
    assert (job["JobStatus"], job["TotalProcessed"], job["TotalFailures"]) == ("COMPLETED", 2, 0)
    endpoint = pp.endpoint("j1")
    assert endpoint["Attributes"] == {"Interests": ["Cooking"]}
    assert endpoint["Metrics"] == {"sessions": 27.0}
    assert endpoint["Location"]["Country"] == "CN"
    assert endpoint["User"]["UserAttributes"] == {"FirstName": ["Xiulan"]}


def test_csv_job_ignores_json_files_and_json_job_ignores_csv(pp):
    pp.put("mixed/a.csv", f"{CSV_HEADER}\nc1,EMAIL,c1@example.com\n")
    pp.put("mixed/b.json", json.dumps({"Id": "j1", "ChannelType": "EMAIL", "Address": "j1@example.com"}) + "\n")
    pp.put("mixed/c.txt", "not a data file")
    csv_job = pp.import_job(f"s3://{pp.bucket}/mixed/")
    assert (csv_job["TotalPieces"], csv_job["TotalProcessed"]) == (1, 1)
    assert pp.exists("c1") and not pp.exists("j1")
    json_job = pp.import_job(f"s3://{pp.bucket}/mixed/", "JSON")
    assert (json_job["TotalPieces"], json_job["TotalProcessed"]) == (1, 1)
    assert pp.exists("j1")


def test_prefix_includes_subfolders_but_not_sibling_prefixes(pp):
    pp.put("tree/a.csv", f"{CSV_HEADER}\nt1,EMAIL,t1@example.com\n")
    pp.put("tree/sub/b.csv", f"{CSV_HEADER}\nt2,EMAIL,t2@example.com\n")
    pp.put("tree/sub/deeper/c.csv", f"{CSV_HEADER}\nt3,EMAIL,t3@example.com\n")
    pp.put("tree2/d.csv", f"{CSV_HEADER}\nt4,EMAIL,t4@example.com\n")
    job = pp.import_job(f"s3://{pp.bucket}/tree")
    assert (job["TotalPieces"], job["CompletedPieces"], job["TotalProcessed"]) == (3, 3, 3)
    assert [pp.exists(i) for i in ("t1", "t2", "t3", "t4")] == [True, True, True, False]


def test_single_object_url_imports_only_that_object(pp):
    url = pp.put("one/a.csv", f"{CSV_HEADER}\no1,EMAIL,o1@example.com\n")
    pp.put("one/b.csv", f"{CSV_HEADER}\no2,EMAIL,o2@example.com\n")
    job = pp.import_job(url)
    assert job["TotalPieces"] == 1
    assert pp.exists("o1") and not pp.exists("o2")


def test_many_files_are_listed_past_one_page(pp):
    for i in range(12):
        pp.put(f"many/f{i:02d}.csv", f"{CSV_HEADER}\nm{i},EMAIL,m{i}@example.com\n")
    job = pp.import_job(f"s3://{pp.bucket}/many/")
    assert (job["TotalPieces"], job["CompletedPieces"], job["TotalProcessed"]) == (12, 12, 12)


@pytest.mark.parametrize("key", ["gz/data.csv.gz", "gz/data.gz"])
def test_compressed_file_is_refused_and_fails_the_job(pp, key):
    pp.put("gz/ok.csv", f"{CSV_HEADER}\ng1,EMAIL,g1@example.com\n")
    pp.put(key, gzip.compress(f"{CSV_HEADER}\ng2,EMAIL,g2@example.com\n".encode()))
    job = pp.import_job(f"s3://{pp.bucket}/gz/")
    assert job["JobStatus"] == "FAILED"
    assert (job["TotalPieces"], job["CompletedPieces"], job["FailedPieces"]) == (2, 1, 1)
    assert job["Failures"] == [(f"s3://{pp.bucket}/{key}: compressed files can't be imported; "
                               "upload uncompressed UTF-8 files")]
    assert pp.exists("g1") and not pp.exists("g2")


def test_gzip_bytes_behind_a_csv_name_are_refused(pp):
    url = pp.put("magic/data.csv", gzip.compress(f"{CSV_HEADER}\nz1,EMAIL,z1@example.com\n".encode()))
    job = pp.import_job(url)
    assert (job["JobStatus"], job["FailedPieces"]) == ("FAILED", 1)
    assert job["Failures"] == [(f"{url}: compressed files can't be imported; upload uncompressed UTF-8 "
                               "files (the file is gzip-compressed)")]


def test_non_utf8_file_fails_its_piece(pp):
    url = pp.put("enc/latin1.csv", f"{CSV_HEADER}\nl1,EMAIL,jürgen@example.com\n".encode("latin-1"))
    job = pp.import_job(url)
    assert (job["JobStatus"], job["FailedPieces"], job["TotalProcessed"]) == ("FAILED", 1, 0)
    assert job["Failures"][0].startswith(f"{url}: the file is not valid UTF-8 (invalid byte at offset ")


def test_utf8_bom_is_accepted(pp):
    url = pp.put("bom/a.csv", "\ufeff" + f"{CSV_HEADER}\nb1,EMAIL,b1@example.com\n")
    job = pp.import_job(url)
    assert (job["JobStatus"], job["TotalFailures"]) == ("COMPLETED", 0)
    assert pp.endpoint("b1")["Address"] == "b1@example.com"


def test_no_matching_object_fails_the_job(pp):
    pp.put("nomatch/a.json", "{}\n")
    url = f"s3://{pp.bucket}/nomatch/"
    job = pp.import_job(url)
    assert job["JobStatus"] == "FAILED"
    assert job["TotalPieces"] == 0
    assert job["Failures"] == [f"{url}: no CSV files found at this location (looked for .csv objects)"]


def test_missing_bucket_fails_the_job(pp):
    job = pp.import_job("s3://no-such-bucket/x/")
    assert job["JobStatus"] == "FAILED"
    assert job["Failures"] == ["s3://no-such-bucket/x/: bucket no-such-bucket does not exist"]


def test_more_than_the_job_size_limit_fails_the_job(pp):
    pp.service.set_faults("ImportJob", max_job_bytes=50)
    url = pp.put("big/a.csv", f"{CSV_HEADER}\n" + "".join(f"b{i},EMAIL,b{i}@example.com\n" for i in range(5)))
    job = pp.import_job(f"s3://{pp.bucket}/big/")
    assert job["JobStatus"] == "FAILED"
    size = len(pp.s3.get_object(Bucket=pp.bucket, Key="big/a.csv")["Body"].read())
    assert job["Failures"] == [(f"s3://{pp.bucket}/big/: the files total {size} bytes, more than the 50 bytes "
                               "(1 GB) allowed per import job")]
    assert not pp.exists("b0")
    assert url


def test_register_endpoints_false_stores_nothing_but_segment_counts(pp):
    url = pp.put("noreg/a.csv", f"{CSV_HEADER}\nn1,EMAIL,n1@example.com\nn2,SMS,+12065550101\n")
    job = pp.import_job(url, RegisterEndpoints=False, DefineSegment=True, SegmentName="noreg")
    assert job["JobStatus"] == "COMPLETED"
    assert not pp.exists("n1")
    segment = pp.client.get_segment(ApplicationId=pp.app, SegmentId=job["Definition"]["SegmentId"])
    assert segment["SegmentResponse"]["ImportDefinition"]["Size"] == 2


# ----------------------------------------------------------------------------- role check

def _role(iam, name: str, trust: dict, policy: dict | None) -> str:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


READ_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]}


def _trust(principal: dict, condition: dict | None = None) -> dict:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_missing_role_fails_the_job(pp):
    url = pp.put("role/a.csv", f"{CSV_HEADER}\nr1,EMAIL,r1@example.com\n")
    arn = "arn:aws:iam::123456789012:role/does-not-exist"
    job = pp.import_job(url, RoleArn=arn)
    assert job["JobStatus"] == "FAILED"
    assert job["Failures"] == [f"{url}: role {arn} does not exist"]
    assert not pp.exists("r1")


def test_role_not_trusting_pinpoint_fails_the_job(pp, iam_client):
    arn = _role(iam_client, "lambda-role", _trust({"Service": "lambda.amazonaws.com"}), READ_POLICY)
    url = pp.put("role/a.csv", f"{CSV_HEADER}\nr1,EMAIL,r1@example.com\n")
    job = pp.import_job(url, RoleArn=arn)
    assert job["JobStatus"] == "FAILED"
    assert job["Failures"] == [
        (f"{url}: the trust policy of role {arn} does not allow pinpoint.amazonaws.com to sts:AssumeRole "
        f"(for application arn:aws:mobiletargeting:us-east-1:123456789012:apps/{pp.app})")]


def test_role_trust_condition_for_another_account_fails_the_job(pp, iam_client):
    trust = _trust({"Service": "pinpoint.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": "999999999999"}})
    arn = _role(iam_client, "other-account", trust, READ_POLICY)
    job = pp.import_job(pp.put("role/a.csv", f"{CSV_HEADER}\nr1,EMAIL,r1@example.com\n"), RoleArn=arn)
    assert job["JobStatus"] == "FAILED"
    assert "does not allow pinpoint.amazonaws.com to sts:AssumeRole" in job["Failures"][0]


def test_role_without_s3_read_permission_fails_the_job(pp, iam_client):
    arn = _role(iam_client, "no-perms", _trust({"Service": "pinpoint.amazonaws.com"}), None)
    url = pp.put("role/a.csv", f"{CSV_HEADER}\nr1,EMAIL,r1@example.com\n")
    job = pp.import_job(url, RoleArn=arn)
    assert job["JobStatus"] == "FAILED"
    assert job["Failures"] == [(f"{url}: role {arn} is not authorized to perform s3:ListBucket on "
                               f"arn:aws:s3:::{pp.bucket}")]


def test_role_trusting_pinpoint_with_read_policy_works(pp, iam_client):
    arn = _role(iam_client, "good", _trust({"Service": ["pinpoint.amazonaws.com"]}), READ_POLICY)
    job = pp.import_job(pp.put("role/a.csv", f"{CSV_HEADER}\nr1,EMAIL,r1@example.com\n"), RoleArn=arn)
    assert (job["JobStatus"], job["TotalProcessed"]) == ("COMPLETED", 1)


# ----------------------------------------------------------------------------- create-time validation

@pytest.mark.parametrize("missing", ["S3Url", "RoleArn", "Format"])
def test_create_without_required_field_is_bad_request(pp, missing):
    request = {"S3Url": f"s3://{pp.bucket}/x/", "RoleArn": pp.service.import_role_arn, "Format": "CSV"}
    del request[missing]
    with pytest.raises(ClientError) as err:
        pp.unvalidated_client().create_import_job(ApplicationId=pp.app, ImportJobRequest=request)
    assert err.value.response["Error"]["Code"] == "BadRequestException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.value.response["Error"]["Message"] == f"Missing required field(s): {missing}"


def test_create_with_bad_format_or_url_is_bad_request(pp):
    for request, message in (
        ({"Format": "XML"}, "Invalid Format 'XML': valid values are CSV, JSON"),
        ({"S3Url": "https://example.com/x.csv"}, ("Invalid S3Url: 'https://example.com/x.csv' is not an S3 URL "
                                                 "(expected s3://bucket-name/folder-name/file-name)")),
        ({"DefineSegment": True}, "SegmentName is required when DefineSegment is true"),
    ):
        base = {"S3Url": f"s3://{pp.bucket}/x/", "RoleArn": pp.service.import_role_arn, "Format": "CSV"}
        with pytest.raises(ClientError) as err:
            pp.client.create_import_job(ApplicationId=pp.app, ImportJobRequest={**base, **request})
        assert err.value.response["Error"]["Code"] == "BadRequestException"
        assert err.value.response["Error"]["Message"] == message


def test_create_for_unknown_app_or_segment_is_not_found(pp):
    request = {"S3Url": f"s3://{pp.bucket}/x/", "RoleArn": pp.service.import_role_arn, "Format": "CSV"}
    with pytest.raises(pp.client.exceptions.NotFoundException):
        pp.client.create_import_job(ApplicationId="0" * 32, ImportJobRequest=request)
    with pytest.raises(pp.client.exceptions.NotFoundException) as err:
        pp.client.create_import_job(ApplicationId=pp.app, ImportJobRequest={**request, "SegmentId": "nope"})
    assert err.value.response["Error"]["Message"] == "Segment nope not found"
    assert pp.client.get_import_jobs(ApplicationId=pp.app)["ImportJobsResponse"]["Item"] == []


def test_get_unknown_import_job_is_not_found(pp):
    with pytest.raises(pp.client.exceptions.NotFoundException):
        pp.client.get_import_job(ApplicationId=pp.app, JobId="f" * 32)


# ----------------------------------------------------------------------------- paging, concurrency

def test_get_import_jobs_pages_newest_first(pp):
    url = pp.put("page/a.csv", f"{CSV_HEADER}\np1,EMAIL,p1@example.com\n")
    ids = [pp.import_job(url, wait=False)["Id"] for _ in range(5)]
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"PageSize": "2", **({"Token": token} if token else {})}
        resp = pp.client.get_import_jobs(ApplicationId=pp.app, **kwargs)["ImportJobsResponse"]
        pages += 1
        assert len(resp["Item"]) <= 2
        seen += [j["Id"] for j in resp["Item"]]
        token = resp.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert seen == list(reversed(ids))
    all_items = pp.client.get_import_jobs(ApplicationId=pp.app)["ImportJobsResponse"]
    assert len(all_items["Item"]) == 5 and "NextToken" not in all_items
    for job_id in ids:
        pp.wait_import(job_id)


def test_bad_page_size_or_token_is_bad_request(pp):
    for kwargs in ({"PageSize": "abc"}, {"PageSize": "0"}, {"Token": "not-a-token"}):
        with pytest.raises(pp.client.exceptions.BadRequestException):
            pp.client.get_import_jobs(ApplicationId=pp.app, **kwargs)


def test_third_job_waits_in_pending_job_while_two_run(pp):
    pp.admin("POST", "/_local/config", {"state_delay": 0.3})
    url = pp.put("conc/a.csv", f"{CSV_HEADER}\nk1,EMAIL,k1@example.com\n")
    ids = [pp.import_job(url, wait=False)["Id"] for _ in range(3)]
    running = {"INITIALIZING", "PROCESSING", "COMPLETING"}
    observed = False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not observed:
        # newest first: jobs start in creation order and never run again once done, so if the third
        # is seen running, one of the first two is already seen finished
        statuses = [pp.client.get_import_job(ApplicationId=pp.app, JobId=i)["ImportJobResponse"]["JobStatus"]
                    for i in reversed(ids)][::-1]
        observed = statuses[2] == "PENDING_JOB" and all(s in running for s in statuses[:2])
        assert sum(s in running for s in statuses) <= 2, statuses
        time.sleep(0.02)
    assert observed, "never saw two running jobs and the third in PENDING_JOB"
    assert [pp.wait_import(i)["JobStatus"] for i in ids] == ["COMPLETED"] * 3


def test_concurrency_limit_is_configurable(pp):
    pp.admin("POST", "/_local/config", {"state_delay": 0.2, "max_concurrent_jobs": 3})
    url = pp.put("conc3/a.csv", f"{CSV_HEADER}\nk1,EMAIL,k1@example.com\n")
    ids = [pp.import_job(url, wait=False)["Id"] for _ in range(3)]
    time.sleep(0.3)
    statuses = [pp.client.get_import_job(ApplicationId=pp.app, JobId=i)["ImportJobResponse"]["JobStatus"]
                for i in ids]
    assert "PENDING_JOB" not in statuses
    assert [pp.wait_import(i)["JobStatus"] for i in ids] == ["COMPLETED"] * 3
