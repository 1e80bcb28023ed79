"""Test data for exports from the founders' real sample (the 2026-03 milahu104 archive) plus a
month of news: an edit, a deletion event, a mention carrying a member of the public's details,
a DM. The real-sample set runs when ../shared/samples is there; the suite's own export data is
generated (export_demo.py). Also the helpers both use: reading tweets.js, unpacking a bag."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import bagit

from archiver.archive import Archive
from archiver.timestamps import iso
from storage.records import new_record
from storage.runs import RunWriter

ACCOUNT = "milahu104"
ACCOUNT_ID = "1964312974236991488"
OWN = {"id": ACCOUNT_ID, "username": ACCOUNT, "name": "Milan Hauth"}
PUBLIC = {"id": "4455667788", "username": "jo_public", "name": "Jo Public"}
DM_SENDER = "2815014648"
# a tiny but real JPEG (SOI, an APP0 header, EOI)
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")

MENTION_TEXT = (
    "@milahu104 my car AB12 CDE was taken from outside SW1A 1AA last night. "
    "Call me on 07700 900123 or jo.public@example.com - my neighbour @nosy_neighbour saw it"
)


def parse_ytd(text: str) -> list[dict]:
    """The entries of an archive's `window.YTD.<name>.part0 = [...]` file."""
    return json.loads(text[text.index("=") + 1 :])


def read_ytd(path: Path) -> list[dict]:
    return parse_ytd(path.read_text(encoding="utf-8"))


def archive_tweet(tweet: dict, *, captured_at: str, owner: dict = OWN) -> dict:
    """A record from an archive tweets.js entry of `owner`'s, the way an importer would make
    one."""
    entities = tweet.get("entities") or {}
    media = (tweet.get("extended_entities") or {}).get("media") or []
    text = tweet["full_text"]
    kind = (
        "repost"
        if text.startswith("RT @")
        else "reply"
        if tweet.get("in_reply_to_status_id")
        else "post"
    )
    return new_record(
        id=tweet["id"],
        kind=kind,
        account=owner["username"],
        account_id=owner["id"],
        author=owner,
        created_at=iso(tweet["created_at"]),
        text=text,
        lang=tweet.get("lang"),
        in_reply_to_id=tweet.get("in_reply_to_status_id_str"),
        in_reply_to_user_id=tweet.get("in_reply_to_user_id_str"),
        mentions=[m["screen_name"] for m in entities.get("user_mentions") or []],
        urls=[u["expanded_url"] for u in entities.get("urls") or []],
        media=[{"key": m["id_str"], "type": m["type"], "url": m["media_url_https"]} for m in media],
        metrics={
            "favorite_count": int(tweet["favorite_count"]),
            "retweet_count": int(tweet["retweet_count"]),
        },
        edit_history_ids=(tweet.get("edit_info") or {}).get("initial", {}).get("editTweetIds"),
        deleted_at=iso(tweet.get("deleted_at")),
        source="x-archive",
        captured_at=captured_at,
        raw=tweet,
    )


@dataclass
class SampleArchive:
    archive: Archive
    root: Path
    import_run: str
    api_run: str

    @property
    def store(self):
        return self.archive.store


def dm_record(
    owner: dict, sender: str, dm_id: str, created_at: str, text: str, captured_at: str
) -> dict:
    """A direct message to `owner` as the archive's direct-messages.js holds it."""
    return new_record(
        id=dm_id,
        kind="dm",
        account=owner["username"],
        account_id=owner["id"],
        author={"id": sender},
        created_at=created_at,
        text=text,
        mentions=[owner["id"]],
        conversation_id=f"{sender}-{owner['id']}",
        source="x-archive",
        captured_at=captured_at,
        raw={
            "recipientId": owner["id"],
            "senderId": sender,
            "id": dm_id,
            "text": text,
            "createdAt": created_at,
            "reactions": [],
            "urls": [],
            "mediaUrls": [],
        },
    )


def account_run(
    store, owner: dict, kind: str, source: str, run_id: str, parent: str | None = None
) -> RunWriter:
    """A run of `owner`'s account with a fixed id, as the fixtures write them."""
    return RunWriter(
        store,
        account_id=owner["id"],
        account=owner["username"],
        kind=kind,
        source=source,
        tool_version="test",
        parent_run=parent,
        run_id=run_id,
    )


def write_sample_runs(store, samples: Path) -> tuple[str, str]:
    data = samples / "archive-2026-03_milahu104" / "data"
    with account_run(store, OWN, "import", "x-archive", "20260310T090000000000Z-aaaaaa") as run:
        for entry in read_ytd(data / "tweets.js") + read_ytd(data / "deleted-tweets.js"):
            run.write(archive_tweet(entry["tweet"], captured_at="2026-03-10T09:00:00.000Z"))
        run.add_bytes("data/tweets_media/2029903943413772741-HCuq2zDboAAKHUC.jpg", JPEG)
        run.add_bytes(
            "data/tweets_media/2029604193200152772-HCo5t1CbQAA4FOT.jpg", JPEG[:-2] + b"\x01\xff\xd9"
        )
        run.add_file("data/tweets.js", data / "tweets.js")
        first = run.commit()
    captured = "2026-03-21T02:00:00.000Z"
    run_id = "20260321T020000000000Z-bbbbbb"
    with account_run(store, OWN, "incremental", "x-api-v2", run_id, parent=first.run_id) as run:
        # the photo reply, edited a few minutes later
        run.write(
            new_record(
                id="2029906000000000001",
                kind="reply",
                account=ACCOUNT,
                account_id=ACCOUNT_ID,
                author=OWN,
                created_at="2026-03-06T13:10:00.000Z",
                text="@SamaHoole Doctor: Try to eat some vegetables. (edited)",
                in_reply_to_id="2029903915454799872",
                in_reply_to_user_id="2253756806",
                mentions=["SamaHoole"],
                edit_history_ids=["2029903943413772741", "2029906000000000001"],
                source="x-api-v2",
                captured_at=captured,
                raw={
                    "id": "2029906000000000001",
                    "text": "@SamaHoole Doctor: Try to eat some vegetables. (edited)",
                    "author_id": ACCOUNT_ID,
                    "in_reply_to_user_id": "2253756806",
                    "edit_history_tweet_ids": ["2029903943413772741", "2029906000000000001"],
                },
            )
        )
        # February's post, edited in March
        run.write(
            new_record(
                id="2030000000000000002",
                kind="reply",
                account=ACCOUNT,
                account_id=ACCOUNT_ID,
                author=OWN,
                created_at="2026-03-02T08:00:00.000Z",
                text="@grok why did twitter shadowban my account? (asking again)",
                mentions=["grok"],
                edit_history_ids=["2024767818445504644", "2030000000000000002"],
                source="x-api-v2",
                captured_at=captured,
                raw={
                    "id": "2030000000000000002",
                    "author_id": ACCOUNT_ID,
                    "text": "@grok why did twitter shadowban my account? (asking again)",
                    "edit_history_tweet_ids": ["2024767818445504644", "2030000000000000002"],
                },
            )
        )
        run.write(
            new_record(
                id="2031000000000000003",
                kind="mention",
                account=ACCOUNT,
                account_id=ACCOUNT_ID,
                author=PUBLIC,
                created_at="2026-03-12T22:15:00.000Z",
                text=MENTION_TEXT,
                mentions=["milahu104", "nosy_neighbour"],
                source="x-api-v2",
                captured_at=captured,
                conversation_id="2031000000000000003",
                raw={
                    "id": "2031000000000000003",
                    "text": MENTION_TEXT,
                    "author_id": PUBLIC["id"],
                    "conversation_id": "2031000000000000003",
                    "created_at": "2026-03-12T22:15:00.000Z",
                    "entities": {
                        "mentions": [
                            {"username": "milahu104", "id": ACCOUNT_ID},
                            {"username": "nosy_neighbour", "id": "99887766"},
                        ]
                    },
                    "edit_history_tweet_ids": ["2031000000000000003"],
                },
            )
        )
        run.write(
            dm_record(
                OWN,
                DM_SENDER,
                "2032000000000000004",
                "2026-03-15T10:00:00.000Z",
                "hi, it's me again, ring +44 7700 900456",
                captured,
            )
        )
        run.write(
            {
                "type": "deleted",
                "collection": "tweets",
                "id": "2029590011872456887",
                "at": "2026-03-20T23:00:00.000Z",
            },
            collection="events",
        )
        second = run.commit()
    return first.run_id, second.run_id


def unzip_bag(zip_path: Path, dest: Path) -> bagit.Bag:
    """Unpack a bundle and open it with bagit, independently of the code that wrote it."""
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    (top,) = [p for p in dest.iterdir() if p.is_dir()]
    return bagit.Bag(str(top))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
