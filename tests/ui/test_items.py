"""The item page: versions with what changed, the deletion banner, capture history, raw JSON."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from html import unescape

import pytest

from archiver.audit import AuditLog
from storage.runs import list_runs


def test_an_edited_post_shows_every_version_and_the_change(client, auth):
    auth.login()
    html = client.get("/items/1002").get_data(as_text=True)
    assert "<h1>Post 1002 by @ExampleshirePolice</h1>" in html
    assert "<strong>Edited.</strong> 2 versions were captured" in html
    assert (
        '<blockquote class="text">Road closure on the A123 near Millbrook until 8pm</blockquote>'
    ) in html
    assert (
        "Version 1: id 1002; made on the platform <time"
        ' datetime="2024-05-01T08:00:00.000Z">1 May 2024 09:00:00 BST (2024-05-01 08:00:00 UTC)'
        '</time>; captured <time datetime="2024-06-01T09:00:00.000000Z">1 Jun 2024 10:00:00 BST'
        " (2024-06-01 09:00:00 UTC)</time> from x-api-v2"
    ) in html
    assert "Road closure on the A123 near Millbrook until <del>6pm</del><ins>8pm</ins>" in html
    assert "deleted" not in html.lower().split("<main", 1)[1].split("raw json", 1)[0]


def test_any_version_id_opens_the_item(client, auth):
    auth.login()
    assert "<h1>Post 1002 by @ExampleshirePolice</h1>" in client.get("/items/1003").text


def test_a_deleted_post_shows_the_banner_with_the_detection_date(client, auth):
    auth.login()
    html = client.get("/items/1005").get_data(as_text=True)
    assert re.search(
        r'<div class="banner deleted" role="alert">\s*<strong>Deleted.</strong> The archive '
        r'found this item gone on <time datetime="2024-06-02T09:00:00.000Z">'
        r"2 Jun 2024 10:00:00 BST \(2024-06-02 09:00:00 UTC\)</time>",
        html,
    )
    assert "Burglary prevention advice: lock your shed" in html


@pytest.mark.ui_template("demo")
def test_an_archive_deletion_shows_too(client, auth, demo_zip):
    with zipfile.ZipFile(demo_zip.path) as zf:
        text = zf.read("data/deleted-tweets.js").decode("utf-8")
    deleted = [entry["tweet"] for entry in json.loads(text.partition("=")[2])]
    assert len(deleted) == demo_zip.deleted > 0
    auth.login()
    for tweet in deleted:
        page = client.get(f"/items/{tweet['id_str']}").get_data(as_text=True)
        gone = dt.datetime.strptime(tweet["deleted_at"], "%a %b %d %H:%M:%S %z %Y")
        assert "<strong>Deleted.</strong>" in page
        assert f'datetime="{gone.strftime("%Y-%m-%dT%H:%M:%S.000Z")}"' in page
        assert tweet["full_text"] in unescape(page)


@pytest.mark.ui_template("sample")
def test_a_real_archive_deletion_shows_too(client, auth):
    auth.login()
    html = client.get("/items/2029583929812873669").get_data(as_text=True)
    assert 'datetime="2026-03-05T16:08:05.000Z"' in html
    assert "@Dominik_Kettner niemand will für israel kämpfen" in html


def test_capture_history_lists_the_runs(client, auth, ui_archive):
    auth.login()
    html = client.get("/items/1002").get_data(as_text=True)
    runs = [m for m in list_runs(ui_archive.store) if m.account == "ExampleshirePolice"]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\w+)</td><td>([^<]+)</td>", html)
    assert rows == [(m.run_id, m.kind, "x-api-v2") for m in runs]


def test_media_and_raw_json_are_listed_and_escaped(client, auth):
    auth.login()
    html = client.get("/items/1002").get_data(as_text=True)
    # no bytes were kept for this photo: the platform's URL is provenance, never a link
    assert "The archive holds no copy of this item's media." in html
    assert '<span class="media-type">photo</span> 3_1 <code>https://pbs.twimg.com/media/' in html
    assert 'href="https://pbs.twimg.com' not in html and 'src="https://pbs.twimg.com' not in html
    assert "<summary>Raw JSON as the source served it</summary>" in html
    hostile = client.get("/items/1004").get_data(as_text=True)
    assert "<script>" not in hostile
    assert "&#34;text&#34;: &#34;&lt;script&gt;alert(\\&#34;pwned\\&#34;)&lt;/script&gt;" in (
        hostile
    )


def test_a_reply_links_to_what_it_answers(client, auth):
    auth.login()
    html = client.get("/items/1006").get_data(as_text=True)
    assert (
        '<dt>In reply to</dt><dd class="parent"><a href="/items/2001">Mention 2001</a>'
        " by @resident_ann: <q>=HYPERLINK(&#34;http://x&#34;) thanks for the appeal"
    ) in html


def test_an_unknown_item_is_not_found(client, auth):
    auth.login()
    response = client.get("/items/999")
    assert response.status_code == 404
    assert "No item 999 in the archive." in response.text
    assert client.get("/items/abc").status_code == 404


def test_views_are_audited(client, auth, ui_archive):
    auth.login("eve")
    client.get("/items/1003")
    event = AuditLog(ui_archive.store).events(action="view")[0]
    assert (event.user, event.detail) == (
        "eve",
        {"item": "1002", "account": "ExampleshirePolice", "address": "127.0.0.1"},
    )


def test_the_accounts_page_shows_runs_and_counts(client, auth):
    auth.login()
    html = client.get("/accounts").get_data(as_text=True)
    police = html.split("@ExampleshirePolice</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td>2</td>" in police  # two runs
    assert ">post</a>: 4</li>" in police
    assert ">mention</a>: 1</li>" in police


@pytest.mark.ui_template("demo")
def test_the_accounts_page_counts_an_imported_archive(client, auth, demo_zip):
    auth.login()
    html = client.get("/accounts").get_data(as_text=True)
    row = html.split(f"@{demo_zip.username}</a>", 1)[1].split("</tr>", 1)[0]
    assert f"id {demo_zip.account_id}" in row
    assert "<td>1</td>" in row  # one import, one run
    for kind, n in (
        ("like", demo_zip.likes),
        ("follower", demo_zip.followers),
        ("following", demo_zip.following),
    ):
        assert f">{kind}</a>: {n:,}</li>" in row


@pytest.mark.ui_template("sample")
def test_the_accounts_page_lists_the_real_sample(client, auth):
    auth.login()
    assert "@milahu104</a>" in client.get("/accounts").get_data(as_text=True)


def test_an_item_not_yet_in_the_index_opens_from_storage(client, auth, ui_archive):
    from ui_story import police_post, police_run

    with police_run(ui_archive.store) as run:
        run.write(police_post("1020", "Missing cat seen in Millbrook", "2024-07-02T10:00:00Z"))
        run.commit()
    auth.login()
    assert client.get("/search?q=cat").text.count("Open item") == 0  # not indexed yet
    html = client.get("/items/1020").get_data(as_text=True)
    assert '<blockquote class="text">Missing cat seen in Millbrook</blockquote>' in html


def test_storage_trouble_is_a_clear_page_not_a_crash(client, auth, ui_root):
    auth.login()
    client.get("/items/1001")  # the account's view is cached now
    for manifest in (ui_root / "store" / "accounts").rglob("manifest.json"):
        manifest.write_text("{}")  # every run unreadable
    client.application.extensions["social_archive"].catalogue.recheck_seconds = 0
    response = client.get("/items/1002")
    assert response.status_code == 503
    assert (
        "The archive&#39;s storage cannot be read right now: unknown manifest format None"
    ) in response.text


def test_an_account_page_shows_the_completeness_report(client, auth):
    auth.login()
    listing = client.get("/accounts").text
    assert '<a href="/accounts/ExampleshirePolice">@ExampleshirePolice</a>' in listing
    html = client.get("/accounts/ExampleshirePolice").text
    assert "<h1>@ExampleshirePolice</h1>" in html
    assert "The archive holds (each item once, whatever its versions or captures): 5 posts" in html
    assert "1 post was deleted on X after capture" in html
    assert (
        "<strong>Gap:</strong> Mentions" in html
        or "<strong>Gap:</strong> The archive holds" in html
    )
    assert client.get("/accounts/nobody").status_code == 404


def test_a_deleted_post_shows_its_photo_from_the_archive(client, auth):
    auth.login()
    html = client.get("/items/1005").get_data(as_text=True)
    assert "<strong>Deleted.</strong>" in html
    (src,) = re.findall(r'<img src="(/media/[^"]+)"', html)
    assert src.startswith("/media/1200000000000000001/") and "pbs.twimg.com" not in src
    response = client.get(src)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.data.startswith(b"\x89PNG")
    document = client.get("/api/items/1005").get_json()
    assert [m["href"] for m in document["media"]] == [src]
    assert document["record"]["media"][0]["url"] == "https://pbs.twimg.com/media/shed.png"


def test_media_whose_bytes_are_not_an_image_is_only_a_download(client, auth):
    auth.login()
    html = client.get("/items/1001").get_data(as_text=True)
    (href,) = re.findall(r'<a href="(/media/[^"]+)" download>', html)
    response = client.get(href)
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_media_route_refuses_what_no_run_lists_and_needs_a_login(client, auth):
    html_path = "/media/1200000000000000001/20240101T000000000000Z-abc123/files/media/x.png"
    assert client.get(html_path).status_code in (302, 401)
    auth.login()
    assert client.get(html_path).status_code == 404
    assert client.get("/media/abc/x/files/media/x.png").status_code == 404
    src = re.findall(r'<img src="(/media/[^"]+)"', client.get("/items/1005").text)[0]
    run_path = src.rsplit("/files/", 1)[0]
    assert client.get(run_path + "/files/media/provenance.jsonl").status_code == 404
    assert client.get(run_path + "/tweets.jsonl.gz").status_code == 404


def test_media_imported_from_an_archive_zip_is_served_the_same_way(
    client, auth, ui_archive, tmp_path
):
    from archiver.demo import write_demo_archive
    from archiver.imports import import_path
    from storage.view import current_view

    demo = write_demo_archive(tmp_path / "demo.zip", posts=120)
    import_path(ui_archive, str(demo.path))
    post = next(
        i
        for i in current_view(ui_archive.store, demo.account_id, ["tweets"])
        if i.latest["media"] and i.latest["source"] == "x-archive"
    )
    auth.login()
    html = client.get(f"/items/{post.key}").get_data(as_text=True)
    hrefs = re.findall(r'(?:src|href)="(/media/[^"]+)"', html)
    assert hrefs and all("tweets_media" in h for h in hrefs)
    response = client.get(hrefs[0])
    assert response.status_code == 200
    assert response.mimetype in ("image/jpeg", "image/png", "video/mp4")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
