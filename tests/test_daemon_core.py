"""The daemon on the application core: its loop never waits on SQLite, a reload keeps one
secret filter per log handler, and `sources add/remove` write through a symlinked config."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.alerts.targets import SecretFilter
from monitor.app import Monitor
from monitor.cli import cli
from monitor.cli.main import protect_logs, setup_logging
from monitor.daemon.runner import Daemon
from monitor.demo import FIRST_PAGE
from monitor.demo import page as sample_page
from tests.conftest import Site
from tests.daemon_helpers import Receiver, listing, write_config

SECRET = "hunter2-channel-password"


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """setup_logging replaces the root handlers; give pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def channel_config(folder: Path, url: str, channels: dict[str, str]) -> Path:
    path = write_config(folder, [("a", url, "1h")])
    text = path.read_text(encoding="utf-8")
    for name, target in channels.items():
        text += f'[channels.{name}]\nurls = ["{target}"]\n'
    path.write_text(text, encoding="utf-8")
    return path


def test_reloading_the_config_keeps_one_secret_filter_that_hides_every_secret(
    site: Site, tmp_path: Path, root_logging: logging.Logger
):
    setup_logging(verbose=0, quiet=False)
    url = site.set("/a", listing(["One"]))
    first = f"json://user:{SECRET}@127.0.0.1:9/"
    config = channel_config(tmp_path, url, {"hook": first})
    monitor = Monitor.open(config, on_load=protect_logs)
    daemon = Daemon(monitor, deliver=False)

    async def reload_times(n: int) -> None:
        for _ in range(n):
            await daemon.reload()

    asyncio.run(reload_times(5))
    # A reload that brings a channel with another secret.
    second = "json://user:another-channel-secret@127.0.0.1:9/"
    channel_config(tmp_path, url, {"hook": first, "other": second})
    asyncio.run(reload_times(3))

    (handler,) = root_logging.handlers
    filters = [f for f in handler.filters if isinstance(f, SecretFilter)]
    assert len(filters) == 1
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%s and %s", (first, second), None)
    assert filters[0].filter(record)
    assert record.getMessage() == "json://user:***@127.0.0.1:9/ and json://user:***@127.0.0.1:9/"


def test_sources_add_and_remove_write_through_a_symlinked_config(site: Site, tmp_path: Path):
    (tmp_path / "etc").mkdir()
    real = write_config(tmp_path / "etc", [("a", site.set("/a", listing(["One"])), "1h")])
    link_folder = tmp_path / "home"
    link_folder.mkdir()
    link = link_folder / "monitor.toml"
    link.symlink_to(real)
    page = site.set("/b", sample_page(FIRST_PAGE))
    add = ["sources", "add", page, "--name", "b", "--profile", "pozirk", "--yes"]

    added = CliRunner().invoke(cli, ["--config", str(link), *add])
    assert added.exit_code == 0, added.output
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert 'name = "b"' in real.read_text(encoding="utf-8")

    removed = CliRunner().invoke(cli, ["--config", str(link), "sources", "remove", "a"])
    assert removed.exit_code == 0, removed.output
    assert link.is_symlink() and link.resolve() == real.resolve()
    text = real.read_text(encoding="utf-8")
    assert ('name = "a"' in text, 'name = "b"' in text) == (False, True)
    assert sorted(p.name for p in link_folder.iterdir()) == ["monitor.toml"]


class Watchdog:
    """A stand-in of systemd's notify socket that records when each WATCHDOG=1 came."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.pings: list[float] = []
        self.running = True
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while self.running:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            if b"WATCHDOG=1" in data:
                self.pings.append(time.monotonic())

    def gaps(self, start: float, end: float) -> list[float]:
        times = [start, *(t for t in self.pings if start < t < end), end]
        return [b - a for a, b in itertools.pairwise(times)]

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def test_a_write_lock_held_by_another_process_stalls_no_poll_delivery_or_watchdog(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    hold = 3.0
    receiver = Receiver()
    watchdog = Watchdog(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", str(watchdog.path))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # a ping every 0.1 s
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    urls = [site.set(f"/{name}", listing([f"{name} one"])) for name in ("a", "b")]
    config = write_config(
        tmp_path, [("a", urls[0], "1s"), ("b", urls[1], "1s")], channel=receiver.url
    )
    monitor = Monitor.open(config)
    store = monitor.store

    async def scenario() -> tuple[float, float, float]:
        daemon = Daemon(monitor)
        running = asyncio.create_task(daemon.run())
        while not all(store.source_state(n).last_success for n in ("a", "b")):
            await asyncio.sleep(0.05)
        holder = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            LOCK_HOLDER,
            monitor.settings.database,
            str(hold),
            stdout=asyncio.subprocess.PIPE,
        )
        assert holder.stdout is not None
        assert await holder.stdout.readline() == b"locked\n"
        locked_at = time.monotonic()
        site.set("/a", listing(["a two", "a one"]))
        # How late the loop runs a 50 ms sleep while the lock is held.
        worst = 0.0
        while time.monotonic() < locked_at + hold - 0.2:
            before = time.monotonic()
            await asyncio.sleep(0.05)
            worst = max(worst, time.monotonic() - before - 0.05)
        await holder.wait()
        released_at = time.monotonic()
        while not receiver.received():
            assert time.monotonic() < released_at + 20, "the alert never came"
            await asyncio.sleep(0.05)
        daemon.stop()
        assert await running == 0
        return worst, locked_at, released_at

    try:
        worst, locked_at, released_at = asyncio.run(scenario())
        gaps = watchdog.gaps(locked_at, released_at)
    finally:
        monitor.close()
        watchdog.close()
        receiver.close()
    assert worst < 0.3, f"the event loop stalled {worst:.2f} s"
    assert max(gaps) < 0.5, f"watchdog pings stopped for {max(gaps):.2f} s"
    (alert,) = receiver.received()
    assert "a two" in alert["title"] + alert["message"]
