"""`monitor status` reads a real database read-only: per source, and the outbox backlog."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.models import Event, Item, Rule, Settings, Source
from monitor.pipeline.status import read_status, relative_time
from monitor.pipeline.store import OutboxRow, Store

AT = "2026-11-24T12:00:00+00:00"


def test_status_of_sources_and_outbox(tmp_path):
    db = str(tmp_path / "monitor.db")
    news = Source(name="news", url="https://a.test/news", rule=Rule(item="article"))
    feed = Source(name="feed", url="https://a.test/feed", kind="feed", cron="*/5 * * * *")
    fresh = Source(name="fresh", url="https://a.test/fresh", interval=3600, jitter=30)
    settings = Settings(config_path="x", database=db, sources=(news, feed, fresh))
    items = [Item(key=f"k{i}", url=f"https://a.test/{i}", title=f"T{i}") for i in range(3)]
    events = [Event(kind="new", source="news", at=AT, item=item) for item in items[:2]]
    store = Store.open(db)
    store.commit_check(
        name="news",
        url=news.url,
        kind="html",
        now=AT,
        status=200,
        etag=None,
        last_modified=None,
        body_hash="h",
        listed=items,
        gone=(),
        events=events,
        outbox=[OutboxRow(0, "tg"), OutboxRow(1, "tg")],
        item_count=3,
        health=None,
    )
    store.set_next_run("news", "2026-11-24T12:10:00+00:00")
    for _ in range(3):
        store.record_failure("feed", feed.url, "feed", AT, "HTTP 503 Service Unavailable", 503)
    store.conn.execute("UPDATE outbox SET status = 'failed' WHERE id = 1")
    store.close()

    status = read_status(settings, daemon_pid=None)
    by_name = {s.name: s for s in status.sources}
    assert [s.name for s in status.sources] == ["news", "feed", "fresh"]
    assert by_name["news"].health == "ok"
    assert (by_name["news"].items_known, by_name["news"].items_listed) == (3, 3)
    assert by_name["news"].next_run == "2026-11-24T12:10:00+00:00"
    assert by_name["news"].schedule == "every 10m"
    assert by_name["feed"].health == "erroring"
    assert by_name["feed"].consecutive_errors == 3
    assert by_name["feed"].last_error == "HTTP 503 Service Unavailable"
    assert by_name["feed"].last_success is None
    assert by_name["feed"].schedule == "cron */5 * * * *"
    assert by_name["fresh"].health == "never polled"
    assert by_name["fresh"].schedule == "every 1h (+30s jitter)"
    assert (status.pending, status.failed) == (1, 1)
    assert status.to_json()["outbox"] == {
        "pending": 1,
        "failed": 1,
        "by_status": {"failed": 1, "pending": 1},
    }


def test_status_without_a_database(tmp_path):
    settings = Settings(
        config_path="x",
        database=str(tmp_path / "none.db"),
        sources=(Source(name="a", url="https://a.test/"),),
    )
    status = read_status(settings, daemon_pid=None)
    assert [(s.name, s.health) for s in status.sources] == [("a", "never polled")]
    assert not (tmp_path / "none.db").exists()


def test_relative_times():
    now = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
    assert relative_time("2026-11-24T11:59:48+00:00", now) == "12s ago"
    assert relative_time("2026-11-24T12:05:00+00:00", now) == "in 5m"
    assert relative_time("2026-11-24T09:00:00+00:00", now) == "3.0h ago"
    assert relative_time(None, now) == "-"
