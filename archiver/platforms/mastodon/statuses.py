"""Pure functions: Mastodon REST API entities (as served) -> normalised records.

Entities are read through archiver.imports.fields.Obj, so a value of the wrong type is a
FieldError naming the field, never an AttributeError. Ids follow PLATFORMS.md: a status by its
ActivityPub `uri`, a boost by the reblog's own `uri` (the Announce), a like or bookmark by the
liked status's `uri`, people by their full acct.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archiver.imports.fields import FieldError, Obj
from archiver.platforms.mastodon.accts import full_acct
from archiver.platforms.mastodon.text import html_links, html_text, status_text
from storage.records import new_record

SOURCE = "mastodon-api"
_MEDIA_TYPES = {"image": "photo", "gifv": "animated_gif", "video": "video", "audio": "audio"}


class Owner:
    """The archived account, and how its server names local accounts."""

    def __init__(self, account_id: str, acct: str, name: str, host: str) -> None:
        self.account_id = account_id
        self.acct = acct
        self.name = name
        self.host = host  # local accts get this domain

    def acct_of(self, account: Obj) -> str:
        acct = account.text("acct") or account.text("username")
        if not acct:
            raise FieldError(f"{account.path}.acct", "text", None)
        return full_acct(acct, self.host)

    def author(self, account: Obj) -> dict[str, str]:
        acct = self.acct_of(account)
        return {"id": acct, "username": acct, "name": account.text("display_name") or ""}

    def record(self, **fields: Any) -> dict[str, Any]:
        return new_record(account=self.acct, account_id=self.account_id, source=SOURCE, **fields)


def _uri(status: Obj) -> str:
    uri = status.text("uri")
    if not uri:
        raise FieldError(f"{status.path}.uri", "text", None)
    return uri


def _counts(obj: Obj, *names: str) -> dict[str, int]:
    return {name: value for name in names if (value := obj.number(name)) is not None}


def media_refs(status: Obj) -> list[dict[str, Any]]:
    refs = []
    for m in status.objs("media_attachments"):
        ref: dict[str, Any] = {
            "key": m.id("id") or "",
            "type": _MEDIA_TYPES.get(m.text("type") or "", m.text("type") or "unknown"),
            "url": m.text("url") or m.text("remote_url"),
        }
        if m.text("preview_url"):
            ref["preview_url"] = m.text("preview_url")
        if m.text("description"):
            ref["alt_text"] = m.text("description")
        refs.append(ref)
    return refs


def status_record(
    owner: Owner,
    entry: Any,
    captured_at: str,
    *,
    kind: str | None = None,
    with_media: bool = True,
    uri_of: Callable[[str], str | None] = lambda _local_id: None,
) -> dict[str, Any]:
    """A Status: the account's own (post, reply, quote, dm, repost) or, with `kind`, someone
    else's (mention, like, bookmark). `uri_of` turns the server's local id of the status
    replied to into its URI (the id records use); unknown, the local id is kept."""
    status = Obj(entry, "status")
    uri = _uri(status)
    reblog = status.obj("reblog")
    author = owner.author(status.obj("account"))
    mentions = [owner.acct_of(m) for m in status.objs("mentions")]
    local_reply_to = status.id("in_reply_to_id")
    reply_to = (uri_of(local_reply_to) or local_reply_to) if local_reply_to else None
    referenced: list[dict[str, Any]] = []
    visibility = status.text("visibility") or "public"
    if reblog.value:
        boosted = _uri(reblog)
        return owner.record(
            id=uri,
            kind=kind or "repost",
            author=author,
            created_at=status.time("created_at"),
            text=status_text(reblog.text("content"), reblog.text("spoiler_text")),
            referenced=[{"type": "retweeted", "id": boosted}],
            urls=[boosted],
            captured_at=captured_at,
            raw=entry,
        )
    reply_user = None
    if reply_to:
        referenced.append({"type": "replied_to", "id": reply_to})
        account_id = status.id("in_reply_to_account_id")
        if account_id and account_id == status.obj("account").id("id"):
            reply_user = author["id"]
        else:
            reply_user = next(
                (owner.acct_of(m) for m in status.objs("mentions") if m.id("id") == account_id),
                None,
            )
    quote = status.obj("quote")
    quoted = quote.obj("quoted_status") if quote.has("quoted_status") else Obj({}, "quote")
    own_kind = "reply" if reply_to else "post"
    if quoted.value:
        referenced.append({"type": "quoted", "id": _uri(quoted)})
        own_kind = "quote" if not reply_to else own_kind
    if visibility == "direct":
        own_kind = "dm"
    the_kind = kind or own_kind
    if kind in ("mention",) and visibility == "direct":
        the_kind = "dm"
    participants = []
    if the_kind == "dm":
        participants = [author["id"], *(m for m in mentions if m != author["id"])]
        if owner.acct not in participants:
            participants.insert(0, owner.acct)
    edited = status.time("edited_at")
    return owner.record(
        id=uri,
        kind=the_kind,
        author=author,
        created_at=edited or status.time("created_at"),
        text=status_text(status.text("content"), status.text("spoiler_text")),
        lang=status.text("language"),
        in_reply_to_id=reply_to,
        in_reply_to_user_id=reply_user,
        referenced=referenced,
        hashtags=[t.text("name") for t in status.objs("tags") if t.text("name")],
        mentions=mentions,
        mentioned_user_ids=mentions,
        participant_ids=participants,
        urls=html_links(status.text("content")),
        media=media_refs(status) if with_media else [],
        metrics=_counts(status, "replies_count", "reblogs_count", "favourites_count"),
        captured_at=captured_at,
        raw=entry,
    )


def edit_record(
    owner: Owner, status_rec: dict[str, Any], entry: Any, captured_at: str
) -> dict[str, Any]:
    """One StatusEdit (a version from /api/v1/statuses/:id/history) as a version of the
    status's item: the same id, the version's text and time, the StatusEdit verbatim."""
    edit = Obj(entry, "edit")
    return owner.record(
        id=status_rec["id"],
        kind=status_rec["kind"],
        author=status_rec["author"],
        created_at=edit.time("created_at"),
        text=status_text(edit.text("content"), edit.text("spoiler_text")),
        lang=status_rec["lang"],
        in_reply_to_id=status_rec["in_reply_to_id"],
        in_reply_to_user_id=status_rec["in_reply_to_user_id"],
        referenced=status_rec["referenced"],
        hashtags=status_rec["hashtags"],
        mentions=status_rec["mentions"],
        mentioned_user_ids=status_rec["mentioned_user_ids"],
        participant_ids=status_rec["participant_ids"],
        urls=html_links(edit.text("content")),
        media=media_refs(edit),
        captured_at=captured_at,
        raw=entry,
    )


def account_record(
    owner: Owner, entry: Any, kind: str, captured_at: str, *, list_id: str | None = None
) -> dict[str, Any]:
    """An Account as a follower, a followed account, a list member or the profile."""
    account = Obj(entry, "account")
    author = owner.author(account)
    rid = f"{list_id}:{author['id']}" if list_id else author["id"]
    urls = [u for u in (account.text("url"),) if u] + html_links(account.text("note"))
    return owner.record(
        id=rid,
        kind=kind,
        author=author,
        created_at=account.time("created_at"),
        text=html_text(account.text("note")),
        urls=urls,
        media=[
            {"key": key, "type": "photo", "url": url}
            for key in ("avatar", "header")
            if (url := account.text(key))
        ]
        if kind == "profile"
        else [],
        metrics=_counts(account, "followers_count", "following_count", "statuses_count"),
        captured_at=captured_at,
        raw=entry,
    )


def list_record(owner: Owner, entry: Any, captured_at: str) -> dict[str, Any]:
    lst = Obj(entry, "list")
    lid = lst.id("id")
    if not lid:
        raise FieldError(f"{lst.path}.id", "an id", None)
    return owner.record(
        id=lid,
        kind="list",
        author={"id": owner.acct, "username": owner.acct, "name": owner.name},
        text=lst.text("title"),
        captured_at=captured_at,
        raw=entry,
    )
