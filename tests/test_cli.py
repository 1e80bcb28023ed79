"""The command line: every command explains itself; usage errors exit 2."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from archiver.cli import cli


def all_commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from all_commands(command, f"{prefix}{name} ")


def test_every_command_has_help_text():
    missing = [name for name, command in all_commands(cli) if not (command.help or "").strip()]
    assert missing == []


def test_bad_usage_exits_2():
    result = CliRunner().invoke(cli, ["runs", "--no-such-option"])
    assert result.exit_code == 2


def test_verify_an_empty_archive(config_file):
    result = CliRunner().invoke(cli, ["--config", str(config_file()), "verify"])
    assert result.exit_code == 0
    assert result.output == "ok: 0 objects in 0 runs match their manifests, chains intact\n"


def test_verify_names_an_altered_object_and_exits_1(config_file, archive_to_import, tmp_path):
    path = str(config_file())
    runner = CliRunner()
    imported = runner.invoke(
        cli, ["--config", path, "import", str(archive_to_import.path), "--allow-partial"]
    )
    assert imported.exit_code == 0, imported.output
    [likes] = (tmp_path / "store").rglob("likes.jsonl.gz")
    likes.write_bytes(likes.read_bytes()[:-3] + b"\x00\x00\x00")
    result = runner.invoke(cli, ["--config", path, "verify"])
    assert result.exit_code == 1
    rel = likes.relative_to(tmp_path / "store").as_posix()
    run_id = rel.split("/")[3]
    assert result.stderr.splitlines() == [
        f"altered: {rel} (run {run_id})",
        f"run {run_id} of @{archive_to_import.username} is broken: 1 of {_objects(tmp_path)} "
        "objects missing or altered",
        f"error: 1 of {_objects(tmp_path)} objects failed verification",
    ]


def _objects(tmp_path) -> int:
    import json

    [manifest] = (tmp_path / "store").rglob("manifest.json")
    return len(json.loads(manifest.read_text())["objects"])


def test_command_modules_do_not_import_the_cli():
    """archiver.cli registers the command modules; they must not need it (no import cycle)."""
    import subprocess
    import sys

    from archiver.cli import MODULE_COMMANDS

    modules = sorted({command.callback.__module__ for command in MODULE_COMMANDS})
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "assert 'archiver.cli' not in sys.modules, 'a command module imported archiver.cli'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert "archiver.capture.commands" in modules


def _with_command(command: click.Command):
    """Register a command for one test (a real bug has no fixed address to test it by)."""
    cli.add_command(command)
    return command


def test_an_unexpected_error_is_one_line_naming_the_command(config_file):
    @click.group("boomgroup", help="Fails.")
    def group() -> None:
        pass

    @group.command("sub", help="Fails.")
    @click.argument("name")
    def sub(name: str) -> None:
        held: dict[str, str] = {}
        held["token-like detail" + name[:0]]  # noqa: B018 - the KeyError is the point

    _with_command(group)
    try:
        config = str(config_file())
        result = CliRunner().invoke(cli, ["--config", config, "boomgroup", "sub", "x"])
        assert result.exit_code == 1
        assert result.stderr == (
            "error: archiver boomgroup sub failed unexpectedly (KeyError); "
            "run with --debug for details\n"
        )
        assert "Traceback" not in result.output and "token-like" not in result.output
        debug = CliRunner().invoke(cli, ["--config", config, "--debug", "boomgroup", "sub", "x"])
        assert isinstance(debug.exception, KeyError)  # --debug lets the traceback through
    finally:
        cli.commands.pop("boomgroup")


def test_usage_errors_still_exit_2_with_clicks_message():
    result = CliRunner().invoke(cli, ["users", "add"])
    assert result.exit_code == 2
    assert "Missing argument 'NAME'" in result.output


def _readme_command_table() -> str:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows, "README.md: no command table under '## Command line'"
    return "\n".join(rows)


def test_every_command_is_in_the_readme_command_table():
    table = _readme_command_table()
    named = set(re.findall(r"`(?:archiver )?([a-z][a-z-]*)", table))
    missing = sorted(name for name in cli.commands if name not in named)
    assert missing == [], f"add a row for these commands to README.md's command table: {missing}"
