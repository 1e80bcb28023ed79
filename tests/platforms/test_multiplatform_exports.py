"""Exports across platforms: the monthly bundle of every platform's account, FOI redaction
and SAR selection keyed by platform-qualified people (an X user and a Mastodon account that
share a number, a username and a display name are two people with two pseudonyms), CSV
formula neutralising kept."""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "exports"))

from export_samples import read_jsonl, unzip_bag  # noqa: E402
from multiplatform_data import (  # noqa: E402
    ACCT,
    BLUESKY,
    BSKY_HANDLE,
    DID,
    MASTODON,
    PUBLIC_ACCT,
    PUBLIC_DID,
    X_ID,
    X,
    at_uri,
    bluesky_record,
    commit,
    mastodon_record,
    status_uri,
    x_record,
)

from archiver.archive import Archive  # noqa: E402
from archiver.config import Config, ExportConfig, IndexConfig, StorageConfig  # noqa: E402
from archiver.exports.errors import ExportError  # noqa: E402
from archiver.exports.foi import Criteria, export_foi  # noqa: E402
from archiver.exports.monthly import export_monthly  # noqa: E402
from archiver.exports.sar import export_sar  # noqa: E402

# one name, one number, one username: on X and on Mastodon, two different people
NAME = "Pat Resident"
X_PERSON = {"id": "7310958264470183925", "username": "resident", "name": NAME}
FORMULA = '=HYPERLINK("http://evil.example","click") road closure'


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    archive = Archive(
        Config(
            storage=StorageConfig(path=str(tmp_path / "store")),
            index=IndexConfig(path=str(tmp_path / "index")),
            export=ExportConfig(
                destination=str(tmp_path / "records"), organisation="Exampleshire Police"
            ),
        )
    )
    store = archive.store
    commit(
        store,
        X,
        [
            x_record("1800000000000000001", "Road closure on the M5 tonight"),
            x_record(
                "1800000000000000005",
                "@ExampleshirePolice road closure again, my bike was stolen",
                kind="mention",
                author=X_PERSON,
                created_at="2025-03-10T10:00:00.000Z",
            ),
        ],
        source="x-api-v2",
    )
    commit(
        store,
        MASTODON,
        [
            mastodon_record(111, "Road closure on the B3212 this morning"),
            mastodon_record(
                901,
                "@examplepolice road closure: the lights are out at the junction",
                kind="mention",
                author=(PUBLIC_ACCT, NAME),
                created_at="2025-03-11T10:00:00.000Z",
                raw={
                    "id": "7310958264470183925",  # the server's own number for the status
                    "uri": status_uri(901, "resident", "town.example"),
                    "account": {
                        "id": "7310958264470183925",
                        "username": "resident",
                        "acct": PUBLIC_ACCT,
                        "display_name": NAME,
                    },
                    "content": "<p>@examplepolice road closure</p>",
                },
            ),
            mastodon_record(116, FORMULA, created_at="2025-03-12T10:00:00.000Z"),
        ],
        source="mastodon-api",
    )
    commit(
        store,
        BLUESKY,
        [
            bluesky_record("3kabc2post1", "Road closure on the A38 near Exeter"),
            bluesky_record(
                "3kzzzment01",
                f"@{BSKY_HANDLE} road closure near the school, ask @resident.bsky.social",
                kind="mention",
                item_id=at_uri("3kzzzment01", did=PUBLIC_DID),
                author=(PUBLIC_DID, "resident.bsky.social", NAME),
                created_at="2025-03-13T10:00:00.000Z",
            ),
        ],
        source="bluesky-repo",
    )
    return archive


def zip_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())


def test_monthly_bundles_cover_every_platforms_account(archive, tmp_path):
    report = export_monthly(archive, "2025-03", operator="records")
    by_account = {e.account.account_id: e for e in report.exports}
    assert set(by_account) == {X_ID, BLUESKY[0], MASTODON[0]}
    for account_id, platform in ((BLUESKY[0], "Bluesky"), (MASTODON[0], "Mastodon")):
        export = by_account[account_id]
        bag = unzip_bag(Path(export.delivery.url), tmp_path / account_id.replace(":", "_"))
        bag.validate()
        assert bag.info["External-Description"].startswith(f"Records of the {platform} account")
        records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
        assert {r["platform"] for r in records} == {platform.lower()}
    x_bag = unzip_bag(Path(by_account[X_ID].delivery.url), tmp_path / "x")
    assert x_bag.info["External-Description"].startswith("Records of the X account")
    # a toot that is a spreadsheet formula stays text in the CSV
    masto = unzip_bag(Path(by_account[MASTODON[0]].delivery.url), tmp_path / "m2")
    text = (Path(masto.path) / "data" / "items.csv").read_text(encoding="utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'" + FORMULA in cells and FORMULA not in cells


def test_foi_pseudonyms_are_per_person_per_platform(archive, tmp_path):
    d = export_foi(
        archive,
        Criteria(query="road closure"),
        request_ref="FOI-1",
        out=tmp_path,
        operator="foi",
    )
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "foi")
    everything = zip_text(Path(d.delivery.url))
    for value in (PUBLIC_ACCT, PUBLIC_DID, "resident.bsky.social", NAME, "7310958264470183925"):
        assert value not in everything, value
    # the body's own accounts stay visible on every platform
    assert "@ExampleshirePolice" in everything and "@examplepolice road closure" in everything
    assert DID in everything or BSKY_HANDLE in everything
    records = {r["text"].split()[-1]: r for r in read_jsonl(Path(bag.path) / "data/records.jsonl")}
    authors = {
        r["platform"]: r["author"]["id"]
        for r in read_jsonl(Path(bag.path) / "data" / "records.jsonl")
        if r["kind"] == "mention"
    }
    assert set(authors) == {"x", "mastodon", "bluesky"}
    assert len(set(authors.values())) == 3, authors  # three people, three pseudonyms
    assert all(a.startswith("[REDACTED user-") for a in authors.values())
    assert records  # the bundle holds the road-closure posts of all three platforms
    assert {r["platform"] for r in records.values()} == {"x", "mastodon", "bluesky"}


def test_sar_selects_the_subject_on_their_platform_only(archive, tmp_path):
    for sub in "mxbdo":
        (tmp_path / sub).mkdir()
    masto = export_sar(archive, PUBLIC_ACCT, request_ref="SAR-M", out=tmp_path / "m")
    bag = unzip_bag(Path(masto.delivery.url), tmp_path / "m-bag")
    records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    assert [(r["platform"], r["author"]["id"]) for r in records] == [("mastodon", PUBLIC_ACCT)]
    disclosure = json.loads((Path(bag.path) / "data" / "disclosure.json").read_text())
    assert disclosure["subject"] == {
        "handle": PUBLIC_ACCT,
        "id": PUBLIC_ACCT,
        "platform": "mastodon",
    }

    x = export_sar(archive, "@resident", request_ref="SAR-X", out=tmp_path / "x")
    bag = unzip_bag(Path(x.delivery.url), tmp_path / "x-bag")
    records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    assert [(r["platform"], r["author"]["id"]) for r in records] == [("x", "7310958264470183925")]
    assert "subject" in json.loads((Path(bag.path) / "data" / "disclosure.json").read_text())

    bsky = export_sar(archive, "resident.bsky.social", request_ref="SAR-B", out=tmp_path / "b")
    bag = unzip_bag(Path(bsky.delivery.url), tmp_path / "b-bag")
    (rec,) = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    assert rec["platform"] == "bluesky" and rec["author"]["id"] == PUBLIC_DID

    by_did = export_sar(archive, PUBLIC_DID, request_ref="SAR-D", out=tmp_path / "d")
    assert by_did.bundle.items == 1
    with pytest.raises(ExportError, match="one of the archive's own accounts"):
        export_sar(archive, ACCT, request_ref="SAR-O", out=tmp_path / "o")
