"""`monitor stats`: how long stories took from publication to the poll that saw them, and
from there to the phone, with the polls and bytes it took; against a local site and a
real channel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pytest

from monitor.app import Monitor
from monitor.pipeline.stats import Figures, seconds
from tests.conftest import Site, run_monitor
from tests.test_article_round import TITLES, Hook, article


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook()
    yield receiver
    receiver.close()


def teaser(n: int, published: datetime | None = None) -> str:
    when = f'<time datetime="{published.isoformat()}">now</time>' if published else ""
    return (
        f'<article class="teaser"><h2><a href="/news/{n}-story/">{escape(TITLES[n])}</a></h2>'
        f"{when}</article>"
    )


def listing(*teasers: str) -> str:
    return f"<html><body><main>{''.join(teasers)}</main></body></html>"


def config(tmp_path: Path, site: Site, hook: Hook, articles: bool) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'database = "state.db"\narticles = {str(articles).lower()}\n'
        f'[[sources]]\nname = "news"\nurl = "{site.url("/politics/")}"\n'
        '[sources.rule]\nitem = "article.teaser"\n'
        f'[channels.phone]\nurls = ["{hook.url()}"]\n',
        encoding="utf-8",
    )
    return path


def test_stats_give_published_to_seen_from_the_teaser_date_and_seen_to_delivered(
    site: Site, hook: Hook, tmp_path: Path
) -> None:
    path = config(tmp_path, site, hook, articles=False)
    first = listing(teaser(1))
    site.set("/politics/", first)
    with Monitor.open(path) as monitor:
        monitor.check()  # baseline: not counted (published long before anyone looked)
        published = datetime.now(UTC) - timedelta(seconds=120)
        second = listing(teaser(2, published), teaser(1))
        site.set("/politics/", second)
        monitor.check()
        report = monitor.stats()
    assert len(hook.messages()) == 1
    (news,) = report.sources
    assert news.source == "news"
    assert news.published_to_seen.count == 1
    assert news.published_to_seen.median is not None
    assert 119 <= news.published_to_seen.median <= 125
    assert (news.polls, news.poll_bytes) == (2, len(first) + len(second))
    assert (news.article_fetches, news.article_bytes) == (0, 0)
    (phone,) = report.channels
    assert (phone.source, phone.channel, phone.seen_to_delivered.count) == ("news", "phone", 1)
    assert phone.seen_to_delivered.median is not None
    assert phone.seen_to_delivered.median <= 5

    done = run_monitor("stats", "--json", config=path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["sources"][0]["published_to_seen"]["count"] == 1
    assert data["sources"][0]["polls"] == 2
    assert data["channels"][0]["channel"] == "phone"
    text = run_monitor("stats", config=path)
    assert text.returncode == 0
    assert "published→seen median" in text.stdout
    row = next(line for line in text.stdout.splitlines() if line.startswith("news "))
    assert row.split()[1] == "1"
    assert row.split()[2] == seconds(news.published_to_seen.median)  # about 2m00s


def test_stats_take_the_publication_time_from_the_article_page(
    site: Site, hook: Hook, tmp_path: Path
) -> None:
    path = config(tmp_path, site, hook, articles=True)
    site.set("/politics/", listing(teaser(1)))
    site.set("/news/1-story/", article(1, TITLES[1], free=True))
    with Monitor.open(path) as monitor:
        monitor.check()
        published = (datetime.now(UTC) - timedelta(seconds=300)).isoformat(timespec="seconds")
        site.set("/news/2-story/", article(2, TITLES[2], free=True, published=published))
        site.set("/politics/", listing(teaser(2), teaser(1)))
        monitor.check()
        report = monitor.stats()
    (news,) = report.sources
    assert news.published_to_seen.count == 1
    assert news.published_to_seen.median is not None
    assert 299 <= news.published_to_seen.median <= 305
    assert news.article_fetches == 2
    assert news.article_bytes == len(article(1, TITLES[1], free=True)) + len(
        article(2, TITLES[2], free=True, published=published)
    )


def test_figures_are_the_median_and_the_nearest_rank_95th_percentile() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert Figures.of(values) == Figures(20, 10.5, 19.0)
    assert Figures.of([]) == Figures(0, None, None)
    assert Figures.of([7.0]) == Figures(1, 7.0, 7.0)
