"""`archiver serve` and the waitress server it runs."""

from __future__ import annotations

import contextlib
import threading

import requests
from ui_story import police_post, police_run

from archiver.index import Index
from search_ui import make_server


def stop(server, thread: threading.Thread) -> None:
    """Stop waitress from another thread: close every channel from inside its own loop."""

    def close_all() -> None:
        for channel in list(server._map.values()):
            channel.close()

    # OSError: its loop has ended and closed the trigger, so there is nothing to wake
    with contextlib.suppress(OSError):
        server.trigger.pull_trigger(close_all)
    thread.join(timeout=5)
    server.task_dispatcher.shutdown()
    assert not thread.is_alive()


def test_serve_without_a_secret_key_says_which_variable(runner, monkeypatch):
    monkeypatch.delenv("ARCHIVER_SECRET_KEY", raising=False)
    result = runner("serve", "--port", "0")
    assert result.exit_code == 1
    assert result.output.startswith(
        "error: ui.secret_key_env: the environment variable ARCHIVER_SECRET_KEY is not set;"
    )


def test_the_server_answers_over_http_and_catches_the_index_up(app, ui_archive, ui_root):
    with police_run(ui_archive.store) as run:
        run.write(
            police_post("1010", "Lost dog found near Millbrook library", "2024-07-01T10:00:00.000Z")
        )
        run.commit()
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.effective_port}"
        health = requests.get(f"{base}/healthz", timeout=10)
        assert (health.status_code, health.json()["status"]) == (200, "ok")
        assert health.headers["Server"] == "social-archive"
        login = requests.get(f"{base}/login", timeout=10)
        assert 'name="csrf_token"' in login.text
        assert requests.get(f"{base}/api/search?q=dog", timeout=10).status_code == 401
    finally:
        stop(server, thread)
    assert Index(ui_root / "index").search("dog").total == 1
