"""The crash soak: `monitor run` killed with SIGKILL at chosen moments, restarted, repeated.

A growing site (new items every `every` seconds on each source) and a json:// receiver
(a real HTTP server recording POST bodies) run in this process; the daemon is the real
CLI in a subprocess. The killer picks a moment per round:

- random:     any time after start;
- fetch:      while the site is answering a poll (the response is held 20 ms);
- commit:     0-20 ms after a poll's response was written (extract, diff, the commit);
- send:       while the receiver holds a POST it has recorded but not yet answered;
- after-send: 0-5 ms after the receiver answered (before the daemon marks the row sent).

After every kill the database must pass `PRAGMA integrity_check`. At the end the site stops
growing, the daemon drains, and every item that appeared after the baseline must have been
alerted at least once; duplicates are counted against the kills that landed mid-send.

Used by tests/test_soak_kill.py (a handful of kills) and bench/soak_kill.py (100).
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.reliability import QuietServer, Receiver, listing

ROOT = Path(__file__).resolve().parents[1]
MOMENTS = ("random", "fetch", "commit", "send", "after-send")
TITLE = re.compile(r"S(\d+) number (\d+)")
# The page lists this many newest items; a daemon down longer than this many intervals
# would miss items through no fault of its own, so rounds stay far shorter.
LISTED = 200


class GrowingSite:
    """Listing pages /s0, /s1, ... that gain one item each every `every` seconds."""

    def __init__(self, sources: int, start: int = 10, hold: float = 0.02) -> None:
        self.counts = [start] * sources
        self.appeared: dict[tuple[int, int], float] = {}
        self.lock = threading.Lock()
        self.fetching = 0
        self.fetch_started = threading.Condition(self.lock)
        self.fetch_done_at = 0.0
        self.fetch_done = threading.Condition(self.lock)
        self.hold = hold
        self._stop = threading.Event()
        self._grower: threading.Thread | None = None
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                match = re.fullmatch(r"/s(\d+)", self.path)
                if not match or int(match.group(1)) >= len(site.counts):
                    self.send_error(404)
                    return
                index = int(match.group(1))
                with site.lock:
                    site.fetching += 1
                    site.fetch_started.notify_all()
                    count = site.counts[index]
                body = listing(range(max(1, count - LISTED + 1), count + 1), f"s{index}").encode()
                time.sleep(site.hold)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass
                finally:
                    with site.lock:
                        site.fetching -= 1
                        site.fetch_done_at = time.monotonic()
                        site.fetch_done.notify_all()

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/s{index}"

    def grow(self, every: float) -> None:
        """Start adding an item to every source each `every` seconds."""

        def run() -> None:
            while not self._stop.wait(every):
                with self.lock:
                    for index in range(len(self.counts)):
                        self.counts[index] += 1
                        self.appeared[(index, self.counts[index])] = time.time()

        self._grower = threading.Thread(target=run, daemon=True)
        self._grower.start()

    def stop_growing(self) -> None:
        self._stop.set()
        if self._grower is not None:
            self._grower.join()

    def close(self) -> None:
        self.stop_growing()
        self.server.shutdown()
        self.server.server_close()


class SlowReceiver(Receiver):
    """The json:// receiver, holding each POST `hold` seconds after recording it, and
    telling the killer when a POST is held and when it was answered."""

    def __init__(self, hold: float) -> None:
        self.held = 0
        self.answered_at = 0.0
        self.signal = threading.Condition()
        outer = self

        def behaviour(n: int) -> tuple[int, dict[str, str], float]:
            return 200, {}, 0.0

        super().__init__(behaviour=behaviour)
        handler = self.server.RequestHandlerClass
        original = handler.do_POST  # type: ignore[attr-defined]

        def do_post(request: BaseHTTPRequestHandler) -> None:
            # Record first (as a service would show the message), then hold, then answer.
            with outer.signal:
                outer.held += 1
                outer.signal.notify_all()
            try:
                time.sleep(hold)
                original(request)
            finally:
                with outer.signal:
                    outer.held -= 1
                    outer.answered_at = time.monotonic()
                    outer.signal.notify_all()

        handler.do_POST = do_post  # type: ignore[attr-defined]

    def alerted(self) -> Counter[tuple[int, int]]:
        """How many times each (source, item) reached the receiver."""
        seen: Counter[tuple[int, int]] = Counter()
        for text in self.texts():
            for source, number in TITLE.findall(text):
                seen[(int(source), int(number))] += 1
        return seen

    def repeats(self) -> int:
        """POSTs that carried an item an earlier POST had already carried."""
        seen: set[tuple[str, str]] = set()
        count = 0
        for text in self.texts():
            found = set(TITLE.findall(text))
            count += bool(found & seen)
            seen |= found
        return count

    def quiet(self, timeout: float = 10.0) -> None:
        """Wait until no POST is held (a killed sender's last one is answered)."""
        with self.signal:
            self.signal.wait_for(lambda: self.held == 0, timeout)


@dataclass
class Round:
    moment: str
    # The kill could have interrupted a send (a POST held, or answered a moment before).
    mid_send: bool
    integrity: str
    uptime: float


@dataclass
class SoakResult:
    rounds: list[Round] = field(default_factory=list)
    appeared: int = 0
    alerted: int = 0
    lost: list[tuple[int, int]] = field(default_factory=list)
    duplicates: int = 0
    # POSTs that repeated an item already delivered (one in-flight message per mid-send kill).
    repeated_posts: int = 0
    posts: int = 0
    seconds: float = 0.0
    drain_seconds: float = 0.0
    log_tail: str = ""

    @property
    def kills(self) -> int:
        return len(self.rounds)

    @property
    def mid_send(self) -> int:
        return sum(r.mid_send for r in self.rounds)

    @property
    def integrity_failures(self) -> int:
        return sum(r.integrity != "ok" for r in self.rounds)

    def summary(self) -> str:
        moments = Counter(r.moment for r in self.rounds)
        return "\n".join(
            [
                f"kills: {self.kills} ({', '.join(f'{m} {moments[m]}' for m in MOMENTS)})",
                f"kills that landed mid-send: {self.mid_send}",
                f"integrity_check after each kill: {self.kills - self.integrity_failures} ok,"
                f" {self.integrity_failures} failed",
                f"items appeared after the baseline: {self.appeared}",
                f"items alerted at least once: {self.alerted}",
                f"lost: {len(self.lost)}",
                f"duplicate alerts (items delivered twice): {self.duplicates},"
                f" in {self.repeated_posts} repeated messages",
                f"POSTs received: {self.posts}",
                f"wall time: {self.seconds:.0f} s (final drain {self.drain_seconds:.1f} s)",
            ]
        )


def write_soak_config(directory: Path, site: GrowingSite, receiver: Receiver, sources: int) -> Path:
    tables = "".join(
        f'[[sources]]\nname = "s{i}"\nurl = "{site.url(i)}"\n[sources.rule]\nitem = "li.item"\n'
        for i in range(sources)
    )
    path = directory / "monitor.toml"
    path.write_text(
        f'database = "state.db"\ninterval = "1s"\n{tables}'
        f'[channels.hook]\nurls = ["{receiver.url("/hook")}"]\nevents = ["new"]\n',
        encoding="utf-8",
    )
    return path


class Daemon:
    """`monitor run` in a subprocess, its log appended to a file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(self.config), "run"],
                stdout=out,
                stderr=out,
                env=env,
                cwd=self.config.parent,
            )
        self.started = time.monotonic()

    def kill(self) -> float:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        return time.monotonic() - self.started

    def stop(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


def integrity(database: Path) -> str:
    conn = sqlite3.connect(database)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def baselined(database: Path, sources: int) -> bool:
    if not database.exists():
        return False
    conn = sqlite3.connect(database)
    try:
        row = conn.execute("SELECT count(*) FROM sources WHERE last_success IS NOT NULL").fetchone()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return bool(row and row[0] >= sources)


def _wait(condition: threading.Condition, ready: Callable[[], bool], timeout: float) -> bool:
    with condition:
        return condition.wait_for(ready, timeout)


def kill_at(moment: str, site: GrowingSite, receiver: SlowReceiver, rng: random.Random) -> bool:
    """Wait for the moment; True when it came (else the kill is a random one)."""
    if moment == "random":
        time.sleep(rng.uniform(0.2, 3.0))
        return True
    if moment == "fetch":
        time.sleep(rng.uniform(0.0, 1.0))
        return _wait(site.fetch_started, lambda: site.fetching > 0, 10)
    if moment == "commit":
        time.sleep(rng.uniform(0.0, 1.0))
        mark = site.fetch_done_at
        if not _wait(site.fetch_done, lambda: site.fetch_done_at > mark, 10):
            return False
        time.sleep(rng.uniform(0.0, 0.02))
        return True
    if moment == "send":
        return _wait(receiver.signal, lambda: receiver.held > 0, 15)
    if moment == "after-send":
        mark = receiver.answered_at
        if not _wait(receiver.signal, lambda: receiver.answered_at > mark, 15):
            return False
        time.sleep(rng.uniform(0.0, 0.005))
        return True
    raise ValueError(moment)


def kill_soak(
    workdir: Path,
    kills: int,
    *,
    seed: int = 1,
    sources: int = 2,
    every: float = 1.0,
    hold: float = 0.2,
    drain: float = 120.0,
    report: Callable[[str], None] = lambda line: None,
) -> SoakResult:
    """Run the soak in `workdir`; see the module docstring."""
    rng = random.Random(seed)
    site = GrowingSite(sources)
    receiver = SlowReceiver(hold)
    config = write_soak_config(workdir, site, receiver, sources)
    database = workdir / "state.db"
    daemon = Daemon(config, workdir / "daemon.log")
    result = SoakResult()
    started = time.monotonic()
    try:
        daemon.start()
        deadline = time.monotonic() + 60
        while not baselined(database, sources):
            if time.monotonic() > deadline:
                raise RuntimeError("the daemon never recorded its baseline")
            time.sleep(0.05)
        site.grow(every)
        for number in range(kills):
            moment = MOMENTS[number % len(MOMENTS)] if number < len(MOMENTS) else None
            moment = moment or rng.choice(MOMENTS)
            came = kill_at(moment, site, receiver, rng)
            with receiver.signal:
                mid_send = receiver.held > 0 or time.monotonic() - receiver.answered_at < 0.05
            uptime = daemon.kill()
            check = integrity(database)
            receiver.quiet()
            result.rounds.append(Round(moment if came else "random", mid_send, check, uptime))
            report(
                f"kill {number + 1}/{kills}: {moment if came else 'random (moment missed)'}"
                f" after {uptime:.2f} s{', mid-send' if mid_send else ''}; integrity {check}"
            )
            daemon.start()
        site.stop_growing()
        expected = set(site.appeared)
        drain_start = time.monotonic()
        while time.monotonic() - drain_start < drain:
            if expected <= set(receiver.alerted()):
                break
            time.sleep(0.2)
        result.drain_seconds = time.monotonic() - drain_start
        daemon.stop()
        seen = receiver.alerted()
        result.appeared = len(expected)
        result.alerted = len(expected & set(seen))
        result.lost = sorted(expected - set(seen))
        result.duplicates = sum(n - 1 for n in seen.values() if n > 1)
        result.repeated_posts = receiver.repeats()
        result.posts = len(receiver.posts)
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()
        site.close()
        receiver.close()
        result.seconds = time.monotonic() - started
        log = (workdir / "daemon.log").read_text(encoding="utf-8", errors="replace")
        result.log_tail = "\n".join(log.splitlines()[-40:])
    return result
