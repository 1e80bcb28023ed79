"""The served UI holds a (small) load: concurrent API clients over HTTP against waitress get
every answer, none times out, and /healthz stays under a second meanwhile, also while the
index takes in a new run. The 10-minute, 16-client figure is ops/bench/ui_load.py's."""

from __future__ import annotations

import http.client
import random
import threading
import time

import pytest
from test_serve import stop
from ui_story import police_post, police_run

from archiver.index import Index
from search_ui import create_app, make_server
from search_ui.serving import WorkGate
from search_ui.users import UserFile

CLIENTS = 6
SECONDS = 4.0
TIMEOUT = 10.0
WORDS = ["road", "appeal", "witness", "closure", "police", "safety", "dog", "thanks"]


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> int:
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        response.read()
        return response.status


def _ids(port: int, token: str) -> list[str]:
    client = Client(port, token)
    client.conn.request("GET", "/api/search?q=&per_page=100", headers=client.headers)
    import orjson

    return [hit["id"] for hit in orjson.loads(client.conn.getresponse().read())["results"]]


@pytest.fixture
def served(ui_archive, ui_root):
    app = create_app({"SECRET_KEY": "test-secret-key-0123456789abcdef"}, archive=ui_archive)
    token = UserFile(ui_root / "users.json").issue_token("vic")
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.effective_port, token
    stop(server, thread)


def _load(port: int, token: str, during=None) -> dict:
    ids = _ids(port, token)
    assert ids
    done = threading.Event()
    seen: dict = {"ok": 0, "errors": [], "timeouts": 0, "health": []}

    def client(n: int) -> None:
        rnd = random.Random(n)
        c = Client(port, token)
        while not done.is_set():
            if rnd.random() < 0.6:
                path = "/api/search?q=" + "+".join(rnd.sample(WORDS, rnd.choice((1, 2))))
            else:
                path = f"/api/items/{rnd.choice(ids)}"
            try:
                status = c.get(path)
            except TimeoutError:
                seen["timeouts"] += 1
                c = Client(port, token)
                continue
            if status == 200:
                seen["ok"] += 1
            else:
                seen["errors"].append((path, status))

    def health() -> None:
        while not done.wait(0.2):
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
            try:
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
            except TimeoutError:
                status = None
            seen["health"].append((time.perf_counter() - start, status))
            conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    threads.append(threading.Thread(target=health))
    for t in threads:
        t.start()
    try:
        if during is not None:
            during()
        time.sleep(SECONDS)
    finally:
        done.set()
        for t in threads:
            t.join(TIMEOUT + 5)
    return seen


def _assert_held(seen: dict) -> None:
    assert seen["timeouts"] == 0
    assert seen["errors"] == []
    assert seen["ok"] > CLIENTS
    assert seen["health"], "no /healthz answer at all"
    assert all(status == 200 for _, status in seen["health"])
    # /healthz is answered all along (never queued behind searches); how fast it answers (the
    # 1 s target) is measured by ops/bench/ui_load.py, not asserted here, since a timed test
    # fails on a loaded machine whatever the code does
    slowest = max(took for took, _ in seen["health"])
    assert slowest < TIMEOUT / 2, f"/healthz took {slowest:.2f} s"


def test_clients_get_every_answer_and_healthz_stays_fast(served):
    _assert_held(_load(*served))


def test_answers_keep_coming_while_the_index_takes_in_a_run(served, ui_archive, ui_root):
    def import_a_run() -> None:
        with police_run(ui_archive.store) as run:
            for n in range(300):
                run.write(
                    police_post(str(5000 + n), f"Road closure {n} lifted", "2024-08-01T08:00:00Z")
                )
            run.commit()
        Index(ui_root / "index").update(ui_archive)  # as `archiver import` does, beside the UI

    seen = _load(*served, during=import_a_run)
    _assert_held(seen)


def test_the_gate_answers_busy_instead_of_piling_up():
    entered, release = threading.Event(), threading.Event()

    def slow_app(environ, start_response):
        if environ["PATH_INFO"] == "/search":
            entered.set()
            release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    gate = WorkGate(slow_app, workers=1, queue_timeout=0.05)
    first = threading.Thread(target=gate, args=({"PATH_INFO": "/search"}, lambda *a: None))
    first.start()
    assert entered.wait(5)
    answers: list = []
    body = gate({"PATH_INFO": "/api/search"}, lambda status, headers: answers.append(status))
    assert answers == ["503 Service Unavailable"]
    assert b"busy" in b"".join(body)
    # /healthz is never gated: it is answered while the one worker is taken
    health = gate({"PATH_INFO": "/healthz"}, lambda status, headers: answers.append(status))
    release.set()
    first.join(5)
    assert b"".join(health) == b"done"
