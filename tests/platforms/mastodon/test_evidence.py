"""A Mastodon status in an evidence bundle: the status JSON as the server served it, where it
was found, and its edit history, beside the page files the runs committed."""

from __future__ import annotations

import hashlib
import json
import zipfile

import bagit
import pytest

from archiver.archive import Archive
from archiver.config import load_config
from archiver.exports.evidence import export_evidence
from archiver.exports.signing import generate_key
from archiver.exports.verify import verify_bundle

from .mastodon_double import TOKEN, MastodonDouble
from .test_capture import ENV, _config


@pytest.fixture
def double():
    server = MastodonDouble().start()
    yield server
    server.stop()


def test_an_edited_status_carries_what_was_served_and_every_version(
    double, cli_run, config_file, monkeypatch, tmp_path
):
    monkeypatch.setenv(ENV, TOKEN)
    assert cli_run("backup", config=_config(double)).exit_code == 0
    archive = Archive(load_config(config_file(_config(double))))
    sid = next(iter(double.history))
    status = next(s for s in double.timeline if s["id"] == sid)
    key = generate_key(tmp_path / "key.pem")
    e = export_evidence(
        archive,
        [status["uri"]],
        reason="Complaint about an edited appeal",
        case="OP-MASTO-1",
        out=tmp_path,
        operator="DC 1 Test",
        signing_key=key,
    )
    with zipfile.ZipFile(e.delivery.url) as zf:
        zf.extractall(tmp_path / "bag")
    (top,) = [p for p in (tmp_path / "bag").iterdir() if p.is_dir()]
    bagit.Bag(str(top)).validate()
    doc = json.loads((top / "data" / "mastodon" / "001-status.json").read_text())
    assert doc["item"] == status["uri"]
    (served,) = [s for s in doc["served"] if s["endpoint"] == "/api/v1/accounts/:id/statuses"]
    assert served["served"] == status  # byte-for-byte the JSON the server sent
    assert served["retrieved_at"] and "limit" in served["params"]
    (history,) = doc["edit_history"]
    assert history["path"] == f"/api/v1/statuses/{sid}/history"
    assert [v["content"] for v in history["versions"]] == [
        v["content"] for v in double.history[sid]
    ]
    # the page file it was found in is in the bundle, as the run committed it
    page = top / "data" / "source-files" / served["run_id"] / served["file"].removeprefix("files/")
    assert hashlib.sha256(page.read_bytes()).hexdigest() == served["file_sha256"]
    report = verify_bundle(e.delivery.url, store=archive.store, trusted=[key.fingerprint])
    assert report.ok, report
