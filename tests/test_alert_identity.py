"""Alert identity, through the real command line and a real channel: an event is delivered
once, a state that comes back is a new alert, and the same article found by two sources is
one `new` alert."""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest

from tests.conftest import Site, free_port, run_monitor
from tests.receivers import Webhook

MARKER = "The material is available only to POZIRK+"


@pytest.fixture
def hook() -> Iterator[Webhook]:
    receiver = Webhook(free_port()).start()
    yield receiver
    receiver.stop()


def teaser(n: int, title: str, paid: bool = False) -> str:
    mark = f'<p class="note">{MARKER}</p>' if paid else ""
    return (
        f'<article class="teaser"><span class="rubric">Politics</span>'
        f'<h2><a href="/en/news/{n}-story/?utm_source=home">{escape(title)}</a></h2>'
        f"{mark}</article>"
    )


def page(*teasers: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Politics</title></head>"
        f"<body><main>{''.join(teasers)}</main></body></html>"
    )


def feed(base: str, *entries: tuple[int, str]) -> str:
    items = "".join(
        f"<item><title>{escape(title)}</title>"
        f"<link>{base}/en/news/{n}-story/?utm_medium=rss</link>"
        f"<guid isPermaLink='false'>pozirk-{n}</guid></item>"
        for n, title in entries
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Pozirk</title><link>{base}/</link>{items}</channel></rss>"
    )


PAGE_SOURCE = """
[[sources]]
name = "politics"
url = "{url}"
[sources.rule]
item = "article.teaser"
section = ".rubric"
paywall_text = "available only to POZIRK+"
"""

FEED_SOURCE = """
[[sources]]
name = "feed"
url = "{url}"
kind = "feed"
"""


def configure(tmp_path: Path, hook: Webhook, *sources: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(
        'database = "state.db"\n'
        + "".join(sources)
        + f'[channels.hook]\nurls = ["{hook.url()}"]\n',
        encoding="utf-8",
    )
    return path


def check(config: Path) -> None:
    result = run_monitor("check", config=config)
    assert result.returncode == 0, result.stdout + result.stderr


def received(hook: Webhook) -> list[str]:
    return hook.messages()


def test_a_paywall_flipping_back_and_forth_is_alerted_every_time(
    site: Site, tmp_path: Path, hook: Webhook
) -> None:
    other = teaser(2, "Minsk weather: snow expected")
    url = site.set("/en/politics/", page(teaser(1, "Reprisals: 40 people targeted"), other))
    config = configure(tmp_path, hook, PAGE_SOURCE.format(url=url))
    check(config)  # baseline: free
    for paid in (True, False, True):
        site.set("/en/politics/", page(teaser(1, "Reprisals: 40 people targeted", paid), other))
        check(config)

    link = f"{site.base}/en/news/1-story/"
    assert received(hook) == [
        f"✏️ 🔒 Reprisals: 40 people targeted\nPolitics · politics\nnow paywalled\n{link}",
        f"✏️ Reprisals: 40 people targeted\nPolitics · politics\nnow free\n{link}",
        f"✏️ 🔒 Reprisals: 40 people targeted\nPolitics · politics\nnow paywalled\n{link}",
    ]
    assert run_monitor("outbox", config=config).stdout.startswith("Outbox empty")


def test_a_headline_edited_reverted_and_edited_again_is_three_alerts(
    site: Site, tmp_path: Path, hook: Webhook
) -> None:
    other = teaser(2, "Minsk weather: snow expected")
    url = site.set("/en/politics/", page(teaser(1, "Iran's president to visit"), other))
    config = configure(tmp_path, hook, PAGE_SOURCE.format(url=url))
    check(config)
    for title in (
        "Iran's president to visit Minsk",
        "Iran's president to visit",
        "Iran's president to visit Minsk",
    ):
        site.set("/en/politics/", page(teaser(1, title), other))
        check(config)

    link = f"{site.base}/en/news/1-story/"
    edit = "✏️ {after}\nPolitics · politics\nheadline changed from «{before}» to «{after}»\n{link}"
    short, long = "Iran's president to visit", "Iran's president to visit Minsk"
    assert received(hook) == [
        edit.format(before=short, after=long, link=link),
        edit.format(before=long, after=short, link=link),
        edit.format(before=short, after=long, link=link),
    ]


def test_the_same_article_in_a_feed_and_a_page_is_one_new_alert(
    site: Site, tmp_path: Path, hook: Webhook
) -> None:
    old = teaser(2, "Minsk weather: snow expected")
    page_url = site.set("/en/politics/", page(old))
    feed_url = site.set("/en/rss/", feed(site.base, (2, "Minsk weather: snow expected")))
    config = configure(
        tmp_path, hook, PAGE_SOURCE.format(url=page_url), FEED_SOURCE.format(url=feed_url)
    )
    check(config)  # both baselines

    # The page lists the article first; the feed a poll later (its own guid, its own
    # tracking parameter): one alert.
    site.set("/en/politics/", page(teaser(3, "Iran's president to visit Minsk"), old))
    check(config)
    site.set(
        "/en/rss/",
        feed(
            site.base, (3, "Iran's president to visit Minsk"), (2, "Minsk weather: snow expected")
        ),
    )
    check(config)

    link = f"{site.base}/en/news/3-story/"
    assert received(hook) == [f"Iran's president to visit Minsk\nPolitics · politics\n{link}"]
    # Both sources recorded their event; the channel was told once.
    events = run_monitor("events", "--kind", "new", "--json", config=config)
    assert events.returncode == 0, events.stderr
    assert sorted(str(e["source"]) for e in _json(events.stdout)) == ["feed", "politics"]


def test_an_article_listed_again_after_its_removal_was_told_is_new_again(
    site: Site, tmp_path: Path, hook: Webhook
) -> None:
    first = teaser(3, "Iran's president to visit Minsk")
    below = teaser(2, "Minsk weather: snow expected")
    page_url = site.set("/en/politics/", page(below))
    feed_url = site.set("/en/rss/", feed(site.base, (2, "Minsk weather: snow expected")))
    config = configure(
        tmp_path, hook, PAGE_SOURCE.format(url=page_url), FEED_SOURCE.format(url=feed_url)
    )
    check(config)
    site.set("/en/politics/", page(first, below))
    check(config)  # new
    site.set("/en/politics/", page(below))
    check(config)  # removed: an older item is still listed below it
    # The article comes back in the feed: the channel was last told it was removed.
    site.set(
        "/en/rss/",
        feed(
            site.base, (3, "Iran's president to visit Minsk"), (2, "Minsk weather: snow expected")
        ),
    )
    check(config)

    link = f"{site.base}/en/news/3-story/"
    assert received(hook) == [
        f"Iran's president to visit Minsk\nPolitics · politics\n{link}",
        f"🗑 Iran's president to visit Minsk\nPolitics · politics\nremoved\n{link}",
        f"Iran's president to visit Minsk\nfeed\n{link}",
    ]


def _json(text: str) -> list[dict[str, object]]:
    import json

    data = json.loads(text)
    assert isinstance(data, list)
    return data
