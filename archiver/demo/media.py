"""Photos and videos in the demo: the media entities X writes into tweets.js, and the tiny but
valid files the archive keeps beside them (`data/tweets_media/<tweet id>-<basename>`).

Every photo file is the same 16x9 JPEG and every video the same empty-track MP4: real bytes a
viewer can open, a few hundred bytes each, so a 100,000-post archive stays small.
"""

from __future__ import annotations

import base64
import random
import string
import struct
from dataclasses import dataclass
from typing import Any

from archiver.demo.clock import snowflake
from archiver.demo.text import Link, Span

# a 16x9 JPEG in the force's blue (baseline, quality 50)
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERX"
    "RTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAJABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAA"
    "AAb/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABAX/xAAUEQEAAAAAAAAAAAAAAAAA"
    "AAAA/9oADAMBAAIRAxEAPwCcAUBn/9k="
)

_NAME_ALPHABET = string.ascii_letters + string.digits + "_-"
_IDENTITY = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", flags), *payload)  # version 0 + 24-bit flags


def _mp4() -> bytes:
    """An ISO base media file (ftyp + moov with one video track of no samples + mdat)."""
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    mvhd = _full_box(
        b"mvhd",
        0,
        struct.pack(">5I", 0, 0, 1000, 0, 0x10000),
        struct.pack(">H10x", 0x100),
        _IDENTITY,
        bytes(24),
        struct.pack(">I", 2),
    )
    tkhd = _full_box(
        b"tkhd",
        3,
        struct.pack(">5I8x4H", 0, 0, 1, 0, 0, 0, 0, 0, 0),
        _IDENTITY,
        struct.pack(">2I", 16 << 16, 9 << 16),
    )
    mdhd = _full_box(b"mdhd", 0, struct.pack(">4I2H", 0, 0, 1000, 0, 0x55C4, 0))
    hdlr = _full_box(b"hdlr", 0, struct.pack(">I", 0), b"vide", bytes(12), b"VideoHandler\0")
    vmhd = _full_box(b"vmhd", 1, bytes(8))
    dinf = _box(b"dinf", _full_box(b"dref", 0, struct.pack(">I", 1), _full_box(b"url ", 1)))
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, struct.pack(">I", 0)),
        _full_box(b"stts", 0, struct.pack(">I", 0)),
        _full_box(b"stsc", 0, struct.pack(">I", 0)),
        _full_box(b"stsz", 0, struct.pack(">2I", 0, 0)),
        _full_box(b"stco", 0, struct.pack(">I", 0)),
    )
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, _box(b"minf", vmhd, dinf, stbl)))
    return ftyp + _box(b"moov", mvhd, trak) + _box(b"mdat")


MP4 = _mp4()

_PHOTO_SIZES = {"small": (680, 383), "large": (1200, 675), "medium": (1200, 675)}
_VIDEO_SIZES = {"small": (680, 383), "large": (1280, 720), "medium": (1200, 675)}
# (bitrate, width, height) of the MP4 renditions X offers; the archive keeps the best
_RENDITIONS = ((256000, 480, 270), (832000, 640, 360), (2176000, 1280, 720))


@dataclass(frozen=True)
class Media:
    """One photo or video attached to a post (or to the post a retweet repeats)."""

    id: int
    kind: str  # photo | video
    name: str  # X's random media name, e.g. "HCuq2zDboAAKHUC"
    variants: tuple[str, ...] = ()  # video: one random name per rendition
    duration_ms: int = 0
    source_status: str | None = None  # a retweet's media belongs to the original post
    source_user: str | None = None

    @property
    def media_url(self) -> str:
        if self.kind == "video":
            return f"http://pbs.twimg.com/ext_tw_video_thumb/{self.id}/pu/img/{self.name}.jpg"
        return f"http://pbs.twimg.com/media/{self.name}.jpg"

    def video_urls(self) -> list[tuple[int, str]]:
        return [
            (
                bitrate,
                f"https://video.twimg.com/ext_tw_video/{self.id}/pu/vid/avc1/{w}x{h}/{name}.mp4?tag=12",
            )
            for (bitrate, w, h), name in zip(_RENDITIONS, self.variants, strict=True)
        ]

    def file_name(self, tweet_id: str) -> str:
        """`<tweet id>-<basename>`: the photo itself, or a video's best MP4 rendition."""
        url = max(self.video_urls())[1] if self.kind == "video" else self.media_url
        return f"{tweet_id}-{url.split('?', 1)[0].rsplit('/', 1)[-1]}"

    @property
    def blob(self) -> bytes:
        return MP4 if self.kind == "video" else JPEG

    @property
    def key(self) -> str:
        """API v2's media_key: 3_ for photos, 7_ for videos."""
        return f"{'7' if self.kind == 'video' else '3'}_{self.id}"


def new_media(
    rng: random.Random, kind: str, when: Any, source: tuple[str, str] | None = None
) -> Media:
    def name(k: int) -> str:
        return "".join(rng.choices(_NAME_ALPHABET, k=k))

    return Media(
        id=snowflake(rng, when),
        kind=kind,
        name=name(15),
        variants=tuple(name(16) for _ in _RENDITIONS) if kind == "video" else (),
        duration_ms=rng.randrange(5000, 140000) if kind == "video" else 0,
        source_status=source[0] if source else None,
        source_user=source[1] if source else None,
    )


def _sizes(kind: str) -> dict[str, Any]:
    table = _VIDEO_SIZES if kind == "video" else _PHOTO_SIZES
    sizes: dict[str, Any] = {
        size: {"w": str(w), "h": str(h), "resize": "fit"} for size, (w, h) in table.items()
    }
    sizes["thumb"] = {"w": "150", "h": "150", "resize": "crop"}
    return sizes


def media_entity(
    m: Media, link: Link, span: Span, owner: str, status_id: str, *, extended: bool
) -> dict[str, Any]:
    """A media entity in the archive's key order. `entities.media` (extended=False) holds the
    first item only and calls a video a photo; `extended_entities` has the truth."""
    kind = "video" if m.kind == "video" and extended else "photo"
    status, user = (m.source_status or status_id), (m.source_user or None)
    entity: dict[str, Any] = {"expanded_url": f"https://x.com/{owner}/status/{status}/{m.kind}/1"}
    if m.source_status:
        entity["source_status_id"] = m.source_status
    entity |= {
        "indices": [str(span.start), str(span.end)],
        "url": link.url,
        "media_url": m.media_url,
        "id_str": str(m.id),
    }
    if user:
        entity["source_user_id"] = user
    if kind == "video":
        entity["video_info"] = {
            "aspect_ratio": ["16", "9"],
            "duration_millis": str(m.duration_ms),
            "variants": [
                {"bitrate": str(b), "content_type": "video/mp4", "url": u}
                for b, u in m.video_urls()
            ]
            + [
                {
                    "content_type": "application/x-mpegURL",
                    "url": f"https://video.twimg.com/ext_tw_video/{m.id}/pu/pl/{m.name}.m3u8?tag=12",
                }
            ],
        }
    entity |= {"id": str(m.id), "media_url_https": m.media_url.replace("http:", "https:", 1)}
    if user:
        entity["source_user_id_str"] = user
    entity |= {"sizes": _sizes(m.kind), "type": kind}
    if m.source_status:
        entity["source_status_id_str"] = m.source_status
    entity["display_url"] = link.display
    return entity
