"""A twarc2 file's owner without a first pass over every page: guessed from the raw lines,
checked by the records pass, and every answer and error line the same as the first pass's."""

from __future__ import annotations

import json

from archiver.demo.mentions import write_demo_mentions_jsonl
from archiver.imports.twarc import _guess_owner, _infer_owner, _owner_pages
from storage.local import LocalStore
from storage.runs import list_runs

URL = "https://api.twitter.com/2/users/{}/mentions?max_results=100"


def page(user_id: str, tweets: list[dict], users: list[dict]) -> dict:
    return {
        "data": tweets,
        "includes": {"users": users},
        "__twarc": {"url": URL.format(user_id), "retrieved_at": "2024-01-02T03:04:05.000Z"},
    }


def tweet(tid: str, author: str, text: str = "hi") -> dict:
    return {"id": tid, "text": text, "author_id": author, "created_at": "2024-01-01T00:00:00Z"}


def write_lines(path, *lines) -> None:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))


def test_the_guess_is_the_first_pass_answer(tmp_path):
    path = tmp_path / "mentions.jsonl"
    write_demo_mentions_jsonl(path, posts=40)
    guessed = _guess_owner(str(path))
    assert guessed is not None
    assert guessed == _infer_owner(_owner_pages(str(path)))


def test_a_wrong_guess_imports_for_the_counted_owner(tmp_path, run_cli):
    """The URL names 111 (1,000 a page) but 1,001 posts are 222's: 222 owns the file."""
    path = tmp_path / "mixed.jsonl"
    users = [{"id": "111", "username": "one"}, {"id": "222", "username": "two"}]
    write_lines(path, page("111", [tweet(str(i), "222") for i in range(1, 1002)], users))
    assert _guess_owner(str(path))["id"] == "111"
    assert _infer_owner(_owner_pages(str(path)))["id"] == "222"
    summary = json.loads(run_cli("import", str(path), "--json").output)
    assert (summary["account"], summary["account_id"]) == ("two", "222")
    assert summary["read"] == {"mentions": 1001}
    store = LocalStore(tmp_path / "store")
    assert list_runs(store, "111") == []  # the guessed owner's run was never committed
    assert [m.run_id for m in list_runs(store, "222")] == [summary["run_id"]]


def test_errors_name_the_line_the_first_pass_names(tmp_path, run_cli):
    users = [{"id": "111", "username": "one"}]
    good = page("111", [tweet("1", "5")], users)
    wrong_text = page("111", [tweet("2", "5", text=5)], users)  # the records pass's check
    wrong_user = page("111", [tweet("3", "5")], [{"id": "111", "username": 7}])  # the first's
    path = tmp_path / "bad.jsonl"
    write_lines(path, good, wrong_text, wrong_user)
    result = run_cli("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: bad.jsonl: entry 3: entry.includes.users[0].username: expected text, got a number"
    )
    write_lines(path, good, wrong_text, good)
    result = run_cli("import", str(path))
    assert result.stderr.strip() == (
        "error: bad.jsonl: entry 2: entry.data[0].text: expected text, got a number"
    )
    write_lines(path, good, wrong_text, '{"data": [oops')
    assert (
        run_cli("import", str(path))
        .stderr.strip()
        .startswith("error: bad.jsonl: line 3 is not valid JSON")
    )
    # the raw line names a /2/users/ route, but its parsed `url` (the last of two) does not,
    # and no post has an author: the first pass's own error, after the guess
    search = "https://api.twitter.com/2/tweets/search/recent"
    meta = f'{{"url": "{URL.format("5")}", "url": "{search}"}}'
    users = '{"users": [{"id": "5", "username": "five"}]}'
    path.write_text(f'{{"data": [{{"id": "9"}}], "includes": {users}, "__twarc": {meta}}}\n')
    assert _guess_owner(str(path)) == {"id": "5", "username": "five", "name": ""}
    assert run_cli("import", str(path)).stderr.strip() == (
        "error: twarc file: cannot tell whose archive this is; give --account handle:id"
    )
