"""The SQLite store: one transaction per poll, queries, and refusing a corrupt file."""

import sqlite3

import pytest

from monitor.models import Change, CorruptDatabaseError, Event, Item
from monitor.pipeline.store import OutboxRow, Store

NOW = "2026-11-24T10:00:00+00:00"


def item(n: int, paywalled: bool = False) -> Item:
    return Item(key=f"k{n}", url=f"https://x.test/{n}", title=f"T{n}", paywalled=paywalled)


def commit(store: Store, listed, events=(), outbox=(), gone=()):
    return store.commit_check(
        name="s",
        url="https://x.test/",
        kind="html",
        now=NOW,
        status=200,
        etag='"e1"',
        last_modified="Mon, 23 Nov 2026 10:00:00 GMT",
        body_hash="h",
        listed=listed,
        gone=gone,
        events=events,
        outbox=outbox,
        item_count=len(listed),
        health=None,
    )


def test_commit_then_load_round_trips(tmp_path):
    store = Store.open(tmp_path / "m.db")
    change = Event(
        kind="changed",
        source="s",
        at=NOW,
        item=item(1, True),
        changes=(Change("paywalled", False, True),),
    )
    ids = commit(store, [item(1, True), item(2)], [change], [OutboxRow(0, "tg", None)])
    loaded = store.load_items("s")
    assert loaded["k1"].item == item(1, True) and loaded["k1"].position == 0
    assert loaded["k2"].position == 1
    state = store.source_state("s")
    assert (state.etag, state.item_count, state.has_baseline) == ('"e1"', 2, True)
    assert store.events_by_id(ids)[ids[0]] == change
    assert store.conn.execute("SELECT channel, status FROM outbox").fetchall() == [
        ("tg", "pending")
    ]
    store.close()


def test_a_failed_commit_leaves_nothing_behind(tmp_path):
    store = Store.open(tmp_path / "m.db")
    event = Event(kind="new", source="s", at=NOW, item=item(1))
    with pytest.raises(IndexError):
        # An outbox row pointing at an event that does not exist aborts the transaction.
        commit(store, [item(1)], [event], [OutboxRow(5, "tg", None)])
    assert store.load_items("s") == {}
    assert store.query_events() == []
    assert store.source_state("s").last_success is None


def test_queries_filter(tmp_path):
    store = Store.open(tmp_path / "m.db")
    commit(store, [item(1, True), item(2)])
    assert [r["key"] for r in store.query_items(paywalled=True)] == ["k1"]
    assert [r["key"] for r in store.query_items(grep="T2")] == ["k2"]
    assert len(store.query_items(limit=1)) == 1


def test_corrupt_file_is_reported_and_left_untouched(tmp_path):
    path = tmp_path / "m.db"
    path.write_bytes(b"this is not sqlite" * 100)
    before = path.read_bytes()
    with pytest.raises(CorruptDatabaseError, match="left untouched"):
        Store.open(path)
    assert path.read_bytes() == before


def test_a_writer_holding_the_lock_is_waited_for(tmp_path):
    import threading
    import time

    path = tmp_path / "m.db"
    Store.open(path).close()
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, lambda: other.execute("COMMIT")).start()
    store = Store.open(path)
    started = time.monotonic()
    commit(store, [item(1)])
    assert time.monotonic() - started >= 0.4
    assert "k1" in store.load_items("s")
