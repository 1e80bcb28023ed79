"""The whole archive on S3 (moto's server over HTTP): import, list, verify, tamper, re-verify."""

from __future__ import annotations

import json

from click.testing import CliRunner

from archiver.cli import cli


def test_an_archive_on_s3_imports_verifies_and_catches_tampering(
    s3_server, s3_client, make_bucket, archive_to_import, tmp_path
):
    bucket = make_bucket(versioning=True)
    config = tmp_path / "s3.toml"
    config.write_text(
        f'[storage]\nbackend = "s3"\nbucket = "{bucket}"\nprefix = "police/social"\n'
        f'endpoint_url = "{s3_server}"\nregion = "eu-west-2"\n'
        f'[index]\npath = "{tmp_path / "index"}"\n'
    )
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--config", str(config), *args])

    imported = run("import", str(archive_to_import.path), "--allow-partial")
    assert imported.exit_code == 0, imported.output
    [listed] = json.loads(run("runs", "--json").output)
    assert listed["counts"]["tweets"] == archive_to_import.tweets
    assert run("verify").exit_code == 0
    found = json.loads(run("search", archive_to_import.word, "--json").output)
    assert archive_to_import.post_id in [r["id"] for r in found["results"]]
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    account = archive_to_import.account_id
    runs = [k for k in keys if k.startswith(f"police/social/accounts/{account}/runs/")]
    # besides the runs only the import's released lock, the store's identity and job history
    jobs = sorted(k.rsplit("/", 1)[1].split("-")[1:4] for k in keys if "/jobs/" in k)
    assert jobs == [["manual", "import", archive_to_import.username], ["manual", "verify", "_all"]]
    assert {k for k in keys if "/jobs/" not in k} - set(runs) == {
        f"police/social/locks/{account}/000000000002.json",
        "police/social/store.json",
    }
    likes = next(k for k in runs if k.endswith("likes.jsonl.gz"))
    s3_client.put_object(Bucket=bucket, Key=likes, Body=b"not what was archived")
    result = run("verify")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(f"altered: accounts/{account}/runs/")
