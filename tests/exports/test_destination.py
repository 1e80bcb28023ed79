"""Delivery to the records destination: a directory or S3, atomic, idempotent, retryable."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from export_samples import unzip_bag

from archiver.exports.errors import DestinationError
from archiver.exports.monthly import export_monthly
from archiver.exports.register import list_exports
from storage.s3 import make_s3_client

TODAY = dt.date(2026, 11, 25)


def march(sample, **kw):
    """The generated archive's export month (export_demo chose it)."""
    return export_monthly(sample.archive, sample.facts.month, today=TODAY, **kw)


def test_a_directory_destination_gets_the_bundle_and_no_temporary_files(sample, tmp_path):
    key = sample.facts.bundle_key
    dest = tmp_path / "share"
    (export,) = march(sample, dest=f"file://{dest}").exports
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [key]
    assert hashlib.sha256((dest / key).read_bytes()).hexdigest() == export.bundle.sha256


class ReadOnlyDir:
    """A directory nobody can write to: chmod, or for root (who ignores modes) chattr +i."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        if os.geteuid() != 0:
            path.chmod(0o555)
        elif subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
            pytest.skip("cannot make a read-only directory here (root without chattr)")

    def make_writable(self) -> None:
        if os.geteuid() != 0:
            self.path.chmod(0o755)
        else:
            subprocess.run(["chattr", "-i", str(self.path)], check=True)


@pytest.fixture
def read_only(tmp_path):
    share = ReadOnlyDir(tmp_path / "read-only")
    yield share
    share.make_writable()


def test_a_read_only_destination_fails_cleanly_and_the_next_run_retries(sample, read_only):
    key = sample.facts.bundle_key
    with pytest.raises(DestinationError) as err:
        march(sample, dest=str(read_only.path))
    assert str(err.value) in (
        f"cannot write to directory {read_only.path}: Permission denied",
        f"cannot write to directory {read_only.path}: Operation not permitted",
    )
    assert list(read_only.path.rglob("*")) == []  # nothing half-written
    assert list_exports(sample.store) == []  # and no export recorded
    read_only.make_writable()  # the share is back
    (export,) = march(sample, dest=str(read_only.path)).exports
    assert export.delivery.status == "written"
    files = [p.relative_to(read_only.path).as_posix() for p in read_only.path.rglob("*.zip")]
    assert files == [key]


def test_a_destination_that_is_not_a_directory_fails_cleanly(sample, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the share should be")
    with pytest.raises(DestinationError) as err:
        march(sample, dest=str(blocker / "records"))
    assert str(err.value) == f"cannot write to directory {blocker / 'records'}: Not a directory"


def test_unknown_destination_schemes_are_refused(sample):
    with pytest.raises(DestinationError) as err:
        march(sample, dest="ftp://records.example/share")
    assert str(err.value) == (
        "export.destination: must be a directory, file:// URL or s3://bucket/prefix,"
        " got 'ftp://records.example/share'"
    )


def test_no_destination_configured_is_a_clear_error(sample):
    from dataclasses import replace

    cfg = sample.archive.config
    sample.archive.config = replace(cfg, export=replace(cfg.export, destination=None))
    with pytest.raises(DestinationError) as err:
        march(sample)
    assert str(err.value) == (
        "no records destination: set export.destination in the config or pass --dest"
    )


def test_s3_destination_gets_the_bundle_once(sample, s3_client, make_bucket, tmp_path):
    key = sample.facts.bundle_key
    bucket = make_bucket()
    (export,) = march(sample, dest=f"s3://{bucket}/records/monthly", s3_client=s3_client).exports
    assert export.delivery.url == f"s3://{bucket}/records/monthly/{key}"
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == [f"records/monthly/{key}"]
    obj = s3_client.get_object(Bucket=bucket, Key=f"records/monthly/{key}")
    body = obj["Body"].read()
    assert hashlib.sha256(body).hexdigest() == export.bundle.sha256
    assert obj["Metadata"] == {"sha256": export.bundle.sha256}
    assert obj["ContentType"] == "application/zip"
    (tmp_path / "down.zip").write_bytes(body)
    unzip_bag(tmp_path / "down.zip", tmp_path / "unpacked").validate()

    again = march(sample, dest=f"s3://{bucket}/records/monthly", s3_client=s3_client).exports[0]
    assert again.delivery.status == "identical"


def test_s3_refuses_a_different_bundle_unless_replaced(sample, s3_client, make_bucket):
    key = sample.facts.bundle_key
    bucket = make_bucket()
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"an older bundle")
    with pytest.raises(DestinationError) as err:
        march(sample, dest=f"s3://{bucket}", s3_client=s3_client)
    assert str(err.value).startswith(f"s3://{bucket}/{key} already holds a different bundle")
    (export,) = march(sample, dest=f"s3://{bucket}", s3_client=s3_client, replace=True).exports
    assert export.delivery.previous_sha256 == hashlib.sha256(b"an older bundle").hexdigest()
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == export.bundle.sha256


def test_a_missing_bucket_is_a_clear_error(sample, s3_client):
    with pytest.raises(DestinationError) as err:
        march(sample, dest="s3://no-such-bucket-here/records", s3_client=s3_client)
    assert str(err.value) == (
        "records destination s3://no-such-bucket-here/records: "
        "bucket does not exist: no-such-bucket-here"
    )
    assert list_exports(sample.store) == []


def test_an_upload_cut_off_midway_leaves_nothing_and_the_next_run_retries(
    sample, make_bucket, s3_server, monkeypatch
):
    key = sample.facts.bundle_key
    """The S3 service goes away after the first part: no object appears, and once the
    service is back the same command delivers the bundle."""
    from dataclasses import replace

    from moto.server import ThreadedMotoServer

    import storage.s3

    monkeypatch.setattr(storage.s3, "MULTIPART_THRESHOLD", 4096)  # multipart, several parts
    monkeypatch.setattr(storage.s3, "PART_SIZE", 4096)
    cfg = sample.archive.config  # retries take milliseconds here
    fast = replace(cfg.storage, max_retries=2, backoff_base=0.001, backoff_cap=0.001)
    monkeypatch.setattr(sample.archive, "config", replace(cfg, storage=fast))
    bucket = make_bucket()  # (moto's state is shared by every server in the process)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = make_s3_client(endpoint_url=f"http://{host}:{port}", region="eu-west-2")
    parts = []

    def service_goes_away(**kwargs):
        parts.append(kwargs)
        if len(parts) == 1:
            server.stop()

    client.meta.events.register("after-call.s3.UploadPart", service_goes_away)
    with pytest.raises(DestinationError) as err:
        march(sample, dest=f"s3://{bucket}/records", s3_client=client)
    assert str(err.value).startswith(f"records destination s3://{bucket}/records: writing ")
    assert str(err.value).endswith(
        "failed 3 times in a row (last: EndpointConnectionError); the store is not answering, "
        "try again later"
    )
    monkeypatch.undo()
    healthy = make_s3_client(endpoint_url=s3_server, region="eu-west-2")
    assert healthy.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert list_exports(sample.store) == []

    (export,) = march(sample, dest=f"s3://{bucket}/records", s3_client=healthy).exports
    assert export.delivery.status == "written"
    keys = [o["Key"] for o in healthy.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"records/{key}"]
    body = healthy.get_object(Bucket=bucket, Key=f"records/{key}")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == export.bundle.sha256
