"""The UI tests' story: a fictional police force's runs (an edit, a deletion, hostile text),
the users who log in, and `AuthActions` to log in and out as they would."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from pathlib import Path

import orjson

from storage.local import LocalStore
from storage.records import new_record
from storage.runs import RunWriter
from storage.view import EVENTS

# Debian's chromium, driven by Playwright (never `playwright install`)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
SECRET = "test-secret-key-0123456789abcdef"
POLICE_ID = "1200000000000000001"
POLICE = "ExampleshirePolice"
HOSTILE = '<script>alert("pwned")</script> Road safety week starts today'
FORMULA = '=HYPERLINK("http://x") thanks for the appeal @ExampleshirePolice'
CLOSURE_PHOTO = {"key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/closure.jpg"}
SHED_PHOTO = {"key": "3_5", "type": "photo", "url": "https://pbs.twimg.com/media/shed.png"}
# served as a photo once, but the bytes are SVG with a script: never shown inline
HOSTILE_MEDIA = {"key": "3_9", "type": "photo", "url": "https://pbs.twimg.com/media/x.jpg"}
HOSTILE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


def png(width: int = 4, height: int = 3) -> bytes:
    """A real, decodable PNG (red pixels) without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))


def keep_media(run: RunWriter, files: list[tuple[dict, str, bytes]]) -> None:
    """Media bytes with their provenance, as a backup keeps them (files/media/<sha256>)."""
    lines = []
    for media, record_id, data in files:
        sha = hashlib.sha256(data).hexdigest()
        ext = "png" if data.startswith(b"\x89PNG") else "bin"
        run.add_bytes(f"media/{sha}.{ext}", data)
        line = {
            "url": media["url"],
            "source_url": media["url"] + "?name=orig",
            "records": [f"tweets/{record_id}"],
            "retrieved_at": "2024-06-01T09:00:01.000000Z",
            "status": 200,
            "size": len(data),
            "sha256": sha,
            "key": f"{run.run_id}/files/media/{sha}.{ext}",
        }
        lines.append(orjson.dumps(line) + b"\n")
    run.add_bytes("media/provenance.jsonl", b"".join(lines))


USERS = {"ada": "admin", "eve": "exporter", "vic": "viewer"}
_CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def police_post(rid: str, text: str, created: str, *, kind: str = "post", **extra) -> dict:
    author = {"id": POLICE_ID, "username": POLICE, "name": "Examplefordshire Police"}
    raw = {"id": rid, "text": text, "created_at": created, "author_id": POLICE_ID}
    return new_record(
        id=rid,
        kind=kind,
        account=POLICE,
        account_id=POLICE_ID,
        author=extra.pop("author", author),
        created_at=created,
        text=text,
        lang="en",
        source="x-api-v2",
        captured_at=extra.pop("captured_at", "2024-06-01T09:00:00.000000Z"),
        raw=extra.pop("raw", raw),
        **extra,
    )


def police_run(store, kind: str = "incremental") -> RunWriter:
    """A new run of the police account, as an API backup writes it."""
    return RunWriter(
        store,
        account_id=POLICE_ID,
        account=POLICE,
        kind=kind,
        source="x-api-v2",
        tool_version="test",
    )


def write_police_runs(store: LocalStore) -> None:
    """Two runs: the first captures six items, the second an edit and a confirmed deletion."""
    with RunWriter(
        store,
        account_id=POLICE_ID,
        account=POLICE,
        kind="full",
        source="x-api-v2",
        tool_version="test",
    ) as run:
        run.write(
            police_post(
                "1001",
                "Witness appeal: a car was stolen in Exampleford on Tuesday. #WitnessAppeal",
                "2024-03-05T10:00:00.000Z",
                hashtags=["WitnessAppeal"],
                media=[HOSTILE_MEDIA],
            )
        )
        run.write(
            police_post(
                "1002",
                "Road closure on the A123 near Millbrook until 6pm",
                "2024-05-01T08:00:00.000Z",
                edit_history_ids=["1002"],
                media=[CLOSURE_PHOTO],
            )
        )
        run.write(police_post("1004", HOSTILE, "2023-11-20T12:00:00.000Z"))
        run.write(
            police_post(
                "1005",
                "Burglary prevention advice: lock your shed",
                "2023-06-10T09:30:00.000Z",
                media=[SHED_PHOTO],
            )
        )
        keep_media(run, [(SHED_PHOTO, "1005", png()), (HOSTILE_MEDIA, "1001", HOSTILE_SVG)])
        run.write(
            police_post(
                "1006",
                "@resident_ann Thanks, we have passed this on",
                "2024-03-06T11:00:00.000Z",
                kind="reply",
                in_reply_to_id="2001",
            )
        )
        run.write(
            police_post(
                "2001",
                FORMULA,
                "2024-03-06T10:30:00.000Z",
                kind="mention",
                author={"id": "42", "username": "resident_ann", "name": "Ann Resident"},
            )
        )
        run.commit()
    with RunWriter(
        store,
        account_id=POLICE_ID,
        account=POLICE,
        kind="incremental",
        source="x-api-v2",
        tool_version="test",
    ) as run:
        run.write(
            police_post(
                "1003",
                "Road closure on the A123 near Millbrook until 8pm",
                "2024-05-01T08:05:00.000Z",
                edit_history_ids=["1002", "1003"],
                captured_at="2024-06-02T09:00:00.000000Z",
                media=[CLOSURE_PHOTO],
            )
        )
        run.write(
            {
                "type": "deleted",
                "collection": "tweets",
                "id": "1005",
                "at": "2024-06-02T09:00:00.000Z",
            },
            EVENTS,
        )
        run.commit()


def log_in(page, name: str, password: str = PASSWORD, path: str = "/login") -> None:
    """Log in through the form in a Playwright page (`path`: the page that shows it)."""
    page.goto(path)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return next(g for g in match.groups() if g)


class AuthActions:
    def __init__(self, client) -> None:
        self._client = client

    def login(self, name: str = "vic", password: str = PASSWORD):
        page = self._client.get("/login")
        token = csrf_token(page.get_data(as_text=True))
        return self._client.post(
            "/login", data={"name": name, "password": password, "csrf_token": token}
        )

    def logout(self):
        page = self._client.get("/search")
        token = csrf_token(page.get_data(as_text=True))
        return self._client.post("/logout", data={"csrf_token": token})
