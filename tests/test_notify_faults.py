"""Notifier faults: a channel that hangs, one rate-limited (429), one with wrong credentials,
one that fails for ever; each next to a healthy channel that must keep receiving.

Real services on 127.0.0.1: json:// receivers (tests/reliability.Receiver) and a stand-in of
the Telegram Bot API that Apprise's real Telegram plugin posts to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.notify import DeliveryReport, deliver_due, retry_after_hint, route_events
from monitor.alerts.outbox import iso, parse_iso, unsent
from monitor.config.settings import parse_settings
from monitor.models import Event, Item, Settings
from monitor.pipeline.status import read_status
from monitor.pipeline.store import Store
from tests.conftest import run_monitor
from tests.reliability import QuietServer, Receiver
from tests.soak import ROOT, GrowingSite

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TOKEN = "123456789:AAFakeTokenForTests_abcdefghijklmnopq"


class TelegramFaults:
    """The Bot API's sendMessage, answering what `answer` says (ok, 429, 401)."""

    def __init__(self) -> None:
        self.answer = "ok"
        self.retry_after = 600
        self.texts: list[str] = []
        self.attempts = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                stand_in.attempts += 1
                status, body = stand_in.reply(payload)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def reply(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.answer == "429":
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {self.retry_after}",
                "parameters": {"retry_after": self.retry_after},
            }
        if self.answer == "401":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        self.texts.append(str(payload.get("text")))
        return 200, {"ok": True, "result": {"message_id": len(self.texts), "chat": {"id": 1}}}

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramFaults]:
    from apprise.plugins.telegram import NotifyTelegram

    stand_in = TelegramFaults()
    monkeypatch.setattr(NotifyTelegram, "notify_url", stand_in.api)
    yield stand_in
    stand_in.close()


@pytest.fixture
def healthy() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def settings_with(tmp_path: Path, channels: str) -> Settings:
    text = (
        f'database = "{tmp_path / "monitor.db"}"\n'
        '[[sources]]\nname = "s"\nurl = "https://example.org/news/"\nkind = "feed"\n'
        f"{channels}"
    )
    return parse_settings(text, str(tmp_path / "monitor.toml"), environ={})


def queue(store: Store, settings: Settings, titles: list[str], at: datetime) -> None:
    batch = [
        Event("new", "s", iso(at), Item(key=t, url=f"https://example.org/{t}", title=t))
        for t in titles
    ]
    store.record_unchanged(
        "s", "https://example.org/news/", "feed", iso(at), 200, batch, route_events(settings)(batch)
    )


def deliver(settings: Settings, store: Store, now: datetime) -> DeliveryReport:
    return asyncio.run(deliver_due(settings, store, now=now))


def received_titles(receiver: Receiver) -> list[str]:
    return [line for text in receiver.texts() for line in text.split("\n") if line.startswith("E")]


def two_channels(tmp_path: Path, healthy: Receiver) -> Settings:
    return settings_with(
        tmp_path,
        f'[channels.tg]\nurls = ["tgram://{TOKEN}/-1001234567890"]\n'
        f'[channels.ok]\nurls = ["{healthy.url()}"]\n',
    )


def test_retry_after_hint_reads_what_services_say():
    assert retry_after_hint("tg: Too Many Requests: retry after 35, error=429.") == 35
    assert retry_after_hint("Retry-After: 120") == 120
    assert retry_after_hint("error=500") is None
    assert (
        retry_after_hint("retry after 99999999") is None
        or retry_after_hint("retry after 9999999") == 86400
    )


def test_a_rate_limited_channel_waits_as_long_as_the_service_asks(
    tmp_path: Path, telegram: TelegramFaults, healthy: Receiver
):
    telegram.answer = "429"
    telegram.retry_after = 600
    settings = two_channels(tmp_path, healthy)
    store = Store.open(settings.database)
    queue(store, settings, ["E1", "E2"], T0)

    first = deliver(settings, store, T0)

    assert (first.sent, first.retrying) == (2, 2)
    assert received_titles(healthy) == ["E1", "E2"]
    waiting = [e for e in unsent(store) if e.channel == "tg"]
    assert {e.status for e in waiting} == {"pending"}
    # Telegram said 600 s; the backoff alone would have tried again after about 30 s.
    assert all(parse_iso(e.next_attempt) >= T0 + timedelta(seconds=600) for e in waiting)
    assert "retry after 600" in (waiting[0].last_error or "")

    # Five minutes on it is not asked again; after the ten it is, and takes both alerts.
    attempts = telegram.attempts
    assert deliver(settings, store, T0 + timedelta(minutes=5)).held == 2
    assert telegram.attempts == attempts
    telegram.answer = "ok"
    assert deliver(settings, store, T0 + timedelta(minutes=11)).sent == 2
    assert len(telegram.texts) == 1 and "E1" in telegram.texts[0] and "E2" in telegram.texts[0]
    assert unsent(store) == []
    store.close()


def test_wrong_credentials_are_reported_once_per_outage_in_the_log_and_in_status(
    tmp_path: Path,
    telegram: TelegramFaults,
    healthy: Receiver,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG, logger="monitor")
    telegram.answer = "401"
    settings = two_channels(tmp_path, healthy)
    store = Store.open(settings.database)

    # Ten polls' alerts over ten hours: every round tries (past the backoff) and fails.
    for hour in range(10):
        now = T0 + timedelta(hours=hour)
        queue(store, settings, [f"E{hour}"], now)
        deliver(settings, store, now)

    assert telegram.attempts >= 5
    assert received_titles(healthy) == [f"E{h}" for h in range(10)]
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and "'tg'" in r.getMessage()
    ]
    assert len(warnings) == 1, warnings
    assert "Unauthorized" in warnings[0]
    assert all(TOKEN not in r.getMessage() for r in caplog.records)

    [problem] = read_status(settings, None).channels
    assert (problem.channel, problem.failing_since) == ("tg", iso(T0))
    assert "Unauthorized" in (problem.last_error or "")
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'database = "{settings.database}"\n'
        '[[sources]]\nname = "s"\nurl = "https://example.org/news/"\nkind = "feed"\n'
        f'[channels.tg]\nurls = ["tgram://{TOKEN}/-1001234567890"]\n'
        f'[channels.ok]\nurls = ["{healthy.url()}"]\n',
        encoding="utf-8",
    )
    shown = run_monitor("status", config=config)
    lines = [line for line in shown.stdout.splitlines() if line.startswith("channel ")]
    assert len(lines) == 1 and lines[0].startswith("channel 'tg' (")
    assert "Unauthorized" in lines[0] and TOKEN not in shown.stdout

    # The token is fixed: everything waiting arrives, once, and the problem is gone.
    telegram.answer = "ok"
    assert deliver(settings, store, T0 + timedelta(days=1)).sent == 10
    assert len(telegram.texts) == 1 and all(f"E{h}" in telegram.texts[0] for h in range(10))
    assert read_status(settings, None).channels == ()
    assert sum("delivers again" in r.getMessage() for r in caplog.records) == 1
    store.close()


def fault(kind: str) -> Any:
    """A json:// receiver behaviour: 429 with Retry-After, 401, 500, or a 30 s hang."""

    def behaviour(n: int) -> tuple[int, dict[str, str], float]:
        if kind == "429":
            return 429, {"Retry-After": "3600"}, 0.0
        if kind == "401":
            return 401, {"WWW-Authenticate": "Bearer"}, 0.0
        if kind == "500":
            return 500, {}, 0.0
        return 200, {}, 30.0  # hang: answers long after Apprise gave up

    return behaviour


def test_the_daemon_delivers_to_the_healthy_channel_whatever_the_others_do(tmp_path: Path):
    site = GrowingSite(1)
    healthy = Receiver()
    broken = {kind: Receiver(behaviour=fault(kind)) for kind in ("hang", "429", "401", "500")}
    channels = f'[channels.healthy]\nurls = ["{healthy.url()}"]\nevents = ["new"]\n'
    for kind, receiver in broken.items():
        # rto/cto: Apprise's own socket timeouts for this URL (the hang is cut at 1 s).
        url = receiver.url() + "?rto=1&cto=1"
        give_up = "max_attempts = 1\n" if kind == "500" else ""
        channels += f'[channels.c{kind}]\nurls = ["{url}"]\nevents = ["new"]\n{give_up}'
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'database = "state.db"\ninterval = "1s"\n'
        f'[[sources]]\nname = "s0"\nurl = "{site.url(0)}"\n[sources.rule]\nitem = "li.item"\n'
        + channels,
        encoding="utf-8",
    )
    log = tmp_path / "daemon.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdout=out,
            stderr=out,
            env=env,
        )
    try:
        deadline = time.monotonic() + 60
        while "s0: baseline" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        site.grow(0.5)
        while len(healthy.posts) < 3:
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        site.stop_growing()
        # Everything that appeared reaches the healthy channel, failing neighbours or not.
        appeared = {f"S0 number {n}" for _, n in site.appeared}
        while not appeared <= {t for text in healthy.texts() for t in appeared if t in text}:
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        # SIGTERM: the last flush is bounded (the hanging channel does not hold the exit).
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        site.close()
        healthy.close()
        for receiver in broken.values():
            receiver.close()

    text = log.read_text(errors="replace")
    assert "Traceback" not in text
    for kind in broken:
        failures = [
            line for line in text.splitlines() if f"'c{kind}'" in line and "WARNING" in line
        ]
        assert len(failures) == 1, (kind, failures)

    shown = run_monitor("outbox", "--json", config=config)
    rows = json.loads(shown.stdout)
    by_channel: dict[str, set[str]] = {}
    for row in rows:
        by_channel.setdefault(row["channel"], set()).add(row["status"])
    assert by_channel == {
        "chang": {"pending"},
        "c429": {"pending"},
        "c401": {"pending"},
        "c500": {"failed"},
    }
    # The first alert tried carries the reason; later ones wait behind it, untried.
    assert {row["channel"] for row in rows if row["last_error"]} == set(by_channel)
    status = run_monitor("status", config=config).stdout
    failing = sorted(
        line.split("'")[1] for line in status.splitlines() if line.startswith("channel")
    )
    assert failing == ["c401", "c429", "c500", "chang"]
