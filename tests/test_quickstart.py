"""The quick start's main job: `archiver demo` builds, imports, indexes and searches."""

from __future__ import annotations

import json

from click.testing import CliRunner

from archiver.cli import cli


def test_demo_builds_a_searchable_archive_and_is_idempotent(config_file):
    path = str(config_file())
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", path, "demo", "--posts", "300", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "@ExampleshirePolice: read " in first.output
    assert "committed: " in first.output
    assert 'search "witness appeal": ' in first.output
    (key_line,) = [ln for ln in first.output.splitlines() if ln.startswith("demo signing key ")]
    again = runner.invoke(cli, ["--config", path, "demo", "--posts", "300", "--no-serve"])
    assert key_line in again.output.splitlines()  # made once, reused
    assert "@exampleshirepolice@social.exampleshire-police.example: read " in first.output
    # the X archive, the public's replies, the followers and following a month later (twarc2),
    # the Mastodon archive and the Bluesky repository
    assert "@exampleshirepolice.bsky.example: read " in first.output
    assert again.output.count("nothing new: everything is already in the archive") == 6
    runs = json.loads(runner.invoke(cli, ["--config", path, "runs", "--json"]).output)
    x_runs = [r for r in runs if r["source"] in ("x-archive", "twarc")]
    assert [r["source"] for r in x_runs] == ["x-archive", "twarc", "twarc", "twarc"]
    assert x_runs[1]["counts"]["mentions"] > 0
    assert_demo_review(runner, path)


def assert_demo_review(runner: CliRunner, path: str) -> None:
    """The demo holds an example of every kind the follower review looks for."""
    args = ["--config", path, "followers", "review", "--account", "ExampleshirePolice", "--json"]
    out = runner.invoke(cli, args)
    assert out.exit_code == 0, out.output
    review = json.loads(out.output)
    contract = {"account", "followers", "following", "gained", "lost", "serial_followers"}
    contract |= {"possible_spoofs", "not_following_back", "not_followed_back"}
    assert contract <= set(review)
    assert review["account"] == "ExampleshirePolice"
    assert review["followers"] > 100 and review["following"] == 40
    for kind in sorted(contract - {"account", "followers", "following"}):
        assert review[kind], f"the demo review has no {kind}"
        for user in review[kind]:
            assert {"id", "username", "name", "followers_count", "following_count"} <= set(user)
    # the later lists (twarc2 followers) name everyone and give their counts
    for user in review["serial_followers"]:
        assert user["following_count"] >= 2000
        assert user["following_count"] >= 10 * (user["followers_count"] or 0)
    assert "ExampleshirePolice_UK" in [u["username"] for u in review["gained"]]
    # a lost follower who replied is named from their replies; silent ones were ids only
    assert any(u["username"] for u in review["lost"])
    assert all(u["followers_count"] is None for u in review["lost"] if not u["username"])
    spoofs = {u["username"]: u for u in review["possible_spoofs"]}
    assert set(spoofs) >= {"Exampleshire_Police", "ExampIeshirePolice", "ExampleshirePolice_UK"}
    roles = {u["seen_as"] for u in spoofs.values()}
    assert "follower" in roles and roles & {"mentioner", "replier"}
    assert all(u["imitates"] == "ExampleshirePolice" and u["why"] for u in spoofs.values())
    partners = {u["username"] for u in review["not_following_back"]}
    assert "ExampleshireFire" not in partners  # the partner bodies follow back


def test_an_import_is_searchable_at_once(config_file, archive_to_import):
    path = str(config_file())
    runner = CliRunner()
    imported = runner.invoke(
        cli, ["--config", path, "import", str(archive_to_import.path), "--allow-partial"]
    )
    assert imported.exit_code == 0, imported.output
    result = runner.invoke(cli, ["--config", path, "search", archive_to_import.word, "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert archive_to_import.post_id in [r["id"] for r in found["results"]]


def test_an_undated_hit_is_shown_not_crashed_on():
    from archiver.index.searching import Hit
    from archiver.quickstart import hit_line

    fields = dict(id="1", account="42", kind="like", author="", text="a  liked\npost")
    fields.update(highlights="", edited=False, deleted=False, deleted_at=None, score=1.0)
    assert hit_line(Hit(created_at=None, **fields)) == "  undated    @? [like] a liked post"
    dated = hit_line(Hit(created_at="2018-05-01T10:00:00.000Z", **fields))
    assert dated == "  2018-05-01 @? [like] a liked post"
