"""Delivery through Apprise to real local services: retries, order, outages, holds, limits."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.alerts.clock import next_digest, quiet_until, zone
from monitor.alerts.notify import DeliveryReport, deliver_due, route_events
from monitor.alerts.outbox import iso, retry, unsent
from monitor.alerts.targets import Target
from monitor.config.settings import parse_settings
from monitor.models import Event, Item, Message, Settings
from monitor.pipeline.store import Store
from tests.receivers import Webhook, webhook

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def make_settings(tmp_path: Path, channels: str) -> Settings:
    text = f"""
database = "{tmp_path / "monitor.db"}"

[[sources]]
name = "s"
url = "https://example.org/news/"
kind = "feed"

{channels}
"""
    return parse_settings(text, str(tmp_path / "monitor.toml"), environ={})


def events(*titles: str) -> list[Event]:
    return [
        Event(
            "new",
            "s",
            iso(T0),
            Item(key=t, url=f"https://example.org/news/{t}", title=t, section="Politics"),
        )
        for t in titles
    ]


def queue(store: Store, settings: Settings, batch: list[Event], at: datetime = T0) -> None:
    """What check_source does after a poll: events and their outbox rows in one commit."""
    store.record_unchanged(
        "s", "https://example.org/news/", "feed", iso(at), 200, batch, route_events(settings)(batch)
    )


def deliver(settings: Settings, store: Store, now: datetime, **kwargs: object) -> DeliveryReport:
    return asyncio.run(deliver_due(settings, store, now=now, **kwargs))  # type: ignore[arg-type]


def titles(hook: Webhook) -> list[list[str]]:
    """The item titles each received message carried, message by message."""
    return [[line for line in m.split("\n") if line.startswith("E")] for m in hook.messages()]


@pytest.mark.parametrize("fault", ["error", "hang", "down"])
def test_failing_channel_recovers_each_alert_once_in_order_without_blocking_others(
    tmp_path: Path, hooks: list[Webhook], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="monitor")
    healthy = webhook(hooks)
    broken = webhook(hooks, fault)
    broken.hang_seconds = 2.0
    settings = make_settings(
        tmp_path,
        f'[channels.healthy]\nurls = ["{healthy.url()}"]\n'
        f'[channels.broken]\nurls = ["{broken.url(timeout=0.5)}"]\n',
    )
    store = Store.open(settings.database)

    queue(store, settings, events("E1", "E2", "E3"))
    first = deliver(settings, store, T0)
    assert first.messages == 1 and first.sent == 3 and first.retrying == 3
    assert titles(healthy) == [["E1", "E2", "E3"]]

    # The next poll's alerts reach the healthy channel; the broken one waits for its backoff.
    queue(store, settings, events("E4", "E5"), T0 + timedelta(seconds=10))
    second = deliver(settings, store, T0 + timedelta(seconds=10))
    assert titles(healthy) == [["E1", "E2", "E3"], ["E4", "E5"]]
    assert second.held == 5 and second.retrying == 0

    # Past the backoff and still broken: tried again, logged once for the whole outage.
    third = deliver(settings, store, T0 + timedelta(hours=1))
    assert third.retrying == 5
    failures = [r for r in caplog.records if "delivery failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].levelno == logging.WARNING
    assert "'broken'" in failures[0].getMessage()

    # It recovers: everything it missed, once, in order, in one message.
    if fault == "down":
        broken.start()
    broken.mode = "ok"
    fourth = deliver(settings, store, T0 + timedelta(hours=3))
    assert fourth.messages == 1 and fourth.sent == 5
    assert titles(broken) == [["E1", "E2", "E3", "E4", "E5"]]
    assert any("delivers again" in r.getMessage() for r in caplog.records)

    # Nothing more to send, ever.
    assert deliver(settings, store, T0 + timedelta(days=2)) == DeliveryReport()
    assert unsent(store) == []
    assert titles(healthy) == [["E1", "E2", "E3"], ["E4", "E5"]]
    assert len(broken.messages()) == 1


def test_gives_up_after_the_deadline_and_retry_brings_it_back(
    tmp_path: Path, hooks: list[Webhook], caplog: pytest.LogCaptureFixture
) -> None:
    hook = webhook(hooks, "error")
    settings = make_settings(
        tmp_path, f'[channels.ops]\nurls = ["{hook.url()}"]\ngive_up_after = "1h"\n'
    )
    store = Store.open(settings.database)
    queue(store, settings, events("E1"))
    assert deliver(settings, store, T0).retrying == 1
    late = deliver(settings, store, T0 + timedelta(hours=2))
    assert late.failed == 1 and late.retrying == 0
    [entry] = unsent(store)
    assert entry.status == "failed" and entry.attempts == 2
    assert "error=500" in (entry.last_error or "")
    assert any("gave up on 1 alerts" in r.getMessage() for r in caplog.records)
    # A failed row is not tried again by itself...
    assert deliver(settings, store, T0 + timedelta(days=3)) == DeliveryReport()
    # ...but `monitor outbox retry` does.
    hook.mode = "ok"
    assert retry(store, T0 + timedelta(days=3)) == 1
    assert deliver(settings, store, T0 + timedelta(days=3), force=True).sent == 1
    assert titles(hook) == [["E1"]]
    assert unsent(store) == []


def test_max_attempts(tmp_path: Path, hooks: list[Webhook]) -> None:
    hook = webhook(hooks, "error")
    settings = make_settings(
        tmp_path, f'[channels.ops]\nurls = ["{hook.url()}"]\nmax_attempts = 2\n'
    )
    store = Store.open(settings.database)
    queue(store, settings, events("E1"))
    assert deliver(settings, store, T0).retrying == 1
    assert deliver(settings, store, T0 + timedelta(hours=1)).failed == 1
    assert [e.status for e in unsent(store)] == ["failed"]


class Crash(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def test_crash_between_send_and_mark_repeats_at_most_that_message(
    tmp_path: Path, hooks: list[Webhook]
) -> None:
    hook = webhook(hooks)
    settings = make_settings(
        tmp_path, f'[channels.ops]\nurls = ["{hook.url()}"]\nformat = "telegram-html"\n'
    )
    store = Store.open(settings.database)
    many = [f"E{i:02d} " + "x" * 150 for i in range(60)]
    queue(store, settings, events(*many))
    sent: list[Message] = []

    def crash_on_second(target: Target, message: Message) -> None:
        sent.append(message)
        if len(sent) == 2:
            raise Crash

    with pytest.raises(Crash):
        deliver(settings, store, T0, after_send=crash_on_second)
    first = sent[0].count
    statuses = [e.status for e in unsent(store)]
    assert statuses == ["pending"] * (60 - first)  # the first message's rows are marked

    report = deliver(settings, store, T0)
    assert report.sent == 60 - first
    received = hook.messages()
    # The second message went out twice (once before the crash, once after); nothing else.
    assert received[1] == received[2]
    assert len(received) == len(set(received)) + 1
    delivered = [
        line
        for m in received[:1] + received[2:]
        for line in m.split("\n")
        if line.startswith("<b>E")
    ]
    assert [d[3:6] for d in delivered] == [t[:3] for t in many]
    assert unsent(store) == []


def test_quiet_hours_hold_delivery_until_they_end(tmp_path: Path, hooks: list[Webhook]) -> None:
    hook = webhook(hooks)
    settings = make_settings(
        tmp_path,
        f'[channels.night]\nurls = ["{hook.url()}"]\n'
        'quiet_hours = "23:00-07:00"\ntimezone = "Europe/Minsk"\n',
    )
    store = Store.open(settings.database)
    night = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)  # 00:30 in Minsk (UTC+3)
    queue(store, settings, events("E1"), night)
    held = deliver(settings, store, night)
    assert held.held == 1 and held.next_due == "2026-11-25T04:00:00+00:00"
    assert hook.messages() == []
    assert deliver(settings, store, datetime(2026, 11, 25, 4, 0, tzinfo=UTC)).sent == 1
    assert titles(hook) == [["E1"]]


def test_digest_collects_everything_since_the_last_one(
    tmp_path: Path, hooks: list[Webhook]
) -> None:
    hook = webhook(hooks)
    settings = make_settings(
        tmp_path,
        f'[channels.daily]\nurls = ["{hook.url()}"]\ndigest = "08:00"\ntimezone = "Europe/Minsk"\n',
    )
    store = Store.open(settings.database)
    queue(store, settings, events("E1", "E2"), T0)  # 13:00 in Minsk
    queue(store, settings, events("E3"), T0 + timedelta(hours=6))
    held = deliver(settings, store, T0 + timedelta(hours=7))
    assert held.held == 3 and held.next_due == "2026-11-25T05:00:00+00:00"
    assert deliver(settings, store, datetime(2026, 11, 25, 5, 0, tzinfo=UTC)).messages == 1
    assert titles(hook) == [["E1", "E2", "E3"]]
    # What comes next waits for the next morning.
    queue(store, settings, events("E4"), datetime(2026, 11, 25, 5, 30, tzinfo=UTC))
    assert deliver(settings, store, datetime(2026, 11, 25, 12, 0, tzinfo=UTC)).held == 1
    assert deliver(settings, store, datetime(2026, 11, 26, 5, 0, tzinfo=UTC)).sent == 1
    assert titles(hook) == [["E1", "E2", "E3"], ["E4"]]


def test_rate_limit_spaces_messages_and_drops_nothing(tmp_path: Path, hooks: list[Webhook]) -> None:
    hook = webhook(hooks)
    settings = make_settings(
        tmp_path,
        f'[channels.slow]\nurls = ["{hook.url()}"]\nrate_limit = 1\nformat = "telegram-html"\n',
    )
    store = Store.open(settings.database)
    queue(store, settings, events(*(f"E{i:02d} " + "x" * 150 for i in range(40))))
    first = deliver(settings, store, T0)
    assert first.messages == 1 and first.held > 0
    assert first.next_due is not None
    due = datetime.fromisoformat(first.next_due)
    assert timedelta(seconds=55) <= due - T0 <= timedelta(seconds=61)
    # Before the minute is up nothing more goes out; after it, the next message.
    assert deliver(settings, store, T0 + timedelta(seconds=30)).messages == 0
    rounds = 1
    while unsent(store):
        due = datetime.fromisoformat(deliver(settings, store, due).next_due or iso(due))
        rounds += 1
    assert rounds == len(hook.messages())
    lines = [line for m in hook.messages() for line in m.split("\n") if line.startswith("<b>E")]
    assert len(lines) == 40


def test_alerts_for_a_channel_no_longer_configured_are_kept(
    tmp_path: Path, hooks: list[Webhook], caplog: pytest.LogCaptureFixture
) -> None:
    hook = webhook(hooks)
    settings = make_settings(tmp_path, f'[channels.old]\nurls = ["{hook.url()}"]\n')
    store = Store.open(settings.database)
    queue(store, settings, events("E1"))
    without = make_settings(tmp_path, "")
    assert deliver(without, store, T0) == DeliveryReport(held=1)
    assert deliver(without, store, T0 + timedelta(minutes=1)) == DeliveryReport(held=1)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["channel 'old': 1 alerts wait for it, but it is no longer configured"]
    assert [e.channel for e in unsent(store)] == ["old"]
    assert deliver(settings, store, T0).sent == 1


def test_two_processes_delivering_at_once_send_each_alert_once(
    tmp_path: Path, hooks: list[Webhook]
) -> None:
    # `monitor check` run by hand while `monitor run` sends: two connections, one database.
    hook = webhook(hooks, "slow")
    settings = make_settings(tmp_path, f'[channels.ops]\nurls = ["{hook.url(timeout=5)}"]\n')
    setup = Store.open(settings.database)
    queue(setup, settings, events("E1", "E2"))
    setup.close()
    start = threading.Barrier(2)
    reports: list[DeliveryReport] = []

    def one_process() -> None:
        store = Store.open(settings.database)
        start.wait()
        reports.append(deliver(settings, store, T0))
        store.close()

    threads = [threading.Thread(target=one_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.sent for r in reports) == [0, 2]
    assert titles(hook) == [["E1", "E2"]]


def test_rows_claimed_by_a_live_process_wait_and_a_dead_ones_are_taken_over(
    tmp_path: Path, hooks: list[Webhook]
) -> None:
    hook = webhook(hooks)
    settings = make_settings(tmp_path, f'[channels.ops]\nurls = ["{hook.url()}"]\n')
    store = Store.open(settings.database)
    queue(store, settings, events("E1"))
    host = socket.gethostname()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    later = iso(datetime.now(UTC) + timedelta(minutes=5))
    for owner, sent in ((f"{host}:1", 0), (f"{host}:{dead.pid}", 1)):  # pid 1 always runs
        store.conn.execute("UPDATE outbox SET claimed_by = ?, claimed_until = ?", (owner, later))
        assert deliver(settings, store, T0).sent == sent
    assert titles(hook) == [["E1"]]


def test_urls_from_an_apprise_config_file(tmp_path: Path, hooks: list[Webhook]) -> None:
    hook = webhook(hooks)
    (tmp_path / "apprise.yml").write_text(f"urls:\n  - {hook.url()}\n", encoding="utf-8")
    settings = make_settings(tmp_path, '[channels.file]\nconfig = "apprise.yml"\n')
    assert settings.channels[0].config == str(tmp_path / "apprise.yml")
    store = Store.open(settings.database)
    queue(store, settings, events("E1"))
    assert deliver(settings, store, T0).sent == 1
    assert titles(hook) == [["E1"]]


@pytest.mark.parametrize(
    ("window", "now", "until"),
    [
        ("23:00-07:00", "2026-11-24T19:59:00+00:00", None),  # 22:59 in Minsk
        ("23:00-07:00", "2026-11-24T20:59:00+00:00", "2026-11-25T04:00:00+00:00"),  # 23:59
        ("23:00-07:00", "2026-11-24T20:00:00+00:00", "2026-11-25T04:00:00+00:00"),  # 23:00
        ("23:00-07:00", "2026-11-25T03:59:00+00:00", "2026-11-25T04:00:00+00:00"),  # 06:59
        ("23:00-07:00", "2026-11-25T04:00:00+00:00", None),  # 07:00
        ("12:00-13:00", "2026-11-24T09:30:00+00:00", "2026-11-24T10:00:00+00:00"),  # 12:30
    ],
)
def test_quiet_until(window: str, now: str, until: str | None) -> None:
    result = quiet_until(window, zone("Europe/Minsk"), datetime.fromisoformat(now))
    assert (iso(result) if result else None) == until


def test_next_digest() -> None:
    tz = zone("Europe/Minsk")
    assert iso(next_digest("08:00", tz, datetime(2026, 11, 24, 4, 0, tzinfo=UTC))) == (
        "2026-11-24T05:00:00+00:00"
    )
    assert iso(next_digest("08:00", tz, datetime(2026, 11, 24, 5, 0, tzinfo=UTC))) == (
        "2026-11-25T05:00:00+00:00"
    )
