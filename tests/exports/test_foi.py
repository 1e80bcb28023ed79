"""An FOI officer's export: a query's results with third parties' personal data masked."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
from export_samples import ACCOUNT, read_jsonl, unzip_bag

from archiver.exports.errors import DestinationError, ExportError
from archiver.exports.foi import Criteria, export_foi
from archiver.exports.register import list_exports

MARCH = Criteria(since=dt.date(2026, 3, 1), until=dt.date(2026, 3, 31))
THIRD_PARTIES = (
    "SamaHoole",
    "Sama Hoole",
    "2253756806",
    "jo_public",
    "Jo Public",
    "4455667788",
    "nosy_neighbour",
    "99887766",
    "07700 900123",
    "jo.public@example.com",
    "AB12 CDE",
    "SW1A 1AA",
    "+44 7700 900456",
    "2815014648",
    "Dominik_Kettner",
    "782506632",
    "Eddie_1412",
    "2031000000000000003",  # the member of the public's post: its id leads to them
)


def zip_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())


def test_an_foi_bundle_masks_every_third_party_and_withholds_dms(sample, tmp_path):
    out = tmp_path / "foi"
    out.mkdir()
    d = export_foi(
        sample.archive, MARCH, request_ref="FOI/2026/0042", out=out, operator="foi.officer"
    )
    assert Path(d.delivery.url) == out / "foi-FOI-2026-0042.zip"
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    bag.validate()
    assert d.bundle.items == 8 and d.bundle.counts == {"mention": 1, "reply": 5, "repost": 2}
    everything = zip_text(Path(d.delivery.url))
    for value in THIRD_PARTIES:
        assert value not in everything, value
    assert f"@{ACCOUNT}" in everything  # the body's own account is not redacted

    records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    (mention,) = [r for r in records if r["kind"] == "mention"]
    assert mention["text"] == (
        f"@{ACCOUNT} my car [REDACTED vehicle registration] was taken from outside "
        "[REDACTED postcode] last night. Call me on [REDACTED phone] or [REDACTED email] - "
        "my neighbour [REDACTED user-9] saw it"
    )
    assert bag.info["Request-Reference"] == "FOI/2026/0042"
    assert bag.info["Redaction-Profile"] == (
        "foi: FOIA 2000 s.40(2) personal information of third parties"
    )
    # provenance of a redacted bundle names runs and hashes, never the posts' ids
    assert all(
        set(e) == {"account_id", "run_id", "collection", "sha256"}
        for e in read_jsonl(Path(bag.path) / "data" / "provenance.jsonl")
    )


def test_the_redaction_log_and_disclosure_record_explain_what_was_withheld(sample, tmp_path):
    d = export_foi(
        sample.archive, MARCH, request_ref="FOI/2026/0042", out=tmp_path, operator="foi.officer"
    )
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    data = Path(bag.path) / "data"
    with open(data / "redaction-log.csv", encoding="utf-8-sig", newline="") as fh:
        log = list(csv.DictReader(fh))
    assert log[0] == {
        "item": "(direct message 1)",
        "version": "",
        "field": "(whole item)",
        "category": "direct message",
        "replacement": "withheld",
        "occurrences": "1",
        "exemption": "FOIA 2000 s.40(2) and s.41 private correspondence",
    }
    masked_text = {(r["item"], r["category"]) for r in log if r["field"] == "text"}
    assert ("[REDACTED post-6]", "vehicle registration") in masked_text
    assert ("[REDACTED post-6]", "email address") in masked_text
    assert ("2029903943413772741", "user name") in masked_text

    disclosure = json.loads((data / "disclosure.json").read_text())
    assert disclosure["kind"] == "foi"
    assert disclosure["request_reference"] == "FOI/2026/0042"
    assert disclosure["operator"] == "foi.officer"
    assert disclosure["criteria"] == {
        "query": "",
        "accounts": [],
        "kinds": [],
        "from": "2026-03-01",
        "to": "2026-03-31",
    }
    assert disclosure["items"] == 8
    assert disclosure["redaction"]["masked"]["direct message"] == 1
    assert disclosure["redaction"]["masked"]["vehicle registration"] == 2  # text and raw text
    (record,) = list_exports(sample.store, "foi")
    assert record["request_reference"] == "FOI/2026/0042"
    assert record["bundle"]["sha256"] == d.bundle.sha256
    assert record["destination"] == d.delivery.url


def test_a_query_runs_on_the_search_index(sample, tmp_path):
    d = export_foi(
        sample.archive, Criteria(query="vegetables"), request_ref="FOI-7", out=tmp_path / "veg.zip"
    )
    assert Path(d.delivery.url) == tmp_path / "veg.zip"
    bag = unzip_bag(tmp_path / "veg.zip", tmp_path / "unpacked")
    records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    assert [r["id"] for r in records] == ["2029903943413772741", "2029906000000000001"]
    media = sorted(p.name for p in (Path(bag.path) / "data" / "media").iterdir())
    assert media == ["2029903943413772741-HCuq2zDboAAKHUC.jpg"]  # the body's own photo


def test_without_the_index_the_query_scans_the_archive(sample, tmp_path):
    d = export_foi(
        sample.archive,
        Criteria(query='"shadowban my account"'),
        request_ref="FOI-8",
        out=tmp_path,
        use_index=False,
    )
    assert d.bundle.items == 1 and d.bundle.versions == 2


def test_unredacted_exports_still_withhold_dms_unless_asked(sample, tmp_path):
    d = export_foi(sample.archive, MARCH, request_ref="internal-1", out=tmp_path, redact=False)
    text = zip_text(Path(d.delivery.url))
    assert "SamaHoole" in text and "jo_public" in text
    assert "+44 7700 900456" not in text and d.record["redaction"] == {
        "profile": None,
        "dms_withheld": 1,
    }
    d = export_foi(
        sample.archive,
        MARCH,
        request_ref="internal-2",
        out=tmp_path,
        redact=False,
        include_dms=True,
    )
    assert d.bundle.counts["dm"] == 1
    assert "+44 7700 900456" in zip_text(Path(d.delivery.url))


def test_partner_accounts_can_be_left_visible(sample, tmp_path):
    d = export_foi(
        sample.archive,
        Criteria(query="grok"),
        request_ref="FOI-9",
        out=tmp_path,
        keep_handles=["grok"],
        use_index=False,
    )
    text = zip_text(Path(d.delivery.url))
    assert "@grok why did twitter shadowban" in text


def test_bad_requests_are_clear_errors(sample, tmp_path):
    cases = [
        (Criteria(), "an FOI export needs a query or at least one filter"),
        (
            Criteria(query="zebra crossing"),
            "nothing in the archive matches 'zebra crossing' with those filters",
        ),
        (Criteria(query='"unclosed'), "query has an unmatched quote: '\"unclosed'"),
        (
            Criteria(query="x", kinds=("tweet",)),
            "unknown kind 'tweet'; kinds are post, reply,"
            " repost, quote, mention, like, bookmark, dm, follower, following, list, list_member,"
            " profile, block",
        ),
    ]
    for criteria, message in cases:
        with pytest.raises(ExportError) as err:
            export_foi(sample.archive, criteria, request_ref="R1", out=tmp_path, use_index=False)
        assert str(err.value) == message
    with pytest.raises(ExportError) as err:
        export_foi(sample.archive, MARCH, request_ref="R1", out=tmp_path / "answer.txt")
    assert (
        str(err.value)
        == f"--out must be a directory or a .zip file name, got {tmp_path}/answer.txt"
    )
    export_foi(sample.archive, MARCH, request_ref="R2", out=tmp_path / "r2.zip")
    (tmp_path / "r2.zip").write_bytes(b"the officer's edited copy")
    with pytest.raises(DestinationError):
        export_foi(sample.archive, MARCH, request_ref="R2", out=tmp_path / "r2.zip")
    assert (tmp_path / "r2.zip").read_bytes() == b"the officer's edited copy"
    assert len(list_exports(sample.store)) == 1


def test_the_csv_of_a_redacted_bundle_is_safe_and_masked(sample, tmp_path):
    d = export_foi(sample.archive, Criteria(kinds=("mention",)), request_ref="R3", out=tmp_path)
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    rows = list(
        csv.DictReader(
            io.StringIO(
                (Path(bag.path) / "data" / "items.csv").read_text(encoding="utf-8-sig"), newline=""
            )
        )
    )
    assert [(r["item"], r["author_username"], r["text"][:24]) for r in rows] == [
        ("[REDACTED post-1]", "[REDACTED user-1]", "'@milahu104 my car [REDA"),
    ]
    assert rows[0]["mentions"] == "milahu104 [REDACTED user-2]"


def test_a_redacted_bundle_still_verifies_against_the_archive(sample, tmp_path):
    from archiver.exports.verify import verify_bundle

    d = export_foi(sample.archive, MARCH, request_ref="FOI-10", out=tmp_path)
    report = verify_bundle(d.delivery.url, store=sample.store)
    assert report.ok, report.problems
    assert report.checks[1:] == [
        "not signed",
        "storage: every exported version (10, in 2 runs) still matches the archive",
    ]
