"""UI fixtures: a real archive (runs of a fictional police force with an edit, a deletion
and hostile text), its index, users; `app`, `client`, `runner`, and `auth` to log in as a
user story would.

A test marked `@pytest.mark.ui_template("demo")` gets instead the demo generator's archive
ZIP imported (hundreds of items of every kind, generated: nothing outside tmp is read);
`ui_template("sample")` the founders' real sample plus the police runs, an extra set that
is skipped, with the reason, when the samples are absent."""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

# the story's module sits beside the tests (tests/ is not a package)
sys.path.insert(0, str(Path(__file__).parent))

from ui_story import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SECRET,
    USERS,
    AuthActions,
    write_police_runs,
)

from archiver.archive import Archive  # noqa: E402
from archiver.config import Config, IndexConfig, StorageConfig  # noqa: E402
from archiver.demo import DemoSummary, write_demo_archive  # noqa: E402
from archiver.imports import import_path  # noqa: E402
from archiver.index import Index  # noqa: E402
from search_ui import create_app  # noqa: E402
from search_ui.users import UserFile  # noqa: E402

REAL_SAMPLE = "archive-2026-03_milahu104"  # the founders' sample of the `sample` template


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ui_template(name): the UI archive a test runs on: demo or sample"
    )


def _template(root: Path, fill: Callable[[Archive], object]) -> Path:
    """A store filled by `fill`, its index and the story's users."""
    archive = Archive(_config(root))
    fill(archive)
    Index(root / "index").update(archive)
    users = UserFile(root / "users.json")
    for name, role in USERS.items():
        users.add(name, PASSWORD, role)
    return root


@pytest.fixture(scope="session")
def archive_template(tmp_path_factory) -> Path:
    """Built once: a store with the police runs, its index, the users."""
    return _template(
        tmp_path_factory.mktemp("ui-archive"), lambda archive: write_police_runs(archive.store)
    )


@pytest.fixture(scope="session")
def demo_zip(tmp_path_factory) -> DemoSummary:
    """The generated archive ZIP of the `demo` template: small, fixed seed. Its account is
    the demo force, whose id and handle are the police story's, so the two never share a
    store (and the demo's roads and appeals would answer the story's searches)."""
    path = tmp_path_factory.mktemp("ui-demo-zip") / "archive.zip"
    return write_demo_archive(path, posts=200, seed=7, years=2, start_year=2024)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, demo_zip) -> Path:
    return _template(
        tmp_path_factory.mktemp("ui-demo"),
        lambda archive: import_path(archive, str(demo_zip.path)),
    )


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory, samples) -> Path:
    """The founders' real sample imported beside the police runs (the extra set)."""

    def fill(archive: Archive) -> None:
        import_path(archive, str(samples / REAL_SAMPLE), allow_partial=True)
        write_police_runs(archive.store)

    return _template(tmp_path_factory.mktemp("ui-sample"), fill)


def _config(root: Path) -> Config:
    return Config(
        storage=StorageConfig(path=str(root / "store")),
        index=IndexConfig(path=str(root / "index")),
    )


@pytest.fixture
def ui_root(request, tmp_path) -> Path:
    """A private copy of the template, so a test's audit events and users stay its own."""
    marker = request.node.get_closest_marker("ui_template")
    template = request.getfixturevalue(
        f"{marker.args[0]}_template" if marker else "archive_template"
    )
    root = tmp_path / "archive"
    shutil.copytree(template, root)
    return root


@pytest.fixture
def ui_archive(ui_root) -> Archive:
    return Archive(_config(ui_root))


@pytest.fixture
def app(ui_archive):
    return create_app({"TESTING": True, "SECRET_KEY": SECRET}, archive=ui_archive)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(ui_root):
    """Run `archiver ...` against a config file for the same archive."""
    from archiver.cli import cli

    config = ui_root / "archiver.toml"
    config.write_text(
        f'[storage]\npath = "{ui_root / "store"}"\n[index]\npath = "{ui_root / "index"}"\n',
        encoding="utf-8",
    )

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(cli, ["--config", str(config), *args], input=input)

    return invoke


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


# -- a real browser -------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=True)
    page = context.new_page()
    page.dialogs = []  # any alert() that fires would land here
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()
