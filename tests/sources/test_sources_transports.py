"""Where sources come from: compression, globs and directories, several sources, http(s) and s3."""

from __future__ import annotations

import bz2
import functools
import gzip
import http.server
import threading
import uuid

import pandas as pd
import pytest

from pinpoint_etl.core.errors import ConfigError, SourceError, TransientError
from pinpoint_etl.sources.locate import expand_sources
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.read import read_header
from tests.sources.helpers import read_all, read_chunks, records

CSV = "Id,ChannelType,Attributes.Interests,Attributes.Interests\ne1,EMAIL,Music,Books\ne2,SMS,,News\n"
EXPECTED = [
    {"Id": "e1", "ChannelType": "EMAIL", "Attributes.Interests": "Music", "Attributes.Interests#2": "Books"},
    {"Id": "e2", "ChannelType": "SMS", "Attributes.Interests#2": "News"},
]
NDJSON = '{"Id": "n1", "Location": {"Country": "US"}}\n{"Id": "n2"}\n'


def _compress(ext: str, data: bytes) -> bytes:
    if ext == ".gz":
        return gzip.compress(data)
    if ext == ".bz2":
        return bz2.compress(data)
    from backports import zstd  # what smart_open uses for .zst on Python < 3.14

    return zstd.compress(data)


@pytest.mark.parametrize("ext", [".gz", ".bz2", ".zst"])
def test_compressed_by_extension(tmp_path, ext):
    path = tmp_path / f"endpoints.csv{ext}"
    path.write_bytes(_compress(ext, CSV.encode()))
    assert read_header(str(path), ReadOptions()) == list(EXPECTED[0])
    df = read_all(path)
    assert records(df) == EXPECTED and df["_row"].tolist() == [1, 2]
    nd = tmp_path / f"endpoints.ndjson{ext}"
    nd.write_bytes(_compress(ext, NDJSON.encode()))
    assert read_all(nd)["Location.Country"].tolist()[0] == "US"


@pytest.mark.parametrize("ext", [".bz2", ".zst"])
def test_truncated_or_corrupt_compressed(tmp_path, ext):
    data = _compress(ext, ("Id\n" + "".join(f"{i}\n" for i in range(20000))).encode())
    path = tmp_path / f"cut.ndjson{ext}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=f"{path}: compressed stream ended early"):
        read_all(tmp_path / f"cut.ndjson{ext}", format="csv")
    bad = tmp_path / f"bad.csv{ext}"
    bad.write_bytes(b"definitely not compressed")
    with pytest.raises(SourceError, match=f"{bad}: (corrupt|cannot read)"):
        read_all(bad)


def test_globs_directories_and_several_sources(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for name in ("b.csv", "a.csv", "sub/c.csv", ".hidden.csv"):
        (tmp_path / "in" / name).write_text(CSV)
    (tmp_path / "in" / "x.ndjson").write_text(NDJSON)
    base = tmp_path / "in"
    assert expand_sources([str(base / "*.csv")]) == [str(base / "a.csv"), str(base / "b.csv")]
    assert expand_sources([str(base / "**" / "*.csv")]) == [str(base / "a.csv"), str(base / "b.csv"),
                                                            str(base / "sub" / "c.csv")]
    assert expand_sources([str(base)]) == [str(base / "a.csv"), str(base / "b.csv"), str(base / "sub" / "c.csv"),
                                           str(base / "x.ndjson")]
    assert expand_sources([f"file://{base / 'a.csv'}"]) == [str(base / "a.csv")]
    # order of the specs kept, duplicates dropped
    uris = expand_sources([str(base / "x.ndjson"), str(base / "*.csv"), str(base / "a.csv")])
    assert uris == [str(base / "x.ndjson"), str(base / "a.csv"), str(base / "b.csv")]
    frames = [df for uri in uris for df in read_chunks(uri, ReadOptions())]
    df = pd.concat(frames, ignore_index=True)
    assert len(df) == 6
    assert df.groupby("_source", observed=True)["_row"].apply(list).to_dict() == {
        str(base / "x.ndjson"): [1, 2], str(base / "a.csv"): [1, 2], str(base / "b.csv"): [1, 2]}


def test_expand_errors(tmp_path):
    with pytest.raises(SourceError, match="no files match"):
        expand_sources([str(tmp_path / "*.csv")])
    with pytest.raises(SourceError, match=f"{tmp_path / 'missing.csv'}: file not found"):
        expand_sources([str(tmp_path / "missing.csv")])
    with pytest.raises(SourceError, match="unsupported scheme ftp://"):
        expand_sources(["ftp://example.com/x.csv"])
    with pytest.raises(ConfigError, match="needs an S3 client"):
        expand_sources(["s3://bucket/prefix/"])
    with pytest.raises(ConfigError):
        expand_sources([])
    assert expand_sources(["https://example.com/a.csv", "s3://bucket/key.csv"]) == [
        "https://example.com/a.csv", "s3://bucket/key.csv"]


# --- http(s): a tiny server on the loopback interface ---------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/status/"):
            self.send_error(int(self.path.split("/")[2].split(".")[0]))
            return
        super().do_GET()

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture()
def http_base(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_csv_gz_and_ndjson(http_base):
    root, base = http_base
    (root / "e.csv.gz").write_bytes(gzip.compress(CSV.encode()))
    (root / "e.ndjson").write_text(NDJSON)
    uri = f"{base}/e.csv.gz?X-Amz-Signature=secret123"
    assert read_header(uri, ReadOptions()) == list(EXPECTED[0])
    df = read_all(uri)
    assert records(df) == EXPECTED
    assert set(df["_source"].astype(str)) == {f"{base}/e.csv.gz"}  # no credentials in _source
    assert read_all(f"{base}/e.ndjson")["Id"].tolist() == ["n1", "n2"]


def test_http_errors(http_base):
    _, base = http_base
    with pytest.raises(SourceError, match=r"nope.csv: not found \(HTTP 404\)") as info:
        read_all(f"{base}/nope.csv?token=secret123")
    assert "secret123" not in str(info.value)
    with pytest.raises(TransientError, match="HTTP 503"):
        read_all(f"{base}/status/503.csv")


# --- s3: the local service -------------------------------------------------------------------------


@pytest.fixture()
def bucket(s3_client):
    name = f"sources-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    put = functools.partial(s3_client.put_object, Bucket=name)
    put(Key="in/a.csv", Body=CSV.encode())
    put(Key="in/b.ndjson.gz", Body=gzip.compress(NDJSON.encode()))
    put(Key="in/sub/c.csv", Body=CSV.encode())
    put(Key="in/sub/", Body=b"")  # a console "folder" marker
    put(Key="other/d.csv", Body=CSV.encode())
    return name


def test_s3_prefix_glob_and_key(s3_client, bucket):
    assert expand_sources([f"s3://{bucket}/in/"], s3_client=s3_client) == [
        f"s3://{bucket}/in/a.csv", f"s3://{bucket}/in/b.ndjson.gz", f"s3://{bucket}/in/sub/c.csv"]
    assert expand_sources([f"s3://{bucket}/in/*.csv"], s3_client=s3_client) == [f"s3://{bucket}/in/a.csv"]
    assert expand_sources([f"s3://{bucket}/**.csv"], s3_client=s3_client) == [
        f"s3://{bucket}/in/a.csv", f"s3://{bucket}/in/sub/c.csv", f"s3://{bucket}/other/d.csv"]
    assert expand_sources([f"s3://{bucket}/other/d.csv"], s3_client=s3_client) == [f"s3://{bucket}/other/d.csv"]


def test_s3_paged_listing(s3_client, bucket, monkeypatch):
    from pinpoint_etl.storage import objects

    calls = []
    s3_client.meta.events.register("before-call.s3.ListObjectsV2", lambda **kw: calls.append(1))
    monkeypatch.setattr(objects, "PAGE_SIZE", 2)
    for i in range(7):
        s3_client.put_object(Bucket=bucket, Key=f"many/{i:05d}.csv", Body=b"Id\n1\n")
    uris = expand_sources([f"s3://{bucket}/many/"], s3_client=s3_client)
    assert uris == [f"s3://{bucket}/many/{i:05d}.csv" for i in range(7)]
    assert len(calls) == 4


def test_s3_read(s3_client, bucket):
    params = {"client": s3_client}
    uri = f"s3://{bucket}/in/a.csv"
    assert read_header(uri, ReadOptions(), transport_params=params) == list(EXPECTED[0])
    df = pd.concat(read_chunks(uri, ReadOptions(), transport_params=params))
    assert records(df) == EXPECTED and set(df["_source"].astype(str)) == {uri}
    df = pd.concat(read_chunks(f"s3://{bucket}/in/b.ndjson.gz", ReadOptions(), transport_params=params))
    assert df["Id"].tolist() == ["n1", "n2"] and df["_row"].tolist() == [1, 2]


def test_s3_errors(s3_client, bucket):
    with pytest.raises(SourceError, match=f"s3://{bucket}/in/missing.csv: no such S3 object"):
        expand_sources([f"s3://{bucket}/in/missing.csv"], s3_client=s3_client)
    with pytest.raises(SourceError, match=f"s3://{bucket}/in/missing.csv: no such S3 object"):
        list(read_chunks(f"s3://{bucket}/in/missing.csv", ReadOptions(), transport_params={"client": s3_client}))
    with pytest.raises(SourceError, match="no S3 objects under this prefix"):
        expand_sources([f"s3://{bucket}/empty/"], s3_client=s3_client)
    with pytest.raises(SourceError, match="no S3 objects match"):
        expand_sources([f"s3://{bucket}/in/*.xlsx"], s3_client=s3_client)
    with pytest.raises(SourceError, match="no such S3 bucket"):
        expand_sources(["s3://no-such-bucket-here/in/"], s3_client=s3_client)
