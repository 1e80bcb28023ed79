"""The X API double's response bodies: pagination with opaque `next_token`s, `since_id`,
the API windows, requested fields only, `includes` from expansions, partial errors."""

from __future__ import annotations

import base64
from typing import Any

from xapi_dataset import DAY, Account, World

WINDOWS = {
    "/2/users/:id/tweets": 3200,
    "/2/users/:id/mentions": 800,
    "/2/users/:id/bookmarks": 800,
}
PAGE_SIZES = {
    "followers": (1, 1000),
    "following": (1, 1000),
    "members": (1, 100),
    "dm_events": (1, 100),
    "owned_lists": (1, 100),
}
DEFAULT_FIELDS = {
    "tweet": {"id", "text", "edit_history_tweet_ids"},
    "user": {"id", "name", "username"},
    "list": {"id", "name"},
    "dm_event": {"id", "event_type", "text"},
    "media": {"media_key", "type"},
}


class Problem(Exception):
    """A whole-request error, answered as application/problem+json."""

    def __init__(
        self, status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.body = {"title": title, "detail": detail, "type": type_, "status": status, **extra}


class Responses:
    def __init__(self, world: World, windows: dict[str, int]) -> None:
        self.world = world
        self.clock = world.clock
        self.windows = windows

    def body(
        self, route: str, ids: list[str], params: dict[str, str], who: Account | None
    ) -> dict[str, Any]:
        world = self.world
        if route == "/2/users/me":
            return {"data": self._user(who.id if who else "", params)}
        if route == "/2/users/by/username/:username":
            uid = world.by_username.get(ids[0].lower())
            if uid is None:
                raise Problem(
                    404,
                    "Not Found Error",
                    f"Could not find user with username: [{ids[0]}].",
                    "https://api.twitter.com/2/problems/resource-not-found",
                )
            return {"data": self._user(uid, params)}
        if route == "/2/tweets":
            return self._lookup(params)
        if route == "/2/dm_events":
            assert who is not None
            cutoff = self.clock.time() - 30 * DAY
            events = [e for e in who.dms if e["_ts"] >= cutoff]
            return self._page(events, params, "dm_events", self._dm_page, by_id=True)
        if route == "/2/lists/:id/members":
            members = next((m for lid, m in self._all_members() if lid == ids[0]), [])
            return self._page(members, params, "members", self._user_page)
        acc = world.accounts.get(ids[0])
        if acc is None:
            raise Problem(404, "Not Found Error", f"Could not find user with id: [{ids[0]}].")
        name = route.rsplit("/", 1)[1]
        if name == "bookmarks" and (who is None or who.id != acc.id):
            raise Problem(403, "Forbidden", "You can only see your own bookmarks.")
        if name in ("followers", "following"):
            return self._page(getattr(acc, name), params, name, self._user_page)
        if name == "owned_lists":
            return self._page(acc.lists, params, name, self._list_page)
        items = {
            "tweets": acc.timeline,
            "mentions": acc.mentions,
            "liked_tweets": acc.likes,
            "bookmarks": acc.bookmarks,
        }[name]
        items = items[: self.windows.get(route, len(items))]
        return self._page(
            items, params, name, self._tweet_page, by_id=name in ("tweets", "mentions")
        )

    def _all_members(self) -> list[tuple[str, list[str]]]:
        return [(lid, m) for a in self.world.accounts.values() for lid, m in a.members.items()]

    def _page(
        self, items: list[Any], params: dict[str, str], name: str, render: Any, by_id: bool = False
    ) -> dict[str, Any]:
        low, high = PAGE_SIZES.get(name, (5, 100))
        size = int(params.get("max_results", 100 if name != "tweets" else 10))
        if not low <= size <= high:
            raise Problem(
                400,
                "Invalid Request",
                f"The `max_results` query parameter value [{size}] is not between {low} and {high}",
            )

        def ident(item: Any) -> str:
            return item["id"] if isinstance(item, dict) else item

        if by_id:
            since = int(params.get("since_id", 0))
            until = int(params.get("until_id", 0)) or None
            items = [
                i
                for i in items
                if int(ident(i)) > since and (until is None or int(ident(i)) < until)
            ]
        token = params.get("pagination_token")
        start = 0
        if token:
            anchor = int(base64.urlsafe_b64decode(token.encode() + b"==").decode())
            start = (
                next((n for n, i in enumerate(items) if int(ident(i)) < anchor), len(items))
                if by_id
                else anchor
            )
        chunk = items[start : start + size]
        if not chunk:
            return {"meta": {"result_count": 0}}
        body = render(chunk, params)
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if by_id:
            meta["newest_id"] = ident(chunk[0])
            meta["oldest_id"] = ident(chunk[-1])
        if start + size < len(items):
            nxt = ident(chunk[-1]) if by_id else str(start + size)
            meta["next_token"] = base64.urlsafe_b64encode(nxt.encode()).decode().rstrip("=")
        body["meta"] = meta
        return body

    def _tweet_page(self, ids: list[str], params: dict[str, str]) -> dict[str, Any]:
        tweets = [self.world.tweets[i] for i in ids if i in self.world.tweets]
        return self._with_includes(tweets, params)

    def _with_includes(
        self,
        tweets: list[dict[str, Any]],
        params: dict[str, str],
        errors: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        world = self.world
        expansions = set(filter(None, params.get("expansions", "").split(",")))
        errors = list(errors or [])
        users: dict[str, None] = {}
        refs: dict[str, dict[str, Any]] = {}
        media: dict[str, None] = {}
        for t in tweets:
            if "author_id" in expansions:
                users[t["author_id"]] = None
            if "in_reply_to_user_id" in expansions and t.get("in_reply_to_user_id"):
                users[t["in_reply_to_user_id"]] = None
            if "attachments.media_keys" in expansions:
                media.update(dict.fromkeys((t.get("attachments") or {}).get("media_keys", [])))
            if "referenced_tweets.id" in expansions:
                for ref in t.get("referenced_tweets", []):
                    target = world.tweets.get(ref["id"])
                    if target is None:
                        errors.append(_not_found(ref["id"], "referenced_tweets.id"))
                    else:
                        refs[target["id"]] = target
                        if "referenced_tweets.id.author_id" in expansions:
                            users[target["author_id"]] = None
        body: dict[str, Any] = {"data": [self._project(t, "tweet", params) for t in tweets]}
        includes: dict[str, Any] = {}
        if users:
            includes["users"] = [self._user(u, params) for u in users if u in world.users]
        if refs:
            includes["tweets"] = [self._project(t, "tweet", params) for t in refs.values()]
        if media:
            includes["media"] = [
                self._project(world.media[k], "media", params) for k in media if k in world.media
            ]
        if includes:
            body["includes"] = includes
        if errors:
            body["errors"] = errors
        if not body["data"]:
            del body["data"]
        return body

    def _lookup(self, params: dict[str, str]) -> dict[str, Any]:
        ids = [i for i in params.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            raise Problem(400, "Invalid Request", "ids: between 1 and 100 ids")
        found = [self.world.tweets[i] for i in ids if i in self.world.tweets]
        missing = [_not_found(i, "ids") for i in ids if i not in self.world.tweets]
        return self._with_includes(found, params, missing)

    def _user_page(self, ids: list[str], params: dict[str, str]) -> dict[str, Any]:
        return {"data": [self._user(u, params) for u in ids]}

    def _list_page(self, lists: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        body: dict[str, Any] = {"data": [self._project(lst, "list", params) for lst in lists]}
        if "owner_id" in params.get("expansions", ""):
            owners = dict.fromkeys(lst["owner_id"] for lst in lists)
            body["includes"] = {"users": [self._user(o, params) for o in owners]}
        return body

    def _dm_page(self, events: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        body: dict[str, Any] = {"data": [self._project(e, "dm_event", params) for e in events]}
        expansions = params.get("expansions", "")
        if "sender_id" in expansions:
            senders = dict.fromkeys(e["sender_id"] for e in events)
            body["includes"] = {"users": [self._user(s, params) for s in senders]}
        keys = [k for e in events for k in (e.get("attachments") or {}).get("media_keys", [])]
        if keys and "attachments.media_keys" in expansions:
            media = [self._project(self.world.media[k], "media", params) for k in keys]
            body.setdefault("includes", {})["media"] = media
        return body

    def _user(self, uid: str, params: dict[str, str]) -> dict[str, Any]:
        return self._project(self.world.users[uid], "user", params)

    def _project(self, obj: dict[str, Any], kind: str, params: dict[str, str]) -> dict[str, Any]:
        wanted = DEFAULT_FIELDS[kind] | set(params.get(f"{kind}.fields", "").split(","))
        return {k: v for k, v in obj.items() if k in wanted}


def _not_found(tweet_id: str, parameter: str) -> dict[str, Any]:
    return {
        "value": tweet_id,
        "detail": f"Could not find tweet with {parameter}: [{tweet_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": tweet_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }
