"""A subject access request: everything involving one person, everyone else redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from export_demo import ACCOUNT, DM_SENDER, DM_TEXT, MENTION_TEXT, PUBLIC
from export_samples import read_jsonl, unzip_bag

from archiver.exports.errors import ExportError
from archiver.exports.register import list_exports
from archiver.exports.sar import export_sar
from archiver.timestamps import iso


def test_a_subject_gets_their_items_with_their_own_details_and_nobody_elses(sample, tmp_path):
    d = export_sar(
        sample.archive, "@jo_public", request_ref="SAR-2026-11", out=tmp_path, operator="dpo"
    )
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    bag.validate()
    (rec,) = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    assert rec["author"] == PUBLIC
    assert rec["id"] == sample.facts.mention_id  # their own post: its id is theirs to have
    # their own details stay; the neighbour they name is someone else
    assert rec["text"] == MENTION_TEXT.replace("@nosy_neighbour", "[REDACTED user-1]")
    assert "07700 900123" in rec["text"] and "jo.public@example.com" in rec["text"]
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
    assert dm["text"] == DM_TEXT
    assert dm["author"] == {"id": DM_SENDER}


def test_the_accounts_replies_to_a_subject_are_included(sample, tmp_path):
    facts = sample.facts
    subject = facts.reply["in_reply_to_screen_name"]  # a member of the public the force answered
    d = export_sar(sample.archive, subject, request_ref="SAR-3", out=tmp_path)
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")

    def involves(tweet: dict) -> bool:
        named = {m["screen_name"] for m in tweet["entities"].get("user_mentions") or []}
        return subject in named or tweet.get("in_reply_to_screen_name") == subject

    theirs = sorted(
        (t for t in facts.tweets + facts.deleted if involves(t)),
        key=lambda t: (iso(t["created_at"]), int(t["id"])),
    )
    assert facts.reply in theirs
    assert [r["id"] for r in records] == [t["id"] for t in theirs]
    for record in records:
        assert record["text"].startswith(f"@{subject} ")  # their handle is theirs to see


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
