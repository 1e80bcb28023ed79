"""The Mastodon account archive ("Request your archive"): a ZIP, or the folder it unpacks to.

Layout (Mastodon's BackupService): `actor.json` (the ActivityPub actor), `outbox.json` (an
ActivityStreams OrderedCollection of the account's Create and Announce activities),
`likes.json` and `bookmarks.json` (OrderedCollections of status URIs), the avatar and header
images, and `media_attachments/` with the files of the account's statuses. Everything is read
through archiver.imports.files (ZIP safety: archiver.zipsafety) and checked completely before
the first record is written; the source files are kept in the import run.
"""

from __future__ import annotations

import os
import zipfile
from typing import Any

import orjson

from archiver.errors import ArchiveFormatError
from archiver.imports.fields import FieldError, Obj, type_name
from archiver.imports.files import SourceFiles, open_source
from archiver.imports.xarchive import Parsed
from archiver.platforms.mastodon.accts import host_of, mention_acct
from archiver.platforms.mastodon.text import html_links, status_text
from storage.accountids import qualified_account_id
from storage.errors import StorageError
from storage.records import new_record

SOURCE = "mastodon-archive"
ERA = "mastodon-archive"
MARKERS = ("outbox.json", "actor.json")
PUBLIC = ("https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public")
_AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
_MEDIA_DIR = "media_attachments/"


# -- recognising ---------------------------------------------------------------------------
def _root(names: list[str]) -> str | None:
    """The folder prefix the archive's files sit under ('' at the top), or None."""
    for name in names:
        if name.endswith("outbox.json") and name.count("/") <= 1:
            root = name[: -len("outbox.json")]
            if root and not root.endswith("/"):
                continue
            if root + "actor.json" in names:
                return root
    return None


def sniff(path: str) -> bool:
    """A folder or ZIP holding outbox.json and actor.json (at the top or one folder down).
    Only the ZIP's directory is read here; its safety is checked when it is opened."""
    try:
        if os.path.isdir(path):
            names = [
                f"{d}/{f}" if d else f
                for d in ("", *(e.name for e in os.scandir(path) if e.is_dir()))
                for f in MARKERS
                if os.path.isfile(os.path.join(path, d, f))
            ]
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        else:
            return False
    except (OSError, zipfile.BadZipFile):
        return False
    return _root(names) is not None


# -- parsing -------------------------------------------------------------------------------
def parse_import(path: str, *, allow_partial: bool = False) -> tuple[Parsed, str, SourceFiles]:
    files = open_source(path)
    try:
        parsed = MastodonArchive(files).parse()
    except BaseException:
        files.close()
        raise
    return parsed, SOURCE, files


class MastodonArchive:
    def __init__(self, files: SourceFiles) -> None:
        self.files = files
        root = _root(files.names())
        if root is None:
            raise ArchiveFormatError(f"{files.label}: no outbox.json and actor.json found")
        self.root = root
        # the archive's media files by their path from media_attachments/ on
        self.media = {
            name[name.index(_MEDIA_DIR) :]: name for name in files.names() if _MEDIA_DIR in name
        }

    def _where(self, rel: str) -> str:
        return f"{self.files.label}: {rel}"

    def _json(self, rel: str) -> Any:
        try:
            return orjson.loads(self.files.read(self.root + rel))
        except orjson.JSONDecodeError as exc:
            raise ArchiveFormatError(f"{self._where(rel)}: invalid JSON ({exc})") from None

    def _collection(self, rel: str) -> list[Any]:
        """An ActivityStreams (Ordered)Collection's items; anything else is refused."""
        doc = self._json(rel)
        if not isinstance(doc, dict):
            raise ArchiveFormatError(
                f"{self._where(rel)}: not an ActivityStreams collection "
                f"(expected an object, got {type_name(doc)})"
            )
        context = doc.get("@context")
        contexts = context if isinstance(context, list) else [context]
        kind = doc.get("type")
        if _AS_CONTEXT not in contexts or kind not in ("OrderedCollection", "Collection"):
            raise ArchiveFormatError(
                f"{self._where(rel)}: not an ActivityStreams collection "
                f"(@context {str(context)[:60]!r}, type {str(kind)[:40]!r})"
            )
        key = "orderedItems" if kind == "OrderedCollection" else "items"
        items = doc.get(key)
        if items is None:
            return []
        if not isinstance(items, list):
            raise ArchiveFormatError(
                f"{self._where(rel)}: {key}: expected a list, got {type_name(items)}"
            )
        return items

    def _actor(self) -> Obj:
        actor = self._json("actor.json")
        try:
            obj = Obj(actor, "actor")
            if obj.text("type") not in ("Person", "Service", "Application", "Group"):
                raise FieldError("actor.type", "an ActivityPub actor type", obj.get("type"))
            if not obj.text("id") or not obj.text("preferredUsername"):
                missing = "id" if not obj.text("id") else "preferredUsername"
                raise FieldError(f"actor.{missing}", "text", None)
        except FieldError as exc:
            raise exc.at(self._where("actor.json")) from None
        return obj

    def parse(self) -> Parsed:
        actor = self._actor()
        actor_id = actor.text("id") or ""
        host = host_of(actor_id)  # as capture names the account (a port kept, if any)
        user = (actor.text("preferredUsername") or "").lower()
        try:
            account_id = qualified_account_id("mastodon", f"{user}@{host}")
        except StorageError:
            raise ArchiveFormatError(
                f"{self._where('actor.json')}: {user!r}@{host!r} is not a Mastodon account "
                "(preferredUsername and the host of id)"
            ) from None
        acct = account_id.partition(":")[2]
        owner = {"id": account_id, "username": acct, "name": actor.text("name") or ""}
        parsed = Parsed(owner=owner, era=ERA, details={"era": ERA, "actor": actor_id})
        ctx = _Context(owner, acct, actor_id, actor.text("followers") or f"{actor_id}/followers")
        records: list[tuple[str | None, dict[str, Any]]] = []
        activities = self._collection("outbox.json")
        parsed.expected["outbox"] = len(activities)
        missing_media = 0
        for n, activity in enumerate(activities, 1):
            try:
                rec = ctx.activity(activity)
            except FieldError as exc:
                raise exc.at(self._where("outbox.json"), n) from None
            if rec is None:
                continue
            for m in rec["media"]:
                name = self._media_file(m.get("url"))
                if name is None:
                    missing_media += 1
                    continue
                m["file"] = name[len(self.root) :]
                parsed.files.append((m["file"], name))
            records.append((None, rec))
        skipped = len(activities) - len(records)
        if skipped:
            parsed.warnings.append(
                f"outbox.json: {skipped} activities that are neither Create nor Announce "
                "kept in the file only"
            )
        if missing_media:
            parsed.warnings.append(
                f"{missing_media} media attachments referenced by statuses are not in the archive"
            )
        for rel, kind in (("likes.json", "like"), ("bookmarks.json", "bookmark")):
            if not self.files.exists(self.root + rel):
                continue
            for n, uri in enumerate(self._collection(rel), 1):
                if not isinstance(uri, str) or not uri:
                    raise ArchiveFormatError(
                        f"{self._where(rel)}: entry {n}: expected a status URI, got "
                        f"{type_name(uri)}"
                    )
                records.append((None, ctx.marked(kind, uri)))
        try:
            profile = ctx.profile(actor)
        except FieldError as exc:
            raise exc.at(self._where("actor.json")) from None
        for m in profile["media"]:  # avatar and header: files beside actor.json
            url = m["url"]
            if "/" not in url and ":" not in url and self.files.exists(self.root + url):
                m["file"] = url
                parsed.files.append((url, self.root + url))
        records.append((None, profile))
        for rel in ("actor.json", "outbox.json", "likes.json", "bookmarks.json"):
            if self.files.exists(self.root + rel):
                parsed.files.append((rel, self.root + rel))
        parsed.records = records
        return parsed

    def _media_file(self, url: object) -> str | None:
        if not isinstance(url, str) or _MEDIA_DIR not in url:
            return None
        key = url.split("?", 1)[0]
        return self.media.get(key[key.index(_MEDIA_DIR) :])


class _Context:
    """Turns the archive's ActivityStreams objects into records for one owner."""

    def __init__(self, owner: dict[str, str], acct: str, actor_id: str, followers: str) -> None:
        self.owner = owner
        self.acct = acct
        self.author = {"id": acct, "username": acct, "name": owner["name"]}
        self.actor_id = actor_id
        self.followers = followers

    def _base(self, **fields: Any) -> dict[str, Any]:
        return new_record(account=self.acct, account_id=self.owner["id"], source=SOURCE, **fields)

    def activity(self, entry: Any) -> dict[str, Any] | None:
        act = Obj(entry)
        kind = act.text("type")
        if kind == "Announce":
            return self._boost(act)
        if kind != "Create":
            return None
        return self._status(act)

    def _boost(self, act: Obj) -> dict[str, Any]:
        aid = act.text("id")
        if not aid:
            raise FieldError(f"{act.path}.id", "text", None)
        target = act.get("object")
        boosted = (
            target if isinstance(target, str) else Obj(target, f"{act.path}.object").text("id")
        )
        if not boosted:
            raise FieldError(f"{act.path}.object", "a status URI", target)
        return self._base(
            id=aid,
            kind="repost",
            author=dict(self.author),
            created_at=act.time("published"),
            referenced=[{"type": "retweeted", "id": boosted}],
            urls=[boosted],
            raw=act.value,
        )

    def _status(self, act: Obj) -> dict[str, Any]:
        note = act.obj("object")
        sid = note.text("id")
        if not sid:
            raise FieldError(f"{note.path}.id", "text", None)
        content = note.text("content")
        reply_to = note.text("inReplyTo")
        mentions: list[str] = []
        mention_hrefs: dict[str, str] = {}
        hashtags: list[str] = []
        for tag in note.objs("tag"):
            ttype = tag.text("type")
            if ttype == "Mention":
                acct = mention_acct(tag.text("name"), tag.text("href"))
                if acct and acct not in mentions:
                    mentions.append(acct)
                    mention_hrefs[tag.text("href") or ""] = acct
            elif ttype == "Hashtag":
                name = (tag.text("name") or "").lstrip("#")
                if name and name not in hashtags:
                    hashtags.append(name)
        visibility = addressing_visibility(
            note.texts("to") or act.texts("to"), note.texts("cc") or act.texts("cc"), self.followers
        )
        referenced = [{"type": "replied_to", "id": reply_to}] if reply_to else []
        quoted = note.text("quote") or note.text("quoteUri")
        kind = "reply" if reply_to else "post"
        if quoted:
            referenced.append({"type": "quoted", "id": quoted})
            kind = "quote" if not reply_to else kind
        if visibility == "direct":
            kind = "dm"
        langs = list(note.obj("contentMap").value)
        return self._base(
            id=sid,
            kind=kind,
            author=dict(self.author),
            created_at=note.time("published") or act.time("published"),
            text=status_text(content, note.text("summary")),
            lang=langs[0] if langs else None,
            conversation_id=note.text("conversation"),
            in_reply_to_id=reply_to,
            in_reply_to_user_id=_reply_user(reply_to, mention_hrefs),
            referenced=referenced,
            hashtags=hashtags,
            mentions=mentions,
            mentioned_user_ids=mentions,
            participant_ids=[self.acct, *(m for m in mentions if m != self.acct)]
            if kind == "dm"
            else [],
            urls=html_links(content),
            media=[_attachment(a) for a in note.objs("attachment")],
            raw=act.value,
        )

    def marked(self, kind: str, uri: str) -> dict[str, Any]:
        """A like or bookmark: the archive names only the status's URI."""
        return self._base(id=uri, kind=kind, urls=[uri], raw=uri)

    def profile(self, actor: Obj) -> dict[str, Any]:
        fields = [
            link
            for f in actor.objs("attachment")
            if f.text("type") == "PropertyValue"
            for link in html_links(f.text("value"))
        ]
        media = []
        for key, what in (("icon", "avatar"), ("image", "header")):
            if isinstance(actor.get(key), dict) and (url := actor.obj(key).text("url")):
                media.append({"key": what, "type": "photo", "url": url})
        return self._base(
            id=self.acct,
            kind="profile",
            author=dict(self.author),
            created_at=actor.time("published"),
            text=status_text(actor.text("summary"), None),
            urls=fields,
            media=media,
            raw=actor.value,
        )


def addressing_visibility(to: list[str], cc: list[str], followers: str) -> str:
    """Mastodon's visibility from ActivityPub addressing: public (to Public), unlisted (Public
    in cc), private (followers-only: the followers collection, not Public), direct (neither)."""
    if any(a in PUBLIC for a in to):
        return "public"
    if any(a in PUBLIC for a in cc):
        return "unlisted"
    if followers in to or followers in cc:
        return "private"
    return "direct"


def _reply_user(reply_to: str | None, mention_hrefs: dict[str, str]) -> str | None:
    """Whom a reply answers: the mentioned actor whose URI the replied-to status sits under
    (Mastodon mentions the author of the status replied to)."""
    if not reply_to:
        return None
    for href, acct in mention_hrefs.items():
        if href and reply_to.startswith(href.rstrip("/") + "/"):
            return acct
    return None


_MEDIA_TYPES = {"image": "photo", "video": "video", "audio": "audio"}


def _attachment(att: Obj) -> dict[str, Any]:
    media_type = att.text("mediaType") or ""
    url = att.text("url")
    ref: dict[str, Any] = {
        "key": (url or "").split("?", 1)[0].rsplit("/", 1)[-1],
        "type": _MEDIA_TYPES.get(media_type.partition("/")[0], "document"),
        "url": url,
    }
    if att.text("name"):
        ref["alt_text"] = att.text("name")
    if media_type:
        ref["content_type"] = media_type
    return ref
