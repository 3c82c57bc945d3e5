"""Per-URL delivery: every Apprise URL of a channel has its own sent state and its own retry
schedule. Real Apprise posting to real receivers on 127.0.0.1; the real CLI for what a
user reads (`monitor outbox`, `monitor status`, `monitor outbox retry`)."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.alerts.notify import DeliveryReport, deliver_due, route_events
from monitor.alerts.outbox import iso, parse_iso, unsent
from monitor.config.settings import load_settings
from monitor.models import Event, Item, Settings
from monitor.pipeline.store import MIGRATIONS, Store
from tests.conftest import ROOT, Site, run_monitor
from tests.receivers import Webhook, webhook

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PASSWORD = "hook-password-not-for-logs"


def secret_url(hook: Webhook, timeout: float = 0.5) -> str:
    """The hook's URL with a password, which only the privacy form may show (hidden)."""
    return hook.url(timeout=timeout).replace("json://", f"json://news:{PASSWORD}@")


def configure(tmp_path: Path, channel: str) -> tuple[Path, Settings]:
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'database = "{tmp_path / "monitor.db"}"\n'
        '[[sources]]\nname = "s"\nurl = "https://example.org/news/"\nkind = "feed"\n' + channel,
        encoding="utf-8",
    )
    return config, load_settings(config)


def queue(store: Store, settings: Settings, at: datetime, *titles: str) -> None:
    """What a poll does: its events and the alerts they owe, in one commit."""
    batch = [
        Event("new", "s", iso(at), Item(key=t, url=f"https://example.org/news/{t}", title=t))
        for t in titles
    ]
    store.record_unchanged(
        "s", "https://example.org/news/", "feed", iso(at), 200, batch, route_events(settings)(batch)
    )


def deliver(settings: Settings, store: Store, now: datetime) -> DeliveryReport:
    return asyncio.run(deliver_due(settings, store, now=now))


def titles(hook: Webhook) -> list[list[str]]:
    """The alerts each received message carried, message by message."""
    return [[line for line in m.split("\n") if line.startswith("E")] for m in hook.messages()]


def url_states(config: Path) -> list[list[tuple[str, str]]]:
    """Per outbox row, (URL as shown, status) from `monitor outbox --json`."""
    shown = run_monitor("outbox", "--json", config=config)
    assert shown.returncode == 0, shown.stderr
    assert PASSWORD not in shown.stdout
    return [[(u["url"], u["status"]) for u in row["urls"]] for row in json.loads(shown.stdout)]


def test_a_dead_url_never_delays_its_neighbour_and_gets_each_alert_once_when_back(
    tmp_path: Path, hooks: list[Webhook]
) -> None:
    healthy = webhook(hooks)
    dead = webhook(hooks, "down")
    config, settings = configure(
        tmp_path, f'[channels.news]\nurls = ["{healthy.url()}", "{secret_url(dead)}"]\n'
    )
    store = Store.open(settings.database)

    queue(store, settings, T0, "E1", "E2")
    first = deliver(settings, store, T0)
    assert titles(healthy) == [["E1", "E2"]]
    assert (first.messages, first.sent, first.retrying) == (1, 0, 2)

    # While the dead URL backs off, every new alert reaches the healthy one at once.
    for seconds, title in ((5, "E3"), (10, "E4"), (15, "E5")):
        now = T0 + timedelta(seconds=seconds)
        queue(store, settings, now, title)
        report = deliver(settings, store, now)
        assert (report.messages, report.held) == (1, seconds // 5 + 2)
        assert titles(healthy)[-1] == [title]
    # The outbox shows each URL's own state, the dead one in privacy form.
    dead_shown = f"json://news:****@127.0.0.1:{dead.port}/hook"
    healthy_shown = f"json://127.0.0.1:{healthy.port}/hook"
    assert url_states(config) == [
        sorted([(healthy_shown, "sent"), (dead_shown, "pending")]),
        sorted([(healthy_shown, "sent"), (dead_shown, "pending")]),
        [(healthy_shown, "sent")],  # the dead URL waits behind E1, untried
        [(healthy_shown, "sent")],
        [(healthy_shown, "sent")],
    ]
    status = run_monitor("status", config=config)
    assert "outbox: 5 pending, 0 failed" in status.stdout
    assert f"channel 'news' ({dead_shown}): failing since" in status.stdout
    assert PASSWORD not in status.stdout

    # It comes back: everything it missed, once, in order, in one message; the healthy URL
    # gets nothing again.
    dead.start()
    back = deliver(settings, store, T0 + timedelta(hours=1))
    assert (back.messages, back.sent) == (1, 5)
    assert titles(dead) == [["E1", "E2", "E3", "E4", "E5"]]
    assert titles(healthy) == [["E1", "E2"], ["E3"], ["E4"], ["E5"]]
    assert deliver(settings, store, T0 + timedelta(days=1)) == DeliveryReport()
    assert unsent(store) == []
    assert len(dead.messages()) == 1 and len(healthy.messages()) == 4
    store.close()


def test_each_url_retries_on_its_own_schedule(tmp_path: Path, hooks: list[Webhook]) -> None:
    flaky = webhook(hooks, "error")
    dead = webhook(hooks, "down")
    _, settings = configure(
        tmp_path, f'[channels.news]\nurls = ["{flaky.url()}", "{dead.url(timeout=0.5)}"]\n'
    )
    store = Store.open(settings.database)
    queue(store, settings, T0, "E1")
    # Five rounds, each past both backoffs: the dead URL fails five times...
    now = T0
    for _ in range(5):
        assert deliver(settings, store, now).retrying == 1
        now += timedelta(hours=1)
    # ...the flaky one too, then works: it gets the alert, the dead URL keeps failing.
    flaky.mode = "ok"
    deliver(settings, store, now)
    assert titles(flaky) == [["E1"]]

    # A new alert: the flaky URL fails once more. Its next try follows its own first
    # failure on this alert (30 s +-25 %), not the dead URL's sixth (16 min +-25 %), which
    # holds the dead URL's queue.
    flaky.mode = "error"
    queue(store, settings, now, "E2")
    report = deliver(settings, store, now)
    assert (report.retrying, report.held) == (1, 2)
    [e1, e2] = unsent(store)
    flaky_label, dead_label = flaky.url().split("?")[0], dead.url().split("?")[0]
    assert [(u.label, u.status) for u in e1.urls] == sorted(
        [(flaky_label, "sent"), (dead_label, "pending")]
    )
    [dead_state] = [u for u in e1.urls if u.label == dead_label]
    dead_next = parse_iso(dead_state.next_attempt or "")
    assert dead_next - now >= timedelta(minutes=12)
    assert e1.next_attempt == iso(dead_next)  # only the dead URL owes E1
    [flaky_state] = e2.urls  # the dead URL has not tried E2: it waits behind E1
    flaky_next = parse_iso(flaky_state.next_attempt or "")
    assert timedelta(seconds=22) <= flaky_next - now <= timedelta(seconds=38)

    flaky.mode = "ok"
    soon = now + timedelta(minutes=1)
    report = deliver(settings, store, soon)
    assert titles(flaky) == [["E1"], ["E2"]]
    assert (report.messages, report.held) == (1, 2)  # the dead URL still waits
    assert {e.status for e in unsent(store)} == {"pending"}
    store.close()


def test_a_url_that_gives_up_leaves_the_others_alone_and_retry_brings_back_only_it(
    tmp_path: Path, hooks: list[Webhook]
) -> None:
    healthy = webhook(hooks)
    dead = webhook(hooks, "error")
    config, settings = configure(
        tmp_path,
        f'[channels.news]\nurls = ["{healthy.url()}", "{secret_url(dead)}"]\nmax_attempts = 2\n',
    )
    store = Store.open(settings.database)
    queue(store, settings, T0, "E1")
    assert deliver(settings, store, T0).retrying == 1
    given_up = deliver(settings, store, T0 + timedelta(hours=1))
    assert (given_up.failed, given_up.retrying) == (1, 0)
    store.close()

    listing = run_monitor("outbox", config=config)
    [row] = [line for line in listing.stdout.splitlines() if "failed" in line]
    assert f"json://news:****@127.0.0.1:{dead.port}/hook: Failed to send JSON" in row
    assert f"127.0.0.1:{healthy.port}" not in row  # the healthy URL owes nothing
    assert PASSWORD not in listing.stdout
    assert "outbox: 0 pending, 1 failed" in run_monitor("status", config=config).stdout

    dead.mode = "ok"
    retried = run_monitor("outbox", "retry", config=config)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert retried.stdout.startswith("1 alerts retried: 1 messages sent (1 alerts)")
    assert titles(dead) == [["E1"]] and titles(healthy) == [["E1"]]
    assert run_monitor("outbox", config=config).stdout.startswith("Outbox empty")


def test_a_killed_sender_repeats_at_most_the_message_in_flight(
    site: Site, tmp_path: Path, hooks: list[Webhook]
) -> None:
    healthy = webhook(hooks)
    hanging = webhook(hooks, "hang")
    hanging.hang_seconds = 30
    teaser = '<li class="item"><a href="/n/{n}">E{n} story</a></li>'
    listing = "<html><body><ul>{}</ul></body></html>"
    url = site.set("/news/", listing.format(teaser.format(n=1)))
    config = tmp_path / "monitor.toml"
    config.write_text(
        'database = "state.db"\n'
        f'[[sources]]\nname = "s"\nurl = "{url}"\n[sources.rule]\nitem = "li.item"\n'
        f'[channels.news]\nurls = ["{healthy.url()}", "{hanging.url(timeout=25)}"]\n',
        encoding="utf-8",
    )
    assert run_monitor("check", config=config).returncode == 0  # baseline
    site.set("/news/", listing.format(teaser.format(n=2) + teaser.format(n=1)))

    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "check"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The healthy URL took the alert and it is recorded; the other holds its request.
        deadline = time.monotonic() + 30
        while not (hanging.hanging and _sent_to_one_url(tmp_path / "state.db")):
            assert time.monotonic() < deadline, "the sender never got that far"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    hanging.mode = "ok"
    again = run_monitor("check", config=config)
    assert again.returncode == 0, again.stderr
    assert titles(hanging) == [["E2 story"]]
    assert titles(healthy) == [["E2 story"]]
    assert run_monitor("outbox", config=config).stdout.startswith("Outbox empty")


def _sent_to_one_url(db: Path) -> bool:
    if not db.exists():
        return False
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    try:
        return bool(conn.execute("SELECT 1 FROM deliveries WHERE status = 'sent'").fetchone())
    except sqlite3.OperationalError:  # not migrated yet, or locked
        return False
    finally:
        conn.close()


def test_an_upgraded_database_keeps_what_was_sent_and_what_was_told(
    tmp_path: Path, hooks: list[Webhook]
) -> None:
    first, second = webhook(hooks), webhook(hooks)
    _, settings = configure(
        tmp_path, f'[channels.news]\nurls = ["{first.url()}", "{second.url()}"]\n'
    )
    # A database written by the previous version: E1 taken by the first URL only, and the
    # unique key that said "E1 is told as new".
    from sqlite_utils import Database

    conn = sqlite3.connect(settings.database, isolation_level=None)
    for number, migration in enumerate(MIGRATIONS[:3], start=1):
        migration(Database(conn))
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute(
        "INSERT INTO events (id, at, source, kind, key, url, title, paywalled)"
        " VALUES (1, ?, 's', 'new', 'E1', 'https://example.org/news/E1', 'E1', 0)",
        (iso(T0),),
    )
    from monitor.alerts.targets import load_plugins, targets

    first_id = targets(settings.channels[0], load_plugins(settings.channels[0]))[0].id
    conn.execute(
        "INSERT INTO outbox (event_id, channel, dedupe, created, next_attempt, delivered)"
        " VALUES (1, 'news', 'new:https://example.org/news/E1', ?, ?, ?)",
        (iso(T0), iso(T0), first_id),
    )
    conn.close()

    store = Store.open(settings.database)
    # The same article listed by another source is not new to the channel.
    again = Event(
        "new", "feed", iso(T0), Item(key="g1", url="https://example.org/news/E1", title="E1")
    )
    store.record_unchanged(
        "feed",
        "https://example.org/feed",
        "feed",
        iso(T0),
        200,
        [again],
        route_events(settings)([again]),
    )
    report = deliver(settings, store, T0)
    assert (report.messages, report.sent) == (1, 1)
    assert titles(first) == [] and titles(second) == [["E1"]]
    assert unsent(store) == []
    store.close()


def test_removing_a_dead_url_from_the_channel_ends_what_it_owed(
    tmp_path: Path, hooks: list[Webhook]
) -> None:
    healthy = webhook(hooks)
    dead = webhook(hooks, "down")
    config, settings = configure(
        tmp_path, f'[channels.news]\nurls = ["{healthy.url()}", "{dead.url(timeout=0.5)}"]\n'
    )
    store = Store.open(settings.database)
    queue(store, settings, T0, "E1", "E2")
    assert deliver(settings, store, T0).retrying == 2
    _, fixed = configure(tmp_path, f'[channels.news]\nurls = ["{healthy.url()}"]\n')
    assert deliver(fixed, store, T0 + timedelta(minutes=1)) == DeliveryReport(sent=2)
    assert titles(healthy) == [["E1", "E2"]]
    assert unsent(store) == []
    # What is sent can be pruned with the URLs' states.
    assert store.prune_events(iso(T0 + timedelta(days=1))) == 2
    assert store.conn.execute("SELECT count(*) FROM deliveries").fetchone() == (0,)
    store.close()
    assert "outbox: 0 pending, 0 failed" in run_monitor("status", config=config).stdout
