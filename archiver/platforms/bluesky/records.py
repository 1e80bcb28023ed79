"""Repository records -> the archive's normalised records (see ../shared/PLATFORMS contract).

Ids: a post, repost, list, list item, block or other lexicon's record is its AT URI; a like is
the liked post's AT URI (as X's like is the liked post); a follow is the followed DID (kind
`following`); the profile is the account's DID. `raw` is the record as the repository holds it,
in the atproto JSON form, with its path and CID beside it (`_path`, `_cid`) so it can be found in
the CAR again.

Fields are read through `archiver.imports.fields.Obj`: a record of the wrong shape is one
FieldError naming its path, never a TypeError.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from archiver.imports.fields import FieldError, Obj
from archiver.platforms.bluesky.repo import RepoRecord
from archiver.timestamps import isoformat
from storage.records import new_record

SOURCE = "bluesky-repo"
API_SOURCE = "bluesky-api"

_KINDS = {
    "app.bsky.feed.post": "post",
    "app.bsky.feed.repost": "repost",
    "app.bsky.feed.like": "like",
    "app.bsky.graph.follow": "following",
    "app.bsky.graph.block": "block",
    "app.bsky.graph.list": "list",
    "app.bsky.graph.listitem": "list_member",
    "app.bsky.actor.profile": "profile",
}
_MEDIA_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}


def record_time(obj: Obj, key: str) -> str | None:
    """A record's timestamp as the records store it. atproto writes RFC 3339 (`...Z`), which
    fromisoformat reads at once; anything else goes through the sources' one parser."""
    value = obj.value.get(key)
    if isinstance(value, str) and len(value) >= 20 and value[10] == "T":
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return obj.time(key)
        if moment.tzinfo is not None:
            return isoformat(moment, "milliseconds")
    return obj.time(key)


def did_of_uri(uri: str | None) -> str | None:
    if uri and uri.startswith("at://"):
        return uri[len("at://") :].split("/", 1)[0] or None
    return None


def blob_cid(blob: Obj) -> str | None:
    """The CID of a blob ref: `{"$type": "blob", "ref": {"$link": cid}}` or the legacy `cid`."""
    link = blob.obj("ref").text("$link")
    return link or blob.text("cid")


def media_file_name(cid: str, mime: str | None) -> str:
    """A blob's name among the run's files: its CID, with an extension its MIME type gives."""
    ext = _MEDIA_TYPES.get(mime or "")
    return f"bluesky_media/{cid}.{ext}" if ext else f"bluesky_media/{cid}"


def _blob_media(blob: Obj, kind: str, alt: str | None) -> dict[str, Any] | None:
    cid = blob_cid(blob)
    if not cid:
        return None
    item: dict[str, Any] = {
        "key": cid,
        "type": kind,
        "url": None,
        "mime_type": blob.text("mimeType"),
    }
    if alt:
        item["alt"] = alt
    return item


def embed_parts(embed: Obj) -> tuple[list[dict[str, Any]], list[str], str | None]:
    """(media, links, quoted post URI) of a post's embed, any of the embed types."""
    media: list[dict[str, Any]] = []
    links: list[str] = []
    quoted = None
    etype = embed.text("$type") or ""
    if etype == "app.bsky.embed.recordWithMedia":
        quoted = embed.obj("record").obj("record").text("uri")
        inner_media, inner_links, _ = embed_parts(embed.obj("media"))
        return inner_media, inner_links, quoted
    if etype == "app.bsky.embed.record":
        quoted = embed.obj("record").text("uri")
    elif etype == "app.bsky.embed.images":
        for image in embed.objs("images"):
            if (m := _blob_media(image.obj("image"), "photo", image.text("alt"))) is not None:
                media.append(m)
    elif etype == "app.bsky.embed.video":
        if (m := _blob_media(embed.obj("video"), "video", embed.text("alt"))) is not None:
            media.append(m)
    elif etype == "app.bsky.embed.external":
        ext = embed.obj("external")
        if uri := ext.text("uri"):
            links.append(uri)
        if ext.has("thumb") and (m := _blob_media(ext.obj("thumb"), "thumbnail", None)):
            media.append(m)
    return media, links, quoted


def _facets(post: Obj, text: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """(mention handles, mentioned DIDs, links, hashtags) from a post's rich-text facets."""
    raw = text.encode()
    handles: list[str] = []
    dids: list[str] = []
    links: list[str] = []
    tags: list[str] = []
    for facet in post.objs("facets"):
        index = facet.obj("index")
        start, end = index.number("byteStart"), index.number("byteEnd")
        for feature in facet.objs("features"):
            ftype = feature.text("$type") or ""
            if ftype.endswith("#mention") and (did := feature.text("did")):
                dids.append(did)
                if start is not None and end is not None:
                    span = raw[start:end].decode(errors="replace").lstrip("@")
                    handles.append(span or did)
                else:
                    handles.append(did)
            elif ftype.endswith("#link") and (uri := feature.text("uri")):
                links.append(uri)
            elif ftype.endswith("#tag") and (tag := feature.text("tag")):
                tags.append(tag.lstrip("#"))
    return handles, dids, links, tags


def post_fields(value: dict[str, Any], where: str = "record") -> dict[str, Any]:
    """The normalised fields of an app.bsky.feed.post value (the repository's or the API's)."""
    post = Obj(value, where)
    text = post.text("text", "") or ""
    handles, dids, links, tags = _facets(post, text)
    reply = post.obj("reply")
    parent = reply.obj("parent").text("uri")
    root = reply.obj("root").text("uri")
    media, embed_links, quoted = embed_parts(post.obj("embed"))
    referenced: list[dict[str, Any]] = []
    kind = "post"
    if parent:
        kind = "reply"
        referenced.append({"type": "replied_to", "id": parent})
    if quoted:
        referenced.append({"type": "quoted", "id": quoted})
        kind = "quote" if kind == "post" else kind
    langs = post.texts("langs")
    for tag in post.texts("tags"):
        if tag not in tags:
            tags.append(tag)
    return {
        "kind": kind,
        "text": text,
        "created_at": record_time(post, "createdAt"),
        "lang": langs[0] if langs else None,
        "conversation_id": root or None,
        "in_reply_to_id": parent,
        "in_reply_to_user_id": did_of_uri(parent),
        "referenced": referenced,
        "hashtags": tags,
        "mentions": handles,
        "mentioned_user_ids": dids,
        "urls": links + [u for u in embed_links if u not in links],
        "media": media,
    }


def normalise(
    rec: RepoRecord, owner: dict[str, str], captured_at: str | None
) -> tuple[str | None, dict[str, Any]]:
    """(collection or None for the kind's own, record) for one repository record."""
    did = owner["id"].partition(":")[2]
    uri = rec.uri(did)
    raw = {"_path": f"{rec.collection}/{rec.rkey}", "_cid": rec.cid, **rec.value}
    where = f"record {rec.collection}/{rec.rkey}"
    value = Obj(rec.value, where)
    kind = _KINDS.get(rec.collection, "repo_record")
    base: dict[str, Any] = {
        "account": owner["username"],
        "account_id": owner["id"],
        "source": SOURCE,
        "captured_at": captured_at,
        "raw": raw,
    }
    me = {"id": did, "username": owner["username"], "name": owner.get("name") or ""}
    created = record_time(value, "createdAt")
    if kind == "post":
        return None, new_record(id=uri, author=me, **post_fields(rec.value, where), **base)
    if kind in ("repost", "like"):
        subject = value.obj("subject").text("uri")
        if not subject:
            raise FieldError(f"{where}.subject.uri", "an AT URI", None)
        return None, new_record(
            id=uri if kind == "repost" else subject,
            kind=kind,
            author=me if kind == "repost" else {"id": did_of_uri(subject) or ""},
            created_at=created,
            referenced=[{"type": "reposted", "id": subject}] if kind == "repost" else [],
            **base,
        )
    if kind in ("following", "block"):
        subject = value.text("subject")
        if not subject:
            raise FieldError(f"{where}.subject", "a DID", None)
        return None, new_record(
            id=subject if kind == "following" else uri,
            kind=kind,
            author={"id": subject},
            created_at=created,
            **base,
        )
    if kind == "list":
        return None, new_record(
            id=uri,
            kind="list",
            author=me,
            created_at=created,
            text=value.text("name") or "",
            **base,
        )
    if kind == "list_member":
        subject = value.text("subject")
        return None, new_record(
            id=uri,
            kind="list_member",
            author={"id": subject or ""},
            created_at=created,
            conversation_id=value.text("list"),  # the list the member belongs to
            **base,
        )
    if kind == "profile":
        media = [
            m
            for name in ("avatar", "banner")
            if value.has(name) and (m := _blob_media(value.obj(name), name, None)) is not None
        ]
        return None, new_record(
            id=did,
            kind="profile",
            author={**me, "name": value.text("displayName") or ""},
            created_at=created,
            text=value.text("description") or "",
            media=media,
            **base,
        )
    return None, new_record(
        id=uri, kind="repo_record", author=me, created_at=_safe_time(value), **base
    )


def _safe_time(value: Obj) -> str | None:
    """Another lexicon's createdAt, when it is one: its shape is not ours to enforce."""
    try:
        return record_time(value, "createdAt")
    except FieldError:
        return None


def blob_refs(value: Any) -> list[tuple[str, str | None]]:
    """Every blob (CID, MIME type) a record refers to, wherever it sits in the record."""
    out: list[tuple[str, str | None]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("$type") == "blob" and isinstance(item.get("ref"), dict):
                link = item["ref"].get("$link")
                if isinstance(link, str):
                    mime = item.get("mimeType")
                    out.append((link, mime if isinstance(mime, str) else None))
                continue
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out
