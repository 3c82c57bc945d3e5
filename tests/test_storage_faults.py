"""Storage faults: a full disk, a writer holding the lock, a corrupt file at start-up.

Real SQLite files throughout; a full disk is SQLite's own `PRAGMA max_page_count`, which
fails a write exactly as a full filesystem does ("database or disk is full").
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.app import Monitor, fetch_settings, make_router, run_checks
from monitor.config.settings import load_settings
from monitor.daemon.runner import Daemon
from monitor.models import Settings
from monitor.pipeline import store as store_module
from monitor.pipeline.check import check_source
from monitor.pipeline.fetch import Fetcher
from monitor.pipeline.store import Store
from tests.conftest import Site, run_monitor
from tests.reliability import html_source, listing, write_config

# SQLite's largest page count: "no cap".
NO_CAP = 1073741823


def settings_for(site: Site, tmp_path: Path, interval: str = "10m") -> Settings:
    big = site.set("/big", listing(range(1, 4)))
    small = site.set("/small", listing(range(1, 4), "brief"))
    config = write_config(
        tmp_path, html_source("big", big, interval) + html_source("small", small, interval)
    )
    return load_settings(config)


def cap_growth(store: Store, room: int) -> None:
    """Let the database grow by at most `room` pages from now on."""
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + room}")


def titles(store: Store, source: str) -> list[str]:
    return sorted(e.item.title for e in store.query_events(source=source, kind="new") if e.item)


def test_a_full_disk_fails_that_poll_clearly_and_loses_nothing(site: Site, tmp_path: Path):
    settings = settings_for(site, tmp_path)
    store = Store.open(settings.database)
    asyncio.run(run_checks(settings, settings.sources, store))
    assert store.count_items("big") == 3
    cap_growth(store, room=8)
    site.set("/big", listing(range(1, 400)))
    site.set("/small", listing(range(1, 5), "brief"))

    outcomes = {o.source: o for o in asyncio.run(run_checks(settings, settings.sources, store))}

    assert outcomes["big"].status == "error"
    assert outcomes["big"].error == f"database error: {settings.database}: database or disk is full"
    # The other source polled and recorded its news in the room that was left.
    assert (outcomes["small"].status, len(outcomes["small"].events)) == ("ok", 1)
    assert titles(store, "small") == ["Brief number 4"]
    # Nothing of the failed poll was half-recorded; what was stored is still there.
    assert store.count_items("big") == 3
    assert titles(store, "big") == []
    assert store.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    store.conn.execute(f"PRAGMA max_page_count = {NO_CAP}")
    again = {o.source: o for o in asyncio.run(run_checks(settings, settings.sources, store))}
    assert again["big"].status == "ok"
    # Every item the full disk refused is news on the next poll: nothing was lost.
    assert len(titles(store, "big")) == 396
    assert store.count_items("big") == 399
    store.close()


async def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


def test_the_daemon_keeps_polling_through_a_full_disk(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    settings = settings_for(site, tmp_path, interval="1s")
    store = Store.open(settings.database)
    asyncio.run(run_checks(settings, settings.sources, store))
    cap_growth(store, room=8)
    site.set("/big", listing(range(1, 400)))
    caplog.set_level(logging.INFO, logger="monitor")

    async def scenario() -> int:
        daemon = Daemon(Monitor(settings, store), deliver=False)
        running = asyncio.create_task(daemon.run())
        big_polls = len(site.requests_for("/big"))
        await _wait_for(lambda: len(site.requests_for("/big")) >= big_polls + 3)
        assert store.count_items("big") == 3
        site.set("/small", listing(range(1, 5), "brief"))
        await _wait_for(lambda: store.count_items("small") == 4)
        # Space again (the admin cleaned up): the next poll records everything.
        store.conn.execute(f"PRAGMA max_page_count = {NO_CAP}")
        await _wait_for(lambda: store.count_items("big") == 399)
        daemon.stop()
        return await running

    assert asyncio.run(scenario()) == 0
    assert len(titles(store, "big")) == 396
    assert titles(store, "small") == ["Brief number 4"]
    full = [r.getMessage() for r in caplog.records if "disk is full" in r.getMessage()]
    assert full and all(m.startswith("big: poll failed: database error:") for m in full)
    assert not [r for r in caplog.records if "crashed" in r.getMessage()]
    store.close()


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE sources SET last_error = 'held' WHERE 0")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def hold_write_lock(database: str, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes the write lock and keeps it for `seconds`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, database, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_writer_in_another_process_is_waited_for(site: Site, tmp_path: Path):
    settings = settings_for(site, tmp_path)
    Store.open(settings.database).close()
    holder = hold_write_lock(settings.database, 1.5)
    result = run_monitor("check", "--no-notify", config=Path(settings.config_path))
    holder.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    assert "big: baseline, 3 items, no events" in result.stderr
    assert "small: baseline, 3 items, no events" in result.stderr


def test_a_lock_held_past_the_busy_timeout_fails_the_poll_not_the_process(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    settings = settings_for(site, tmp_path)
    store = Store.open(settings.database)
    holder = hold_write_lock(settings.database, 30)
    try:
        outcomes = asyncio.run(run_checks(settings, settings.sources, store))
    finally:
        holder.kill()
        holder.wait()
    assert [(o.source, o.status, o.error) for o in outcomes] == [
        (name, "error", f"database error: {settings.database}: database is locked")
        for name in ("big", "small")
    ]
    assert store.count_items() == 0
    outcomes = asyncio.run(run_checks(settings, settings.sources, store))
    assert [(o.source, o.status) for o in outcomes] == [("big", "baseline"), ("small", "baseline")]
    store.close()


def damage_pages(path: Path) -> bytes:
    """Keep the header and the schema page, overwrite the pages after them."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    data[page * 2 : page * 6] = b"\x13" * (page * 4)
    path.write_bytes(bytes(data))
    return bytes(data)


def stored_database(site: Site, tmp_path: Path) -> Settings:
    site.set("/big", listing(range(1, 300)))
    settings = settings_for(site, tmp_path)
    site.set("/big", listing(range(1, 300)))
    store = Store.open(settings.database)
    asyncio.run(run_checks(settings, settings.sources, store))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return settings


def test_damaged_pages_behind_a_valid_header_are_refused_at_start_up(site: Site, tmp_path: Path):
    settings = stored_database(site, tmp_path)
    path = Path(settings.database)
    before = damage_pages(path)
    assert before.startswith(b"SQLite format 3\x00")

    result = run_monitor("check", config=Path(settings.config_path))

    assert result.returncode == 3
    assert result.stderr.startswith(f"error: database error: {path}: not a usable SQLite database")
    assert "it was left untouched" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == before
    for command in ("items", "events"):
        again = run_monitor(command, config=Path(settings.config_path))
        assert again.returncode == 3 and "database error:" in again.stderr, command
    assert path.read_bytes() == before


def test_the_daemon_refuses_a_corrupt_database_and_leaves_it(site: Site, tmp_path: Path):
    settings = stored_database(site, tmp_path)
    path = Path(settings.database)
    before = damage_pages(path)
    result = run_monitor("run", config=Path(settings.config_path), timeout=30)
    assert result.returncode == 3
    assert result.stderr.startswith(f"error: database error: {path}: not a usable SQLite database")
    assert path.read_bytes() == before

    path.write_bytes(b"GIF89a" + b"\x00" * 4000)
    result = run_monitor("run", config=Path(settings.config_path), timeout=30)
    assert result.returncode == 3
    assert "not an SQLite database (bad header); it was left untouched" in result.stderr
    assert path.read_bytes() == b"GIF89a" + b"\x00" * 4000


def test_a_page_damaged_while_running_fails_the_polls_not_the_process(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    settings = stored_database(site, tmp_path)
    damage_pages(Path(settings.database))
    # Damage that appears after the start-up check (a failing disk, another program).
    monkeypatch.setattr(Store, "check_pages", lambda self: None)
    store = Store.open(settings.database)
    site.set("/big", listing(range(1, 302)))

    async def poll() -> list[object]:
        async with Fetcher(fetch_settings(settings)) as fetcher:
            return [
                await check_source(s, fetcher=fetcher, store=store, route=make_router(settings))
                for s in settings.sources
            ]

    outcomes = asyncio.run(poll())
    store.close()
    errors = [getattr(o, "error", None) or "" for o in outcomes]
    assert any("database disk image is malformed" in e for e in errors), errors
    assert all(e == "" or e.startswith("database error: ") for e in errors)
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(settings.database).execute("SELECT count(*) FROM items").fetchall()
