"""feedparser as the yardstick: on every corpus feed feedparser reads cleanly (not bozo),
our items carry the titles, links and dates feedparser gives its entries.

feedparser runs here with its defaults on the raw bytes, as any user of it would. Where
the project differs on purpose (README, "What counts as what"), the expectation says so:
- entries with neither link nor id, or with an id but neither link nor title, are dropped;
- links are canonical (absolute, no fragment, no tracking parameters);
- a FeedBurner entry's original link (`feedburner:origLink`) wins over the redirect;
- a guid that is not an http(s) URL is no link (feedparser copies it into `link`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import pytest

from monitor.extract.feed import extract_feed
from monitor.extract.urls import canonical_url
from tests.conftest import CORPUS

BASE = "https://feeds.example/feed.xml"
FEEDS = CORPUS / "feed"

pytestmark = pytest.mark.skipif(not FEEDS.is_dir(), reason=f"corpus not found at {CORPUS}")


@dataclass(frozen=True)
class Expected:
    title: str
    url: str
    published: str | None


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _title(entry: dict[str, Any]) -> str:
    """feedparser's title as plain text: markup dropped when feedparser says it is HTML."""
    value = entry.get("title") or ""
    kind = (entry.get("title_detail") or {}).get("type") or ""
    if kind in ("text/html", "application/xhtml+xml"):
        parser = _Text()
        parser.feed(value)
        parser.close()
        value = "".join(parser.parts)
    return " ".join(value.split())


def _link(entry: dict[str, Any]) -> str:
    link = entry.get("feedburner_origlink") or entry.get("link") or ""
    if entry.get("guidislink") and link == entry.get("id"):
        # The guid standing in for a link: a link only if it is an http(s) URL.
        link = link if link.startswith(("http://", "https://")) else ""
    return (canonical_url(urljoin(BASE, link), BASE) or "") if link else ""


def _date(entry: dict[str, Any]) -> str | None:
    # dict.get: feedparser's own get maps one date key to the other, with a warning.
    moment = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    return datetime(*moment[:6], tzinfo=UTC).isoformat() if moment else None


def expected_items(body: bytes) -> list[Expected] | None:
    """What feedparser reads in `body`, minus what we drop on purpose; None when bozo."""
    import feedparser

    parsed = feedparser.parse(body)
    if parsed.bozo or not parsed.entries:
        return None
    expected = []
    for entry in parsed.entries:
        url, title = _link(entry), _title(entry)
        if not url and not (entry.get("id") and title):
            continue
        expected.append(Expected(title or url, url, _date(entry)))
    return expected


def _yardstick_feeds() -> list[str]:
    if not FEEDS.is_dir():
        return []
    return sorted(p.name for p in FEEDS.glob("*") if p.is_file() and expected_items(p.read_bytes()))


YARDSTICK = _yardstick_feeds()


def test_the_yardstick_covers_the_corpus_feeds() -> None:
    # 51 of the 54 corpus feeds today: the JSON Feeds and one feed feedparser marks bozo
    # are left out.
    assert len(YARDSTICK) >= 50


@pytest.mark.parametrize("name", YARDSTICK)
def test_titles_links_and_dates_agree_with_feedparser(name: str) -> None:
    body = (FEEDS / name).read_bytes()
    expected = expected_items(body)
    ours = [Expected(i.title, i.url, i.published) for i in extract_feed(body, BASE)]
    assert ours == expected


def test_feedburner_original_links_are_where_we_differ_on_purpose() -> None:
    """The one corpus difference in links beyond canonical form, shown explicitly."""
    import feedparser

    body = (FEEDS / "en_rotoauthority_feedburner_xhtml_feedjira.xml").read_bytes()
    first = feedparser.parse(body).entries[0]
    assert first.link.startswith("http://feedproxy.google.com/~r/RotoAuthorityFantasyBaseball/")
    assert extract_feed(body, BASE)[0].url == (
        "http://www.rotoauthority.com/2014/04/stock-watch-aprils-finest.html"
    )


def test_a_fragment_feedparser_keeps_is_in_our_key_not_in_our_url() -> None:
    import feedparser

    body = (FEEDS / "en_rainmeter_forum_cdata_huginn_atom.xml").read_bytes()
    link = feedparser.parse(body).entries[0].link
    assert link == "http://rainmeter.net/forum/viewtopic.php?t=21984&p=116390#p116390"
    item = extract_feed(body, BASE)[0]
    assert (item.key, item.url) == (link, link.split("#")[0])
