"""Run `monitor run` as a real subprocess and watch what it does."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Waiting for something the daemon does: long enough for a loaded CI machine.
PATIENCE = 20.0


def listing(titles: Sequence[str]) -> str:
    """A section page: one <article> per title, newest first."""
    articles = "\n".join(
        f'<article><a href="/news/{title.lower().replace(" ", "-")}">{title}</a></article>'
        for title in titles
    )
    return f"<!doctype html><html><body><main>\n{articles}\n</main></body></html>"


def config_text(
    sources: Sequence[tuple[str, str, str]],
    *,
    channel: str | None = None,
    extra: str = "",
) -> str:
    """A config: (name, url, interval) html sources with item = "article"."""
    lines = ['database = "monitor.db"', 'user_agent = "news-monitor-test"', extra]
    for name, url, interval in sources:
        lines += [
            "[[sources]]",
            f'name = "{name}"',
            f'url = "{url}"',
            f'interval = "{interval}"',
            "[sources.rule]",
            'item = "article"',
        ]
    if channel:
        lines += ["[channels.local]", f'urls = ["{channel}"]']
    return "\n".join(lines) + "\n"


def write_config(
    folder: Path,
    sources: Sequence[tuple[str, str, str]],
    *,
    channel: str | None = None,
    extra: str = "",
) -> Path:
    path = folder / "monitor.toml"
    path.write_text(config_text(sources, channel=channel, extra=extra), encoding="utf-8")
    return path


def wait_until(check: Callable[[], Any], what: str, log: Callable[[], str] = str) -> Any:
    """Poll `check` until it returns something truthy; fail with the daemon's log if it
    never does."""
    deadline = time.monotonic() + PATIENCE
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n--- daemon log ---\n{log()}")
        time.sleep(0.05)


class DaemonProcess:
    """`monitor --config CONFIG run` in a subprocess; its stderr goes to a log file."""

    def __init__(self, config: Path, env: dict[str, str] | None = None) -> None:
        self.config = config
        inherited = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
        self.env = {**inherited, **(env or {})}
        self.log_path = config.parent / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DaemonProcess:
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "-v", "--config", str(self.config), "run"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, text: str, after: int = 0) -> int:
        """Wait until `text` is in the log (after offset `after`); returns where it ends."""

        def found() -> int:
            if not self.alive:
                raise AssertionError(f"daemon exited while waiting for {text!r}:\n{self.log()}")
            at = self.log().find(text, after)
            return at + len(text) if at >= 0 else 0

        return int(wait_until(found, repr(text), self.log))

    def wait(self, check: Callable[[], Any], what: str) -> Any:
        return wait_until(check, what, self.log)

    def reload(self) -> None:
        os.kill(self.pid, signal.SIGHUP)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(PATIENCE)


@contextmanager
def read_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only look at the daemon's database while it runs."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        yield conn
    finally:
        conn.close()


def db_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with read_db(path) as conn:
        try:
            rows = conn.execute(
                "SELECT source, kind, title, detail FROM events ORDER BY id"
            ).fetchall()
        except sqlite3.OperationalError:
            return []
    return [dict(zip(("source", "kind", "title", "detail"), row, strict=True)) for row in rows]


def outbox_counts(path: Path) -> dict[str, int]:
    with read_db(path) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status"))


class Receiver:
    """A local HTTP endpoint for Apprise's json:// channel; records every POSTed body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size)
                with receiver.lock:
                    receiver.bodies.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/"

    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.bodies)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
