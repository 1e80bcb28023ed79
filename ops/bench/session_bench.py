"""Benchmark: what a server-side session costs each request.

    .venv/bin/python ops/bench/session_bench.py [--repeat 2000] [--rounds 3]

Baseline, in the same run: what the signed-name cookie needed per request before sessions
were kept on the server (the users-file lookup, `UserFile.get`). Measured: that lookup plus
reading the session row (`SessionStore.get`, SQLite in WAL mode, one connection per thread),
medians per round, and creating a session (a login's INSERT). CPU time and load average
are printed, since the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from search_ui.users import UserFile  # noqa: E402


def median_us(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        users = UserFile(Path(tmp) / "users.json")
        user = users.add("vic", "correct horse battery", "viewer")
        token = users.sessions.create(user.id, user.name, user.session_stamp, "127.0.0.1", "b")
        for n in range(args.rounds):
            base = median_us(lambda: users.get("vic"), args.repeat)
            live = median_us(
                lambda: (users.sessions.get(token, 3600, 43200), users.get("vic")), args.repeat
            )
            login = median_us(
                lambda: users.sessions.create(user.id, user.name, user.session_stamp, "", ""),
                max(1, args.repeat // 10),
            )
            print(
                f"round {n + 1}: baseline (users.get) {base:.1f} us; session check "
                f"{live:.1f} us ({live / base:.1f}x); session create {login:.1f} us"
            )
    print(f"cpu {time.process_time():.2f} s; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
