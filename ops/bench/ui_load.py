"""Load test of the served UI: concurrent API clients against `archiver serve` over HTTP.

    nice -n 10 .venv/bin/python ops/bench/ui_load.py [--clients 16] [--duration 600]
        [--search-share 0.6] [--import-every 0] [--posts 3000] [--source DIR] [--out FILE]

Builds the demo archive (`archiver demo --no-serve`) in a temporary folder, adds a user
with an API token, starts `archiver serve` in its own process and drives it with
`--clients` threads, each on its own keep-alive connection, for `--duration` seconds:
`--search-share` of the requests are `/api/search` with one or two words taken from the
archive's own posts, the rest item pages (`/api/items/<id>` for X, `/api/item?id=` for the
demo's Bluesky and Mastodon ids) of posts and mentions it holds. Every
second a monitor samples the server's RSS and CPU time, the load average, and the latency
of `/healthz` on a connection of its own.

`--import-every S` also imports, every S seconds while the load runs, a demo archive of
another seed into the same account (`archiver import`, which commits a run and updates the
index in its own process): the searches and item pages must keep being answered meanwhile.
`--source DIR` serves the code of another checkout (e.g. a `git archive` of main) for a
before/after comparison with the same client.

Reported (and written as JSON to ops/bench/results/ui-load-<clients>x<duration>[-import].json):
p50/p95/p99 per route, errors (any answer but 200), timeouts (`--timeout`, default 10 s),
requests completed per 10-second window, /healthz latency (p50/p99/max and how many took
longer than 1 s or timed out), RSS over time (every 30 s, and the maximum), the server's
CPU seconds and the load average.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

ROOT = Path(__file__).resolve().parents[2]
ARCHIVER = [sys.executable, "-c", "from archiver.cli import main; main()"]
WORD = re.compile(r"[a-z]{4,}")


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50_ms": round(_quantile(values, 0.50) * 1000, 1),
        "p95_ms": round(_quantile(values, 0.95) * 1000, 1),
        "p99_ms": round(_quantile(values, 0.99) * 1000, 1),
        "max_ms": round(max(values, default=0.0) * 1000, 1),
    }


@dataclass
class Tally:
    """What the clients saw; appended to from many threads (list.append is atomic)."""

    latency: dict[str, list[float]] = field(default_factory=lambda: {"search": [], "item": []})
    done_at: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)


class Client:
    """One keep-alive HTTP connection with a bearer token; reconnects after a failure."""

    def __init__(self, port: int, token: str, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.headers = {"Authorization": f"Bearer {token}"}
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except BaseException:
            self.conn.close()
            self.conn = None
            raise


def env_for(root: Path, source: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env["ARCHIVER_CONFIG"] = str(root / "archiver.toml")
    env["ARCHIVER_SECRET_KEY"] = "load-test-" + "k" * 32
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env


def archiver(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [*ARCHIVER, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(env["ARCHIVER_CONFIG"]).parent,
    )
    if done.returncode != 0:
        raise SystemExit(f"archiver {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def build_archive(root: Path, env: dict[str, str], posts: int) -> str:
    (root / "archiver.toml").write_text(
        f'[storage]\npath = "{root / "archive-data"}"\n\n'
        f'[index]\npath = "{root / "archive-data" / "index"}"\n'
    )
    archiver(env, "demo", "--no-serve", "--posts", str(posts))
    archiver(env, "users", "add", "load", "--role", "viewer", "--password-stdin",
             stdin="load test password\n")  # fmt: skip
    return archiver(env, "users", "token", "load").strip()


def prepare(root: Path, env: dict[str, str], opts: argparse.Namespace) -> str:
    """The archive in `root`: built there, or copied from `--template` (built on first use)."""
    if opts.template is None:
        return build_archive(root, env, opts.posts)
    template = opts.template.resolve()
    if not (template / "token").exists():
        shutil.rmtree(template, ignore_errors=True)
        template.mkdir(parents=True)
        token = build_archive(template, env_for(template, opts.source), opts.posts)
        (template / "token").write_text(token)
    shutil.copytree(template / "archive-data", root / "archive-data")
    (root / "archiver.toml").write_text(
        (template / "archiver.toml").read_text().replace(str(template), str(root))
    )
    return (template / "token").read_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    log = open(Path(env["ARCHIVER_CONFIG"]).parent / "serve.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [*ARCHIVER, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
        if server.poll() is not None:
            break
    server.kill()
    raise SystemExit(f"the server did not come up; see {log.name}")


def workload(port: int, token: str) -> tuple[list[str], list[str]]:
    """Words and item ids from the archive itself (newest posts, then the public's)."""
    client = Client(port, token, 60)
    words: set[str] = set()
    ids: list[str] = []
    for q in ("kind:post", "kind:reply", "kind:mention", "kind:quote"):
        for page in (1, 2, 3):
            status, body = client.get(f"/api/search?q={quote(q)}&per_page=100&page={page}")
            if status != 200:
                raise SystemExit(f"could not read the archive to build the workload: {status}")
            for hit in json.loads(body)["results"]:
                ids.append(hit["id"])
                words.update(WORD.findall(hit["text"].lower()))
    return sorted(words), ids


def run_clients(
    port: int, token: str, opts: argparse.Namespace, words: list[str], ids: list[str],
    tally: Tally, stop: threading.Event,
) -> list[threading.Thread]:  # fmt: skip
    def one(n: int) -> None:
        rnd = random.Random(n)
        client = Client(port, token, opts.timeout)
        while not stop.is_set():
            if rnd.random() < opts.search_share:
                q = " ".join(rnd.sample(words, rnd.choice((1, 2))))
                route, path = "search", f"/api/search?q={quote(q)}"
            else:
                route, path = "item", _item_path(rnd.choice(ids))
            start = time.perf_counter()
            try:
                status, _ = client.get(path)
            except TimeoutError:
                tally.timeouts.append(path)
                continue
            except (OSError, http.client.HTTPException) as exc:
                tally.errors.append(f"{path}: {exc!r}")
                time.sleep(0.1)
                continue
            took = time.perf_counter() - start
            if status != 200:
                tally.errors.append(f"{path}: HTTP {status}")
                continue
            tally.latency[route].append(took)
            tally.done_at.append(time.monotonic())

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in range(opts.clients)]
    for t in threads:
        t.start()
    return threads


def monitor(port: int, server: psutil.Process, stop: threading.Event, out: dict[str, Any]) -> None:
    samples: list[dict[str, Any]] = []
    health: list[float] = []
    slow = failed = 0
    t0 = time.monotonic()
    while not stop.wait(1.0):
        procs = [server, *server.children(recursive=True)]
        rss = sum(p.memory_info().rss for p in procs if p.is_running())
        cpu = server.cpu_times()
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            took = time.perf_counter() - start
            health.append(took)
            slow += took > 1.0
            failed += not ok
        except OSError:
            failed += 1
            took = None
        samples.append(
            {
                "t": round(time.monotonic() - t0, 1),
                "rss_mb": round(rss / 2**20, 1),
                "cpu_s": round(cpu.user + cpu.system, 1),
                "load1": os.getloadavg()[0],
                "healthz_ms": None if took is None else round(took * 1000, 1),
            }
        )
    out.update(samples=samples, health=health, health_slow=slow, health_failed=failed)


def import_loop(
    env: dict[str, str], root: Path, every: float, stop: threading.Event, out: list[dict]
) -> None:
    """Import a demo archive of another seed every `every` seconds (new runs, new items)."""
    seed = 100
    while not stop.wait(every if out else 5.0):
        seed += 1
        path = root / f"import-{seed}.zip"
        archiver(env, "demo-data", str(path), "--posts", "2000", "--seed", str(seed))
        start = time.monotonic()
        archiver(env, "import", str(path))
        out.append({"seed": seed, "seconds": round(time.monotonic() - start, 1)})


def windows(done_at: list[float], t0: float, duration: float, width: float = 10.0) -> list[int]:
    counts = [0] * max(1, int(duration // width))
    for t in done_at:
        i = int((t - t0) // width)
        if 0 <= i < len(counts):
            counts[i] += 1
    return counts


def _item_path(item_id: str) -> str:
    """The API route of an item, as the UI links it: X's numeric ids in the path, others'
    (AT URIs, status URIs) as a query parameter."""
    if item_id.isdigit():
        return f"/api/items/{item_id}"
    return "/api/item?id=" + quote(item_id, safe="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=600.0, help="Seconds of load.")
    parser.add_argument("--search-share", type=float, default=0.6)
    parser.add_argument("--timeout", type=float, default=10.0, help="Client timeout, seconds.")
    parser.add_argument("--import-every", type=float, default=0.0, help="0 = no imports.")
    parser.add_argument("--posts", type=int, default=3000, help="Posts of the demo archive.")
    parser.add_argument("--source", type=Path, help="Serve the code of this checkout.")
    parser.add_argument(
        "--template", type=Path, help="Build the archive here once; later runs copy it."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary archive.")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--profile", type=Path, help="Also record the server with py-spy (collapsed stacks)."
    )
    opts = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="ui-load-"))
    env = env_for(root, opts.source)
    try:
        t_build = time.monotonic()
        token = prepare(root, env, opts)
        print(f"archive built in {time.monotonic() - t_build:.0f} s in {root}", file=sys.stderr)
        port = free_port()
        server = start_server(env, port)
        try:
            report = measure(opts, env, root, port, token, server)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
    finally:
        if not opts.keep:
            shutil.rmtree(root, ignore_errors=True)
    name = f"ui-load-{opts.clients}x{int(opts.duration)}{'-import' if opts.import_every else ''}"
    out = opts.out or ROOT / "ops" / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "rss_timeline"}, indent=2))
    print(f"written to {out}", file=sys.stderr)


def measure(
    opts: argparse.Namespace, env: dict[str, str], root: Path, port: int, token: str,
    server: subprocess.Popen[bytes],
) -> dict[str, Any]:  # fmt: skip
    words, ids = workload(port, token)
    proc = psutil.Process(server.pid)
    tally, stop, mon, imports = Tally(), threading.Event(), {}, []
    cpu0 = proc.cpu_times()
    rss0 = proc.memory_info().rss
    load0 = os.getloadavg()
    wall0 = time.monotonic()
    helpers = [threading.Thread(target=monitor, args=(port, proc, stop, mon), daemon=True)]
    if opts.import_every:
        helpers.append(
            threading.Thread(
                target=import_loop, args=(env, root, opts.import_every, stop, imports), daemon=True
            )
        )
    for t in helpers:
        t.start()
    spy = None
    if opts.profile:
        spy_bin = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        spy = subprocess.Popen(
            [spy_bin, "record", "--pid", str(server.pid), "--duration", str(int(opts.duration)),
             "--format", "raw", "--output", str(opts.profile), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    clients = run_clients(port, token, opts, words, ids, tally, stop)
    time.sleep(opts.duration)
    stop.set()
    for t in clients:
        t.join(opts.timeout + 5)
    for t in helpers:
        t.join(120)
    if spy is not None:
        try:
            spy.wait(opts.duration + 120)
        except subprocess.TimeoutExpired:
            spy.terminate()
    cpu1 = proc.cpu_times() if proc.is_running() else cpu0
    samples = mon.get("samples", [])
    health = mon.get("health", [])
    everything = tally.latency["search"] + tally.latency["item"]
    return {
        "clients": opts.clients,
        "duration_s": opts.duration,
        "search_share": opts.search_share,
        "client_timeout_s": opts.timeout,
        "imports": imports,
        "requests": len(everything),
        "requests_per_s": round(len(everything) / opts.duration, 1),
        "all": _ms(everything),
        "search": _ms(tally.latency["search"]),
        "item": _ms(tally.latency["item"]),
        "errors": len(tally.errors),
        "error_examples": tally.errors[:5],
        "timeouts": len(tally.timeouts),
        "timeout_examples": tally.timeouts[:5],
        "completed_per_10s": windows(tally.done_at, wall0, opts.duration),
        "healthz": {
            **_ms(health),
            "slower_than_1s": mon.get("health_slow", 0),
            "failed": mon.get("health_failed", 0),
        },
        "rss_mb": {
            "start": round(rss0 / 2**20, 1),
            "max": max((s["rss_mb"] for s in samples), default=0),
            "end": samples[-1]["rss_mb"] if samples else 0,
        },
        "server_cpu_s": round(cpu1.user + cpu1.system - cpu0.user - cpu0.system, 1),
        "server_cpu_share": round(
            (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (time.monotonic() - wall0), 2
        ),
        "load_average": {
            "before": round(load0[0], 2),
            "mean_during": round(sum(s["load1"] for s in samples) / len(samples), 2)
            if samples
            else None,
            "max_during": round(max((s["load1"] for s in samples), default=0), 2),
        },
        "cpu_count": os.cpu_count(),
        "rss_timeline": [s for s in samples if int(s["t"]) % 30 == 0],
    }


if __name__ == "__main__":
    main()
