"""The service's S3: objects on disk, multipart concatenated, listing, ranges, copies, conditions, errors."""

from __future__ import annotations

import hashlib
import os

import pytest
from botocore.exceptions import ClientError

from pinpoint_etl.local.s3_api import _dechunk

MIB = 1024 * 1024


def _code(err) -> tuple[str, int]:
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_multipart_upload_is_joined_on_disk_with_s3s_etag(pp):
    s3, bucket = pp.s3, pp.bucket
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"tail"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp/big.bin", ServerSideEncryption="AES256")
    assert upload["ServerSideEncryption"] == "AES256"
    etags = [s3.upload_part(Bucket=bucket, Key="mp/big.bin", UploadId=upload["UploadId"], PartNumber=n + 1,
                            Body=data)["ETag"] for n, data in enumerate(parts)]
    listed = s3.list_parts(Bucket=bucket, Key="mp/big.bin", UploadId=upload["UploadId"])["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, 5 * MIB), (2, 5 * MIB), (3, 4)]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp/big.bin", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": n + 1, "ETag": e}
                                                                   for n, e in enumerate(etags)]})
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)  # noqa: S324
    assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'  # noqa: S324
    head = s3.head_object(Bucket=bucket, Key="mp/big.bin")
    assert (head["ContentLength"], head["ServerSideEncryption"], head["ETag"]) == (10 * MIB + 4, "AES256", done["ETag"])
    assert s3.get_object(Bucket=bucket, Key="mp/big.bin")["Body"].read() == b"".join(parts)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    blobs = [p for p in (pp.service._state.db.blobs).rglob("*") if p.is_file()]
    assert sorted(p.stat().st_size for p in blobs) == [10 * MIB + 4]  # the parts' files are gone


def test_multipart_rules(pp):
    s3, bucket = pp.raw_client("s3"), pp.bucket
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp/small")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="mp/small", UploadId=upload, PartNumber=1, Body=b"a")["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp/small", UploadId=upload, PartNumber=2, Body=b"b")["ETag"]
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp/small", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert _code(err) == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp/small", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e2}]})
    assert _code(err) == ("InvalidPart", 400)
    s3.abort_multipart_upload(Bucket=bucket, Key="mp/small", UploadId=upload)
    with pytest.raises(ClientError) as err:
        s3.upload_part(Bucket=bucket, Key="mp/small", UploadId=upload, PartNumber=3, Body=b"c")
    assert _code(err) == ("NoSuchUpload", 404)


def test_listing_with_prefixes_delimiters_pages_and_odd_keys(pp):
    keys = ["a/1.csv", "a/2.csv", "a/sub/3.csv", "b/4.csv", "c d+e/ü.csv", "top.csv"]
    for key in keys:
        pp.put(key, key)
    paginator = pp.s3.get_paginator("list_objects_v2")
    listed = [o["Key"] for page in paginator.paginate(Bucket=pp.bucket, PaginationConfig={"PageSize": 2})
              for o in page.get("Contents", [])]
    assert listed == sorted(keys)
    top = pp.s3.list_objects_v2(Bucket=pp.bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/", "c d+e/"]
    assert [o["Key"] for o in top["Contents"]] == ["top.csv"]
    paged = [p for page in paginator.paginate(Bucket=pp.bucket, Delimiter="/", PaginationConfig={"PageSize": 1})
             for p in [*(c["Prefix"] for c in page.get("CommonPrefixes", [])),
                       *(o["Key"] for o in page.get("Contents", []))]]
    assert paged == ["a/", "b/", "c d+e/", "top.csv"]
    inner = pp.s3.list_objects_v2(Bucket=pp.bucket, Prefix="a/", Delimiter="/")
    assert ([o["Key"] for o in inner["Contents"]], [p["Prefix"] for p in inner["CommonPrefixes"]]) == (
        ["a/1.csv", "a/2.csv"], ["a/sub/"])
    v1 = pp.s3.list_objects(Bucket=pp.bucket, Prefix="c d")
    assert [o["Key"] for o in v1["Contents"]] == ["c d+e/ü.csv"]
    assert pp.s3.get_object(Bucket=pp.bucket, Key="c d+e/ü.csv")["Body"].read() == "c d+e/ü.csv".encode()


def test_ranges_copies_deletes_and_conditions(pp):
    s3, bucket = pp.raw_client("s3"), pp.bucket
    s3.put_object(Bucket=bucket, Key="r/x", Body=b"0123456789", ContentType="text/plain", Metadata={"k": "v"})
    part = s3.get_object(Bucket=bucket, Key="r/x", Range="bytes=2-4")
    assert (part["Body"].read(), part["ContentRange"], part["ResponseMetadata"]["HTTPStatusCode"]) == (
        b"234", "bytes 2-4/10", 206)
    assert s3.get_object(Bucket=bucket, Key="r/x", Range="bytes=-3")["Body"].read() == b"789"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="r/x", Range="bytes=20-")
    assert _code(err) == ("InvalidRange", 416)
    s3.copy_object(Bucket=bucket, Key="r/copy", CopySource={"Bucket": bucket, "Key": "r/x"})
    copy = s3.head_object(Bucket=bucket, Key="r/copy")
    assert (copy["ContentType"], copy["Metadata"], copy["ContentLength"]) == ("text/plain", {"k": "v"}, 10)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="r/x", Body=b"new", IfNoneMatch="*")
    assert _code(err) == ("PreconditionFailed", 412)
    etag = s3.head_object(Bucket=bucket, Key="r/x")["ETag"]
    s3.put_object(Bucket=bucket, Key="r/x", Body=b"new", IfMatch=etag)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="r/x", Body=b"newer", IfMatch=etag)
    assert _code(err) == ("PreconditionFailed", 412)
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "r/x"}, {"Key": "r/copy"},
                                                                    {"Key": "r/never"}]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["r/copy", "r/never", "r/x"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="r/")["KeyCount"] == 0
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="r/x")
    assert _code(err) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="no-such-bucket", Key="x", Body=b"x")
    assert _code(err) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x", ServerSideEncryption="ROT13")
    assert _code(err) == ("InvalidArgument", 400)


def test_buckets_and_operations_it_does_not_implement(pp):
    s3 = pp.raw_client("s3")
    s3.create_bucket(Bucket="extra")
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="extra")
    assert _code(err) == ("BucketAlreadyOwnedByYou", 409)
    pp.put("x", "x")
    s3.put_object(Bucket="extra", Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket(Bucket="extra")
    assert _code(err) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket="extra", Key="k")
    s3.delete_bucket(Bucket="extra")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [pp.bucket]
    assert s3.get_bucket_location(Bucket=pp.bucket)["LocationConstraint"] is None
    with pytest.raises(ClientError) as err:
        s3.put_bucket_versioning(Bucket=pp.bucket, VersioningConfiguration={"Status": "Enabled"})
    assert _code(err) == ("NotImplemented", 501)


def test_a_payload_that_does_not_match_its_declared_sha256_is_refused(pp):
    status, _, body = pp.signed("PUT", f"/{pp.bucket}/sha.txt", body=b"real", signing_name="s3",
                                headers={"x-amz-content-sha256": hashlib.sha256(b"other").hexdigest()})
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in body
    assert pp.s3.list_objects_v2(Bucket=pp.bucket)["KeyCount"] == 0


def test_aws_chunked_bodies_are_decoded():
    frames = [b"5;chunk-signature=abc\r\nhello\r\n", b"6;chunk-signature=def\r\n world\r\n",
              b"0;chunk-signature=0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"]
    whole = b"".join(frames)
    assert b"".join(_dechunk(iter([whole]))) == b"hello world"
    assert b"".join(_dechunk(iter(whole[i:i + 3] for i in range(0, len(whole), 3)))) == b"hello world"
