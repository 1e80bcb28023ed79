"""S3 specifics: versioning and Object Lock protect committed runs."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from storage.runs import list_runs, verify_run
from storage.s3 import S3Store


def test_versioned_bucket_keeps_the_original_when_an_object_is_overwritten_out_of_band(
    s3_client, make_bucket, commit_post
):
    bucket = make_bucket(versioning=True)
    store = S3Store(s3_client, bucket, prefix="p")
    assert store.protection()["versioning"] == "Enabled"
    manifest = commit_post(store, 1)
    key = f"p/{manifest.prefix}tweets.jsonl.gz"
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"tampered")  # someone bypasses the archive
    assert [str(p) for p in verify_run(store, manifest)] == [
        f"altered: {manifest.prefix}tweets.jsonl.gz (run {manifest.run_id})"
    ]
    versions = s3_client.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    assert len(versions) == 2  # the committed bytes are still there to restore


def test_object_lock_bucket_refuses_deleting_a_committed_object(
    s3_client, make_bucket, commit_post
):
    bucket = make_bucket(lock=True)
    store = S3Store(s3_client, bucket, lock_days=30)
    assert store.protection()["object_lock"] is True
    manifest = commit_post(store, 1)
    key = f"{manifest.prefix}manifest.json"
    head = s3_client.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "GOVERNANCE"
    with pytest.raises(ClientError, match="AccessDenied"):
        s3_client.delete_object(Bucket=bucket, Key=key, VersionId=head["VersionId"])
    assert list_runs(store) == [manifest]


def test_a_missing_bucket_is_a_clear_error(s3_client, commit_post):
    store = S3Store(s3_client, "no-such-bucket-here")
    with pytest.raises(Exception, match="bucket does not exist: no-such-bucket-here"):
        commit_post(store, 1)
