"""Long run: `monitor run` against 500 sources that change at a steady rate, sampled.

    .venv/bin/python bench/soak_long.py                  # 60 minutes
    .venv/bin/python bench/soak_long.py --minutes 15 --sources 500 --rate 2

A local site serves `--sources` listing pages; every 1/`--rate` seconds one of them (in
turn) gains an item. The daemon polls each page every `--interval` and alerts a json://
receiver. Every `--sample` seconds the script records the daemon's RSS (/proc/PID/status),
its open file descriptors (/proc/PID/fd), the database size (file + WAL) and the rows in
items and events. At the end it prints the samples and checks that memory levelled off
(growth over the second half at most 5 %), that no descriptor leaked, and that the database
grew with the items only (events are pruned by `keep_events`, short here on purpose).

Everything runs on 127.0.0.1; the work directory is bench/out/soak_long/.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability import QuietServer, Receiver, listing  # noqa: E402

LISTED = 30
TITLE = re.compile(r"P(\d+) number (\d+)")


class ChangingSite:
    """`sources` listing pages; `tick()` adds an item to the next page in turn."""

    def __init__(self, sources: int, start: int = LISTED) -> None:
        self.counts = [start] * sources
        self.appeared = 0
        self.next = 0
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                match = re.fullmatch(r"/p(\d+)", self.path)
                if not match or int(match.group(1)) >= len(site.counts):
                    self.send_error(404)
                    return
                index = int(match.group(1))
                with site.lock:
                    count = site.counts[index]
                body = listing(range(count - LISTED + 1, count + 1), f"p{index}").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/p{index}"

    def tick(self) -> None:
        with self.lock:
            self.counts[self.next] += 1
            self.next = (self.next + 1) % len(self.counts)
            self.appeared += 1

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Sample:
    at: float
    rss_kb: int
    fds: int
    db_bytes: int
    items: int
    events: int
    alerts: int


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def count(database: Path, table: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def db_bytes(database: Path) -> int:
    return sum(p.stat().st_size for p in database.parent.glob(database.name + "*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--rate", type=float, default=2.0, help="new items per second, in all")
    parser.add_argument("--interval", default="60s", help="poll interval of every source")
    parser.add_argument("--keep-events", default="10m", help="the daemon's keep_events")
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "soak_long")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)

    site = ChangingSite(args.sources)
    receiver = Receiver()
    tables = "".join(
        f'[[sources]]\nname = "p{i}"\nurl = "{site.url(i)}"\n[sources.rule]\nitem = "li.item"\n'
        for i in range(args.sources)
    )
    config = args.out / "monitor.toml"
    config.write_text(
        f'database = "state.db"\ninterval = "{args.interval}"\n'
        f'keep_events = "{args.keep_events}"\nper_host_concurrency = 16\n{tables}'
        f'[channels.hook]\nurls = ["{receiver.url("/hook")}"]\nevents = ["new"]\n',
        encoding="utf-8",
    )
    database = args.out / "state.db"
    log = (args.out / "daemon.log").open("wb")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=log,
        stderr=log,
        env=env,
    )
    samples: list[Sample] = []
    stop = threading.Event()

    def grow() -> None:
        # Items start appearing once every source has its baseline.
        while not stop.is_set() and count(database, "sources") < args.sources:
            time.sleep(1)
        while not stop.wait(1 / args.rate):
            site.tick()

    grower = threading.Thread(target=grow, daemon=True)
    grower.start()
    started = time.monotonic()
    end = started + args.minutes * 60
    print(f"daemon pid {daemon.pid}; {args.sources} sources every {args.interval};", end=" ")
    print(f"{args.rate:g} new items/s; keep_events {args.keep_events}; {args.minutes:g} min")
    print(
        f"{'min':>6} {'RSS MB':>8} {'fds':>5} {'DB MB':>7} {'items':>7} {'events':>7} {'alerts':>7}"
    )
    try:
        while time.monotonic() < end and daemon.poll() is None:
            sample = Sample(
                at=time.monotonic() - started,
                rss_kb=rss_kb(daemon.pid),
                fds=len(os.listdir(f"/proc/{daemon.pid}/fd")),
                db_bytes=db_bytes(database),
                items=count(database, "items"),
                events=count(database, "events"),
                alerts=len(receiver.posts),
            )
            samples.append(sample)
            print(
                f"{sample.at / 60:6.1f} {sample.rss_kb / 1024:8.1f} {sample.fds:5d}"
                f" {sample.db_bytes / 1e6:7.2f} {sample.items:7d} {sample.events:7d}"
                f" {sample.alerts:7d}",
                flush=True,
            )
            time.sleep(max(0.0, min(args.sample, end - time.monotonic())))
    finally:
        stop.set()
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(120)
        else:
            code = daemon.returncode
        site.close()
        receiver.close()
        log.close()

    half = [s for s in samples if s.at >= samples[-1].at / 2]
    first = [s for s in samples if s.at < samples[-1].at / 2]
    mid, last = half[0], samples[-1]
    growth = (max(s.rss_kb for s in half) - mid.rss_kb) / mid.rss_kb * 100
    fd_first, fd_second = max(s.fds for s in first), max(s.fds for s in half)
    base_items = args.sources * LISTED
    new_items = last.items - base_items
    per_item = (last.db_bytes - half[0].db_bytes) / max(1, last.items - half[0].items)
    text = (args.out / "daemon.log").read_text(errors="replace")
    pruned = sum(int(n) for n in re.findall(r"dropped (\d+) events", text))
    tracebacks = text.count("Traceback")
    print()
    print(
        f"ran {last.at / 60:.1f} min; daemon exit status {code}; {tracebacks} tracebacks in its log"
    )
    print(
        f"RSS: {mid.rss_kb / 1024:.1f} MB at half time, {last.rss_kb / 1024:.1f} MB at the end,"
        f" at most {max(s.rss_kb for s in half) / 1024:.1f} MB in the second half:"
        f" growth {growth:+.1f} % (limit 5 %)"
    )
    print(f"open descriptors: at most {fd_first} in the first half, {fd_second} in the second")
    print(
        f"items: {last.items} ({new_items} new since the baseline); events now {last.events},"
        f" {pruned} pruned by keep_events; alerts received {last.alerts}"
    )
    print(
        f"database: {last.db_bytes / 1e6:.2f} MB; second half grew"
        f" {(last.db_bytes - half[0].db_bytes) / 1e6:+.2f} MB for"
        f" {last.items - half[0].items} new items ({per_item:.0f} bytes per item)"
    )
    ok = growth <= 5.0 and fd_second <= fd_first + 2 and tracebacks == 0 and code == 0
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
