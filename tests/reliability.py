"""Shared pieces of the reliability suite: listing pages, configs, an alert receiver.

Imported by the tests and by the bench scripts (bench/soak_kill.py, bench/soak_long.py,
bench/hostile.py); nothing here starts anything on import.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ITEM_RULE = 'item = "li.item"'


def listing(numbers: Iterable[int], prefix: str = "story") -> str:
    """A listing page with one `li.item` per number, newest (highest) first."""
    rows = "".join(
        f'<li class="item"><a href="/{prefix}/{n}">{prefix.title()} number {n}</a></li>'
        for n in sorted(numbers, reverse=True)
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>News</title></head>"
        f"<body><ul class='list'>{rows}</ul></body></html>"
    )


def html_source(name: str, url: str, interval: str | None = None, extra: str = "") -> str:
    """A [[sources]] table with the listing rule."""
    every = f'interval = "{interval}"\n' if interval else ""
    return (
        f'[[sources]]\nname = "{name}"\nurl = "{url}"\n{every}{extra}[sources.rule]\n{ITEM_RULE}\n'
    )


def write_config(directory: Path, body: str, database: str = "state.db") -> Path:
    path = directory / "monitor.toml"
    path.write_text(f'database = "{database}"\n{body}', encoding="utf-8")
    return path


class QuietServer(ThreadingHTTPServer):
    """A threaded server that does not print a traceback when a client hangs up (the
    reliability tests kill clients on purpose)."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


@dataclass
class Received:
    path: str
    body: dict[str, object]
    at: float


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records the POST bodies Apprise's json:// plugin
    sends. `behaviour(n)` may return (status, headers, delay) for the n-th POST (from 0)."""

    posts: list[Received] = field(default_factory=list)
    behaviour: Callable[[int], tuple[int, dict[str, str], float]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with receiver.lock:
                    attempt = receiver.attempts
                    receiver.attempts += 1
                status, headers, delay = (
                    receiver.behaviour(attempt) if receiver.behaviour else (200, {}, 0.0)
                )
                if delay:
                    time.sleep(delay)
                if status < 300:
                    try:
                        body = json.loads(raw or b"{}")
                    except ValueError:
                        body = {"raw": raw.decode("utf-8", "replace")}
                    with receiver.lock:
                        receiver.posts.append(Received(self.path, body, time.time()))
                payload = b"{}"
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(payload)

        self.attempts = 0
        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/alerts") -> str:
        """The Apprise URL of this receiver (json:// posts to http://host:port/path)."""
        return f"json://127.0.0.1:{self.port}{path}"

    def bodies(self) -> list[dict[str, object]]:
        with self.lock:
            return [p.body for p in self.posts]

    def texts(self) -> list[str]:
        """Title and body of each accepted POST, joined."""
        return [f"{b.get('title', '')}\n{b.get('message', '')}" for b in self.bodies()]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
