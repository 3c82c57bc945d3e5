"""Discovery's paywall mark held against the article pages' own word.

`monitor discover URL` and `monitor sources add URL` fetch a few article pages of the best
proposal (half marked paywalled, half not, at most 6, one after another) and say whether
their JSON-LD isAccessibleForFree / content tier agrees with the teasers' mark. A saved
file is never followed; --no-articles fetches nothing. Pages served on 127.0.0.1.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.conftest import run_monitor

TITLES = [
    "Parliament passes the budget after a long night",
    "Storm closes the coastal road for two days",
    "Museum reopens with a new wing for modern art",
    "Football club signs a striker from abroad",
    "City council debates the price of bus tickets",
    "Harbour workers vote to end their strike",
    "New bridge opens to traffic a year late",
    "School year starts with fewer teachers",
    "Farmers count the cost of the dry summer",
    "Hospital opens a ward for children",
    "Court rules on the airport's night flights",
    "Library lends tools as well as books",
]
# Teasers marked `Plus` (discovery proposes `span.badge-premium`).
PLUS = (1, 4, 7, 10)


def article_path(n: int) -> str:
    slug = TITLES[n].lower().replace(" ", "-").replace("'", "")
    return f"/news/{slug}-{1000 + n}.html"


def listing(plus: tuple[int, ...] = PLUS) -> str:
    cards = []
    for n, title in enumerate(TITLES):
        mark = '<span class="badge-premium">Plus</span>' if n in plus else ""
        cards.append(
            f'<article class="teaser"><a href="{article_path(n)}">'
            f"<h2>{title}</h2></a>{mark}<p>What happened, in one sentence.</p></article>"
        )
    nav = '<nav><a href="/news/">News</a> <a href="/about/">About</a></nav>'
    return f"<html><body>{nav}<main>{''.join(cards)}</main></body></html>"


def article(title: str, *, free: bool | None = None, tier: str | None = None) -> str:
    """An article page; `free`: its JSON-LD isAccessibleForFree (None: no JSON-LD)."""
    head = f"<title>{title}</title>"
    if free is not None:
        data = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": title,
            "isAccessibleForFree": free,
        }
        head += f'<script type="application/ld+json">{json.dumps(data)}</script>'
    if tier is not None:
        head += f'<meta property="article:content_tier" content="{tier}">'
    return f"<html><head>{head}</head><body><h1>{title}</h1><p>Text.</p></body></html>"


def serve(site, plus: tuple[int, ...] = PLUS, say=None) -> str:
    """The listing and its articles; `say(n)` gives article n's keyword arguments (by
    default its JSON-LD says what the teaser's mark says)."""
    for n, title in enumerate(TITLES):
        kwargs = say(n) if say else {"free": n not in plus}
        site.set(article_path(n), article(title, **kwargs))
    return site.set("/world/", listing(plus))


def article_requests(site) -> list[str]:
    with site.lock:
        return [r.path for r in site.requests if r.path.startswith("/news/")]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    result = run_monitor("init", str(path))
    assert result.returncode == 0, result.stderr
    return path


def test_discover_says_the_articles_agree_with_the_mark(site) -> None:
    url = serve(site)
    result = run_monitor("discover", url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "#1: 12 items, 4 paywalled",
        "    paywall: 4 of 12 items marked by `span.badge-premium`",
    ]
    assert (
        "    articles agree: 3 of 3 marked items say not free (JSON-LD isAccessibleForFree),"
        " 3 of 3 unmarked say free"
    ) in lines
    # Three marked and three unmarked, spread over the listing, one request each.
    assert article_requests(site) == [article_path(n) for n in (1, 4, 7, 0, 3, 8)]


def test_discover_says_where_the_articles_disagree(site) -> None:
    # Teaser 4 carries the badge, but its article says it is free.
    url = serve(site, say=lambda n: {"free": n not in PLUS or n == 4})
    result = run_monitor("discover", url)
    assert result.returncode == 0, result.stderr
    assert (
        "    articles disagree: 2 of 3 marked items say not free, 1 says free"
        " (JSON-LD isAccessibleForFree), 3 of 3 unmarked say free"
    ) in result.stdout.splitlines()


def test_discover_json_counts_what_the_articles_say(site) -> None:
    url = serve(site, say=lambda n: {"free": n not in PLUS or n == 4})
    result = run_monitor("discover", url, "--json")
    assert result.returncode == 0, result.stderr
    proposals = json.loads(result.stdout)
    best = proposals[0]
    assert (best["items"], best["paywalled"]) == (12, 4)
    assert best["articles"] == {
        "verdict": "disagree",
        "checked": 6,
        "agree": 5,
        "disagree": 1,
        "unknown": 0,
        "failed": 0,
        "signal": "JSON-LD isAccessibleForFree",
        "text": "articles disagree: 2 of 3 marked items say not free, 1 says free"
        " (JSON-LD isAccessibleForFree), 3 of 3 unmarked say free",
    }
    assert [p["articles"] for p in proposals[1:]] == [None] * (len(proposals) - 1)
    assert len(article_requests(site)) == 6


def test_articles_without_json_ld_or_content_tier_say_nothing(site) -> None:
    url = serve(site, say=lambda n: {})
    result = run_monitor("discover", url)
    assert result.returncode == 0, result.stderr
    assert (
        "    the articles say nothing about access (no JSON-LD or content tier on 6 of 6 checked)"
    ) in result.stdout.splitlines()


def test_paywalled_articles_without_a_mark_on_the_teasers_are_named(site) -> None:
    # No badge on any teaser; the content tier of two of the checked articles is locked.
    url = serve(site, plus=(), say=lambda n: {"tier": "locked" if n in (2, 6) else "free"})
    result = run_monitor("discover", url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("#1: 12 items, 0 paywalled\n")
    assert (
        "    articles disagree: 2 of 6 articles say they are not free (content tier),"
        " but no mark on the teasers tells them apart"
    ) in result.stdout.splitlines()
    assert article_requests(site) == [article_path(n) for n in (0, 2, 4, 6, 8, 10)]


def test_an_article_page_that_cannot_be_fetched_is_counted(site) -> None:
    url = serve(site)
    del site.pages[article_path(0)]
    result = run_monitor("discover", url)
    assert result.returncode == 0, result.stderr
    assert (
        "    articles agree: 3 of 3 marked items say not free (JSON-LD isAccessibleForFree),"
        " 2 of 2 unmarked say free; 1 article page could not be fetched (HTTP 404 Not Found)"
    ) in result.stdout.splitlines()
    assert len(article_requests(site)) == 6


def test_no_articles_and_a_saved_file_fetch_no_article_page(site, tmp_path: Path) -> None:
    url = serve(site)
    result = run_monitor("discover", url, "--no-articles", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["articles"] is None
    saved = tmp_path / "world.html"
    saved.write_text(listing(), encoding="utf-8")
    from_file = run_monitor("discover", str(saved), "--base-url", site.base + "/world/")
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout.startswith("#1: 12 items, 4 paywalled\n")
    assert "articles" not in from_file.stdout
    assert article_requests(site) == []
    assert len(site.requests_for("/world/")) == 1


def test_sources_add_says_what_the_articles_say_and_writes_it_down(site, config: Path) -> None:
    url = serve(site)
    result = run_monitor("sources", "add", url, "--name", "world", "--yes", config=config)
    assert result.returncode == 0, result.stderr
    sentence = (
        "Articles agree: 3 of 3 marked items say not free (JSON-LD isAccessibleForFree),"
        " 3 of 3 unmarked say free."
    )
    assert sentence in result.stdout.splitlines()
    text = config.read_text(encoding="utf-8")
    assert f"# {sentence}" in text.splitlines()
    assert tomllib.loads(text)["sources"][-1]["rule"]["paywall_selector"] == ".badge-premium"
    assert len(article_requests(site)) == 6


def test_sources_add_no_articles_fetches_only_the_listing(site, config: Path) -> None:
    url = serve(site)
    result = run_monitor(
        "sources", "add", url, "--name", "world", "--no-articles", "--yes", config=config
    )
    assert result.returncode == 0, result.stderr
    assert "Proposed rule: 12 items, 4 paywalled." in result.stdout
    assert [line for line in result.stdout.splitlines() if line.startswith("Articles")] == []
    assert "Articles agree" not in config.read_text(encoding="utf-8")
    assert article_requests(site) == []
