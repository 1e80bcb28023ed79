"""A records officer's monthly bundle: complete, valid, readable, and the same every time."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import re
from html.parser import HTMLParser
from pathlib import Path

import bagit
import pytest
from export_demo import ACCOUNT, ACCOUNT_ID, month_bounds, shift_month
from export_samples import read_jsonl, unzip_bag
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.errors import ArchiverError
from archiver.exports.errors import DestinationError, ExportError
from archiver.exports.monthly import Month, export_last_month, export_monthly
from archiver.exports.register import list_exports
from archiver.timestamps import iso
from storage.records import new_record
from storage.runs import RunWriter

TODAY = dt.date(2026, 11, 25)


def march(sample, **kw):
    """The generated archive's export month (export_demo chose it from the generated files)."""
    return export_monthly(sample.archive, sample.facts.month, today=TODAY, **kw)


def test_a_month_becomes_one_valid_bag_at_the_destination(sample, tmp_path):
    report = march(sample)
    (export,) = report.exports
    path = Path(export.delivery.url)
    assert path == tmp_path / "records" / sample.facts.bundle_key
    assert export.delivery.status == "written"

    bag = unzip_bag(path, tmp_path / "unpacked")
    bag.validate()  # bagit's own check of every SHA-256 and of completeness
    assert bag.algorithms == ["sha256"]
    assert (Path(bag.path) / "bagit.txt").read_text() == (
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    )
    media = sample.facts.month_media()
    assert media  # the month's photo post at least
    assert sorted(bag.payload_files()) == sorted(
        [
            "data/chain-head.json",
            "data/index.html",
            "data/items.csv",
            *(f"data/media/{name}" for name in media),
            "data/payloads.jsonl",
            "data/provenance.jsonl",
            "data/records.jsonl",
            "data/runs.json",
        ]
    )


def test_each_bundle_carries_the_head_of_the_accounts_manifest_chain(sample, tmp_path):
    import hashlib
    import json

    from storage.chain import account_manifests as stored
    from storage.chain import check_chain, walk_back

    (export,) = march(sample).exports
    bag = unzip_bag(Path(export.delivery.url), tmp_path / "unpacked")
    head = json.loads((Path(bag.path) / "data" / "chain-head.json").read_text())
    store = sample.archive.store
    manifests = stored(store, head["account_id"])
    [match] = [m for m in manifests if m.run_id == head["run_id"]]
    data = store.open(match.key).read()
    assert head["manifest_sha256"] == hashlib.sha256(data).hexdigest() == match.sha256
    assert head["runs"] == len(walk_back(manifests, head["run_id"]))
    assert check_chain(manifests) == []


def test_bag_info_describes_the_month_for_the_records_system(sample, tmp_path):
    (export,) = march(sample).exports
    bag = unzip_bag(Path(export.delivery.url), tmp_path / "unpacked")
    info = bag.info
    facts = sample.facts
    assert info["Source-Organization"] == "Exampleshire Police"
    assert info["Account"] == f"@{ACCOUNT} ({ACCOUNT_ID})"
    assert info["Period"] == "/".join(month_bounds(facts.month))  # the UK month, in UTC
    assert info["External-Identifier"] == facts.file_stem
    assert info["Retention-Code"] == "COMMS-07"
    assert info["Security-Classification"] == "OFFICIAL"
    assert info["Export-Kind"] == "monthly"
    items = facts.items()
    assert info["Item-Count"] == str(len(items))
    assert info["Version-Count"] == str(sum(len(vs) for vs in items.values()))
    counts = {k: v for k, v in info.items() if k.startswith("Count-")}
    assert counts == {f"Count-{k}": str(n) for k, n in facts.counts().items()}
    assert info["Source-Run"] == [sample.import_run, sample.api_run]
    assert info["Bag-Software-Agent"].startswith("social-archive/0.1.0 (bagit.py ")
    # dated by the newest run it draws on, not by the day it was made
    newest = sample.archive.runs()[-1].committed_at
    assert info["Bagging-Date"] == newest[:10]
    files = 7 + len(facts.month_media())  # chain-head.json too
    assert re.fullmatch(rf"\d+\.{files}", info["Payload-Oxum"])


def test_edited_and_deleted_items_come_with_versions_and_deletion_times(sample, tmp_path):
    (export,) = march(sample).exports
    bag = unzip_bag(Path(export.delivery.url), tmp_path / "unpacked")
    records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    ids = [r["id"] for r in records]
    facts = sample.facts
    assert ids == [v["id"] for vs in facts.items().values() for v in vs]
    # the month before's post edited in the month is in the month, both versions, oldest first
    assert ids[:2] == [facts.earlier["id"], facts.earlier_edit_id]
    assert facts.untouched["id"] not in ids  # two months before, untouched since
    by_id = {r["id"]: r for r in records}
    assert by_id[facts.event_deleted["id"]]["deleted_at"] == facts.event_at  # by event
    gone = facts.archive_deleted
    assert by_id[gone["id"]]["deleted_at"] == iso(gone["deleted_at"])  # by archive
    assert by_id[facts.photo_edit_id]["text"].endswith("(edited)")
    payloads = read_jsonl(Path(bag.path) / "data" / "payloads.jsonl")
    assert [p["id"] for p in payloads] == ids
    assert payloads[0]["raw"]["full_text"] == facts.earlier["full_text"]
    for name in facts.month_media():
        assert (Path(bag.path) / "data" / "media" / name).read_bytes() == facts.media[name]


def test_provenance_names_the_stored_record_each_version_came_from(sample, tmp_path):
    (export,) = march(sample).exports
    bag = unzip_bag(Path(export.delivery.url), tmp_path / "unpacked")
    entries = read_jsonl(Path(bag.path) / "data" / "provenance.jsonl")
    assert len(entries) == sum(len(vs) for vs in sample.facts.items().values())
    # reproduce one hash from the stored object, independently
    import gzip

    run_dir = tmp_path / "store" / "accounts" / ACCOUNT_ID / "runs" / sample.api_run
    lines = gzip.decompress((run_dir / "mentions.jsonl.gz").read_bytes()).splitlines()
    mention_id = sample.facts.mention_id
    (mention,) = [e for e in entries if e["id"] == mention_id]
    assert mention == {
        "item": mention_id,
        "account_id": ACCOUNT_ID,
        "run_id": sample.api_run,
        "collection": "mentions",
        "sha256": hashlib.sha256(lines[0]).hexdigest(),
        "id": mention_id,
    }


def test_the_same_month_from_the_same_runs_gives_the_same_bytes(sample, tmp_path):
    first = march(sample, dest=str(tmp_path / "a")).exports[0]
    second = march(sample, dest=str(tmp_path / "b")).exports[0]
    assert Path(first.delivery.url).read_bytes() == Path(second.delivery.url).read_bytes()
    again = march(sample, dest=str(tmp_path / "a")).exports[0]
    assert again.delivery.status == "identical"


def test_a_different_bundle_already_there_is_refused_unless_replaced(sample, tmp_path, caplog):
    (export,) = march(sample).exports
    target = Path(export.delivery.url)
    target.write_bytes(b"something else")
    old = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(DestinationError) as err:
        march(sample)
    assert str(err.value) == (
        f"{target} already holds a different bundle (sha256 {old[:12]}…,"
        f" new {export.bundle.sha256[:12]}…); use --replace to replace it"
    )
    assert target.read_bytes() == b"something else"
    with caplog.at_level(logging.WARNING, logger="archiver.exports"):
        replaced = march(sample, replace=True, operator="records.officer").exports[0]
    assert replaced.delivery.status == "replaced"
    assert target.read_bytes() == Path(export.delivery.url).read_bytes()
    assert f"replaced {target} (old sha256 {old})" in caplog.text
    records = list_exports(sample.store, "monthly")
    assert [r["status"] for r in records] == ["written", "replaced"]
    assert records[-1]["replaced_sha256"] == old
    assert records[-1]["operator"] == "records.officer"


def test_bad_months_and_accounts_are_clear_errors(sample):
    cases = {
        "2026-3": "month must be YYYY-MM (e.g. 2024-03), got '2026-3'",
        "2026-13": "month must be YYYY-MM (e.g. 2024-03), got '2026-13'",
        "March": "month must be YYYY-MM (e.g. 2024-03), got 'March'",
        "2026-11": (
            "2026-11 has not ended yet (months are Europe/London time); export it from 2026-12-01"
        ),
    }
    for month, message in cases.items():
        with pytest.raises(ExportError) as err:
            export_monthly(sample.archive, month, today=TODAY)
        assert str(err.value) == message
    empty = shift_month(sample.facts.month, -24)  # before the generated archive begins
    with pytest.raises(ExportError) as err:
        export_monthly(sample.archive, empty, accounts=[ACCOUNT], today=TODAY)
    assert str(err.value) == f"no records for @{ACCOUNT} in {empty}"
    with pytest.raises(ArchiverError) as err:
        export_monthly(sample.archive, sample.facts.month, accounts=["@nobody"], today=TODAY)
    assert str(err.value).startswith("no runs for account '@nobody' in local directory ")
    assert list_exports(sample.store) == []


def test_accounts_with_nothing_in_the_month_are_skipped(sample, tmp_path):
    with RunWriter(
        sample.store,
        account_id="1001",
        account="NeighbourForce",
        kind="full",
        source="x-api-v2",
        tool_version="test",
    ) as run:
        run.write(
            new_record(
                id="1",
                kind="post",
                source="x-api-v2",
                text="February news",
                account="NeighbourForce",
                account_id="1001",
                created_at="2026-02-10T09:00:00.000Z",
            )
        )
        run.commit()
    report = march(sample)
    assert [e.account.username for e in report.exports] == [ACCOUNT]
    assert report.skipped == ("NeighbourForce",)


def test_the_scheduler_exports_last_month(sample, tmp_path):
    year, month = map(int, shift_month(sample.facts.month, 1).split("-"))
    report = export_last_month(sample.archive, now=dt.datetime(year, month, 2, 6, tzinfo=dt.UTC))
    assert report.month == Month(*map(int, sample.facts.month.split("-")))
    assert Path(report.exports[0].delivery.url).name == f"{sample.facts.file_stem}.zip"
    assert list_exports(sample.store)[0]["operator"] == "scheduler"


def _hostile_month(sample):
    with RunWriter(
        sample.store,
        account_id=ACCOUNT_ID,
        account=ACCOUNT,
        kind="incremental",
        source="x-api-v2",
        tool_version="test",
    ) as run:
        run.write(
            new_record(
                id="2040000000000000001",
                kind="mention",
                source="x-api-v2",
                account=ACCOUNT,
                account_id=ACCOUNT_ID,
                created_at="2026-04-01T10:00:00.000Z",
                author={"id": "66", "username": "evil", "name": '=HYPERLINK("http://x.example")'},
                text="-2+3 <script>alert(1)</script><img src=http://tracker.example/p.gif>",
                urls=["javascript:alert(1)"],
            )
        )
        run.write(
            new_record(
                id="2040000000000000002",
                kind="mention",
                source="x-api-v2",
                account=ACCOUNT,
                account_id=ACCOUNT_ID,
                created_at="2026-04-02T10:00:00.000Z",
                author={"id": "67", "username": "tab", "name": "\tcmd"},
                text=f"@{ACCOUNT} +SUM(A1:A9)\r\n",
                lang="\rx",
            )
        )
        run.commit()


def test_spreadsheet_formulas_in_tweets_are_neutralised(sample, tmp_path):
    _hostile_month(sample)
    (export,) = export_monthly(sample.archive, "2026-04", today=TODAY).exports
    bag = unzip_bag(Path(export.delivery.url), tmp_path / "unpacked")
    csv_path = Path(bag.path) / "data" / "items.csv"
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbfitem,version,")  # Excel reads UTF-8
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["author_name"] for r in rows] == ['\'=HYPERLINK("http://x.example")', "'\tcmd"]
    assert [r["text"] for r in rows] == [
        "'-2+3 <script>alert(1)</script><img src=http://tracker.example/p.gif>",
        f"'@{ACCOUNT} +SUM(A1:A9)\r\n",
    ]
    assert rows[1]["lang"] == "'\rx"
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_the_html_listing_escapes_tweets_and_loads_nothing(sample, tmp_path):
    _hostile_month(sample)
    (export,) = export_monthly(sample.archive, "2026-04", today=TODAY).exports
    bag = unzip_bag(Path(export.delivery.url), tmp_path / "unpacked")
    page = (Path(bag.path) / "data" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=http://tracker.example" in page
    parser = _Tags()
    parser.feed(page)
    tags = {tag for tag, _ in parser.tags}
    assert tags <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "table",
        "tr",
        "td",
        "article",
        "div",
        "span",
        "p",
        "a",
    }
    # nothing is fetched from anywhere: no src, no stylesheet links, a CSP that forbids it
    assert not any("src" in attrs for _, attrs in parser.tags)
    csp = [a["content"] for t, a in parser.tags if t == "meta" and "http-equiv" in a]
    assert csp == ["default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"]
    hrefs = [a["href"] for t, a in parser.tags if t == "a"]
    assert all(h.startswith("media/") for h in hrefs)


def test_a_bundle_is_validated_independently_and_a_flipped_byte_is_caught(sample, tmp_path):
    (export,) = march(sample).exports
    bag = unzip_bag(Path(export.delivery.url), tmp_path / "unpacked")
    target = Path(bag.path) / "data" / "items.csv"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(bagit.BagValidationError) as err:
        bagit.Bag(bag.path).validate()
    assert [str(d) for d in err.value.details] == [
        f"data/items.csv sha256 validation failed: expected="
        f'"{bag.entries["data/items.csv"]["sha256"]}" found='
        f'"{hashlib.sha256(bytes(data)).hexdigest()}"'
    ]


def test_exporting_leaves_the_working_directory_of_other_threads_alone(sample):
    """bagit.make_bag chdirs while it hashes; a scheduler or UI thread must never see that."""
    import os
    import threading

    seen: set[str] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.add(os.getcwd())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        march(sample)
    finally:
        done.set()
        watcher.join()
    assert seen == {os.getcwd()}


def test_the_scheduler_log_line_says_what_happened(sample):
    (export,) = march(sample).exports
    facts = sample.facts
    assert re.fullmatch(
        rf"@{ACCOUNT} {facts.month}: {re.escape(facts.summary())}, \d+\.\d kB -> "
        rf"{re.escape(export.delivery.url)} written",
        str(export),
    )


def test_the_month_is_chosen_before_the_merge_and_matches_the_whole_view(sample):
    from archiver.exports.items import ExportItem, sort_items
    from archiver.exports.monthly import in_month, month_items
    from storage.runs import list_runs
    from storage.view import merge_runs

    manifests = list_runs(sample.store, ACCOUNT_ID)
    whole = merge_runs(sample.store, manifests)
    facts = sample.facts
    months = [shift_month(facts.month, by) for by in (-1, 0, -2, 3)]
    for month in [Month(*map(int, m.split("-"))) for m in months]:
        expected = sort_items(
            ExportItem.of(ACCOUNT_ID, i) for i in whole.values() if in_month(i, month)
        )
        got = month_items(sample.store, ACCOUNT_ID, manifests, month)
        assert [(i.key, i.versions, i.deleted_at) for i in got] == [
            (i.key, i.versions, i.deleted_at) for i in expected
        ]
        # and the export's month is the one worked out from the generated files
        assert [i.key for i in got] == list(facts.items(str(month)))


# -- months in UK time (ui.timezone): which records fall into "2026-03" ----------------------
def _posts_at(sample, *times):
    with RunWriter(
        sample.store,
        account_id="1001",
        account="NeighbourForce",
        kind="full",
        source="x-api-v2",
        tool_version="test",
    ) as run:
        for n, when in enumerate(times, 1):
            run.write(
                new_record(
                    id=str(n),
                    kind="post",
                    source="x-api-v2",
                    text=f"posted {when}",
                    account="NeighbourForce",
                    account_id="1001",
                    created_at=when,
                )
            )
        run.commit()


def _ids(sample, month: str) -> list[str]:
    report = export_monthly(sample.archive, month, accounts=["1001"], today=TODAY)
    (export,) = report.exports
    bag = unzip_bag(Path(export.delivery.url), sample.root / f"unpacked-{month}")
    return [r["id"] for r in read_jsonl(Path(bag.path) / "data" / "records.jsonl")]


def test_a_month_is_the_records_officers_month_in_uk_time(sample):
    _posts_at(
        sample,
        "2026-02-28T23:30:00.000Z",  # 23:30 GMT 28 Feb: February
        "2026-03-01T00:30:00.000Z",  # 00:30 GMT 1 Mar: March
        "2026-03-31T22:59:59.999Z",  # 23:59 BST 31 Mar: March
        "2026-03-31T23:00:00.000Z",  # 00:00 BST 1 Apr: April, though March in UTC
        "2026-10-31T23:30:00.000Z",  # 23:30 GMT 31 Oct (the clocks went back on the 25th)
    )
    assert _ids(sample, "2026-02") == ["1"]
    assert _ids(sample, "2026-03") == ["2", "3"]
    assert _ids(sample, "2026-04") == ["4"]
    assert _ids(sample, "2026-10") == ["5"]


def test_the_bundle_says_the_days_with_the_utc_bounds_beside(sample, tmp_path):
    _posts_at(sample, "2026-03-15T12:00:00.000Z")
    (export,) = export_monthly(sample.archive, "2026-03", accounts=["1001"], today=TODAY).exports
    bag = unzip_bag(Path(export.delivery.url), tmp_path / "unpacked")
    page = (Path(bag.path) / "data" / "index.html").read_text(encoding="utf-8")
    assert (
        "2026-03-01 to 2026-03-31 (Europe/London time: 2026-03-01T00:00:00Z to"
        " 2026-03-31T23:00:00Z)" in page
    )
    assert bag.info["Period"] == "2026-03-01T00:00:00Z/2026-03-31T23:00:00Z"  # machine: UTC


def test_a_month_has_ended_when_it_has_ended_in_uk_time():
    london = "Europe/London"
    assert Month.parse("2026-03", today=dt.date(2026, 4, 1), zone=london).end == dt.datetime(
        2026, 3, 31, 23, 0, tzinfo=dt.UTC
    )
    with pytest.raises(ExportError, match=r"2026-03 has not ended yet \(months are Europe/Lo"):
        Month.parse("2026-03", today=dt.date(2026, 3, 31), zone=london)
    # the scheduler at 00:30 BST on 1 April (23:30 UTC on 31 March) exports March
    assert Month.before(dt.date(2026, 4, 1), london) == Month(2026, 3)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.datetimes(
        min_value=dt.datetime(2007, 1, 1),
        max_value=dt.datetime(2037, 12, 31),
        timezones=st.just(dt.UTC),
    ),
    st.sampled_from(["Europe/London", "UTC", "America/New_York", "Australia/Sydney"]),
)
def test_a_time_is_in_the_month_its_local_day_falls_in(when, zone):
    from zoneinfo import ZoneInfo

    local = when.astimezone(ZoneInfo(zone))
    text = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    for month in (Month(local.year, local.month, zone), Month.before(local.date(), zone)):
        expected = (month.year, month.month) == (local.year, local.month)
        assert month.contains(text) is expected  # the archive's form, compared as text
        assert month.contains(when.isoformat()) is expected  # any other form, parsed
