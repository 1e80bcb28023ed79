"""The audit log: append-only, hash-chained, tamper-evident, shared between processes."""

from __future__ import annotations

import hashlib
import re
import threading

import orjson
import pytest

from archiver.audit import AuditLog, event_key
from storage.store import read_bytes


def _fill(log: AuditLog, n: int = 5) -> None:
    for i in range(n):
        log.record("vic", "search", query=f"road {i}", filters={}, page=1)


def test_events_come_back_newest_first_with_filters(local_store):
    log = AuditLog(local_store)
    log.record("ada", "login", address="127.0.0.1")
    _fill(log, 3)
    log.record("ada", "view", item="1002")
    assert [e.seq for e in log.events()] == [5, 4, 3, 2, 1]
    assert [e.detail["query"] for e in log.events(user="vic")] == ["road 2", "road 1", "road 0"]
    assert [e.action for e in log.events(user="ada")] == ["view", "login"]
    assert [e.seq for e in log.events(before=3, limit=1)] == [2]
    # a second reader (another process) sees the same events
    assert AuditLog(local_store).events() == log.events()


def test_each_event_is_chained_to_the_one_before(local_store):
    log = AuditLog(local_store)
    first = log.record("ada", "login")
    second = log.record("ada", "logout")
    assert first.prev == "0" * 64
    stored = read_bytes(local_store, event_key(1))
    assert second.prev == hashlib.sha256(stored).hexdigest()
    assert orjson.loads(stored) == {
        "seq": 1,
        "at": first.at,
        "user": "ada",
        "action": "login",
        "detail": {},
        "prev": "0" * 64,
    }


def test_verify_finds_an_altered_event(local_store):
    log = AuditLog(local_store)
    _fill(log)
    assert log.verify() == []
    doc = orjson.loads(read_bytes(local_store, event_key(3)))
    doc["user"] = "someone-else"
    local_store.put_bytes(event_key(3), orjson.dumps(doc), overwrite=True)
    assert log.verify() == ["event 3: altered (event 4 recorded a different hash of it)"]


def test_verify_finds_a_removed_event(local_store):
    log = AuditLog(local_store)
    _fill(log)
    local_store.delete(event_key(2))
    assert log.verify() == ["event 2: missing (removed from the log)"]
    local_store.delete(event_key(3))
    assert log.verify() == ["event 2-3: missing (removed from the log)"]


def test_verify_finds_a_renumbered_or_unreadable_event(local_store):
    log = AuditLog(local_store)
    _fill(log, 4)
    local_store.put_bytes(event_key(2), b"{not json", overwrite=True)
    doc = orjson.loads(read_bytes(local_store, event_key(4)))
    local_store.put_bytes(event_key(4), orjson.dumps({**doc, "seq": 9}), overwrite=True)
    assert log.verify() == [
        "event 2: unreadable",
        "event 2: altered (event 3 recorded a different hash of it)",
        "event 4: altered (it says it is event 9)",
    ]


def test_events_are_never_overwritten(local_store):
    log = AuditLog(local_store)
    _fill(log, 2)
    other = AuditLog(local_store)  # another process, with its own idea of the tail
    other.record("eve", "export", kind="foi")
    log.record("vic", "view", item="1")  # must move on to number 4, not clobber 3
    assert [e.action for e in AuditLog(local_store).events()] == [
        "view",
        "export",
        "search",
        "search",
    ]
    assert log.verify() == []


def test_concurrent_writers_lose_nothing(local_store):
    logs = [AuditLog(local_store) for _ in range(4)]

    def write(log: AuditLog, who: str) -> None:
        for i in range(15):
            log.record(who, "view", item=str(i))

    threads = [threading.Thread(target=write, args=(log, f"u{n}")) for n, log in enumerate(logs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log = AuditLog(local_store)
    assert log.head().events == 60
    assert log.verify() == []


def test_threads_of_one_log_share_batches_and_each_gets_its_own_event(local_store):
    log = AuditLog(local_store)  # one log, many threads: a busy UI's group commit
    got: dict[str, list[int]] = {}

    def write(who: str) -> None:
        got[who] = [log.record(who, "search", q=f"{who}-{i}").seq for i in range(10)]

    threads = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = sorted(seq for mine in got.values() for seq in mine)
    assert seqs == list(range(1, 81))
    for who, mine in got.items():  # each thread's events are its own, in its order
        events = [AuditLog(local_store)._event(seq) for seq in mine]
        assert [(e.user, e.detail["q"]) for e in events] == [(who, f"{who}-{i}") for i in range(10)]
    assert AuditLog(local_store).verify() == []


def test_the_audit_log_works_on_s3(s3_store):
    log = AuditLog(s3_store)
    _fill(log, 3)
    assert [e.seq for e in AuditLog(s3_store).events()] == [3, 2, 1]
    assert log.verify() == []
    s3_store.delete(event_key(1))
    assert log.verify() == ["event 1: missing (removed from the log)"]


def test_secrets_are_refused_in_event_details(local_store):
    with pytest.raises(ValueError, match="must not carry secrets: 'password'"):
        AuditLog(local_store).record("ada", "login", password="hunter2")


def test_archiver_audit_verify(runner, ui_archive):
    log = AuditLog(ui_archive.store)
    _fill(log, 4)
    result = runner("audit", "verify")
    assert result.exit_code == 0
    assert result.output == (
        f"ok: 4 events, chain intact; newest event sha256 {log.head().digest}\n"
    )
    ui_archive.store.delete(event_key(2))
    result = runner("audit", "verify")
    assert result.exit_code == 1
    assert result.output == (
        "event 2: missing (removed from the log)\nerror: 1 problem in the audit log of 4 events\n"
    )


def test_archiver_audit_list(runner, ui_archive):
    AuditLog(ui_archive.store).record("ada", "login", address="127.0.0.1")
    result = runner("audit", "list")
    assert result.exit_code == 0
    assert "ada" in result.output and 'address="127.0.0.1"' in result.output


def test_the_admin_page_lists_and_filters_the_log(client, auth, ui_archive):
    auth.login("vic")
    client.get("/search?q=road")
    client.get("/items/1001")
    auth.logout()
    auth.login("ada")
    html = client.get("/admin/audit?user=vic").get_data(as_text=True)
    assert re.findall(r"<td>vic</td><td>(\w+)</td>", html) == ["logout", "view", "search", "login"]
    assert '<span class="muted">query:</span> road' in html
    only_views = client.get("/admin/audit?user=vic&action=view").get_data(as_text=True)
    assert re.findall(r"<td>vic</td><td>(\w+)</td>", only_views) == ["view"]
    assert client.get("/admin/audit?action=nonsense").status_code == 400
    assert AuditLog(ui_archive.store).events(action="audit_viewed")[0].user == "ada"
