"""The record says who (reply-to user, mentioned users, DM participants), and FOI
pseudonyms are one per person: keyed on the user id (or the handle), never a display name."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from export_samples import ACCOUNT, ACCOUNT_ID, OWN, read_jsonl, unzip_bag

from archiver.archive import Archive
from archiver.config import load_config
from archiver.exports.foi import Criteria, export_foi
from archiver.exports.items import ExportItem, load_scope
from archiver.exports.redaction import RedactionProfile, Redactor
from archiver.exports.sar import involves
from archiver.imports.records import dm_records, tweet_record
from archiver.parties import derive_parties, with_parties
from archiver.xapi_records import records_from_page
from storage.local import LocalStore
from storage.records import new_record
from storage.runs import RunWriter

OWNER = {"id": ACCOUNT_ID, "username": ACCOUNT, "name": "Milahu"}


def archive_of(tmp_path: Path, records: list[dict]) -> Archive:
    """A store holding one committed run of these records."""
    store = LocalStore(tmp_path / "store")
    with RunWriter(
        store,
        account_id=ACCOUNT_ID,
        account=ACCOUNT,
        kind="import",
        source="x-api-v2",
        tool_version="test",
    ) as run:
        for rec in records:
            run.write(rec)
        run.commit()
    cfg = load_config(None, env={"ARCHIVER_STORAGE__PATH": str(tmp_path / "store")})
    return Archive(cfg, store)


def test_every_source_fills_the_three_fields_when_it_makes_a_record():
    api = next(
        records_from_page(
            {
                "data": [
                    {
                        "id": "30",
                        "text": "@alice @bob hello",
                        "author_id": "7",
                        "in_reply_to_user_id": "11",
                        "referenced_tweets": [{"type": "replied_to", "id": "29"}],
                        "entities": {
                            "mentions": [
                                {"username": "alice", "id": "11"},
                                {"username": "bob", "id": "12"},
                            ]
                        },
                    }
                ]
            },
            endpoint="/2/users/:id/mentions",
            account=ACCOUNT,
            account_id=ACCOUNT_ID,
        )
    )
    assert (api["in_reply_to_user_id"], api["mentioned_user_ids"]) == ("11", ["11", "12"])
    dm = next(
        records_from_page(
            {
                "data": [
                    {
                        "id": "5",
                        "event_type": "MessageCreate",
                        "sender_id": "11",
                        "dm_conversation_id": f"11-{ACCOUNT_ID}",
                        "text": "hi",
                    }
                ]
            },
            endpoint="/2/dm_events",
            account=ACCOUNT,
            account_id=ACCOUNT_ID,
        )
    )
    assert dm["participant_ids"] == ["11", ACCOUNT_ID]
    archived = tweet_record(
        {
            "tweet": {
                "id_str": "40",
                "full_text": "@carol yes",
                "in_reply_to_status_id_str": "39",
                "in_reply_to_user_id_str": "13",
                "entities": {"user_mentions": [{"screen_name": "carol", "id_str": "13"}]},
            }
        },
        OWNER,
        None,
    )
    assert (archived["in_reply_to_user_id"], archived["mentioned_user_ids"]) == ("13", ["13"])
    # a group conversation: each message names only its sender, the record names everyone
    group = dm_records(
        {
            "dmConversation": {
                "conversationId": "999",
                "messages": [
                    {
                        "joinConversation": {
                            "initiatingUserId": ACCOUNT_ID,
                            "participantsSnapshot": [ACCOUNT_ID, "21", "22"],
                        }
                    },
                    {"messageCreate": {"id": "1", "senderId": "21", "text": "morning"}},
                ],
            }
        },
        OWNER,
        None,
    )
    assert group[0]["participant_ids"] == [ACCOUNT_ID, "21", "22"]


def test_a_record_written_before_the_fields_existed_gets_them_derived_from_raw():
    old = {  # an archive DM record as runs before the fields stored it
        "id": "1",
        "kind": "dm",
        "author": {"id": "21"},
        "mentions": [ACCOUNT_ID],
        "conversation_id": f"21-{ACCOUNT_ID}",
        "raw": {
            "conversationId": f"21-{ACCOUNT_ID}",
            "messageCreate": {"id": "1", "senderId": "21", "recipientId": ACCOUNT_ID},
        },
    }
    assert with_parties(dict(old))["participant_ids"] == ["21", ACCOUNT_ID]
    reply = {
        "id": "2",
        "kind": "reply",
        "in_reply_to_id": "9",
        "raw": {
            "tweet": {
                "in_reply_to_user_id_str": "33",
                "entities": {"user_mentions": [{"id_str": "33"}]},
            }
        },
    }
    assert derive_parties(reply) == {
        "in_reply_to_user_id": "33",
        "mentioned_user_ids": ["33"],
        "participant_ids": [],
    }
    kept = {**reply, "in_reply_to_user_id": "44", "mentioned_user_ids": [], "participant_ids": []}
    assert with_parties(kept)["in_reply_to_user_id"] == "44"  # stored fields win


def test_sar_selection_reads_the_fields_of_an_old_run(tmp_path):
    rec = new_record(
        id="1",
        kind="dm",
        account=ACCOUNT,
        account_id=ACCOUNT_ID,
        author={"id": ACCOUNT_ID},
        text="We have your report",
        conversation_id=f"21-{ACCOUNT_ID}",
        source="x-archive",
        raw={"messageCreate": {"senderId": ACCOUNT_ID, "recipientId": "21"}},
    )
    for name in ("in_reply_to_user_id", "mentioned_user_ids", "participant_ids"):
        del rec[name]  # the shape older runs stored
    (item,) = load_scope(archive_of(tmp_path, [rec])).items
    assert item.latest["participant_ids"] == [ACCOUNT_ID, "21"]
    assert involves(item.latest, None, "21") and not involves(item.latest, None, "22")


def _reply(pid: str, user: dict, text: str, mentioned: tuple[dict, ...] = ()) -> dict:
    """A member of the public's post to the account, as the API serves it."""
    page = {
        "data": [
            {
                "id": pid,
                "text": text,
                "author_id": user["id"],
                "created_at": "2026-03-05T10:00:00.000Z",
                "entities": {
                    "mentions": [{"username": m["username"], "id": m["id"]} for m in mentioned]
                },
            }
        ],
        "includes": {"users": [user, *mentioned]},
    }
    return next(
        records_from_page(
            page, endpoint="/2/users/:id/mentions", account=ACCOUNT, account_id=ACCOUNT_ID
        )
    )


JO_A = {"id": "7301958264470183501", "username": "jo_smith_a", "name": "Jo Smith"}
JO_B = {"id": "7301958264470183502", "username": "jsmith1990", "name": "Jo Smith"}
SAM = {"id": "7301958264470183503", "username": "sam_w", "name": "Sam Walker"}


def _redacted(records: list[dict]) -> tuple[list[dict], Redactor]:
    redactor = Redactor(RedactionProfile.foi([(ACCOUNT_ID, ACCOUNT)]))
    items = [ExportItem(ACCOUNT_ID, "mentions", r["id"], [r]) for r in records]
    redactor.prepare(items)
    return [redactor.redact_item(i).versions[0] for i in items], redactor


def test_two_people_with_one_display_name_get_two_pseudonyms():
    outs, redactor = _redacted(
        [
            _reply("9001", JO_A, f"@{ACCOUNT} my bike was stolen"),
            _reply("9002", JO_B, f"@{ACCOUNT} so was mine, Jo Smith here"),
            _reply("9003", SAM, f"@{ACCOUNT} Jo Smith told me about it", (JO_A,)),
            _reply("9004", SAM, f"@{ACCOUNT} ask Jo Smith"),
        ]
    )
    a, b, sam_a, sam_none = outs
    assert a["author"]["name"] == a["author"]["username"] == a["author"]["id"]
    assert b["author"]["name"] == b["author"]["username"] == b["author"]["id"]
    assert a["author"]["name"] != b["author"]["name"]
    # in free text, a shared name is the person the post names, or no one in particular
    assert b["text"].endswith(f"{b['author']['id']} here")
    assert sam_a["text"] == f"@{ACCOUNT} {a['author']['id']} told me about it"
    assert sam_none["text"] == f"@{ACCOUNT} ask [REDACTED name]"
    # the payload's includes name each person by their own pseudonym
    assert a["raw"]["author_id"] == a["author"]["id"]
    assert redactor.people_summary()[0][0] == a["author"]["id"]


def test_one_person_has_one_pseudonym_everywhere_even_seen_in_pieces():
    # seen first by handle in text, then by id in a DM, then as a whole user object
    early = _reply("9101", SAM, f"@{ACCOUNT} have you seen @jo_smith_a today?")
    dm = new_record(
        id="9102",
        kind="dm",
        account=ACCOUNT,
        account_id=ACCOUNT_ID,
        author={"id": "7301958264470183501"},
        text="it's Jo",
        conversation_id=f"7301958264470183501-{ACCOUNT_ID}",
        participant_ids=["7301958264470183501", ACCOUNT_ID],
        source="x-api-v2",
        raw={
            "sender_id": "7301958264470183501",
            "dm_conversation_id": f"7301958264470183501-{ACCOUNT_ID}",
        },
    )
    whole = _reply("9103", JO_A, f"@{ACCOUNT} thanks")
    (o1, o2, o3), redactor = _redacted([early, dm, whole])
    token = o3["author"]["id"]
    assert o1["text"] == f"@{ACCOUNT} have you seen {token} today?"
    assert o2["author"]["id"] == token and o2["participant_ids"] == [token, ACCOUNT_ID]
    assert o3["author"]["username"] == o3["author"]["name"] == token


def test_an_foi_bundle_never_merges_people_and_its_log_summarises_per_person(tmp_path):
    profile = new_record(
        id=ACCOUNT_ID,
        kind="profile",
        account=ACCOUNT,
        account_id=ACCOUNT_ID,
        author=OWN,
        source="x-api-v2",
    )
    archive = archive_of(
        tmp_path,
        [
            profile,
            _reply("9001", JO_A, f"@{ACCOUNT} my bike was stolen"),
            _reply("9002", JO_B, f"@{ACCOUNT} mine too, call 07700 900123"),
            _reply("9003", SAM, f"@{ACCOUNT} as @jo_smith_a said", (JO_A,)),
        ],
    )
    d = export_foi(
        archive,
        Criteria(since=dt.date(2026, 3, 1), until=dt.date(2026, 3, 31)),
        request_ref="FOI-1",
        out=tmp_path / "foi.zip",
        operator="foi.officer",
    )
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    data = Path(bag.path) / "data"
    records = [r for r in read_jsonl(data / "records.jsonl") if r["kind"] == "mention"]
    by_author = {r["text"][-10:]: r["author"] for r in records}
    tokens = {a["id"] for a in by_author.values()}
    assert len(tokens) == 3  # three people, three pseudonyms
    for author in by_author.values():
        assert author["id"] == author["username"] == author["name"]
    payloads = (data / "payloads.jsonl").read_text()
    for value in (
        "Jo Smith",
        "jo_smith_a",
        "jsmith1990",
        "7301958264470183501",
        "7301958264470183502",
        "Sam Walker",
    ):
        assert value not in payloads and value not in (data / "records.jsonl").read_text()
    with open(data / "redaction-summary.csv", encoding="utf-8-sig", newline="") as fh:
        summary = list(csv.DictReader(fh))
    (sams,) = [r for r in records if r["text"].endswith("said")]
    jo_a = next(a["id"] for a in by_author.values() if a["id"] in sams["text"])
    rows = {(r["pseudonym"], r["category"]): r for r in summary}
    assert rows[(jo_a, "user handle")]["items"] == "2"  # her post and Sam's
    assert rows[("[REDACTED phone]", "phone number")]["occurrences"] == "2"  # text and raw
    assert {"pseudonym", "category", "items", "occurrences"} <= set(summary[0])
    assert (data / "redaction-log.csv").exists()
