"""Redaction of third parties' personal data for FOI and subject access exports, with its log.

A profile says whose data stays visible (the archive's own accounts; for a SAR, the data
subject too) and which exemption a mask is made under. Everyone else is a third party:
their handles, display names, user ids and the ids of their posts are replaced everywhere
in a record (text, author, mentions, the raw payload) by one pseudonym per person or post
("[REDACTED user-3]"), consistent across the bundle. Emails, phone numbers, UK postcodes
and vehicle registrations found in text are masked too. DMs are withheld unless asked for.
Every mask is logged (item, field, category, pseudonym, exemption), never the value masked.

Automatic redaction is a first pass: names the metadata does not give (a person named in
free text) cannot be found. The officer reviews index.html before release.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from archiver.exports.items import ExportItem
from archiver.exports.listing import SafeCsvWriter
from archiver.exports.thirdparties import (
    ACCT_URL_HANDLE,
    AT_HANDLE,
    BSKY_URL_HANDLE,
    DID,
    DIGITS,
    HANDLE_KEYS,
    HANDLE_PATTERNS,
    NAME_KEYS,
    URL,
    URL_HANDLE,
    Census,
    norm,
    qualify,
    user_object,
)
from archiver.platforms.names import handle_platform
from storage.accountids import account_platform, native_id
from storage.records import platform_of

FOI_EXEMPTION = "FOIA 2000 s.40(2) personal information of third parties"
FOI_DM_EXEMPTION = "FOIA 2000 s.40(2) and s.41 private correspondence"
SAR_EXEMPTION = "DPA 2018 Sch.2 Pt.3 para.16 information about other individuals"

SUMMARY_COLUMNS = ("pseudonym", "category", "items", "occurrences", "exemption")
_NUMBERED = re.compile(r"^\[REDACTED (user|post)-(\d+)\]$")
LOG_COLUMNS = ("item", "version", "field", "category", "replacement", "occurrences", "exemption")

# structural values no pattern (phone, postcode...) should be looked for in
_NO_PATTERN_KEYS = {
    "created_at",
    "captured_at",
    "deleted_at",
    "run_id",
    "source",
    "lang",
    "kind",
    "account",
    "account_id",
    "type",
    "media_key",
    "key",
    "createdAt",
    "updatedAt",
    "editableUntil",
}
# what a person's details look like in free text; order matters (emails hold an @)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "email address",
        re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    ),
    # UK personal numbers: mobiles (07) and geographic lines (01, 02), as 0... or +44/0044...;
    # freephone and non-geographic numbers (0800, 03...) are organisations', so they stay
    (
        "phone number",
        re.compile(
            r"(?<![\w+])(?:(?:\+|00)44[\s-]?(?:\(0\)[\s-]?)?\(?|\(?0)[127](?:[\s\-)]{0,2}\d){8,9}(?!\d)"
        ),
    ),
    ("phone number", re.compile(r"(?<![\w+])\+(?!44)\d{1,3}(?:[\s-]?\d){7,12}(?!\d)")),
    (
        "postcode",
        re.compile(
            r"(?i)(?<![\w/])(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})(?!\w)"
        ),
    ),
    # current (AB12 CDE), prefix (A123 BCD) and suffix (ABC 123D) registrations, capitals only
    (
        "vehicle registration",
        re.compile(
            r"(?<![\w/])(?:[A-Z]{2}\d{2}\s?[A-Z]{3}|[A-Z]\d{1,3}\s?[A-Z]{3}|[A-Z]{3}\s?\d{1,3}[A-Z])(?!\w)"
        ),
    ),
)


_PATTERN_TOKENS = {
    "email address": "[REDACTED email]",
    "phone number": "[REDACTED phone]",
    "postcode": "[REDACTED postcode]",
    "vehicle registration": "[REDACTED vehicle registration]",
}


@dataclass(frozen=True)
class RedactionProfile:
    """Whose data stays visible, and the exemption each kind of mask is made under."""

    name: str
    exemption: str
    own_ids: frozenset[str]
    own_handles: frozenset[str]
    subject_ids: frozenset[str] = frozenset()
    subject_handles: frozenset[str] = frozenset()
    include_dms: bool = False
    dm_exemption: str = FOI_DM_EXEMPTION

    # ids and handles are kept qualified by platform (thirdparties.qualify): an X user and
    # a Bluesky or Mastodon account never stand in for each other

    @classmethod
    def foi(
        cls,
        own: Iterable[tuple[str, str]],
        *,
        include_dms: bool = False,
        keep: Iterable[str] = (),
    ) -> RedactionProfile:
        """own: (account id, handle) of the archive's accounts (a qualified id names the
        platform: `bluesky:<DID>`, `mastodon:<acct>`; `bluesky:` alone for an account not
        captured yet); keep: other handles to leave visible (e.g. partner organisations'
        official accounts), each on the platform its syntax says."""
        ids, handles = _own(own)
        return cls(
            name="foi",
            exemption=FOI_EXEMPTION,
            own_ids=ids,
            own_handles=handles | {_handle_key(handle_platform(h), h) for h in keep},
            include_dms=include_dms,
        )

    @classmethod
    def sar(
        cls,
        own: Iterable[tuple[str, str]],
        subject_id: str | None,
        subject_handle: str,
        platform: str = "x",
    ) -> RedactionProfile:
        ids, handles = _own(own)
        return cls(
            name="sar",
            exemption=SAR_EXEMPTION,
            own_ids=ids,
            own_handles=handles,
            subject_ids=frozenset({qualify(platform, subject_id)} if subject_id else ()),
            subject_handles=frozenset({_handle_key(platform, subject_handle)}),
            include_dms=True,
            dm_exemption=SAR_EXEMPTION,
        )

    def visible(self, user_id: Any = None, handle: Any = None, platform: str = "x") -> bool:
        ids = self.own_ids | self.subject_ids
        handles = self.own_handles | self.subject_handles
        return (user_id is not None and qualify(platform, str(user_id)) in ids) or (
            isinstance(handle, str) and _handle_key(platform, handle) in handles
        )

    def by_subject(self, rec: dict[str, Any]) -> bool:
        """Written by the SAR's data subject: their own words, details and all, are theirs."""
        author = rec.get("author") or {}
        platform = platform_of(rec)
        return (qualify(platform, str(author.get("id"))) in self.subject_ids) or (
            isinstance(author.get("username"), str)
            and _handle_key(platform, author["username"]) in self.subject_handles
        )


def _handle_key(platform: str, handle: str) -> str:
    return qualify(platform, norm(handle))


def _own(own: Iterable[tuple[str, str]]) -> tuple[frozenset[str], frozenset[str]]:
    """Qualified ids and handles of the body's own accounts (a Mastodon account's local
    @user too: replies on its server mention it so)."""
    ids: set[str] = set()
    handles: set[str] = set()
    for account_id, handle in own:
        platform = account_platform(account_id) if account_id else "x"
        native = native_id(account_id) if account_id else ""
        if native:
            ids.add(qualify(platform, native))
        handles.add(_handle_key(platform, handle))
        if platform == "mastodon" and "@" in norm(handle):
            handles.add(_handle_key(platform, norm(handle).split("@", 1)[0]))
    return frozenset(ids), frozenset(handles)


@dataclass(frozen=True)
class LoggedRedaction:
    item: str
    version: str
    field: str
    category: str
    replacement: str
    occurrences: int
    exemption: str


class Redactor:
    """Apply a profile to a bundle's items: prepare() over all of them, then redact_item()."""

    def __init__(self, profile: RedactionProfile) -> None:
        self.profile = profile
        self._census = Census(profile.visible)
        self._reg = self._census.names
        self._log: Counter[tuple[str, str, str, str, str, str]] = Counter()
        self._withheld_dms = 0
        self._names: re.Pattern[str] | None = None
        self._patterns_on = True
        self._context: frozenset[int] = frozenset()  # the people the current version names
        # walking a user object of someone who stays visible (the body's own account, a
        # SAR's subject): its name is theirs, even when an impostor bears the same name
        self._visible_user = False

    # -- what is withheld whole ------------------------------------------------------------
    def excluded(self, item: ExportItem) -> bool:
        if item.kind == "dm" and not self.profile.include_dms:
            self._withheld_dms += 1
            ref = f"(direct message {self._withheld_dms})"
            self._log[
                (ref, "", "(whole item)", "direct message", "withheld", self.profile.dm_exemption)
            ] += 1
            return True
        return False

    def allows_media(self, item: ExportItem) -> bool:
        if not self._census.third_party(item.latest):
            return True
        if any(rec.get("media") for rec in item.versions):
            self._log[
                (
                    self._ref(item.key),
                    "",
                    "media",
                    "media of a third party",
                    "withheld",
                    self.profile.exemption,
                )
            ] += 1
        return False

    def prepare(self, items: Sequence[ExportItem]) -> None:
        """Learn every third party first, so a person gets one pseudonym wherever they are."""
        self._census.take(rec for item in items for rec in item.versions)
        self._names = self._reg.names_pattern()

    # -- masking ---------------------------------------------------------------------------
    def redact_item(self, item: ExportItem) -> ExportItem:
        self._census.read(item.latest)
        key = self._ref(item.key)
        versions = []
        for rec in item.versions:
            self._census.read(rec)  # ids and handles in the record's platform's namespace
            version = self._ref(str(rec.get("id")))
            # contact details in a subject's own post are theirs; elsewhere, anyone's
            self._patterns_on = not self.profile.by_subject(rec)
            self._context = self._census.involved(rec)
            versions.append(self._walk(rec, "", key, version))
        return ExportItem(
            item.account_id, item.collection, key, versions, item.deleted_at, item.seen_in
        )

    def _ref(self, value: str) -> str:
        return self._reg.id_token(value) or value

    def _note(
        self, item: str, version: str, path: str, category: str, token: str, n: int = 1
    ) -> None:
        self._log[(item, version, path or "(value)", category, token, self.profile.exemption)] += n

    def _walk(self, value: Any, path: str, item: str, version: str) -> Any:
        if isinstance(value, dict):
            outer = self._context
            user = user_object(value, self._reg.platform) or (
                value.get("id"),
                value.get("username"),
                None,
            )
            owner = self._reg.who(user[0], user[1])
            outer_visible = self._visible_user
            if owner is not None:  # a user object: its name is its own person's
                self._context = frozenset({owner})
                self._visible_user = False
            elif user[0] is not None or user[1] is not None:
                self._visible_user = self.profile.visible(user[0], user[1], self._reg.platform)
            try:
                return {
                    k: self._walk(v, f"{path}.{k}" if path else k, item, version)
                    for k, v in value.items()
                }
            finally:
                self._context, self._visible_user = outer, outer_visible
        if isinstance(value, list):
            return [self._walk(v, f"{path}[]", item, version) for v in value]
        if isinstance(value, int) and not isinstance(value, bool):
            token = self._reg.id_token(str(value))
            if token:
                self._note(item, version, path, "user id" if "user-" in token else "post id", token)
                return token
            return value
        if isinstance(value, str):
            return self._string(value, path, item, version)
        return value

    def _string(self, text: str, path: str, item: str, version: str) -> str:
        key = path.rsplit(".", 1)[-1].removesuffix("[]")
        if self._visible_user and key in NAME_KEYS:
            return text  # the visible person's own name (see _visible_user)
        whole = self._whole_value(text, key, path)
        if whole:
            category, token = whole
            self._note(item, version, path, category, token)
            return token
        urls = URL.findall(text)
        parts = []
        for i, piece in enumerate(URL.split(text)):
            parts.append(self._free_text(piece, key, path, item, version))
            if i < len(urls):
                parts.append(self._url(urls[i], path, item, version))
        return "".join(parts)

    def _whole_value(self, text: str, key: str, path: str) -> tuple[str, str] | None:
        token = self._reg.id_token(text)
        if token:
            return ("user id" if "user-" in token else "post id"), token
        if key in HANDLE_KEYS or path.endswith("mentions[]"):
            token = self._reg.handle_token(text)
            if token:
                return "user handle", token
        if key in NAME_KEYS:
            token = self._reg.name_token(text, self._context)
            if token:
                return "user name", token
        return None

    def _sub(
        self,
        pattern: re.Pattern[str],
        text: str,
        lookup,
        category: str,
        path: str,
        item: str,
        version: str,
        group: int = 0,
    ) -> str:
        def replace(m: re.Match[str]) -> str:
            token = lookup(m.group(group))
            if not token:
                return m.group(0)
            kind = category if category != "id" else "user id" if "user-" in token else "post id"
            self._note(item, version, path, kind, token)
            return m.group(0)[: m.start(group) - m.start(0)] + token

        return pattern.sub(replace, text)

    def _free_text(self, text: str, key: str, path: str, item: str, version: str) -> str:
        if not text:
            return text
        patterns = self._patterns_on and key not in _NO_PATTERN_KEYS
        if patterns:
            text = self._patterns(text, _PATTERNS[:1], path, item, version)  # emails first
        text = self._sub(
            HANDLE_PATTERNS.get(self._reg.platform, AT_HANDLE),
            text,
            self._reg.handle_token,
            "user handle",
            path,
            item,
            version,
            group=1,
        )
        text = text.replace("@[REDACTED", "[REDACTED")
        if self._names is not None:
            text = self._sub(
                self._names,
                text,
                lambda n: self._reg.name_token(n, self._context),
                "user name",
                path,
                item,
                version,
            )
        text = self._sub(DIGITS, text, self._reg.id_token, "id", path, item, version)
        if self._reg.platform == "bluesky":  # DIDs (in AT URIs too) name people
            text = self._sub(DID, text, self._reg.id_token, "id", path, item, version)
        if patterns:
            text = self._patterns(text, _PATTERNS[1:], path, item, version)
        return text

    def _url(self, url: str, path: str, item: str, version: str) -> str:
        def replace(m: re.Match[str]) -> str:
            token = self._reg.handle_token(m.group(2))
            if not token:
                return m.group(0)
            self._note(item, version, path, "user handle", token)
            return m.group(1) + token

        platform = self._reg.platform
        if platform == "x":
            url = URL_HANDLE.sub(replace, url)
        elif platform == "bluesky":
            url = self._sub(
                BSKY_URL_HANDLE,
                url,
                self._profile_token,
                "user handle",
                path,
                item,
                version,
                group=2,
            )
            url = self._sub(DID, url, self._reg.id_token, "id", path, item, version)
        elif platform == "mastodon":

            def acct(m: re.Match[str]) -> str:
                token = self._reg.handle_token(f"{m.group(3)}@{m.group(2)}")
                if not token:
                    return m.group(0)
                self._note(item, version, path, "user handle", token)
                return f"{m.group(1)}{m.group(2)}/@{token}"

            url = ACCT_URL_HANDLE.sub(acct, url)
        return self._sub(DIGITS, url, self._reg.id_token, "id", path, item, version)

    def _profile_token(self, target: str) -> str | None:
        return self._reg.id_token(target) or self._reg.handle_token(target)

    def _patterns(
        self,
        text: str,
        patterns: Sequence[tuple[str, re.Pattern[str]]],
        path: str,
        item: str,
        version: str,
    ) -> str:
        for category, pattern in patterns:
            token = _PATTERN_TOKENS[category]
            text, n = pattern.subn(token, text)
            if n:
                self._note(item, version, path, category, token, n)
        return text

    # -- the log ---------------------------------------------------------------------------
    @property
    def log(self) -> list[LoggedRedaction]:
        return [
            LoggedRedaction(*k[:5], occurrences=n, exemption=k[5]) for k, n in self._log.items()
        ]

    def summary(self) -> dict[str, int]:
        """Occurrences masked or withheld, by category."""
        out: Counter[str] = Counter()
        for (_i, _v, _f, category, _t, _e), n in self._log.items():
            out[category] += n
        return dict(sorted(out.items()))

    def people_summary(self) -> list[tuple[str, str, int, int, str]]:
        """(pseudonym, category, items, occurrences, exemption): one row per person (or post,
        or kind of detail) and category, people first in pseudonym order."""
        items: dict[tuple[str, str, str], set[str]] = {}
        counts: Counter[tuple[str, str, str]] = Counter()
        for (item, _v, _f, category, token, exemption), n in self._log.items():
            items.setdefault((token, category, exemption), set()).add(item)
            counts[(token, category, exemption)] += n

        def order(key: tuple[str, str, str]) -> tuple[int, int, str, str]:
            m = _NUMBERED.match(key[0])
            rank = {"user": 0, "post": 1}.get(m.group(1), 2) if m else 3
            return (rank, int(m.group(2)) if m else 0, key[0], key[1])

        return [
            (token, category, len(items[key]), counts[key], exemption)
            for key in sorted(counts, key=order)
            for token, category, exemption in [key]
        ]

    def write_summary(self, fh: Any) -> None:
        writer = SafeCsvWriter(fh, SUMMARY_COLUMNS)
        for row in self.people_summary():
            writer.row(list(row))

    def write_log(self, fh: Any) -> None:
        writer = SafeCsvWriter(fh, LOG_COLUMNS)
        for e in self.log:
            writer.row(
                [e.item, e.version, e.field, e.category, e.replacement, e.occurrences, e.exemption]
            )
