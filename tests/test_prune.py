"""keep_events: the daemon drops old event history, never an alert still owed, never items."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from monitor.app import Monitor
from monitor.config.settings import load_settings, parse_settings
from monitor.daemon.runner import Daemon
from monitor.models import ConfigError, Event, Item
from monitor.pipeline.store import OutboxRow, Store


def item(n: int) -> Item:
    return Item(key=f"k{n}", url=f"https://x.test/{n}", title=f"T{n}")


def record(store: Store, at: str, n: int, status: str | None) -> None:
    """One poll at `at` with a new item n; its alert (if any) ends as `status`."""
    event = Event(kind="new", source="s", at=at, item=item(n))
    outbox = [OutboxRow(0, "tg", f"d{n}")] if status else []
    store.commit_check(
        name="s",
        url="https://x.test/",
        kind="html",
        now=at,
        status=200,
        etag=None,
        last_modified=None,
        body_hash=str(n),
        listed=[item(n)],
        gone=[],
        events=[event],
        outbox=outbox,
        item_count=1,
        health=None,
    )
    if status and status != "pending":
        store.conn.execute("UPDATE outbox SET status = ? WHERE dedupe = ?", (status, f"d{n}"))


def history(store: Store) -> list[tuple[str, str | None]]:
    return store.conn.execute(
        "SELECT e.title, o.status FROM events e LEFT JOIN outbox o ON o.event_id = e.id"
        " ORDER BY e.id"
    ).fetchall()


def test_old_events_go_with_their_finished_alerts_and_pending_ones_stay(tmp_path: Path):
    store = Store.open(tmp_path / "m.db")
    record(store, "2026-01-01T00:00:00+00:00", 1, "sent")
    record(store, "2026-01-02T00:00:00+00:00", 2, "failed")
    record(store, "2026-01-03T00:00:00+00:00", 3, "pending")
    record(store, "2026-01-04T00:00:00+00:00", 4, None)
    record(store, "2026-06-01T00:00:00+00:00", 5, "sent")

    assert store.prune_events("2026-03-01T00:00:00+00:00", batch=1) == 3

    assert history(store) == [("T3", "pending"), ("T5", "sent")]
    # Items are the monitor's memory of what it has seen: never pruned.
    assert store.count_items() == 5
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    store.close()


def config(tmp_path: Path, line: str = "") -> str:
    return f'{line}\n[[sources]]\nurl = "https://example.org/"\n[sources.rule]\nitem = "li"\n'


def test_keep_events_setting(tmp_path: Path):
    file = str(tmp_path / "m.toml")
    assert parse_settings(config(tmp_path), file, environ={}).keep_events == 90 * 86400
    forever = parse_settings(config(tmp_path, 'keep_events = "forever"'), file, environ={})
    assert forever.keep_events is None
    assert parse_settings(
        config(tmp_path, 'keep_events = "30d"'), file, environ={}
    ).keep_events == (30 * 86400)
    with pytest.raises(ConfigError) as info:
        parse_settings(config(tmp_path, 'keep_events = "soon"'), file, environ={})
    assert info.value.key == "keep_events"


def test_the_daemon_prunes_by_its_setting(tmp_path: Path):
    path = tmp_path / "monitor.toml"
    path.write_text('database = "m.db"\nkeep_events = "1d"\n' + config(tmp_path), encoding="utf-8")
    settings = load_settings(path)
    store = Store.open(settings.database)
    record(store, "2020-01-01T00:00:00+00:00", 1, "sent")
    record(store, "2999-01-01T00:00:00+00:00", 2, "sent")

    def daemon(keep: float | None) -> Daemon:
        return Daemon(
            Monitor(dataclasses.replace(settings, keep_events=keep), store), deliver=False
        )

    assert asyncio.run(daemon(None).prune_events()) == 0
    assert asyncio.run(daemon(settings.keep_events).prune_events()) == 1
    assert history(store) == [("T2", "sent")]
    store.close()


def test_the_request_log_of_monitor_stats_is_pruned_with_the_events(tmp_path: Path):
    store = Store.open(tmp_path / "m.db")
    for day in (1, 2, 3):
        store.record_fetch("s", f"2026-03-0{day}T08:00:00+00:00", "listing", 200, 1000)
    store.prune_events("2026-03-02T00:00:00+00:00", batch=1)
    rows = store.conn.execute("SELECT at FROM fetches ORDER BY at").fetchall()
    assert [r[0] for r in rows] == ["2026-03-02T08:00:00+00:00", "2026-03-03T08:00:00+00:00"]
    store.close()
