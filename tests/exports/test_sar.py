"""A subject access request: everything involving one person, everyone else redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from export_samples import ACCOUNT, DM_SENDER, PUBLIC, read_jsonl, unzip_bag

from archiver.exports.errors import ExportError
from archiver.exports.register import list_exports
from archiver.exports.sar import export_sar


def test_a_subject_gets_their_items_with_their_own_details_and_nobody_elses(sample, tmp_path):
    d = export_sar(
        sample.archive, "@jo_public", request_ref="SAR-2026-11", out=tmp_path, operator="dpo"
    )
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    bag.validate()
    (rec,) = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    assert rec["author"] == PUBLIC
    assert rec["id"] == "2031000000000000003"  # their own post: its id is theirs to have
    assert rec["text"] == (
        "@milahu104 my car AB12 CDE was taken from outside SW1A 1AA last night. Call me on "
        "07700 900123 or jo.public@example.com - my neighbour [REDACTED user-1] saw it"
    )
    assert bag.info["Redaction-Profile"] == (
        "sar: DPA 2018 Sch.2 Pt.3 para.16 information about other individuals"
    )
    disclosure = json.loads((Path(bag.path) / "data" / "disclosure.json").read_text())
    assert disclosure["subject"] == {"handle": "jo_public", "id": PUBLIC["id"]}
    assert disclosure["request_reference"] == "SAR-2026-11"
    assert disclosure["operator"] == "dpo"
    assert [r["kind"] for r in list_exports(sample.store)] == ["sar"]


def test_a_subject_known_only_by_id_gets_their_dms(sample, tmp_path):
    d = export_sar(sample.archive, DM_SENDER, request_ref="SAR-2", out=tmp_path)
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    (dm,) = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    assert dm["kind"] == "dm"
    assert dm["text"] == "hi, it's me again, ring +44 7700 900456"
    assert dm["author"] == {"id": DM_SENDER}


def test_the_accounts_replies_to_a_subject_are_included(sample, tmp_path):
    d = export_sar(sample.archive, "SamaHoole", request_ref="SAR-3", out=tmp_path)
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    assert [r["id"] for r in records] == [
        "2029903943413772741",
        "2029906000000000001",
        "2029905358261502168",
    ]
    assert records[0]["text"].startswith("@SamaHoole Doctor: Try to eat some vegetables.")
    assert "Sama Hoole:" in records[0]["text"]


def test_bad_subjects_are_clear_errors(sample, tmp_path):
    with pytest.raises(ExportError) as err:
        export_sar(sample.archive, "@nobody_at_all", request_ref="SAR-4", out=tmp_path)
    assert str(err.value) == "nothing in the archive involves @nobody_at_all"
    with pytest.raises(ExportError) as err:
        export_sar(sample.archive, ACCOUNT, request_ref="SAR-5", out=tmp_path)
    assert str(err.value) == (
        f"@{ACCOUNT} is one of the archive's own accounts, not a member of the public"
    )
    with pytest.raises(ExportError) as err:
        export_sar(sample.archive, "jo_public", request_ref="///", out=tmp_path)
    assert str(err.value) == "request reference '///' has no letters or digits"
    assert list_exports(sample.store) == []
