"""No real person's data: every phone number, email, postcode and link in the demo is in a
range reserved for fiction or documentation. And the personal data and hostile text that
redaction and escaping must handle are really there."""

from __future__ import annotations

import html
import json
import re

import pytest

from archiver.demo.people import HOSTILE

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\b0\d{3,4} ?\d{3} ?\d{3,4}\b")
POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b")
PLATE = re.compile(r"\b[A-Z]{2}\d\d [A-Z]{3}\b")
URL = re.compile(r"https?://([^/\s\"'<>)\\]+)")
ALLOWED_HOSTS = {
    "t.co",
    "twitter.com",
    "x.com",
    "mobile.twitter.com",
    "tweetdeck.twitter.com",
    "api.twitter.com",
    "ton.twitter.com",
    "pbs.twimg.com",
    "video.twimg.com",
    "abs.twimg.com",
    "x",  # =HYPERLINK("http://x"), the hostile text itself
}


@pytest.fixture(scope="module")
def everything(demo, mentions) -> dict[str, str]:
    """All text of the demo by where it is: archive files and the mentions pages."""
    _, zf = demo
    texts = {
        n: zf.read(n).decode("utf-8") for n in zf.namelist() if not n.endswith((".jpg", ".mp4"))
    }
    texts["mentions.jsonl"] = "\n".join(
        json.dumps(page, ensure_ascii=False) for page in mentions[1]
    )
    return texts


def test_contact_details_are_all_in_reserved_ranges(everything):
    found = {"email": 0, "phone": 0, "postcode": 0}
    for where, text in everything.items():
        for email in EMAIL.findall(text):
            assert email.endswith(("@example.org", "@example.invalid")), (where, email)
            found["email"] += 1
        for phone in PHONE.findall(text):
            assert re.fullmatch(r"01632 960\d{3}|07700 900\d{3}", phone), (where, phone)
            found["phone"] += 1
        for postcode in POSTCODE.findall(text):
            assert postcode.startswith("ZZ99 "), (where, postcode)
            found["postcode"] += 1
    assert all(found.values()), found


def test_links_go_only_to_x_and_reserved_example_domains(everything):
    for where, text in everything.items():
        for host in URL.findall(text):
            assert host in ALLOWED_HOSTS or host.endswith(".example"), (where, host)


def _texts_of_mentions(pages) -> list[str]:
    return [html.unescape(t["text"]) for page in pages for t in page["data"]]


def test_the_publics_replies_carry_personal_data_and_hostile_text(mentions):
    texts = "\n".join(_texts_of_mentions(mentions[1]))
    for pattern in (EMAIL, POSTCODE, PLATE, re.compile("07700 900"), re.compile("01632 960")):
        assert pattern.search(texts), pattern.pattern
    for hostile in HOSTILE:
        assert hostile in texts


def test_hostile_text_is_escaped_in_posts_and_verbatim_in_direct_messages(demo, mentions, read_js):
    raw = [t["text"] for page in mentions[1] for t in page["data"]]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; is what the scam text said" in "\n".join(raw)
    assert not any("<script>" in t for t in raw)  # X serves post text HTML-escaped
    _, zf = demo
    dms = [
        e["messageCreate"]["text"]
        for c in read_js(zf, "data/direct-messages.js")
        for e in c["dmConversation"]["messages"]
    ]
    joined = "\n".join(dms)
    for hostile in HOSTILE:
        assert hostile in joined
    for pattern in (EMAIL, POSTCODE, PLATE, re.compile("07700 900"), re.compile("01632 960")):
        assert pattern.search(joined), pattern.pattern


def test_display_names_that_test_escaping(mentions):
    names = {u["name"] for page in mentions[1] for u in page["includes"]["users"]}
    assert "Jo <b>Bold</b> & Sons" in names
    assert '=HYPERLINK("http://x","Sam")' in names


def test_the_archive_says_it_is_fictional(demo):
    _, zf = demo
    readme = zf.read("data/README.txt").decode()
    assert "Everything in this archive is fictional" in readme
    assert "No real person's data is included" in readme
