"""The account lock on both real stores: one holder at a time, a clear line for the second,
waiting, takeover only after expiry, renewal, release, and locks that cannot be read."""

from __future__ import annotations

import threading
import time

import orjson
import pytest

from storage.lock import AccountLock, LockError, LockHeld, LockLost, current_lease, locks_prefix


def test_second_holder_gets_one_line_naming_the_first(any_store):
    with AccountLock(any_store, "42", account="Police", lease=60) as first:
        assert first.held is not None
        with pytest.raises(LockHeld) as err:
            AccountLock(any_store, "42", account="Police", lease=60).acquire()
        message = str(err.value)
        assert message.startswith("account @Police: a backup is already running on ")
        assert f"(pid {first.held.pid}, since {first.held.started})" in message
        assert "\n" not in message
    # released: the next job takes it at once, and only the newest generation is kept
    with AccountLock(any_store, "42", account="Police", job="import", lease=60) as again:
        assert again.held is not None
        keys = list(any_store.list(locks_prefix("42")))
        assert keys == [again.held.key]
    lease = current_lease(any_store, "42")
    assert lease is not None and lease.released


def test_an_import_holding_the_lock_is_named_as_such(any_store):
    holder = AccountLock(any_store, "7", account="x", job="import", lease=60)
    with holder, pytest.raises(LockHeld, match=r"^account @x: an import is already running on "):
        AccountLock(any_store, "7", account="x").acquire()


def test_a_waiting_job_gets_the_lock_when_the_holder_finishes(local_store):
    holder = AccountLock(local_store, "1", account="a", lease=60)
    holder.acquire()
    timer = threading.Timer(0.3, holder.release)
    timer.start()
    started = time.monotonic()
    waiter = AccountLock(local_store, "1", account="a", lease=60, wait=10, poll=0.05)
    lease = waiter.acquire()
    assert 0.2 < time.monotonic() - started < 5
    assert lease.generation == 3  # the holder's, its release, then the waiter's
    waiter.release()
    timer.join()


def test_an_expired_lease_is_taken_over_and_its_holder_learns_it(any_store):
    # long enough that a slow store (a loaded machine) cannot expire it before the refusal below
    stale = AccountLock(any_store, "9", account="p", lease=4.0)
    stale.acquire()  # no renewing thread: a holder that stopped (kill -9, a hung host)
    with pytest.raises(LockHeld):
        AccountLock(any_store, "9", account="p", lease=60).acquire()
    deadline = time.monotonic() + 30
    while not current_lease(any_store, "9").expired() and time.monotonic() < deadline:
        time.sleep(0.02)
    taker = AccountLock(any_store, "9", account="p", lease=60)
    taker.acquire()
    with pytest.raises(LockLost, match="taken over by another job"):
        stale.renew()
    with pytest.raises(LockLost):
        stale.check()
    stale.release()  # a lost lease releases nothing: the taker still holds it
    with pytest.raises(LockHeld):
        AccountLock(any_store, "9", account="p", lease=60).acquire()
    taker.release()


def test_renewal_keeps_a_short_lease_alive(local_store):
    # renewed every third of the lease; 1.5 s leaves a just-renewed lease unexpired through a
    # one-second stall of a loaded machine (0.3 s did not: the second acquire took it over)
    with AccountLock(local_store, "5", account="r", lease=1.5) as lock:
        first = lock.held
        deadline = time.monotonic() + 10
        while lock.held is first and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lock.held is not None and lock.held.generation > first.generation
        with pytest.raises(LockHeld):
            AccountLock(local_store, "5", account="r", lease=1.5).acquire()
        lock.check()


def test_racing_takers_get_exactly_one_lock(any_store):
    winners: list[int] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(6)

    def take() -> None:
        barrier.wait()
        try:
            AccountLock(any_store, "3", account="race", lease=60).acquire()
            winners.append(1)
        except LockHeld as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and len(errors) == 5


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "is not valid JSON"),
        (orjson.dumps({"format": "social-archive/lock/1", "host": "h"}), "is malformed"),
        (orjson.dumps(["a list"]), "is malformed"),
        (orjson.dumps({"format": "social-archive/lock/2", "host": "h"}), "newer version"),
    ],
)
def test_a_lock_that_cannot_be_read_is_one_clear_line(any_store, body, expected):
    any_store.put_bytes(f"{locks_prefix('8')}000000000004.json", body)
    with pytest.raises(LockError) as err:
        AccountLock(any_store, "8", account="bad").acquire()
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("account @bad: lock object locks/8/000000000004.json")
