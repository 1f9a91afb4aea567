"""The S3 module against the local service: encryption, owner checks, all-or-nothing writes."""

from __future__ import annotations

import pytest

from pinpoint_etl.core.errors import ConfigError, PipelineError
from pinpoint_etl.storage import objects, write


def test_written_objects_are_encrypted(pinpoint_env, s3_client):
    uri = f"s3://{pinpoint_env.bucket}/t/a.csv"
    write.write_bytes(uri, b"Id\n1\n", s3=s3_client)
    head = s3_client.head_object(Bucket=pinpoint_env.bucket, Key="t/a.csv")
    assert head["ServerSideEncryption"] == "AES256" and head["ContentLength"] == 5


def test_failed_multipart_write_leaves_no_object(pinpoint_env, s3_client):
    pinpoint_env.set_faults("S3:UploadPart", error500=20)
    uri = f"s3://{pinpoint_env.bucket}/t/big.csv"
    with pytest.raises(PipelineError, match="big.csv"):
        with write.open_write(uri, s3=s3_client) as fh:
            for _ in range(3):
                fh.write(b"x" * (write.PART_SIZE // 2 + 1))
    assert s3_client.list_objects_v2(Bucket=pinpoint_env.bucket, Prefix="t/").get("KeyCount", 0) == 0
    assert not s3_client.list_multipart_uploads(Bucket=pinpoint_env.bucket).get("Uploads")


def test_missing_bucket_and_foreign_owner_are_config_errors(pinpoint_env, s3_client):
    with pytest.raises(ConfigError, match="does not exist"):
        objects.check_bucket(s3_client, "no-such-bucket-here")
    objects.check_bucket(s3_client, pinpoint_env.bucket, pinpoint_env.account_id)
    with pytest.raises(ConfigError, match="another account"):
        objects.check_bucket(s3_client, pinpoint_env.bucket, "999999999999")


def test_list_objects_pages_and_filters(pinpoint_env, s3_client):
    for i in range(5):
        write.write_bytes(f"s3://{pinpoint_env.bucket}/p/{i}.gz", b"x", s3=s3_client)
    write.write_bytes(f"s3://{pinpoint_env.bucket}/p/skip.txt", b"x", s3=s3_client)
    objs = objects.list_objects(s3_client, f"s3://{pinpoint_env.bucket}/p/", suffix=".gz")
    assert sorted(o["key"] for o in objs) == [f"p/{i}.gz" for i in range(5)]
    assert objects.delete_objects(s3_client, [o["uri"] for o in objs]) == 5


def test_local_write_is_atomic(tmp_path):
    target = tmp_path / "f.csv"
    with pytest.raises(RuntimeError):
        with write.open_write(str(target)) as fh:
            fh.write(b"partial")
            raise RuntimeError("boom")
    assert not target.exists() and list(tmp_path.iterdir()) == []
