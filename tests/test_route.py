"""Routing: which channel receives which event, and what makes two events one alert."""

from __future__ import annotations

import pytest

from monitor.alerts.notify import route_events
from monitor.alerts.route import ChannelFilter, Keywords, dedupe_key, fold
from monitor.config.settings import parse_settings
from monitor.models import Change, ConfigError, Event, Item
from monitor.pipeline.store import OutboxRow, Store

AT = "2026-11-24T10:00:00+00:00"
LUKASENKA = Item(
    key="https://pozirk.online/en/news/1/",
    url="https://pozirk.online/en/news/1/",
    title="Łukašenka talks to US deputy envoy after Trump call",
    section="Politics, Security",
    paywalled=True,
)
FREE = Item(
    key="https://pozirk.online/en/news/2/",
    url="https://pozirk.online/en/news/2/",
    title="Minsk weather: snow expected",
    section="Society",
    paywalled=False,
)


def new(item: Item, source: str = "pozirk-politics") -> Event:
    return Event("new", source, AT, item)


def channel_config(body: str) -> str:
    return f"""
[[sources]]
name = "pozirk-politics"
url = "https://pozirk.online/en/politics/"
kind = "feed"

[[sources]]
name = "pozirk-feed"
url = "https://pozirk.online/en/feed/"
kind = "feed"

[channels.ch]
urls = ["json://127.0.0.1:9/"]
{body}
"""


def accepts(body: str, event: Event) -> bool:
    settings = parse_settings(channel_config(body), "monitor.toml", environ={})
    return ChannelFilter.of(settings.channels[0]).accepts(event)


HEALTH = Event("health", "pozirk-politics", AT, detail="no items found")
RETITLED = Event(
    "changed",
    "pozirk-politics",
    AT,
    FREE,
    (Change("title", "Łukašenka pardons 30 prisoners", FREE.title),),
)
NOW_FREE = Event(
    "changed",
    "pozirk-politics",
    AT,
    FREE,
    (Change("paywalled", True, False),),
)


@pytest.mark.parametrize(
    ("body", "event", "expected"),
    [
        # No filter: everything.
        ("", new(LUKASENKA), True),
        ("", HEALTH, True),
        # sources
        ('sources = ["pozirk-politics"]', new(LUKASENKA), True),
        ('sources = ["pozirk-feed"]', new(LUKASENKA), False),
        ('sources = ["pozirk-feed"]', HEALTH, False),
        # events
        ('events = ["new"]', new(LUKASENKA), True),
        ('events = ["changed", "removed"]', new(LUKASENKA), False),
        ('events = ["health"]', HEALTH, True),
        ('events = ["new"]', HEALTH, False),
        # paywalled
        ("paywalled = true", new(LUKASENKA), True),
        ("paywalled = true", new(FREE), False),
        ("paywalled = false", new(FREE), True),
        ("paywalled = false", new(LUKASENKA), False),
        # a paywalled item that turned free still concerns a paywalled-only channel
        ("paywalled = true", NOW_FREE, True),
        # item filters do not apply to health events
        ("paywalled = true", HEALTH, True),
        # sections: a feed's "Politics, Security" is two sections; case and accents ignored
        ('sections = ["Security"]', new(LUKASENKA), True),
        ('sections = ["politics"]', new(LUKASENKA), True),
        ('sections = ["Politics, Security"]', new(LUKASENKA), True),
        ('sections = ["Society"]', new(LUKASENKA), False),
        ('sections = ["Sec"]', new(LUKASENKA), False),
        # include: keywords, case- and diacritic-insensitive, in title or section
        ('include = ["Lukasenka"]', new(LUKASENKA), True),
        ('include = ["LUKASENKA"]', new(LUKASENKA), True),
        ('include = ["łukašenka"]', new(LUKASENKA), True),
        ('include = ["security"]', new(LUKASENKA), True),
        ('include = ["Cichanouskaja", "Lukasenka"]', new(LUKASENKA), True),
        ('include = ["Lukasenka"]', new(FREE), False),
        # ... and in the headline before a change
        ('include = ["Lukasenka"]', RETITLED, True),
        # exclude wins over include
        ('include = ["Lukasenka"]\nexclude = ["trump"]', new(LUKASENKA), False),
        ('exclude = ["weather"]', new(FREE), False),
        ('exclude = ["weather"]', new(LUKASENKA), True),
        # re: patterns (RE2), case-insensitive, on the text as written and folded
        ('include = ["re:\\\\bUS\\\\b"]', new(LUKASENKA), True),
        ('include = ["re:^minsk"]', new(FREE), True),
        ('include = ["re:^minsk"]', new(LUKASENKA), False),
        ('include = ["re:lukasenka talks"]', new(LUKASENKA), True),
        ('include = ["re:Łukašenka\\\\s+talks"]', new(LUKASENKA), True),
        ('exclude = ["re:snow|rain"]', new(FREE), False),
        # all filters must match
        (
            'sources = ["pozirk-politics"]\npaywalled = true\ninclude = ["envoy"]',
            new(LUKASENKA),
            True,
        ),
        (
            'sources = ["pozirk-politics"]\npaywalled = false\ninclude = ["envoy"]',
            new(LUKASENKA),
            False,
        ),
    ],
)
def test_channel_filters(body: str, event: Event, expected: bool) -> None:
    assert accepts(body, event) is expected


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Łukašenka", "lukasenka"),
        ("Cichanoŭskaja", "cichanouskaja"),
        ("Biełaruski Hajun", "bielaruski hajun"),
        ("Søren Đoković Straße", "soren dokovic strasse"),
        ("Æsir Œuvre", "aesir oeuvre"),
        ("ЛУКАШЕНКО", "лукашенко"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_catastrophic_pattern_returns() -> None:
    # RE2 runs in linear time: no backtracking blow-up on (a+)+$ against a long non-match.
    keywords = Keywords.parse(["re:(a+)+$"])
    assert keywords.match(["a" * 50_000 + "!"]) is False
    assert keywords.match(["aaa"]) is True


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('include = ["ok", "re:(unclosed"]', "channels.ch.include[1]"),
        ('exclude = ["re:(a)\\\\1"]', "channels.ch.exclude[0]"),
    ],
)
def test_invalid_regex_is_a_config_error(body: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(channel_config(body), "monitor.toml", environ={})
    assert info.value.key == key
    assert "invalid regular expression" in info.value.reason
    assert info.value.line is not None


def test_same_article_in_page_and_feed_is_one_alert_per_channel(tmp_path) -> None:
    settings = parse_settings(
        channel_config("") + '\n[channels.other]\nurls = ["json://127.0.0.1:9/"]\n',
        "monitor.toml",
        environ={},
    )
    router = route_events(settings)
    # The section page keys the item by its URL; the feed by its guid: one subject.
    from_page = new(LUKASENKA, "pozirk-politics")
    from_feed = new(
        Item(key="pozirk-guid-1", url=LUKASENKA.url, title=LUKASENKA.title, paywalled=True),
        "pozirk-feed",
    )
    told = (("item " + LUKASENKA.url, "listed"),)
    assert router([from_page]) == [
        OutboxRow(0, "ch", told=told),
        OutboxRow(0, "other", told=told),
    ]
    store = Store.open(tmp_path / "monitor.db")
    for event in (from_page, from_feed):
        store.record_unchanged(
            event.source, "https://pozirk.online/", "feed", AT, 200, [event], router([event])
        )
    rows = store.conn.execute(
        "SELECT o.channel, e.source FROM outbox o JOIN events e ON e.id = o.event_id"
    ).fetchall()
    assert sorted(rows) == [("ch", "pozirk-politics"), ("other", "pozirk-politics")]
    store.close()


def test_within_one_source_every_event_is_an_alert_and_across_sources_the_news_once(
    tmp_path,
) -> None:
    settings = parse_settings(channel_config(""), "monitor.toml", environ={})
    router = route_events(settings)
    store = Store.open(tmp_path / "monitor.db")
    free = Event("changed", "pozirk-politics", AT, FREE, (Change("paywalled", True, False),))
    paid = Event("changed", "pozirk-politics", AT, FREE, (Change("paywalled", False, True),))
    gone = Event("removed", "pozirk-politics", AT, FREE)
    in_feed = Event("changed", "pozirk-feed", AT, FREE, (Change("paywalled", True, False),))
    # The page flips free, the feed sees the same; the page flips back and forth; the
    # article is removed, comes back unnoticed and is removed again.
    for event in (free, in_feed, paid, free, gone, gone):
        store.record_unchanged(
            event.source, "https://pozirk.online/", "feed", AT, 200, [event], router([event])
        )
    told = store.conn.execute(
        "SELECT e.source, e.kind, e.changes FROM outbox o JOIN events e ON e.id = o.event_id"
        " ORDER BY o.id"
    ).fetchall()
    now_free = '[{"field": "paywalled", "before": true, "after": false}]'
    now_paid = '[{"field": "paywalled", "before": false, "after": true}]'
    assert told == [
        ("pozirk-politics", "changed", now_free),
        ("pozirk-politics", "changed", now_paid),
        ("pozirk-politics", "changed", now_free),
        ("pozirk-politics", "removed", None),
        ("pozirk-politics", "removed", None),
    ]
    store.close()


def test_what_an_alert_tells() -> None:
    assert dedupe_key(new(FREE)) == (("item https://pozirk.online/en/news/2/", "listed"),)
    assert dedupe_key(HEALTH) == ()
    assert dedupe_key(Event("removed", "s", AT, FREE)) == (
        ("item https://pozirk.online/en/news/2/", "removed"),
    )
    # A change tells the new value only: whoever saw which value before, free is free.
    assert dedupe_key(NOW_FREE) == (("paywalled https://pozirk.online/en/news/2/", "false"),)
    retitled = Event(
        "changed", "s", AT, FREE, changes=(Change("title", "Old", " Minsk  weather:\nsnow"),)
    )
    assert dedupe_key(retitled) == (
        ("title https://pozirk.online/en/news/2/", '"Minsk weather: snow"'),
    )
    # Without a link, an item is known within its own source only.
    linkless = Item(key="episode-12", url="", title="Episode 12")
    assert dedupe_key(Event("new", "pod", AT, linkless)) == (("item pod episode-12", "listed"),)
