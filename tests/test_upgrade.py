"""An upgrade is not a site change: items recorded by an earlier version, which read some
pages differently (feed sections with the paywall category in them, in the feed's order),
are re-read silently on the first poll after the upgrade; later changes alert as usual."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from monitor.pipeline.store import MIGRATIONS
from tests.conftest import Site, free_port
from tests.listing_pages import check, write_config
from tests.receivers import Webhook

EARLIER_SCHEMA = 3  # the schema the first release wrote


def feed(paid: bool) -> str:
    plus = "<category>POZIRK+</category>" if paid else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title><link>https://example.org/</link>
<item><title>Budget passes</title><link>https://example.org/news/1</link>
<category>Politics</category>{plus}</item>
<item><title>Derby tonight</title><link>https://example.org/news/2</link>
<category>Sport</category><category>Minsk</category></item>
</channel></rss>"""


def earlier_database(path: Path, url: str) -> None:
    """The state the first release left after polling `feed(paid=True)`."""
    db = Database(sqlite3.connect(path))
    for migration in MIGRATIONS[:EARLIER_SCHEMA]:
        migration(db)
    db.execute(f"PRAGMA user_version = {EARLIER_SCHEMA}")
    at = "2026-11-01T08:00:00+00:00"
    db["sources"].insert(
        {
            "name": "news",
            "url": url,
            "kind": "feed",
            "first_poll": at,
            "last_poll": at,
            "last_success": at,
            "last_status": 200,
            "body_hash": "0" * 32,
            "item_count": 2,
        }
    )
    for position, (key, title, section, paid) in enumerate(
        [
            ("https://example.org/news/1", "Budget passes", "Politics, POZIRK+", 1),
            ("https://example.org/news/2", "Derby tonight", "Sport, Minsk", 0),
        ]
    ):
        db["items"].insert(
            {
                "source": "news",
                "key": key,
                "url": key,
                "title": title,
                "section": section,
                "paywalled": paid,
                "first_seen": at,
                "last_seen": at,
                "position": position,
            }
        )
    db.conn.commit()
    db.conn.close()


@pytest.fixture
def hook():
    receiver = Webhook(free_port()).start()
    yield receiver
    receiver.stop()


def test_items_an_earlier_version_read_differently_are_re_read_silently(
    site: Site, tmp_path: Path, hook: Webhook
):
    url = site.set("/feed.xml", feed(paid=True), content_type="application/rss+xml")
    sources = f'[[sources]]\nname = "news"\nurl = "{url}"\nkind = "feed"\n'
    sources += 'paywall_categories = ["POZIRK+"]\n'
    config = write_config(tmp_path, sources, channel=hook.url())
    earlier_database(tmp_path / "state.db", url)

    run = check(config)
    assert (run.code, run.events) == (0, []), run.stderr
    assert run.line() == "rebaseline, 2 items, no events"
    assert hook.messages() == []

    site.set("/feed.xml", feed(paid=False), content_type="application/rss+xml")
    run = check(config)
    assert [(e["kind"], e["title"], e["after"]) for e in run.events] == [
        ("changed", "Budget passes", {"paywalled": False})
    ]
    assert len(hook.messages()) == 1
