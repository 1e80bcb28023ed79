"""The official "download your archive" ZIP in every era, and the pre-2018 classic archive.

Eras: 2018-19 (files at the root, no manifest, bare tweet objects), 2020+ (`data/` with
`manifest.js`; `tweet.js` renamed `tweets.js` in 2022; split `-partN` files), classic
(`tweets.csv` + `data/js/tweets/YYYY_MM.js`). Files come from the manifest where there is one.
Everything is parsed and checked before the first record is yielded to the run.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import ArchiveFormatError
from archiver.imports.files import SourceFiles
from archiver.imports.records import (
    SOURCE,
    dm_records,
    like_record,
    media_file_name,
    profile_record,
    relation_record,
    tweet_record,
)
from archiver.imports.ytd import decode_text, global_name, iter_js, parse_js
from archiver.timestamps import iso

log = logging.getLogger(__name__)

# manifest dataType -> how its entries become records
_TWEET_TYPES = ("tweet", "tweets", "communityTweet")
_IMPORTED = (
    *_TWEET_TYPES,
    "deletedTweets",
    "noteTweet",
    "like",
    "follower",
    "following",
    "directMessages",
    "directMessagesGroup",
    "directMessage",
    "account",
    "profile",
)
# 2018-19 archives have no manifest: these root files stand for the data types
_ROOT_FILES = {
    "tweet": "tweet",
    "like": "like",
    "follower": "follower",
    "following": "following",
    "direct-message": "directMessage",
    "direct-message-group": "directMessagesGroup",
    "account": "account",
    "profile": "profile",
}
_ROOT_MEDIA = {
    "tweet": "tweet_media",
    "directMessage": "direct_message_media",
    "profile": "profile_media",
}
_ENCRYPTED_DM_TYPES = ("messageEvent",)


@dataclass
class Parsed:
    """What an import source holds, checked and ready to be written as one run."""

    owner: dict[str, str]  # id, username, name
    era: str
    # (collection or None for the kind's own, record); consumed once, while the run is written
    records: Iterable[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (name in run, name in source)
    expected: dict[str, int] = field(default_factory=dict)  # counts the source itself declares
    gaps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class OfficialArchive:
    def __init__(self, files: SourceFiles, root: str = "", *, allow_partial: bool = False) -> None:
        self.files = files
        self.root = root
        self.allow_partial = allow_partial

    def _name(self, rel: str) -> str:
        return self.root + rel

    def _load(self, rel: str, expect: str | None = None) -> Any:
        name = self._name(rel)
        return parse_js(self.files.read(name), f"{self.files.label}: {rel}", expect)

    # -- layout ---------------------------------------------------------------------------
    def _data_files(
        self,
    ) -> tuple[str, dict[str, list[tuple[str, str, int | None]]], dict[str, str], dict]:
        """(era, {dataType: [(file, prefix, declared count)]}, {dataType: media dir}, manifest)."""
        if self.files.exists(self._name("data/manifest.js")):
            manifest = self._load("data/manifest.js", "window.__THAR_CONFIG")
            types: dict[str, list[tuple[str, str, int | None]]] = {}
            media: dict[str, str] = {}
            for dtype, info in (manifest.get("dataTypes") or {}).items():
                if dtype not in _IMPORTED and dtype not in _ENCRYPTED_DM_TYPES:
                    continue
                for f in info.get("files") or []:
                    prefix = "window." + f["globalName"].rsplit(".part", 1)[0]
                    types.setdefault(dtype, []).append(
                        (f["fileName"], prefix, int(f.get("count") or 0))
                    )
                if info.get("mediaDirectory"):
                    media[dtype] = info["mediaDirectory"]
            return "2020+", types, media, manifest
        types = {}
        for rel in self.files.names():
            rel = rel[len(self.root) :]
            match = re.fullmatch(r"([a-z-]+?)(?:-part\d+)?\.js", rel)
            if match and match.group(1) in _ROOT_FILES:
                dtype = _ROOT_FILES[match.group(1)]
                types.setdefault(dtype, []).append((rel, global_name(rel), None))
        if not types:
            raise ArchiveFormatError(
                f"{self.files.label}: no X archive data found (no data/manifest.js or tweet.js)"
            )
        return "2018", types, dict(_ROOT_MEDIA), {}

    def _owner(self, manifest: dict, types: dict) -> dict[str, str]:
        user = manifest.get("userInfo") or {}
        if user.get("accountId"):
            return {
                "id": str(user["accountId"]),
                "username": user.get("userName", ""),
                "name": user.get("displayName", ""),
            }
        for rel, prefix, _ in types.get("account", []):
            if self.files.exists(self._name(rel)):
                acc = (self._load(rel, prefix) or [{}])[0].get("account", {})
                if acc.get("accountId"):
                    return {
                        "id": str(acc["accountId"]),
                        "username": acc.get("username", ""),
                        "name": acc.get("accountDisplayName", ""),
                    }
        raise ArchiveFormatError(
            f"{self.files.label}: the archive does not say whose it is; give --account"
        )

    # -- parsing ----------------------------------------------------------------------------
    def parse(self, owner: dict[str, str] | None = None) -> Parsed:
        """Check the layout now; the records are streamed when `Parsed.records` is consumed."""
        era, types, media_dirs, manifest = self._data_files()
        archive_owner = self._owner(manifest, types)
        parsed = Parsed(owner=owner or archive_owner, era=era)
        if owner and owner["id"] != archive_owner["id"]:
            parsed.warnings.append(
                f"archive belongs to @{archive_owner['username']} ({archive_owner['id']}); "
                f"imported as @{owner['username']} as asked"
            )
        info = manifest.get("archiveInfo") or {}
        captured = iso(info.get("generationDate"))
        parsed.details = {
            "era": era,
            "generated_at": captured,
            "is_partial_archive": bool(info.get("isPartialArchive")),
        }
        if manifest:
            parsed.files.append(("data/manifest.js", self._name("data/manifest.js")))
        present: dict[str, list[tuple[str, str, int | None]]] = {}
        for dtype, dfiles in types.items():
            for rel, prefix, declared in dfiles:
                if declared is not None:
                    parsed.expected[dtype] = parsed.expected.get(dtype, 0) + declared
                if self.files.exists(self._name(rel)):
                    present.setdefault(dtype, []).append((rel, prefix, declared))
                    continue
                if not self.allow_partial:
                    raise ArchiveFormatError(
                        f"{self.files.label}: {rel} is listed in data/manifest.js but missing "
                        "(use --allow-partial to import what is there)"
                    )
                count = "?" if declared is None else declared
                parsed.gaps.append(f"{rel} ({dtype}, {count} entries) is missing")
        parsed.records = self._records(parsed, present, media_dirs, captured)
        return parsed

    def _entries(self, parsed: Parsed, dfiles: list[tuple[str, str, int | None]]) -> Iterator[Any]:
        """Stream every entry of a data type's files; a count unlike the manifest's is a warning."""
        for rel, prefix, declared in dfiles:
            count = 0
            with self.files.open(self._name(rel)) as fh:
                for entry in iter_js(fh, f"{self.files.label}: {rel}", prefix):
                    count += 1
                    yield entry
            if declared is not None and declared != count:
                parsed.warnings.append(
                    f"{rel}: manifest declares {declared} entries, file has {count}"
                )
            parsed.files.append((rel, self._name(rel)))

    def _records(
        self,
        parsed: Parsed,
        present: dict[str, list[tuple[str, str, int | None]]],
        media_dirs: dict[str, str],
        captured: str | None,
    ) -> Iterator[tuple[str | None, dict[str, Any]]]:
        owner = parsed.owner
        notes = _NoteIndex(list(self._entries(parsed, present.get("noteTweet", []))))
        missing_media = 0
        for dtype in (*_TWEET_TYPES, "deletedTweets"):
            for entry in self._entries(parsed, present.get(dtype, [])):
                note = notes.match(entry.get("tweet", entry))
                record = tweet_record(entry, owner, captured, note=note)
                missing_media += self._tweet_media(parsed, record, media_dirs.get(dtype))
                yield "tweets", record
        if notes.unmatched:
            parsed.warnings.append(
                f"{notes.unmatched} note tweets matched no post; kept in note-tweet.js only"
            )
        if missing_media:
            parsed.warnings.append(
                f"{missing_media} media files referenced by posts are not in the archive"
            )
        for entry in self._entries(parsed, present.get("like", [])):
            yield "likes", like_record(entry, owner, captured)
        for kind in ("follower", "following"):
            for entry in self._entries(parsed, present.get(kind, [])):
                yield None, relation_record(entry, kind, owner, captured)
        for dtype in ("directMessages", "directMessagesGroup", "directMessage"):
            for entry in self._entries(parsed, present.get(dtype, [])):
                yield from ((None, r) for r in dm_records(entry, owner, captured))
            self._media_folder(parsed, media_dirs.get(dtype))
        encrypted = sum(1 for _ in self._entries(parsed, present.get("messageEvent", [])))
        if encrypted:
            parsed.warnings.append(
                f"{encrypted} encrypted chat events (message-event.js) are ciphertext; "
                "kept as the original file only"
            )
        accounts = list(self._entries(parsed, present.get("account", [])))
        profiles = list(self._entries(parsed, present.get("profile", [])))
        self._media_folder(parsed, media_dirs.get("profile"))
        if accounts or profiles:
            account, profile = (accounts or [{}])[0], (profiles or [{}])[0]
            yield None, profile_record(account, profile, owner, captured)

    def _tweet_media(self, parsed: Parsed, record: dict[str, Any], folder: str | None) -> int:
        """Queue a post's media files to be kept beside the records; count the missing ones."""
        missing = 0
        for m in record["media"] if folder else ():
            if not m["url"]:
                continue
            rel = f"{folder}/{media_file_name(record['id'], m['url'])}"
            if self.files.exists(self._name(rel)):
                parsed.files.append((rel, self._name(rel)))
            else:
                missing += 1
        return missing

    def _media_folder(self, parsed: Parsed, folder: str | None) -> None:
        """DM and profile media: every file of the folder (names don't follow from the records)."""
        if folder:
            prefix = self._name(folder.rstrip("/") + "/")
            parsed.files.extend(
                (n[len(self.root) :], n) for n in self.files.names() if n.startswith(prefix)
            )


class _NoteIndex:
    """note-tweet.js entries carry no tweet id: match on the creation second plus a text prefix."""

    def __init__(self, notes: list[dict[str, Any]]) -> None:
        self._by_second: dict[str, list[dict[str, Any]]] = {}
        self._used: set[int] = set()
        self._count = len(notes)
        for note in notes:
            core = note.get("noteTweet", note)
            second = (iso(core.get("createdAt")) or "")[:19]
            self._by_second.setdefault(second, []).append(note)

    def match(self, tweet: dict[str, Any]) -> dict[str, Any] | None:
        if not self._by_second:
            return None
        text = tweet.get("full_text") or ""
        if "…" not in text and not text.rstrip().endswith("..."):
            return None
        second = (iso(tweet.get("created_at")) or "")[:19]
        prefix = re.split(r"…|\.\.\.", text, maxsplit=1)[0].strip()[:80]
        for note in self._by_second.get(second, []):
            if id(note) in self._used:
                continue
            note_text = note.get("noteTweet", note).get("core", {}).get("text", "")
            if note_text.startswith(prefix[:-1] if len(prefix) > 1 else prefix):
                self._used.add(id(note))
                return note
        return None

    @property
    def unmatched(self) -> int:
        return self._count - len(self._used)


# -- classic (Grailbird) archive ------------------------------------------------------------
def parse_classic(
    files: SourceFiles,
    root: str = "",
    *,
    allow_partial: bool = False,
    owner: dict[str, str] | None = None,
) -> Parsed:
    label = files.label

    def load(rel: str) -> Any:
        return parse_js(files.read(root + rel), f"{label}: {rel}")

    user = load("data/js/user_details.js") if files.exists(root + "data/js/user_details.js") else {}
    archive_owner = {
        "id": str(user.get("id") or ""),
        "username": user.get("screen_name", ""),
        "name": user.get("full_name", ""),
    }
    if not owner and not archive_owner["id"]:
        raise ArchiveFormatError(f"{label}: the archive does not say whose it is; give --account")
    parsed = Parsed(owner=owner or archive_owner, era="classic")
    payload = (
        load("data/js/payload_details.js")
        if files.exists(root + "data/js/payload_details.js")
        else {}
    )
    captured = iso(payload.get("created_at"))
    parsed.details = {"era": "classic", "generated_at": captured}
    if payload.get("tweets") is not None:
        parsed.expected["tweets"] = int(payload["tweets"])
    index = load("data/js/tweet_index.js") if files.exists(root + "data/js/tweet_index.js") else []
    seen: set[str] = set()
    records: list[tuple[str | None, dict[str, Any]]] = []
    parsed.records = records
    for month in index:
        rel = month["file_name"]
        if not files.exists(root + rel):
            parsed.gaps.append(f"{rel} ({month.get('tweet_count', '?')} posts) is missing")
            continue
        for tweet in load(rel):
            rec = tweet_record(tweet, parsed.owner, captured)
            seen.add(rec["id"])
            records.append(("tweets", rec))
        parsed.files.append((rel, root + rel))
    if files.exists(root + "tweets.csv"):
        # the CSV lists every post; it fills in months whose .js file is absent
        parsed.files.append(("tweets.csv", root + "tweets.csv"))
        for row in _csv_rows(files, root + "tweets.csv"):
            if row["tweet_id"] not in seen:
                seen.add(row["tweet_id"])
                records.append(("tweets", _csv_record(row, parsed.owner, captured)))
        parsed.gaps = [g + " (posts taken from tweets.csv)" for g in parsed.gaps]
    elif parsed.gaps and not allow_partial:
        raise ArchiveFormatError(
            f"{label}: {parsed.gaps[0]} (use --allow-partial to import what is there)"
        )
    if not index and not files.exists(root + "tweets.csv"):
        raise ArchiveFormatError(
            f"{label}: classic archive without tweets.csv or data/js/tweet_index.js"
        )
    for rel in ("data/js/user_details.js", "data/js/payload_details.js", "data/js/tweet_index.js"):
        if files.exists(root + rel):
            parsed.files.append((rel, root + rel))
    return parsed


def _csv_rows(files: SourceFiles, name: str) -> Iterator[dict[str, str]]:
    text = decode_text(files.read(name), f"{files.label}: tweets.csv")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "tweet_id" not in reader.fieldnames:
        raise ArchiveFormatError(f"{files.label}: tweets.csv has no tweet_id column")
    yield from reader


def _csv_record(row: dict[str, str], owner: dict[str, str], captured: str | None) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "id_str": row["tweet_id"],
        "text": row.get("text", ""),
        "created_at": row.get("timestamp"),
        "in_reply_to_status_id_str": row.get("in_reply_to_status_id") or None,
        "entities": {
            "urls": [{"expanded_url": u} for u in (row.get("expanded_urls") or "").split(",") if u]
        },
    }
    if row.get("retweeted_status_id"):
        tweet["retweeted_status"] = {"id_str": row["retweeted_status_id"]}
    rec = tweet_record(tweet, owner, captured)
    rec["raw"] = dict(row)  # the CSV row as the source wrote it
    return rec


__all__ = ["SOURCE", "OfficialArchive", "Parsed", "parse_classic"]
