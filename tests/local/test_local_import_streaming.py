"""Import files are read a batch at a time, a large one in a separate process: the rules hold across
batch boundaries and both ways of reading give the same job, endpoints and failures."""

from __future__ import annotations

import json

import pytest

from pinpoint_etl.local.import_parse import BATCH_ROWS

HEADER = "Id,ChannelType,Address,User.UserId,Attributes.Tier"


def _rows() -> str:
    """Rows whose rules reach across the first batch boundary."""
    lines = [HEADER]
    for i in range(BATCH_ROWS + 300):
        lines.append(f"e{i},EMAIL,e{i}@example.com,u{i % 997},T{i % 3}")
    lines[1 + 10] = "e10,SMS,+12065550100,u10,T1"           # an address used again in the next batch
    lines.append("late,SMS,+12065550100,,T2")                  # → e10 INACTIVE
    lines.append("e3,,,,Platinum")                             # update of a row of the first batch
    lines.append("bad,FAX,x,,T1")                              # a rule broken
    lines.append('quoted,EMAIL,"broken ""quote"x,,T1')         # not valid CSV: fails as a row
    for n in range(16):                                        # a 16th endpoint of one user, across batches
        lines.append(f"crowd{n},EMAIL,crowd{n}@example.com,crowded,T0")
    return "\n".join(lines) + "\n"


def _outcome(pp, url: str, fmt: str = "CSV") -> dict:
    job = pp.import_job(url, fmt, DefineSegment=True, SegmentName="s")
    segment = pp.client.get_segment(ApplicationId=pp.app, SegmentId=job["Definition"]["SegmentId"])
    return {
        "status": job["JobStatus"], "processed": job["TotalProcessed"], "failures": job["TotalFailures"],
        "texts": [f.split(" ", 1)[1] for f in job.get("Failures", [])],
        "size": segment["SegmentResponse"]["ImportDefinition"]["Size"],
        "e3": pp.endpoint("e3")["Attributes"], "e10": pp.endpoint("e10")["EndpointStatus"],
        "late": pp.endpoint("late")["EndpointStatus"],
        "crowded": len(pp.client.get_user_endpoints(ApplicationId=pp.app, UserId="crowded")["EndpointsResponse"]["Item"]),
    }


@pytest.mark.parametrize("in_process", [True, False], ids=["inline", "parsing-process"])
def test_rules_hold_across_batches(pp, in_process):
    if not in_process:
        pp.admin("POST", "/_local/config", {"parse_process_bytes": 0})
    outcome = _outcome(pp, pp.put("stream/a.csv", _rows()))
    rows = BATCH_ROWS + 300 + 4 + 16
    assert outcome == {
        "status": "COMPLETED", "processed": rows, "failures": 3,
        "texts": [f"row {BATCH_ROWS + 303}: ChannelType 'FAX' is not valid; valid values: PUSH, GCM, APNS, "
                  "APNS_SANDBOX, APNS_VOIP, APNS_VOIP_SANDBOX, ADM, SMS, VOICE, EMAIL, BAIDU, CUSTOM, IN_APP",
                  f"row {BATCH_ROWS + 304}: the row is not valid CSV: ',' expected after '\"'",
                  f"row {rows}: Exceeded maximum endpoint per user count: 15"],
        "size": BATCH_ROWS + 300 + 1 + 15, "e3": {"Tier": ["Platinum"]}, "e10": "INACTIVE", "late": "ACTIVE",
        "crowded": 15,
    }


def test_both_ways_of_reading_a_json_file_agree(pp):
    lines = [{"Id": f"j{i}", "ChannelType": "EMAIL", "Address": f"j{i}@example.com", "Metrics": {"m": i}}
             for i in range(BATCH_ROWS + 10)]
    lines[5] = {"Id": "j5", "ChannelType": "EMAIL", "Address": "j5@example.com", "Metrics": {"m": "five"}}
    body = "".join(json.dumps(line) + "\n" for line in lines) + "{broken\n"
    url = pp.put("stream/a.json", body)
    inline = pp.import_job(url, "JSON")
    pp.admin("POST", "/_local/config", {"parse_process_bytes": 0})
    spawned = pp.import_job(url, "JSON")
    for job in (inline, spawned):
        assert (job["JobStatus"], job["TotalProcessed"], job["TotalFailures"]) == ("COMPLETED", BATCH_ROWS + 11, 2)
    assert inline["Failures"] == spawned["Failures"]
    assert inline["Failures"][0] == f"{url} row 6: Metrics.m value 'five' is not a number"


def test_an_unreadable_file_fails_before_any_row_even_in_a_parsing_process(pp):
    pp.admin("POST", "/_local/config", {"parse_process_bytes": 0})
    body = (HEADER + "\n" + "".join(f"x{i},EMAIL,x{i}@example.com,u,T\n" for i in range(BATCH_ROWS * 2))).encode()
    url = pp.put("stream/latin1.csv", body + "ü,EMAIL,ü@example.com,u,T\n".encode("latin-1"))
    job = pp.import_job(url)
    assert (job["JobStatus"], job["FailedPieces"], job["TotalProcessed"]) == ("FAILED", 1, 0)
    assert job["Failures"][0].startswith(f"{url}: the file is not valid UTF-8 (invalid byte at offset {len(body)})")
    assert not pp.exists("x0")
