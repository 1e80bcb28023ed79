"""An FOI officer's export: a query's results with third parties' personal data masked."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from export_demo import (
    ACCOUNT,
    ACCOUNT_ID,
    DM_SENDER,
    MENTION_TEXT,
    NEIGHBOUR_ID,
    PUBLIC,
    month_days,
)
from export_samples import read_jsonl, unzip_bag

from archiver.demo.county import PARTNERS
from archiver.exports.errors import DestinationError, ExportError
from archiver.exports.foi import Criteria, export_foi
from archiver.exports.register import list_exports


def month_of(sample) -> Criteria:
    """The generated archive's export month, as an FOI officer's dates."""
    since, until = month_days(sample.facts.month)
    return Criteria(since=dt.date.fromisoformat(since), until=dt.date.fromisoformat(until))


def third_parties(facts) -> set[str]:
    """What identifies someone other than the body in the month: the people its posts name
    or answer (from the generated tweets.js; not the authors it reposts), and the news's
    member of the public, their neighbour and the DM's sender, with the details they gave."""
    values = {
        "jo_public",
        "Jo Public",
        PUBLIC["id"],
        "nosy_neighbour",
        NEIGHBOUR_ID,
        "07700 900123",
        "jo.public@example.com",
        "AB12 CDE",
        "SW1A 1AA",
        "+44 7700 900456",
        DM_SENDER,
        facts.mention_id,  # the member of the public's post: its id leads to them
    }
    month_ids = {v["id"] for vs in facts.items().values() for v in vs}
    for tweet in facts.tweets + facts.deleted:
        # a repost's author stays: the body published their post again
        if tweet["id"] not in month_ids or tweet["full_text"].startswith("RT @"):
            continue
        for m in tweet["entities"].get("user_mentions") or []:
            values |= {m["screen_name"], m["id_str"]}
        if tweet.get("in_reply_to_screen_name"):
            values |= {tweet["in_reply_to_screen_name"], tweet["in_reply_to_user_id_str"]}
    values -= {ACCOUNT, ACCOUNT_ID}
    # short ids occur by chance inside timestamps and hashes: only snowflake ids are checked
    return {v for v in values if not v.isdigit() or len(v) >= 15}


def zip_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())


def test_an_foi_bundle_masks_every_third_party_and_withholds_dms(sample, tmp_path):
    out = tmp_path / "foi"
    out.mkdir()
    d = export_foi(
        sample.archive,
        month_of(sample),
        request_ref="FOI/2026/0042",
        out=out,
        operator="foi.officer",
    )
    assert Path(d.delivery.url) == out / "foi-FOI-2026-0042.zip"
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    bag.validate()
    counts = sample.facts.counts(dms=False)
    assert d.bundle.items == sum(counts.values()) and d.bundle.counts == counts
    everything = zip_text(Path(d.delivery.url))
    values = third_parties(sample.facts)
    assert len(values) > 12  # the news's people and the generated ones the posts answer
    for value in sorted(values):
        assert value not in everything, value
    assert f"@{ACCOUNT}" in everything  # the body's own account is not redacted

    records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    (mention,) = [r for r in records if r["kind"] == "mention"]
    expected = (
        f"@{ACCOUNT} my car [REDACTED vehicle registration] was taken from outside "
        "[REDACTED postcode] last night. Call me on [REDACTED phone] or [REDACTED email] - "
        "my neighbour [REDACTED user-N] saw it"
    )
    assert MENTION_TEXT.startswith(f"@{ACCOUNT} my car AB12 CDE")
    assert re.fullmatch(re.escape(expected).replace("N", r"\d+"), mention["text"])
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
        sample.archive,
        month_of(sample),
        request_ref="FOI/2026/0042",
        out=tmp_path,
        operator="foi.officer",
    )
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    data = Path(bag.path) / "data"
    records = read_jsonl(data / "records.jsonl")
    (mention,) = [r["id"] for r in records if r["kind"] == "mention"]
    assert re.fullmatch(r"\[REDACTED post-\d+\]", mention)
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
    assert (mention, "vehicle registration") in masked_text
    assert (mention, "email address") in masked_text
    assert (sample.facts.reply["id"], "user handle") in masked_text  # the one it answered

    disclosure = json.loads((data / "disclosure.json").read_text())
    assert disclosure["kind"] == "foi"
    assert disclosure["request_reference"] == "FOI/2026/0042"
    assert disclosure["operator"] == "foi.officer"
    since, until = month_days(sample.facts.month)
    assert disclosure["criteria"] == {
        "query": "",
        "accounts": [],
        "kinds": [],
        "from": since,
        "to": until,
    }
    assert disclosure["items"] == sum(sample.facts.counts(dms=False).values())
    assert disclosure["redaction"]["masked"]["direct message"] == 1
    # the mention's text and raw text at least
    assert disclosure["redaction"]["masked"]["vehicle registration"] >= 2
    (record,) = list_exports(sample.store, "foi")
    assert record["request_reference"] == "FOI/2026/0042"
    assert record["bundle"]["sha256"] == d.bundle.sha256
    assert record["destination"] == d.delivery.url


def test_a_query_runs_on_the_search_index(sample, tmp_path):
    facts = sample.facts
    query = facts.query(facts.photo)  # words only the month's photo post (and its edit) hold
    d = export_foi(
        sample.archive, Criteria(query=query), request_ref="FOI-7", out=tmp_path / "q.zip"
    )
    assert Path(d.delivery.url) == tmp_path / "q.zip"
    bag = unzip_bag(tmp_path / "q.zip", tmp_path / "unpacked")
    records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    assert [r["id"] for r in records] == [facts.photo["id"], facts.photo_edit_id]
    media = sorted(p.name for p in (Path(bag.path) / "data" / "media").iterdir())
    photos = sorted(n for n in facts.media if n.startswith(f"{facts.photo['id']}-"))
    assert media == photos  # the body's own photos


def test_without_the_index_the_query_scans_the_archive(sample, tmp_path):
    d = export_foi(
        sample.archive,
        Criteria(query=sample.facts.query(sample.facts.earlier)),
        request_ref="FOI-8",
        out=tmp_path,
        use_index=False,
    )
    assert d.bundle.items == 1 and d.bundle.versions == 2


def test_unredacted_exports_still_withhold_dms_unless_asked(sample, tmp_path):
    d = export_foi(
        sample.archive, month_of(sample), request_ref="internal-1", out=tmp_path, redact=False
    )
    text = zip_text(Path(d.delivery.url))
    assert sample.facts.reply["in_reply_to_screen_name"] in text and "jo_public" in text
    assert "+44 7700 900456" not in text and d.record["redaction"] == {
        "profile": None,
        "dms_withheld": 1,
    }
    d = export_foi(
        sample.archive,
        month_of(sample),
        request_ref="internal-2",
        out=tmp_path,
        redact=False,
        include_dms=True,
    )
    assert d.bundle.counts["dm"] == 1
    assert "+44 7700 900456" in zip_text(Path(d.delivery.url))


def test_partner_accounts_can_be_left_visible(sample, tmp_path):
    partners = {p.username for p in PARTNERS}
    (partner, *_) = [
        m["screen_name"]
        for t in sample.facts.tweets
        if not t["full_text"].startswith("RT @")
        for m in t["entities"]["user_mentions"]
        if m["screen_name"] in partners
    ]
    criteria = Criteria(query=partner)
    d = export_foi(
        sample.archive,
        criteria,
        request_ref="FOI-9",
        out=tmp_path,
        keep_handles=[partner],
        use_index=False,
    )
    unpacked = unzip_bag(Path(d.delivery.url), tmp_path / "kept")
    records = read_jsonl(Path(unpacked.path) / "data" / "records.jsonl")
    assert any(f"@{partner}" in r["text"] and not r["text"].startswith("RT @") for r in records)


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
    month = month_of(sample)
    with pytest.raises(ExportError) as err:
        export_foi(sample.archive, month, request_ref="R1", out=tmp_path / "answer.txt")
    assert (
        str(err.value)
        == f"--out must be a directory or a .zip file name, got {tmp_path}/answer.txt"
    )
    export_foi(sample.archive, month, request_ref="R2", out=tmp_path / "r2.zip")
    (tmp_path / "r2.zip").write_bytes(b"the officer's edited copy")
    with pytest.raises(DestinationError):
        export_foi(sample.archive, month, request_ref="R2", out=tmp_path / "r2.zip")
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
    start = f"'@{ACCOUNT} my car [REDACTED vehicle"  # the only mention: the news's
    assert [(r["item"], r["author_username"], r["text"][: len(start)]) for r in rows] == [
        ("[REDACTED post-1]", "[REDACTED user-1]", start),
    ]
    assert rows[0]["mentions"] == f"{ACCOUNT} [REDACTED user-2]"


def test_a_redacted_bundle_still_verifies_against_the_archive(sample, tmp_path):
    from archiver.exports.verify import verify_bundle

    d = export_foi(sample.archive, month_of(sample), request_ref="FOI-10", out=tmp_path)
    report = verify_bundle(d.delivery.url, store=sample.store)
    assert report.ok, report.problems
    versions = sum(len(vs) for vs in sample.facts.items().values() if vs[-1]["kind"] != "dm")
    assert report.checks[1:] == [
        "not signed",
        f"storage: every exported version ({versions}, in 2 runs) still matches the archive",
    ]
