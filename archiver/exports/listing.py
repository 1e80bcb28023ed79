"""The human-readable parts of a bundle: a CSV for spreadsheets and a printable HTML listing.

Tweet text is hostile. Every CSV cell that a spreadsheet could read as a formula is
neutralised, and every HTML value is escaped; the page loads nothing from outside (a
Content-Security-Policy forbids it even if some markup slipped through).
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from archiver.timestamps import DISPLAY_TIMEZONE, evidence_time, local_time

# cells starting with these are formulas to Excel/LibreOffice/Sheets (OWASP "CSV injection");
# the full-width forms are read as formulas by some spreadsheet locales too
_FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")

CSV_COLUMNS = (
    "item",
    "version",
    "of_versions",
    "id",
    "kind",
    "account",
    "author_username",
    "author_name",
    "author_id",
    "created_at",
    "created_local",  # the same time in ui.timezone, as people read it
    "text",
    "lang",
    "in_reply_to_id",
    "conversation_id",
    "referenced",
    "hashtags",
    "mentions",
    "urls",
    "media_files",
    "metrics",
    "deleted_at",
    "deleted_local",
    "source",
    "captured_at",
    "captured_local",
    "run_id",
)

KIND_LABELS = {
    "post": "Post",
    "reply": "Reply",
    "repost": "Repost",
    "quote": "Quote post",
    "mention": "Mention",
    "like": "Like",
    "bookmark": "Bookmark",
    "dm": "Direct message",
    "follower": "Follower",
    "following": "Following",
    "list": "List",
    "list_member": "List member",
    "profile": "Profile",
}


def neutralise(value: Any) -> str:
    """A cell a spreadsheet shows as text: formulas get a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in _FORMULA_START else text


class SafeCsvWriter:
    """csv.writer whose every cell is neutralised; RFC 4180 quoting, CRLF line ends."""

    def __init__(self, fh: TextIO, header: Sequence[str]) -> None:
        self._writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        self._writer.writerow(header)

    def row(self, cells: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(c) for c in cells])


def _joined(values: Iterable[Any]) -> str:
    return " ".join(str(v) for v in values if v not in (None, ""))


def _refs(record: dict[str, Any]) -> str:
    return _joined(
        f"{r.get('type')}:{r.get('id')}" if isinstance(r, dict) else r
        for r in record.get("referenced") or ()
    )


def _metrics(record: dict[str, Any]) -> str:
    metrics = record.get("metrics") or {}
    return (
        "; ".join(f"{k}={metrics[k]}" for k in sorted(metrics)) if isinstance(metrics, dict) else ""
    )


class CsvListing:
    """One row per version of each item, in the bundle's order."""

    def __init__(self, fh: TextIO, zone: str = DISPLAY_TIMEZONE) -> None:
        self._csv = SafeCsvWriter(fh, CSV_COLUMNS)
        self._zone = zone

    def _local(self, value: Any) -> str:
        return local_time(value, self._zone, seconds=True, unknown="") if value else ""

    def add(self, key: str, versions: Sequence[dict[str, Any]], media: Sequence[str]) -> None:
        for n, rec in enumerate(versions, 1):
            author = rec.get("author") or {}
            self._csv.row(
                [
                    key,
                    n,
                    len(versions),
                    rec.get("id"),
                    rec.get("kind"),
                    rec.get("account"),
                    author.get("username"),
                    author.get("name"),
                    author.get("id"),
                    rec.get("created_at"),
                    self._local(rec.get("created_at")),
                    rec.get("text"),
                    rec.get("lang"),
                    rec.get("in_reply_to_id"),
                    rec.get("conversation_id"),
                    _refs(rec),
                    _joined(rec.get("hashtags") or ()),
                    _joined(
                        m if isinstance(m, str) else m.get("username")
                        for m in rec.get("mentions") or ()
                    ),
                    _joined(rec.get("urls") or ()),
                    _joined(media),
                    _metrics(rec),
                    rec.get("deleted_at"),
                    self._local(rec.get("deleted_at")),
                    rec.get("source"),
                    rec.get("captured_at"),
                    self._local(rec.get("captured_at")),
                    rec.get("run_id"),
                ]
            )


_CSS = """
body{font:11pt/1.45 Georgia,serif;margin:2em auto;max-width:48em;color:#111;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} .notice{border:1px solid #b00;padding:.5em;color:#600}
table.summary td{padding:.1em .8em .1em 0;vertical-align:top}
article{border-top:1px solid #999;padding:.6em 0;page-break-inside:avoid}
.meta{font:9pt/1.3 Helvetica,Arial,sans-serif;color:#444} .kind{font-weight:bold}
.text{white-space:pre-wrap;margin:.4em 0} .deleted{color:#900;font-weight:bold}
.version{border-left:3px solid #ccc;padding-left:.6em;margin:.4em 0}
@media print{body{margin:0;max-width:none} a{color:#000;text-decoration:none}}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


class HtmlListing:
    """A self-contained page: inline CSS, no scripts, nothing fetched from elsewhere."""

    def __init__(
        self,
        fh: TextIO,
        *,
        title: str,
        summary: Sequence[tuple[str, Any]],
        notice: str | None = None,
        zone: str = DISPLAY_TIMEZONE,
        evidence: bool = False,
    ) -> None:
        self._fh = fh
        self._zone = zone
        self._evidence = evidence  # evidence shows UTC beside the local time
        rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in summary)
        fh.write(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; img-src 'self'\">\n"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
            f"<h1>{_e(title)}</h1>\n"
        )
        if notice:
            fh.write(f'<p class="notice">{_e(notice)}</p>\n')
        fh.write(f'<table class="summary">{rows}</table>\n')

    def add(
        self,
        key: str,
        versions: Sequence[dict[str, Any]],
        media: Sequence[str],
        deleted_at: str | None,
    ) -> None:
        latest = versions[-1]
        author = latest.get("author") or {}
        who = f"@{author['username']}" if author.get("username") else author.get("id") or ""
        if author.get("name"):
            who = f"{who} ({author['name']})"
        kind = KIND_LABELS.get(str(latest.get("kind")), latest.get("kind"))
        parts = [
            f'<article id="item-{_e(key)}"><div class="meta">'
            f'<span class="kind">{_e(kind)}</span> by {_e(who)}'
            f" &middot; {_e(self._time(latest.get('created_at')))}"
            f" &middot; id {_e(latest.get('id'))}</div>"
        ]
        if deleted_at:
            parts.append(f'<p class="deleted">Deleted: detected {_e(self._time(deleted_at))}</p>')
        parts.append(f'<div class="text">{_e(latest.get("text"))}</div>')
        if len(versions) > 1:
            parts.append(f'<p class="meta">Edited: {len(versions)} versions, oldest first</p>')
            for n, rec in enumerate(versions, 1):
                parts.append(
                    f'<div class="version"><div class="meta">Version {n} &middot; '
                    f"{_e(self._time(rec.get('created_at')))} &middot; id {_e(rec.get('id'))}</div>"
                    f'<div class="text">{_e(rec.get("text"))}</div></div>'
                )
        if latest.get("urls"):
            parts.append(f'<p class="meta">Links: {_e(_joined(latest["urls"]))}</p>')
        if media:
            links = ", ".join(f'<a href="{_e(path)}">{_e(path)}</a>' for path in media)
            parts.append(f'<p class="meta">Media: {links}</p>')
        parts.append(
            f'<p class="meta">Source {_e(latest.get("source"))}, captured '
            f"{_e(self._time(latest.get('captured_at')))}, run {_e(latest.get('run_id'))}"
            "</p></article>\n"
        )
        self._fh.write("".join(parts))

    def _time(self, value: Any) -> str:
        if self._evidence:
            return evidence_time(value, self._zone)
        return local_time(value, self._zone)

    def close(self, footer: str = "") -> None:
        if footer:
            self._fh.write(f'<p class="meta">{_e(footer)}</p>\n')
        self._fh.write("</body></html>\n")
