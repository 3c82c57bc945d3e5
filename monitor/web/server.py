"""Serving the web view with uvicorn, in `monitor serve` or inside the daemon's loop.

The socket is bound before uvicorn starts, so a port in use or a bad address is a clear
error of ours (uvicorn would exit the process). Inside the daemon, uvicorn leaves the
signals alone: the daemon stops it on SIGTERM with everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from typing import TYPE_CHECKING

from monitor.models import MonitorError
from monitor.web.listen import parse_listen

if TYPE_CHECKING:
    import uvicorn

    from monitor.app import Monitor
    from monitor.web.app import Liveness
    from monitor.web.metrics import PollStats

log = logging.getLogger("monitor.web")


class ListenError(MonitorError):
    """The web view cannot listen where it was asked to."""


def bind(listen: str) -> socket.socket:
    """A listening socket on HOST:PORT. Raises ListenError."""
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise ListenError(str(exc)) from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ListenError(f"cannot listen on {listen}: {exc}") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    return sock


def _server_class(own_signals: bool) -> type[uvicorn.Server]:
    import uvicorn

    if own_signals:
        return uvicorn.Server

    class QuietServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            # The daemon owns SIGTERM, SIGINT and SIGHUP.
            yield

    return QuietServer


def make_server(
    monitor: Monitor,
    *,
    liveness: Liveness,
    stats: PollStats | None = None,
    own_signals: bool = True,
) -> uvicorn.Server:
    import uvicorn

    from monitor.web.app import WebContext, build

    app = build(WebContext(monitor=monitor, liveness=liveness, stats=stats))
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return _server_class(own_signals)(config)


def daemon_liveness(monitor: Monitor) -> Liveness:
    """For `monitor serve`: a daemon must hold the database's pid file."""

    async def alive() -> tuple[bool, str]:
        pid = await asyncio.to_thread(monitor.daemon_pid)
        if pid is None:
            return False, f"no monitor daemon runs on {monitor.settings.database}"
        return True, f"daemon running (pid {pid})"

    return alive


async def serve(server: uvicorn.Server, sock: socket.socket) -> None:
    """Serve until `server.should_exit` (or a signal, for a server that owns them)."""
    try:
        await server.serve(sockets=[sock])
    finally:
        sock.close()
