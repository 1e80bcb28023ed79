"""Mastodon's HTML content as plain text for search, and the links it carries.

A status's `content` is HTML the server sanitised; it is still hostile input (other servers'
statuses, a double's, an archive someone edited), so it is only ever read by the standard
library's HTML parser here, never rendered. The HTML itself stays verbatim in the record's
`raw`; `text` is what people read and search: paragraphs and line breaks kept, tags dropped,
entities decoded, the `invisible` parts of shortened links kept (so a search for the full URL
finds the post, as Mastodon's own plain-text rendering does).
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
_SKIPPED = {"script", "style"}  # never text (the server strips them; a hostile copy may not)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []  # hrefs of ordinary links (not mentions, not hashtags)
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self._paragraph()
        elif tag == "a":
            values = dict(attrs)
            classes = (values.get("class") or "").split()
            href = values.get("href") or ""
            if href and not {"mention", "hashtag"} & set(classes) and href not in self.links:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self._paragraph()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    def _paragraph(self) -> None:
        if self.parts and not "".join(self.parts[-2:]).endswith("\n\n"):
            self.parts.append("\n\n")


@functools.lru_cache(maxsize=256)  # a status's text and its links come from one parse
def _parse(html: str) -> tuple[str, tuple[str, ...]]:
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t]+\n", "\n", "".join(parser.parts))
    return re.sub(r"\n{3,}", "\n\n", text).strip(), tuple(parser.links)


def html_text(html: str | None) -> str:
    """Plain text of a status's HTML content."""
    return _parse(html)[0] if html else ""


def html_links(html: str | None) -> list[str]:
    """The ordinary links of a status's HTML (mentions and hashtags are their own fields)."""
    return list(_parse(html)[1]) if html else []


def status_text(content: str | None, spoiler: str | None) -> str:
    """What a reader sees: the content warning (spoiler text), if any, then the content."""
    body = html_text(content)
    warning = (spoiler or "").strip()
    return f"{warning}\n\n{body}".strip() if warning else body
