"""Atom and JSON Feed of events, read back with feedparser: the exact entries, ids stable
across requests, 304 for a reader that has them, filters as a channel has them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from monitor.web.feeds import web_url
from tests.conftest import Site
from tests.web_helpers import Server, known_run, serving


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    site = Site()
    try:
        path = known_run(tmp_path_factory.mktemp("feeds"), site)
        yield path
    finally:
        site.close()


@pytest.fixture(scope="module")
def server(run: Path) -> Iterator[Server]:
    with serving(run) as running:
        yield running


def entries(server: Server, path: str) -> list[tuple[str, str, list[str]]]:
    response = server.get(path)
    assert response.status_code == 200, response.text
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [
        (e.title, e.get("link", "").rsplit("/", 2)[-2:][-1], [t.term for t in e.tags])
        for e in parsed.entries
    ]


def test_the_atom_feed_holds_every_event_newest_first(server):
    assert entries(server, "/feeds/events.atom") == [
        ("Changed: Biełaruski rubiel padaje 🔒", "2", ["changed", "news", "Ekanomika"]),
        ("Changed: Biełaruski rubiel padaje", "2", ["changed", "news", "Ekanomika"]),
        ("Changed: Łukašenka's long speech", "1", ["changed", "news", "Palityka"]),
        ("New: New story 🔒", "4", ["new", "news", "Palityka"]),
    ]
    parsed = feedparser.parse(server.get("/feeds/events.atom").content)
    assert [e.summary for e in parsed.entries[:3]] == [
        "now paywalled; section Ekanomika; source news",
        "now free; section Ekanomika; source news",
        "headline changed from «Łukašenka's speech» to «Łukašenka's long speech»;"
        " section Palityka; source news",
    ]


def test_the_json_feed_holds_the_same_entries_with_the_same_ids(server):
    document = server.get("/feeds/events.json")
    assert document.headers["content-type"] == "application/feed+json"
    as_json = json.loads(document.text)
    assert as_json["version"] == "https://jsonfeed.org/version/1.1"
    atom = feedparser.parse(server.get("/feeds/events.atom").content)
    assert [i["id"] for i in as_json["items"]] == [e.id for e in atom.entries]
    assert [i["title"] for i in as_json["items"]] == [e.title for e in atom.entries]
    # What JSON Feed 1.1 requires of each item, and links only where the item has one.
    assert [sorted(i) for i in as_json["items"]] == [
        ["content_text", "date_published", "id", "tags", "title", "url"]
    ] * 4
    assert [i["url"] for i in as_json["items"]] == [e.link for e in atom.entries]


def test_entry_ids_are_stable_and_a_repeated_request_gets_304(server):
    first = server.get("/feeds/events.atom")
    second = server.get("/feeds/events.atom")
    ids = [e.id for e in feedparser.parse(first.content).entries]
    assert ids == [e.id for e in feedparser.parse(second.content).entries]
    assert len(set(ids)) == 4 and all(i.startswith("urn:uuid:") for i in ids)
    again = server.get("/feeds/events.atom", **{"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"]
    other = server.get("/feeds/events.json", **{"If-None-Match": first.headers["etag"]})
    assert other.status_code == 200


def test_filters_as_query_parameters_and_as_a_named_channel(server):
    titles = [t for t, _l, _c in entries(server, "/feeds/events.atom?events=new")]
    assert titles == ["New: New story 🔒"]
    titles = [t for t, _l, _c in entries(server, "/feeds/events.atom?include=lukasenka")]
    assert titles == ["Changed: Łukašenka's long speech"]
    titles = [t for t, _l, _c in entries(server, "/feeds/events.atom?sections=Ekanomika")]
    assert titles == [
        "Changed: Biełaruski rubiel padaje 🔒",
        "Changed: Biełaruski rubiel padaje",
    ]
    titles = [
        t for t, _l, _c in entries(server, "/feeds/events.atom?paywalled=false&exclude=rubiel")
    ]
    assert titles == ["Changed: Łukašenka's long speech"]
    # The channel "paid" takes paywalled items, and a change from or to paywalled.
    assert [t for t, _l, _c in entries(server, "/feeds/paid.atom")] == [
        "Changed: Biełaruski rubiel padaje 🔒",
        "Changed: Biełaruski rubiel padaje",
        "New: New story 🔒",
    ]
    assert json.loads(server.get("/feeds/paid.json").text)["title"] == "news-monitor: paid"


def test_bad_filters_and_unknown_channels_are_refused(server):
    wrong = server.get("/feeds/events.atom?kind=new")
    assert (wrong.status_code, wrong.text) == (
        400,
        "400 Bad Request: unknown filter 'kind'; use sources, sections, events, paywalled,"
        " include, exclude\n",
    )
    assert server.get("/feeds/events.atom?events=moved").status_code == 400
    assert server.get("/feeds/events.atom?include=re:(").status_code == 400
    assert server.get("/feeds/nobody.atom").status_code == 404
    assert server.get("/feeds/events.rss").status_code == 404


def test_control_characters_in_a_headline_keep_the_feed_valid(server, run):
    db = run.parent / "monitor.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO events (at, source, kind, key, url, title, paywalled)"
            " VALUES ('2030-01-01T00:00:00+00:00', 'news', 'new', 'bell',"
            " 'javascript:alert(1)', 'Bell\x07 and\x0b tab', 0)"
        )
    try:
        response = server.get("/feeds/events.atom")
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo
        assert parsed.entries[0].title == "New: Bell and tab"
        assert b"javascript:" not in response.content
        assert parsed.entries[0].get("links", []) == []
    finally:
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM events WHERE key = 'bell'")


def test_only_http_urls_become_links():
    assert web_url("https://a.test/x") == "https://a.test/x"
    assert web_url(" HTTP://a.test/x ") == "HTTP://a.test/x"
    assert [web_url(u) for u in ("javascript:alert(1)", "data:text/html,x", "//a.test", "")] == [
        None
    ] * 4
