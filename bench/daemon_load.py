"""`monitor run` with many sources against a local server: how the first polls are spread,
how long the first round takes, the daemon's memory and CPU, and how fast it stops.

    .venv/bin/python bench/daemon_load.py [SOURCES] [SECONDS]
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ARTICLES = 30


def page(n: int, round_: int) -> bytes:
    items = "".join(
        f'<article><a href="/a/{n}-{round_}-{i}">Story {n}.{round_}.{i}</a></article>'
        for i in range(ARTICLES)
    )
    return f"<!doctype html><html><body>{items}</body></html>".encode()


def serve(hits: list[float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            hits.append(time.monotonic())
            n = int(self.path.strip("/").split("/")[-1])
            body = page(n, 0)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def polled(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(
            "SELECT count(*) FROM sources WHERE last_success IS NOT NULL"
        ).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    hits: list[float] = []
    server = serve(hits)
    port = server.server_address[1]
    folder = Path(tempfile.mkdtemp(prefix="daemon-load-"))
    lines = ['database = "monitor.db"', "per_host_concurrency = 16", "concurrency = 16"]
    for n in range(count):
        lines += [
            "[[sources]]",
            f'name = "s{n}"',
            f'url = "http://127.0.0.1:{port}/p/{n}"',
            'interval = "10m"',
            "[sources.rule]",
            'item = "article"',
        ]
    config = folder / "monitor.toml"
    config.write_text("\n".join(lines) + "\n")
    log = (folder / "daemon.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    db = folder / "monitor.db"
    while polled(db) < count and time.monotonic() - started < seconds + 60:
        time.sleep(0.2)
    first_round = time.monotonic() - started
    done = polled(db)
    time.sleep(1)
    cpu, rss = cpu_seconds(proc.pid), rss_mb(proc.pid)
    per_second = Counter(int(t - hits[0]) for t in hits)
    stop = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(60)
    stopped = time.monotonic() - stop
    server.shutdown()
    print(f"sources: {count}, polled in the first round: {done}")
    print(f"first round done {first_round:.1f} s after start (incl. interpreter start-up)")
    spread = max(hits) - hits[0]
    print(f"first polls spread over {spread:.1f} s, at most {max(per_second.values())} a second")
    print(f"daemon CPU for start-up + first round: {cpu:.1f} s; RSS {rss:.0f} MB")
    print(f"SIGTERM to exit: {stopped:.2f} s, exit status {code}")


if __name__ == "__main__":
    main()
