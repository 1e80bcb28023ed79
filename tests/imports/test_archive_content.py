"""Edits, note tweets, deletions and media inside an official archive."""

from __future__ import annotations

import json
import zipfile

from storage.local import LocalStore
from storage.view import current_view

from .conftest import OWNER, tweet, write_archive, ytd

ACCOUNT_ID = OWNER["accountId"]


def view(tmp_path, collections=None):
    store = LocalStore(tmp_path / "store")
    return {i.key: i for i in current_view(store, ACCOUNT_ID, collections)}


def test_an_edit_chain_becomes_one_item_with_two_versions(tmp_path, run_cli):
    first = tweet("100", "Road closed on the A1 at Exampleford")
    first["tweet"]["edit_info"]["initial"]["editTweetIds"] = ["100", "101"]
    second = tweet("101", "Road closed on the A1 at Exampleford, northbound only")
    second["tweet"]["edit_info"] = {
        "edit": {
            "initialTweetId": "100",
            "editControlInitial": {
                "editTweetIds": ["100", "101"],
                "editableUntil": "2026-03-06T14:02:05.000Z",
                "editsRemaining": "4",
                "isEditEligible": True,
            },
        }
    }
    path = write_archive(tmp_path / "a.zip", {"tweets.js": ytd("tweets", [second, first])})
    assert run_cli("import", str(path)).exit_code == 0
    item = view(tmp_path)["100"]
    assert [v["id"] for v in item.versions] == ["100", "101"]
    assert item.latest["text"].endswith("northbound only")
    assert item.edited


def test_a_note_tweet_replaces_its_truncated_twin(tmp_path, run_cli):
    long_text = "Our summer safety campaign starts today. " * 12
    short = tweet(
        "200", long_text[:250] + "… https://t.co/abc", created="Mon Jul 01 09:00:00 +0000 2024"
    )
    note = {
        "noteTweet": {
            "noteTweetId": "9999",
            "createdAt": "2024-07-01T09:00:00.000Z",
            "core": {"text": long_text, "urls": [], "mentions": [], "hashtags": []},
        }
    }
    path = write_archive(
        tmp_path / "a.zip",
        {"tweets.js": ytd("tweets", [short]), "note-tweet.js": ytd("note_tweet", [note])},
    )
    result = run_cli("import", str(path))
    assert "note tweets matched no post" not in result.output
    rec = view(tmp_path)["200"].latest
    assert rec["text"] == long_text
    assert rec["raw"]["noteTweet"]["noteTweetId"] == "9999"
    assert rec["raw"]["tweet"]["id_str"] == "200"


def test_deleted_tweets_keep_their_deletion_time(tmp_path, run_cli):
    gone = tweet("300", "Posted in error")
    gone["tweet"]["deleted_at"] = "Thu Mar 05 16:08:05 +0000 2026"
    path = write_archive(
        tmp_path / "a.zip",
        {
            "tweets.js": ytd("tweets", [tweet("301", "Still here")]),
            "deleted-tweets.js": ytd("deleted_tweets", [gone]),
        },
    )
    run_cli("import", str(path))
    items = view(tmp_path)
    assert items["300"].deleted_at == "2026-03-05T16:08:05.000Z"
    assert items["301"].deleted_at is None


def test_media_files_are_stored_beside_the_records(tmp_path, run_cli):
    media = {
        "id_str": "55",
        "id": "55",
        "type": "photo",
        "media_url_https": "https://pbs.twimg.com/media/HCuq2zDboAAKHUC.jpg",
    }
    post = tweet(
        "400", "Have you seen this bike? https://t.co/x", extended_entities={"media": [media]}
    )
    path = write_archive(tmp_path / "a.zip", {"tweets.js": ytd("tweets", [post])})
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("data/tweets_media/400-HCuq2zDboAAKHUC.jpg", b"\xff\xd8\xff\xe0 jpeg")
    result = run_cli("import", str(path), "--json")
    assert json.loads(result.output)["warnings"] == []
    store = LocalStore(tmp_path / "store")
    [key] = [k for k in store.list("accounts/") if k.endswith(".jpg")]
    assert key.endswith("/files/data/tweets_media/400-HCuq2zDboAAKHUC.jpg")
    assert view(tmp_path)["400"].latest["media"][0]["type"] == "photo"


def test_a_missing_media_file_is_only_a_warning(tmp_path, run_cli):
    media = {
        "id_str": "56",
        "type": "photo",
        "media_url_https": "https://pbs.twimg.com/media/X.jpg",
    }
    post = tweet("401", "photo", extended_entities={"media": [media]})
    path = write_archive(tmp_path / "a.zip", {"tweets.js": ytd("tweets", [post])})
    result = run_cli("import", str(path))
    assert result.exit_code == 0
    assert "warning: 1 media file referenced by posts is not in the archive" in result.output


def test_a_newer_archive_adds_only_what_changed(tmp_path, run_cli):
    older = write_archive(
        tmp_path / "old.zip", {"tweets.js": ytd("tweets", [tweet("1", "a"), tweet("2", "b")])}
    )
    newer = write_archive(
        tmp_path / "new.zip",
        {"tweets.js": ytd("tweets", [tweet("1", "a"), tweet("2", "b"), tweet("3", "c")])},
    )
    run_cli("import", str(older))
    result = run_cli("import", str(newer), "--json")
    assert json.loads(result.output)["written"] == {"tweets": 1}


def test_post_text_is_stored_as_typed_and_raw_as_served(tmp_path, run_cli):
    served = "Fish &amp; chips &lt;script&gt;alert(1)&lt;/script&gt; &amp;lt;"
    path = write_archive(tmp_path / "a.zip", {"tweets.js": ytd("tweets", [tweet("500", served)])})
    run_cli("import", str(path))
    rec = view(tmp_path)["500"].latest
    assert rec["text"] == "Fish & chips <script>alert(1)</script> &lt;"
    assert rec["raw"]["tweet"]["full_text"] == served


def test_no_index_commits_the_run_and_leaves_the_index_to_archiver_index(tmp_path, run_cli):
    from archiver.archive import Archive
    from archiver.config import load_config
    from archiver.index import Index

    path = write_archive(tmp_path / "a.zip", {"tweets.js": ytd("tweets", [tweet("300", "Hi")])})
    result = run_cli("import", str(path), "--no-index")
    assert result.exit_code == 0, result.output
    assert "run `archiver index`" in result.stderr
    assert "300" in view(tmp_path)
    config = load_config(tmp_path / "archiver.toml")
    archive = Archive(config)
    index = Index(config.index.path)
    assert len(index.pending_runs(archive)) == 1 and index.doc_count() == 0
    index.close()
    assert run_cli("index").exit_code == 0
    index = Index(config.index.path)
    assert not index.pending_runs(archive) and index.doc_count() == 1
    index.close()
