"""Exports from the UI: the current search as FOI, selected items as evidence, downloads;
each recorded in the audit log with the logged-in user as the operator."""

from __future__ import annotations

import csv
import io
import zipfile

import bagit
import pytest
from ui_story import SECRET, AuthActions, csrf_token

from archiver.archive import Archive
from archiver.audit import AuditLog
from archiver.config import Config, ExportConfig, IndexConfig, StorageConfig, UiConfig
from archiver.exports.register import list_exports
from archiver.exports.signing import generate_key
from search_ui import create_app


@pytest.fixture
def signed_archive(ui_root) -> Archive:
    generate_key(ui_root / "signing.pem")
    return Archive(
        Config(
            storage=StorageConfig(path=str(ui_root / "store")),
            index=IndexConfig(path=str(ui_root / "index")),
            export=ExportConfig(signing_key_path=str(ui_root / "signing.pem")),
            ui=UiConfig(exports_path=str(ui_root / "out")),
        )
    )


@pytest.fixture
def client(signed_archive):
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET}, archive=signed_archive)
    return app.test_client()


def _bag_files(zip_bytes: bytes, tmp_path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        zf.extractall(tmp_path / "bag")
        names = zf.namelist()
    top = tmp_path / "bag" / names[0].split("/")[0]
    bagit.Bag(str(top)).validate()
    return {p.relative_to(top).as_posix(): p.read_bytes() for p in top.rglob("*") if p.is_file()}


def test_an_exporter_exports_the_current_search_for_foi(client, auth, signed_archive, tmp_path):
    auth.login("eve")
    page = client.get("/exports/foi?q=appeal&account=ExampleshirePolice")
    assert "<dt>Items</dt><dd>2</dd>" in page.text
    response = client.post(
        "/exports/foi?q=appeal&account=ExampleshirePolice",
        data={"reference": "FOI-2024-17", "redact": "y", "csrf_token": csrf_token(page.text)},
    )
    assert response.headers["Location"] == "/exports/"
    listing = client.get("/exports/").text
    assert "Exported 2 items as foi-FOI-2024-17.zip." in listing
    assert '<a href="/exports/download/foi-FOI-2024-17.zip">' in listing
    record = list_exports(signed_archive.store, "foi")[0]
    assert (record["operator"], record["request_reference"]) == ("eve", "FOI-2024-17")
    event = AuditLog(signed_archive.store).events(action="export")[0]
    assert event.user == "eve"
    assert event.detail["kind"] == "foi"
    assert event.detail["query"] == "appeal"
    assert event.detail["export_record"] == record["key"]
    download = client.get("/exports/download/foi-FOI-2024-17.zip")
    assert download.headers["Content-Disposition"] == ("attachment; filename=foi-FOI-2024-17.zip")
    files = _bag_files(download.data, tmp_path)
    assert "data/redaction-log.csv" in files
    # the mention's author is a third party: masked in the disclosed records
    assert b"resident_ann" not in files["data/records.jsonl"]
    # the hostile formula cell is neutralised in the spreadsheet listing
    rows = list(csv.DictReader(io.StringIO(files["data/items.csv"].decode("utf-8"))))
    assert [r["text"][:12] for r in rows] == ["Witness appe", "'=HYPERLINK("]
    assert AuditLog(signed_archive.store).events(action="download")[0].user == "eve"


def test_an_exporter_exports_selected_items_as_signed_evidence(client, auth, signed_archive):
    auth.login("eve")
    page = client.get("/exports/evidence?id=1003&id=1005")
    assert "Export 2 items as evidence" in page.text
    response = client.post(
        "/exports/evidence?id=1003&id=1005",
        data={
            "case": "PSD-0042",
            "reason": "Complaint about a road closure notice",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 302
    record = list_exports(signed_archive.store, "evidence")[0]
    assert record["operator"] == "eve"
    event = AuditLog(signed_archive.store).events(action="export")[0]
    assert (event.detail["kind"], event.detail["case"], event.detail["items"]) == (
        "evidence",
        "PSD-0042",
        ["1003", "1005"],
    )
    assert event.detail["bundle"].startswith("evidence-PSD-0042-")


def test_evidence_needs_a_case_and_a_reason(client, auth):
    auth.login("eve")
    page = client.get("/exports/evidence?id=1001")
    response = client.post(
        "/exports/evidence?id=1001", data={"case": "", "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 400
    assert "Case reference: This field is required." in response.text


def test_an_export_failure_is_shown_and_nothing_is_recorded(client, auth, ui_root, ui_archive):
    auth.login("eve")
    (ui_root / "signing.pem").unlink()  # the key went missing
    page = client.get("/exports/evidence?id=1001")
    # said before the form is filled in, and the button is off
    assert "Evidence export is not working: export.signing_key_path: cannot read" in page.text
    assert '<button type="submit" disabled>Export and sign</button>' in page.text
    response = client.post(
        "/exports/evidence?id=1001",
        data={"case": "C-1", "reason": "test", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 400
    assert "Evidence export is not working" in response.text
    assert AuditLog(ui_archive.store).events(action="export") == []


def test_the_evidence_form_says_when_no_signing_key_is_configured(ui_archive):
    client = create_app({"TESTING": True, "SECRET_KEY": SECRET}, archive=ui_archive).test_client()
    AuthActions(client).login("eve")
    page = client.get("/exports/evidence?id=1001")
    assert page.status_code == 200
    assert "Evidence export is not configured" in page.text
    assert "archiver export keygen PATH" in page.text


def test_selecting_nothing_or_nonsense_is_refused(client, auth):
    auth.login("eve")
    assert client.get("/exports/evidence").status_code == 400
    assert client.get("/exports/evidence?id=../../etc").status_code == 400
    assert client.get("/exports/evidence?id=31337").status_code == 404
    assert client.get("/exports/download/..%2Fusers.json").status_code == 404
    assert client.get("/exports/download/users.json").status_code == 404
