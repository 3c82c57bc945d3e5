"""Real services on 127.0.0.1 that alerts are delivered to: a JSON webhook whose behaviour a
test switches (accept, answer 500, hang, refuse connections), and a stand-in of the
Telegram Bot API."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    body: dict[str, Any]


@dataclass
class Webhook:
    """Apprise's json:// target posts here. `mode`: ok, slow (ok after `slow_seconds`),
    error (500), hang, or down (no server listening: connections are refused)."""

    port: int
    mode: str = "ok"
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # How long a hanging request is held before the connection is dropped.
    hang_seconds: float = 3.0
    # Set once a request is being held.
    hanging: bool = False
    slow_seconds: float = 0.3

    def url(self, *, timeout: float = 1.0) -> str:
        return f"json://127.0.0.1:{self.port}/hook?rto={timeout}&cto={timeout}"

    def start(self) -> Webhook:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                mode = hook.mode
                if mode == "hang":
                    hook.hanging = True
                    time.sleep(hook.hang_seconds)
                    self.close_connection = True
                    return
                if mode == "slow":
                    time.sleep(hook.slow_seconds)
                if mode == "error":
                    self._answer(500, {"error": "internal"})
                    return
                with hook.lock:
                    hook.received.append(Received(self.path, json.loads(body)))
                self._answer(200, {"ok": True})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def messages(self) -> list[str]:
        with self.lock:
            return [r.body["message"] for r in self.received]


class TelegramStandIn:
    """Answers sendMessage like the Bot API does and keeps every request."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                with stand_in.lock:
                    stand_in.requests.append(Received(self.path, payload))
                answer = {
                    "ok": True,
                    "result": {"message_id": len(stand_in.requests), "chat": {"id": 1}},
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhook(hooks: list[Webhook], mode: str = "ok") -> Webhook:
    """A webhook receiver on a free port, started unless `mode` is "down", stopped with the
    test's `hooks` fixture."""
    from tests.conftest import free_port

    hook = Webhook(free_port(), mode=mode)
    if mode != "down":
        hook.start()
    hooks.append(hook)
    return hook
