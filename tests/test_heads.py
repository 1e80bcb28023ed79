"""Saved heads catch what a chain alone cannot: the newest runs or audit events cut off, a
forged event appended, a later part re-hashed. Bad heads files are one line, exit 1."""

from __future__ import annotations

import hashlib
import shutil

import orjson
import pytest
from click.testing import CliRunner

from archiver.archive import Archive
from archiver.audit import AuditEvent, AuditLog, event_key
from archiver.cli import cli
from archiver.config import load_config
from archiver.exports.signing import generate_key
from storage.manifest import MANIFEST
from storage.runs import run_prefix


@pytest.fixture
def setup(tmp_path, config_file, commit_post):
    generate_key(tmp_path / "archive.pem")
    path = config_file(f'[export]\nsigning_key_path = "{tmp_path / "archive.pem"}"\n')
    archive = Archive(load_config(path))

    def commit(archive, n):
        return commit_post(archive.store, n)

    runs = [commit(archive, i) for i in range(3)]
    log = AuditLog(archive.store)
    for i in range(4):
        log.record("alice", "search", q=f"query {i}")

    def run(*args):
        return CliRunner().invoke(cli, ["--config", str(path), *args])

    run.commit = commit
    return archive, runs, run, tmp_path


def save_heads(run, tmp_path, name="heads.json"):
    result = run("heads", "--json")
    assert result.exit_code == 0, result.output
    path = tmp_path / name
    path.write_text(result.output)
    return path, orjson.loads(result.output)


def manifest_dir(tmp_path, m):
    return tmp_path / "store" / run_prefix(m.account_id, m.run_id)


def test_heads_name_every_chain_head_and_are_signed(setup):
    archive, runs, run, tmp_path = setup
    _path, doc = save_heads(run, tmp_path)
    [acc] = doc["accounts"]
    manifest = (manifest_dir(tmp_path, runs[-1]) / MANIFEST).read_bytes()
    assert acc["run_id"] == runs[-1].run_id
    assert acc["sha256"] == hashlib.sha256(manifest).hexdigest()
    assert acc["runs"] == 3
    assert doc["audit"]["events"] == 4
    assert doc["signature"]["key_fingerprint"].startswith("SHA256:")
    text = run("heads")
    assert "@ExampleshirePolice" in text.output and "signed by SHA256:" in text.output


def test_unchanged_and_grown_archives_pass_against_saved_heads(setup):
    archive, _runs, run, tmp_path = setup
    path, _ = save_heads(run, tmp_path)
    run.commit(archive, 9)
    AuditLog(archive.store).record("bob", "search", q="later")
    assert run("verify", "--against", str(path)).exit_code == 0
    result = run("audit", "verify", "--against", str(path))
    assert result.exit_code == 0, result.output
    assert "nothing removed or rewritten since" in result.output


def test_the_newest_run_removed_is_caught_only_against_heads(setup):
    _archive, runs, run, tmp_path = setup
    path, _ = save_heads(run, tmp_path)
    shutil.rmtree(manifest_dir(tmp_path, runs[-1]))
    assert run("verify").exit_code == 0  # a shorter chain is still a consistent chain
    result = run("verify", "--against", str(path))
    assert result.exit_code == 1
    assert f"run {runs[-1].run_id}, the head on" in result.stderr
    assert "was removed (newest runs cut off)" in result.stderr


def test_runs_replaced_after_the_head_are_caught(setup):
    archive, runs, run, tmp_path = setup
    path, _ = save_heads(run, tmp_path)
    # cut the newest run off and commit a different one in its place: a consistent chain
    shutil.rmtree(manifest_dir(tmp_path, runs[-1]))
    run.commit(archive, 7)
    assert run("verify").exit_code == 0
    result = run("verify", "--against", str(path))
    assert result.exit_code == 1
    assert "was removed" in result.stderr


def test_the_head_manifest_rewritten_is_caught(setup):
    _archive, runs, run, tmp_path = setup
    path, _ = save_heads(run, tmp_path)
    manifest = manifest_dir(tmp_path, runs[-1]) / MANIFEST
    manifest.write_bytes(manifest.read_bytes().replace(b'"x-api-v2"', b'"x-archive"'))
    result = run("verify", "--against", str(path))
    assert result.exit_code == 1
    assert f"the manifest of run {runs[-1].run_id} was rewritten since" in result.stderr


def test_a_truncated_audit_log_is_caught_against_heads(setup):
    _archive, _runs, run, tmp_path = setup
    path, _ = save_heads(run, tmp_path)
    (tmp_path / "store" / event_key(4)).unlink()
    (tmp_path / "store" / event_key(3)).unlink()
    assert run("audit", "verify").exit_code == 0  # consistent, just shorter
    result = run("audit", "verify", "--against", str(path))
    assert result.exit_code == 1
    assert "the audit log had 4 events on" in result.stderr
    assert "event 4 is gone (now 2: the newest events were removed)" in result.stderr


def test_a_truncated_then_extended_audit_log_is_caught(setup):
    archive, _runs, run, tmp_path = setup
    path, _ = save_heads(run, tmp_path)
    # remove the newest two events, then append forged ones with a valid chain
    for seq in (4, 3):
        (tmp_path / "store" / event_key(seq)).unlink()
    log = AuditLog(archive.store)
    for i in range(3):
        log.record("mallory", "search", q=f"forged {i}")
    assert run("audit", "verify").exit_code == 0
    result = run("audit", "verify", "--against", str(path))
    assert result.exit_code == 1
    assert "audit event 4, the head on" in result.stderr
    assert "was rewritten (a forged or re-hashed log)" in result.stderr


def test_a_rehashed_audit_log_is_caught(setup):
    archive, _runs, run, tmp_path = setup
    path, _ = save_heads(run, tmp_path)
    # rewrite event 2 and re-hash every later event so the chain is consistent again
    prev = hashlib.sha256((tmp_path / "store" / event_key(1)).read_bytes()).hexdigest()
    for seq in range(2, 5):
        key = tmp_path / "store" / event_key(seq)
        event = AuditEvent.from_json(key.read_bytes())
        detail = {"q": "nothing to see"} if seq == 2 else event.detail
        data = AuditEvent(seq, event.at, event.user, event.action, detail, prev).to_json()
        key.write_bytes(data)
        prev = hashlib.sha256(data).hexdigest()
    assert run("audit", "verify").exit_code == 0
    result = run("audit", "verify", "--against", str(path))
    assert result.exit_code == 1
    assert "audit event 4, the head on" in result.stderr


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda doc, tmp: b"{not json", "not a heads file (not JSON)"),
        (lambda doc, tmp: orjson.dumps({"format": "other"}), "not a heads file (format is not"),
        (
            lambda doc, tmp: orjson.dumps({**doc, "accounts": "x"}),
            "not a heads file (accounts or audit malformed)",
        ),
        (
            lambda doc, tmp: orjson.dumps({k: v for k, v in doc.items() if k != "signature"}),
            "the heads are not signed, but the archive has a signing key",
        ),
        (
            lambda doc, tmp: orjson.dumps({**doc, "taken_at": "2020-01-01T00:00:00.000000Z"}),
            "the signature does not match: the heads were altered after signing",
        ),
        (lambda doc, tmp: _signed_by_another_key(doc, tmp), "signed by another key"),
        (lambda doc, tmp: _for_another_store(doc, tmp), "the heads are of another store"),
    ],
    ids=[
        "malformed",
        "wrong-format",
        "bad-shape",
        "unsigned",
        "altered",
        "other-key",
        "other-store",
    ],
)
def test_a_bad_heads_file_is_one_line_and_exit_1(setup, change, message):
    _archive, _runs, run, tmp_path = setup
    path, doc = save_heads(run, tmp_path)
    path.write_bytes(change(doc, tmp_path))
    for args in (("verify", "--against", str(path)), ("audit", "verify", "--against", str(path))):
        result = run(*args)
        assert result.exit_code == 1
        [line] = result.stderr.splitlines()
        assert line.startswith(f"error: {path}: ")
        assert message in line


def _signed_by_another_key(doc, tmp_path) -> bytes:
    from archiver.exports.signing import sign_document

    other = generate_key(tmp_path / "other.pem")
    return orjson.dumps(sign_document({k: v for k, v in doc.items() if k != "signature"}, other))


def _for_another_store(doc, tmp_path) -> bytes:
    from archiver.config import ExportConfig
    from archiver.exports.signing import load_signing_key, sign_document

    key = load_signing_key(ExportConfig(signing_key_path=str(tmp_path / "archive.pem")))
    assert key is not None
    body = {k: v for k, v in doc.items() if k != "signature"}
    return orjson.dumps(sign_document({**body, "store_id": "another-store"}, key))
