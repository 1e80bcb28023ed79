"""What every `archiver` command shares: the click context object and the output helpers.

Command modules (archiver/*/commands.py, search_ui/cli.py, ...) import from here, never from
archiver.cli: archiver.cli imports them to register their commands, so this module is what
keeps the two apart (no import cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import orjson

from archiver.archive import Archive
from archiver.config import Config, load_config


class Context:
    """The click context object (`obj`): the config and the archive, loaded when first used."""

    def __init__(self, config_path: str | None, debug: bool) -> None:
        self.config_path = config_path
        self.debug = debug
        self._config: Config | None = None
        self._archive: Archive | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = Archive(self.config)
        return self._archive


pass_ctx = click.make_pass_decorator(Context)


def update_index(obj: Context) -> None:
    """Bring the search index up to date after a committed run; the run itself stands even
    if the index cannot be updated now (`archiver index` catches up later)."""
    from archiver.index import SearchIndexError, open_index

    try:
        open_index(obj.archive).update(obj.archive)
    except SearchIndexError as exc:
        click.echo(f"warning: search index not updated ({exc}); run `archiver index`", err=True)


def show_count(what: str) -> Callable[[int], None]:
    """A progress callback for long work on a terminal (cron output stays quiet)."""
    return lambda n: click.echo(f"\r{n:,} {what}", nl=False, err=True)


def echo_json(value: Any) -> None:
    """Print a value as indented JSON: every command's --json output."""
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


class Day(click.DateTime):
    """A `--from`/`--to` day (YYYY-MM-DD) within the index's range, so the day after it is
    a date too (`--to 9999-12-31` is bad usage, not an OverflowError)."""

    name = "day"

    def __init__(self) -> None:
        super().__init__(["%Y-%m-%d"])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from archiver.index.query import FIRST_DAY, LAST_DAY

        day = super().convert(value, param, ctx)
        if not FIRST_DAY <= day.date() <= LAST_DAY:
            self.fail(f"{day:%Y-%m-%d} is not a day from {FIRST_DAY} to {LAST_DAY}", param, ctx)
        return day


DAY = Day()
