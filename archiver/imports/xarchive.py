"""The official "download your archive" ZIP in every era, and the pre-2018 classic archive.

Eras: 2018-19 (files at the root, no manifest, bare tweet objects), 2020+ (`data/` with
`manifest.js`; `tweet.js` renamed `tweets.js` in 2022; split `-partN` files), classic
(`tweets.csv` + `data/js/tweets/YYYY_MM.js`). Files come from the manifest where there is one.
The layout is checked before the first record is yielded; the records then stream (memory
flat in their number), and a bad entry met on the way aborts the run, which leaves nothing.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from archiver.errors import ArchiveFormatError
from archiver.imports.fields import FieldError, Obj, entries
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
from archiver.wording import plural

log = logging.getLogger(__name__)
_T = TypeVar("_T")

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
    # membership collection -> the moment its list in this source was complete (a twarc2
    # walk from first page to last); archives give one moment for all, `generated_at`
    snapshots: dict[str, str] = field(default_factory=dict)


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
            try:
                types, media = _manifest_types(Obj(manifest, "manifest"))
            except FieldError as exc:
                raise exc.at(f"{self.files.label}: data/manifest.js") from None
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
        try:
            user = Obj(manifest, "manifest").obj("userInfo")
            if user.id("accountId"):
                return {
                    "id": str(user.id("accountId")),
                    "username": user.text("userName") or "",
                    "name": user.text("displayName") or "",
                }
        except FieldError as exc:
            raise exc.at(f"{self.files.label}: data/manifest.js") from None
        for rel, prefix, _ in types.get("account", []):
            if self.files.exists(self._name(rel)):
                where = f"{self.files.label}: {rel}"
                found = entries(self._load(rel, prefix), where) or [{}]
                try:
                    acc = Obj(found[0]).obj("account")
                    if acc.id("accountId"):
                        return {
                            "id": str(acc.id("accountId")),
                            "username": acc.text("username") or "",
                            "name": acc.text("accountDisplayName") or "",
                        }
                except FieldError as exc:
                    raise exc.at(where, 1) from None
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
        try:
            info = Obj(manifest, "manifest").obj("archiveInfo")
            captured = info.time("generationDate")
            partial = info.flag("isPartialArchive")
        except FieldError as exc:
            raise exc.at(f"{self.files.label}: data/manifest.js") from None
        parsed.details = {"era": era, "generated_at": captured, "is_partial_archive": partial}
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

    def _entries(
        self,
        parsed: Parsed,
        dfiles: list[tuple[str, str, int | None]],
        build: Callable[[Any], _T] = lambda entry: entry,
    ) -> Iterator[_T]:
        """Stream `build(entry)` of every entry of a data type's files; a field of the wrong
        type names the file and the entry; a count unlike the manifest's is a warning."""
        for rel, prefix, declared in dfiles:
            count = 0
            where = f"{self.files.label}: {rel}"
            with self.files.open(self._name(rel)) as fh:
                for entry in iter_js(fh, where, prefix):
                    count += 1
                    try:
                        built = build(entry)
                    except FieldError as exc:
                        raise exc.at(where, count) from None
                    yield built
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
        notes = _NoteIndex()
        for _ in self._entries(parsed, present.get("noteTweet", []), notes.add):
            pass

        def post(entry: Any) -> dict[str, Any]:
            return tweet_record(entry, owner, captured, note=notes.match(entry))

        missing_media = 0
        for dtype in (*_TWEET_TYPES, "deletedTweets"):
            for record in self._entries(parsed, present.get(dtype, []), post):
                missing_media += self._tweet_media(parsed, record, media_dirs.get(dtype))
                yield "tweets", record
        if notes.unmatched:
            parsed.warnings.append(
                f"{notes.unmatched} note tweets matched no post; kept in note-tweet.js only"
            )
        if missing_media:
            parsed.warnings.append(
                f"{plural(missing_media, 'media file')} referenced by posts"
                f" {'is' if missing_media == 1 else 'are'} not in the archive"
            )
        for like in self._entries(
            parsed, present.get("like", []), lambda e: like_record(e, owner, captured)
        ):
            yield "likes", like
        for kind in ("follower", "following"):
            for rel in self._entries(
                parsed,
                present.get(kind, []),
                lambda e, kind=kind: relation_record(e, kind, owner, captured),  # type: ignore[misc]
            ):
                yield None, rel
        for dtype in ("directMessages", "directMessagesGroup", "directMessage"):
            for messages in self._entries(
                parsed, present.get(dtype, []), lambda e: dm_records(e, owner, captured)
            ):
                yield from ((None, r) for r in messages)
            self._media_folder(parsed, media_dirs.get(dtype))
        encrypted = sum(1 for _ in self._entries(parsed, present.get("messageEvent", [])))
        if encrypted:
            parsed.warnings.append(
                f"{encrypted} encrypted chat events (message-event.js) are ciphertext; "
                "kept as the original file only"
            )
        accounts = list(self._entries(parsed, present.get("account", []), Obj))
        profiles = list(self._entries(parsed, present.get("profile", []), Obj))
        self._media_folder(parsed, media_dirs.get("profile"))
        if accounts or profiles:
            account, profile = (accounts or [Obj({})])[0], (profiles or [Obj({})])[0]
            try:
                yield None, profile_record(account.value, profile.value, owner, captured)
            except FieldError as exc:
                dtype = "account" if exc.field.startswith("account") else "profile"
                source_file = present[dtype][0][0]
                raise exc.at(f"{self.files.label}: {source_file}", 1) from None

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


def _unwrapped(entry: Any, key: str) -> Obj:
    outer = Obj(entry)
    return outer.obj(key) if key in outer.value else outer


def _manifest_types(
    manifest: Obj,
) -> tuple[dict[str, list[tuple[str, str, int | None]]], dict[str, str]]:
    """({dataType: [(file, prefix, declared count)]}, {dataType: media dir}) of a manifest."""
    types: dict[str, list[tuple[str, str, int | None]]] = {}
    media: dict[str, str] = {}
    data_types = manifest.obj("dataTypes")
    for dtype in data_types.value:
        if dtype not in _IMPORTED and dtype not in _ENCRYPTED_DM_TYPES:
            continue
        info = data_types.obj(dtype)
        for f in info.objs("files"):
            name, global_ = f.text("fileName"), f.text("globalName")
            if not name or not global_:
                raise FieldError(
                    f"{f.path}.{'fileName' if not name else 'globalName'}", "text", None
                )
            prefix = "window." + global_.rsplit(".part", 1)[0]
            types.setdefault(dtype, []).append((name, prefix, f.number("count") or 0))
        folder = info.text("mediaDirectory")
        if folder:
            media[dtype] = folder
    return types, media


class _NoteIndex:
    """note-tweet.js entries carry no tweet id: match on the creation second plus a text prefix."""

    def __init__(self) -> None:
        self._by_second: dict[str, list[tuple[dict[str, Any], str]]] = {}
        self._used: set[int] = set()
        self._count = 0

    def add(self, note: Any) -> None:
        core = _unwrapped(note, "noteTweet")
        second = (core.time("createdAt") or "")[:19]
        text = core.obj("core").text("text", "") or ""
        self._by_second.setdefault(second, []).append((note, text))
        self._count += 1

    def match(self, entry: Any) -> dict[str, Any] | None:
        if not self._by_second:
            return None
        tweet = _unwrapped(entry, "tweet")
        text = tweet.text("full_text") or ""
        if "…" not in text and not text.rstrip().endswith("..."):
            return None
        second = (tweet.time("created_at") or "")[:19]
        prefix = re.split(r"…|\.\.\.", text, maxsplit=1)[0].strip()[:80]
        for note, note_text in self._by_second.get(second, []):
            if id(note) in self._used:
                continue
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

    def load_obj(rel: str) -> Obj:
        if not files.exists(root + rel):
            return Obj({}, "file")
        try:
            return Obj(load(rel), "file")
        except FieldError as exc:
            raise exc.at(f"{label}: {rel}") from None

    user = load_obj("data/js/user_details.js")
    try:
        archive_owner = {
            "id": user.id("id") or "",
            "username": user.text("screen_name") or "",
            "name": user.text("full_name") or "",
        }
    except FieldError as exc:
        raise exc.at(f"{label}: data/js/user_details.js") from None
    if not owner and not archive_owner["id"]:
        raise ArchiveFormatError(f"{label}: the archive does not say whose it is; give --account")
    parsed = Parsed(owner=owner or archive_owner, era="classic")
    payload = load_obj("data/js/payload_details.js")
    try:
        captured = payload.time("created_at")
        declared = payload.number("tweets")
    except FieldError as exc:
        raise exc.at(f"{label}: data/js/payload_details.js") from None
    parsed.details = {"era": "classic", "generated_at": captured}
    if declared is not None:
        parsed.expected["tweets"] = declared
    index_rel = "data/js/tweet_index.js"
    index = (
        entries(load(index_rel), f"{label}: {index_rel}") if files.exists(root + index_rel) else []
    )
    months: list[str] = []  # the month files present
    for n, month_entry in enumerate(index, 1):
        try:
            month = Obj(month_entry)
            rel = month.text("file_name")
            count = month.number("tweet_count")
        except FieldError as exc:
            raise exc.at(f"{label}: {index_rel}", n) from None
        if not rel:
            raise FieldError("entry.file_name", "text", None).at(f"{label}: {index_rel}", n)
        if not files.exists(root + rel):
            parsed.gaps.append(f"{rel} ({'?' if count is None else count} posts) is missing")
            continue
        months.append(rel)
    has_csv = files.exists(root + "tweets.csv")
    if has_csv:
        parsed.gaps = [g + " (posts taken from tweets.csv)" for g in parsed.gaps]
    elif parsed.gaps and not allow_partial:
        raise ArchiveFormatError(
            f"{label}: {parsed.gaps[0]} (use --allow-partial to import what is there)"
        )
    if not index and not has_csv:
        raise ArchiveFormatError(
            f"{label}: classic archive without tweets.csv or data/js/tweet_index.js"
        )
    for rel in ("data/js/user_details.js", "data/js/payload_details.js", "data/js/tweet_index.js"):
        if files.exists(root + rel):
            parsed.files.append((rel, root + rel))
    # the posts stream one month file at a time (memory flat in the number of posts)
    parsed.records = _classic_records(files, root, parsed, months, captured)
    return parsed


def _classic_records(
    files: SourceFiles, root: str, parsed: Parsed, months: list[str], captured: str | None
) -> Iterator[tuple[str | None, dict[str, Any]]]:
    label = files.label
    has_csv = files.exists(root + "tweets.csv")
    seen: set[str] = set()  # ids from the month files, which tweets.csv repeats
    for rel in months:
        where = f"{label}: {rel}"
        month_posts = entries(parse_js(files.read(root + rel), where), where, "posts")
        for i, tweet in enumerate(month_posts, 1):
            try:
                rec = tweet_record(tweet, parsed.owner, captured)
            except FieldError as exc:
                raise exc.at(f"{label}: {rel}", i) from None
            if has_csv:
                seen.add(rec["id"])
            yield "tweets", rec
        parsed.files.append((rel, root + rel))
    if has_csv:
        # the CSV lists every post; it fills in months whose .js file is absent
        parsed.files.append(("tweets.csv", root + "tweets.csv"))
        for n, row in enumerate(_csv_rows(files, root + "tweets.csv"), 1):
            if row["tweet_id"] not in seen:
                try:
                    rec = _csv_record(row, parsed.owner, captured)
                except FieldError as exc:
                    raise exc.at(f"{label}: tweets.csv", n) from None
                seen.add(rec["id"])
                yield "tweets", rec


def _csv_rows(files: SourceFiles, name: str) -> Iterator[dict[str, str]]:
    text = decode_text(files.read(name), f"{files.label}: tweets.csv")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "tweet_id" not in reader.fieldnames:
        raise ArchiveFormatError(f"{files.label}: tweets.csv has no tweet_id column")
    yield from reader


def _csv_record(row: dict[str, str], owner: dict[str, str], captured: str | None) -> dict[str, Any]:
    # a short row leaves None in its last columns, a long one a list under the key None:
    # neither is a cell of the CSV
    cells = {k: v for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}
    tweet: dict[str, Any] = {
        "id_str": cells.get("tweet_id"),
        "text": cells.get("text", ""),
        "created_at": cells.get("timestamp"),
        "in_reply_to_status_id_str": cells.get("in_reply_to_status_id") or None,
        "in_reply_to_user_id_str": cells.get("in_reply_to_user_id") or None,
        "entities": {
            "urls": [
                {"expanded_url": u} for u in (cells.get("expanded_urls") or "").split(",") if u
            ]
        },
    }
    if cells.get("retweeted_status_id"):
        tweet["retweeted_status"] = {"id_str": cells["retweeted_status_id"]}
    rec = tweet_record(tweet, owner, captured)
    rec["raw"] = cells  # the CSV row as the source wrote it
    return rec


__all__ = ["SOURCE", "OfficialArchive", "Parsed", "parse_classic"]
