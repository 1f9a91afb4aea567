"""Imported (IMPORT) segments: DefineSegment, SegmentId, GetSegment(s), GetSegmentImportJobs, versions."""

from __future__ import annotations

import pytest

HEADER = "Id,ChannelType,Address"


def test_define_segment_creates_an_import_segment(pp):
    url = pp.put("seg/a.csv", f"{HEADER}\ns1,EMAIL,s1@example.com\ns2,SMS,+12065550100\ns3,EMAIL,s3@example.com\n")
    created = pp.import_job(url, wait=False, DefineSegment=True, SegmentName="vip")
    segment_id = created["Definition"]["SegmentId"]
    assert created["Definition"]["SegmentName"] == "vip"
    assert created["Definition"]["DefineSegment"] is True
    job = pp.wait_import(created["Id"])
    assert job["Definition"]["SegmentId"] == segment_id
    segment = pp.client.get_segment(ApplicationId=pp.app, SegmentId=segment_id)["SegmentResponse"]
    assert segment["SegmentType"] == "IMPORT"
    assert segment["Name"] == "vip"
    assert segment["Version"] == 1
    assert segment["ApplicationId"] == pp.app
    assert segment["Arn"].endswith(f"apps/{pp.app}/segments/{segment_id}")
    assert segment["ImportDefinition"] == {
        "Format": "CSV", "S3Url": url, "RoleArn": pp.service.import_role_arn,
        "ExternalId": pp.service.account_id, "Size": 3, "ChannelCounts": {"EMAIL": 2, "SMS": 1},
    }
    assert segment["CreationDate"] and segment["LastModifiedDate"]


def test_segment_id_adds_to_an_existing_segment_as_a_new_version(pp):
    first = pp.import_job(pp.put("seg/a.csv", f"{HEADER}\ns1,EMAIL,s1@example.com\n"),
                          DefineSegment=True, SegmentName="grow")
    segment_id = first["Definition"]["SegmentId"]
    url2 = pp.put("seg/b.json", '{"Id":"s2","ChannelType":"SMS","Address":"+12065550100"}\n')
    second = pp.import_job(url2, "JSON", SegmentId=segment_id)
    assert second["JobStatus"] == "COMPLETED"
    segment = pp.client.get_segment(ApplicationId=pp.app, SegmentId=segment_id)["SegmentResponse"]
    assert (segment["Version"], segment["ImportDefinition"]["Size"]) == (2, 2)
    assert segment["ImportDefinition"]["Format"] == "JSON"
    assert segment["ImportDefinition"]["S3Url"] == url2
    v1 = pp.client.get_segment_version(ApplicationId=pp.app, SegmentId=segment_id, Version="1")["SegmentResponse"]
    assert (v1["Version"], v1["ImportDefinition"]["Size"]) == (1, 1)
    versions = pp.client.get_segment_versions(ApplicationId=pp.app, SegmentId=segment_id)["SegmentsResponse"]
    assert [v["Version"] for v in versions["Item"]] == [2, 1]
    jobs = pp.client.get_segment_import_jobs(ApplicationId=pp.app, SegmentId=segment_id)["ImportJobsResponse"]
    assert [j["Id"] for j in jobs["Item"]] == [second["Id"], first["Id"]]
    paged = pp.client.get_segment_import_jobs(ApplicationId=pp.app, SegmentId=segment_id, PageSize="1")
    assert len(paged["ImportJobsResponse"]["Item"]) == 1 and paged["ImportJobsResponse"]["NextToken"]


def test_get_segments_lists_and_pages(pp):
    ids = []
    for i in range(3):
        job = pp.import_job(pp.put(f"segs/{i}.csv", f"{HEADER}\nx{i},EMAIL,x{i}@example.com\n"),
                            DefineSegment=True, SegmentName=f"s{i}")
        ids.append(job["Definition"]["SegmentId"])
    everything = pp.client.get_segments(ApplicationId=pp.app)["SegmentsResponse"]
    assert [s["Id"] for s in everything["Item"]] == list(reversed(ids))
    assert all(s["SegmentType"] == "IMPORT" and s["ImportDefinition"]["Size"] == 1 for s in everything["Item"])
    page1 = pp.client.get_segments(ApplicationId=pp.app, PageSize="2")["SegmentsResponse"]
    page2 = pp.client.get_segments(ApplicationId=pp.app, PageSize="2", Token=page1["NextToken"])["SegmentsResponse"]
    assert [s["Id"] for s in page1["Item"] + page2["Item"]] == list(reversed(ids))
    assert "NextToken" not in page2


def test_unknown_segment_is_not_found(pp):
    for call in (lambda: pp.client.get_segment(ApplicationId=pp.app, SegmentId="nope"),
                 lambda: pp.client.get_segment_import_jobs(ApplicationId=pp.app, SegmentId="nope")):
        with pytest.raises(pp.client.exceptions.NotFoundException) as err:
            call()
        assert err.value.response["Error"]["Message"] == "Segment nope not found"


def test_delete_segment(pp):
    job = pp.import_job(pp.put("segd/a.csv", f"{HEADER}\nd1,EMAIL,d1@example.com\n"),
                        DefineSegment=True, SegmentName="gone")
    segment_id = job["Definition"]["SegmentId"]
    deleted = pp.client.delete_segment(ApplicationId=pp.app, SegmentId=segment_id)["SegmentResponse"]
    assert deleted["Id"] == segment_id
    assert pp.client.get_segments(ApplicationId=pp.app)["SegmentsResponse"]["Item"] == []
