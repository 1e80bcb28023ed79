"""`archiver index` and `archiver search` as an operator uses them."""

from __future__ import annotations

import orjson
import pytest
from click.testing import CliRunner

from archiver.cli import cli

from .conftest import FIRE, post


@pytest.fixture
def run_cli(config_file):
    path = str(config_file())

    def run(*args: str):
        return CliRunner().invoke(cli, ["--config", path, *args])

    return run


@pytest.fixture
def committed(runs):
    runs.commit(
        [
            post(1, "Road closed near the station", created_at="2024-01-10T08:00:00.000Z"),
            post(
                2,
                "Witness appeal <b>urgent</b>",
                created_at="2024-01-31T08:00:00.000Z",
                hashtags=["Appeal"],
            ),
        ],
        kind="import",
    )
    runs.commit(
        [post(3, "Smoke alarm appeal", account=FIRE, created_at="2024-02-01T08:00:00.000Z")],
        account=FIRE,
        kind="import",
    )


def test_index_then_search(run_cli, committed):
    indexed = run_cli("index")
    assert (indexed.exit_code, indexed.output) == (0, "indexed 2 runs (3 records): 3 items\n")
    again = run_cli("index")
    assert again.output == "the index is up to date: 3 items\n"
    found = run_cli("search", "appeal", "--sort", "date")
    assert found.exit_code == 0
    assert found.stdout == (
        '2 results for "appeal" (page 1 of 1)\n'
        "\n1 Feb 2024 08:00 GMT  @ExampleshireFire  post  3  by @ExampleshireFire\n"
        "  Smoke alarm appeal\n"
        "\n31 Jan 2024 08:00 GMT  @ExampleshirePolice  post  2  by @ExampleshirePolice\n"
        "  Witness appeal <b>urgent</b>\n"
        "\nby kind: post 2\nby account: @ExampleshireFire 1, @ExampleshirePolice 1\n"
    )


def test_rebuild(run_cli, committed):
    result = run_cli("index", "--rebuild")
    assert result.exit_code == 0
    assert result.output.startswith("rebuilt the index from 2 runs (3 records) in ")
    assert result.output.endswith(" s: 3 items\n")


def test_search_json_is_the_api_shape(run_cli, committed):
    run_cli("index")
    result = run_cli("search", "#appeal", "--json")
    body = orjson.loads(result.stdout)
    assert body["total"] == 1 and body["page"] == 1 and body["notice"] is None
    [hit] = body["results"]
    assert hit["id"] == "2" and hit["highlights"] == "Witness appeal &lt;b&gt;urgent&lt;/b&gt;"
    assert body["facets"]["kind"] == {"post": 1}


def test_filters_from_and_to_include_both_days(run_cli, committed):
    run_cli("index")
    result = run_cli("search", "--from", "2024-01-10", "--to", "2024-01-31", "--json")
    assert sorted(h["id"] for h in orjson.loads(result.stdout)["results"]) == ["1", "2"]
    result = run_cli(
        "search", "appeal", "--account", "@ExampleshireFire", "--kind", "post", "--json"
    )
    assert [h["id"] for h in orjson.loads(result.stdout)["results"]] == ["3"]


def test_a_malformed_query_is_answered_with_a_note(run_cli, committed):
    run_cli("index")
    result = run_cli("search", '"road closed')
    assert result.exit_code == 0
    assert result.stderr == (
        "note: query could not be parsed (a quote is not closed); searched as words\n"
    )
    assert result.stdout.startswith('1 result for ""road closed" (page 1 of 1)\n')


def test_search_says_when_runs_are_not_indexed_yet(run_cli, committed):
    result = run_cli("search", "appeal")
    assert result.stdout == '0 results for "appeal" (page 1 of 1)\n'
    assert result.stderr == (
        "note: 2 committed runs are not in the index yet; run `archiver index`\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "banana"], "Invalid value for '--kind'"),
        (["--from", "yesterday"], "Invalid value for '--from'"),
        (["--limit", "0"], "Invalid value for '--limit'"),
        (["--sort", "oldest"], "Invalid value for '--sort'"),
    ],
)
def test_bad_options_are_usage_errors(run_cli, args, message):
    result = run_cli("search", "appeal", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_an_unreadable_index_is_one_line_and_exit_1(run_cli, tmp_path):
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "_MAIN_1.toc").write_bytes(b"not an index")
    result = run_cli("search", "appeal")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: the search index at {tmp_path / 'index'} is unreadable ("
    )
    assert result.stderr.endswith("); run `archiver index --rebuild`\n")
    assert result.stderr.count("\n") == 1


def test_search_never_prints_a_traceback_for_bad_input(run_cli, committed):
    result = run_cli("index")
    assert result.exit_code == 0
    deep = run_cli("search", "(" * 250 + "road")
    assert deep.exit_code == 0, deep.output
    assert "nested deeper than 32" in deep.output
    for args in (("--to", "9999-12-31"), ("--from", "0001-01-01"), ("--page", "²")):
        result = run_cli("search", "road", *args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    result = run_cli("search", "road", "--to", "9999-12-31")
    assert "9999-12-31 is not a day from 1970-01-01 to 2999-12-31" in result.output
    huge = run_cli("search", "road", "--page", "99999999999999999999")
    assert huge.exit_code in (0, 1, 2) and "Traceback" not in huge.output
