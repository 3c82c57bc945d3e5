"""The article round end to end: a local news site (a listing and its article pages on a
real HTTP server), `Monitor.check` as `monitor check` runs it, and a real channel (an
Apprise json:// URL posting to a local receiver). What the reader is told: unlocks whose
teaser never changed, pulled stories confirmed by their article page, nothing for a story
that scrolled off; and politeness: a per-host budget, the listing's alerts first."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitor.app import Monitor
from tests.conftest import Site, free_port, run_monitor

MARKER = "The material is available only to POZIRK+"


def teaser(n: int, title: str, paid: bool) -> str:
    mark = f'<p class="note">{MARKER}</p>' if paid else ""
    return (
        f'<article class="teaser"><span class="rubric">Politics</span>'
        f'<h2><a href="/news/{n}-story/">{escape(title)}</a></h2>{mark}</article>'
    )


def listing(*teasers: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Politics</title></head>"
        f"<body><main>{''.join(teasers)}</main></body></html>"
    )


def article(
    n: int, title: str, *, free: bool | None, published: str = "2026-11-23T08:00:00Z"
) -> str:
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "datePublished": published,
        "author": {"@type": "Person", "name": "Staff"},
    }
    if free is not None:
        data["isAccessibleForFree"] = "True" if free else "False"
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": "True" if free else "False",
            "cssSelector": ".paid",
        }
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><meta property='og:type' content='article'>"
        f"<link rel='canonical' href='/news/{n}-story/'>"
        f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
        f"<body><article><h1>{escape(title)}</h1><div class='paid'>Text.</div></article>"
        "</body></html>"
    )


HOME = "<!doctype html><html><head><title>Pozirk</title></head><body><h1>Pozirk</h1></body></html>"

TITLES = {
    1: "Reprisals: at least 40 people targeted",
    2: "Minsk weather: snow expected",
    3: "Iran’s president to visit Minsk next week",
    4: "Opposition politician: Trump could claim a win",
    5: "Railway strike called off",
    6: "Border queue grows to 900 trucks",
}


class Hook:
    """A webhook that notes when each alert arrived (time.monotonic, as Site does)."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook.lock:
                    hook.received.append((time.monotonic(), json.loads(body)["message"]))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/{path}"

    def messages(self) -> list[str]:
        with self.lock:
            return [m for _, m in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook()
    yield receiver
    receiver.close()


def write_config(
    tmp_path: Path, site: Site, hook: Hook, extra: str = "", channels: str = ""
) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(
        'database = "state.db"\n'
        "articles = true\n"
        'article_recheck = "1s"\n'
        'article_recheck_for = "1h"\n'
        f"{extra}\n"
        "[[sources]]\n"
        'name = "pozirk-politics"\n'
        f'url = "{site.url("/politics/")}"\n'
        "[sources.rule]\n"
        'item = "article.teaser"\n'
        'section = ".rubric"\n'
        f'paywall_text = "{MARKER}"\n'
        "[channels.phone]\n"
        f'urls = ["{hook.url()}"]\n' + channels,
        encoding="utf-8",
    )
    return path


def serve(site: Site, numbers: list[int], paid: set[int], free_articles: set[int]) -> None:
    site.set("/politics/", listing(*(teaser(n, TITLES[n], n in paid) for n in numbers)))
    for n in numbers:
        site.set(f"/news/{n}-story/", article(n, TITLES[n], free=n in free_articles))


def article_requests(site: Site, n: int) -> int:
    return len(site.requests_for(f"/news/{n}-story/"))


def check(config: Path) -> list[object]:
    with Monitor.open(config) as monitor:
        return list(monitor.check())


def test_a_paywalled_story_whose_article_turns_free_is_told_now_free_once(
    site: Site, hook: Hook, tmp_path: Path
) -> None:
    config = write_config(tmp_path, site, hook)
    serve(site, [3, 2, 1], paid={3, 1}, free_articles={2})
    check(config)  # baseline: listing recorded, article pages read, nothing told
    assert [article_requests(site, n) for n in (1, 2, 3)] == [1, 1, 1]
    assert hook.messages() == []
    # The article of story 1 is unlocked; its teaser still says POZIRK+.
    site.set("/news/1-story/", article(1, TITLES[1], free=True))
    time.sleep(1.1)  # the first recheck is due after article_recheck (1 s)
    check(config)
    messages = hook.messages()
    assert len(messages) == 1
    assert TITLES[1] in messages[0]
    assert "now free" in messages[0]
    assert site.url("/news/1-story/") in messages[0]
    # The free article (2) is never rechecked; story 3 is, and stays paywalled.
    assert [article_requests(site, n) for n in (1, 2, 3)] == [2, 1, 2]
    time.sleep(1.6)  # the next wait is 1.5 times the first
    check(config)
    assert len(hook.messages()) == 1
    # Story 1 is free now: no more rechecks of it; story 3 still rechecked (a 304).
    assert [article_requests(site, n) for n in (1, 2, 3)] == [2, 1, 3]
    with Monitor.open(config) as monitor:
        changed = monitor.events(kind="changed")
    assert [(e.item.key if e.item else None, e.detail) for e in changed] == [
        (
            site.url("/news/1-story/"),
            'the article page says so: json-ld isAccessibleForFree="True"',
        )
    ]


def test_a_teaser_and_article_unlocked_together_are_told_once(
    site: Site, hook: Hook, tmp_path: Path
) -> None:
    config = write_config(tmp_path, site, hook)
    serve(site, [3, 2, 1], paid={3, 1}, free_articles={2})
    check(config)
    serve(site, [3, 2, 1], paid={3}, free_articles={2, 1})
    time.sleep(1.1)
    check(config)
    messages = hook.messages()
    assert len(messages) == 1
    assert "now free" in messages[0]


def test_a_pulled_story_is_removed_with_the_evidence_and_a_scrolled_off_one_is_not(
    site: Site, hook: Hook, tmp_path: Path
) -> None:
    config = write_config(tmp_path, site, hook)
    serve(site, [5, 4, 3, 2, 1], paid=set(), free_articles={5, 4, 3, 2, 1})
    check(config)  # baseline
    assert [article_requests(site, n) for n in (5, 4, 3, 2, 1)] == [1, 1, 1, 1, 0]  # budget 4
    # Story 3 is pulled (its page answers 404); story 1 scrolled off the bottom.
    site.set("/politics/", listing(*(teaser(n, TITLES[n], False) for n in (5, 4, 2))))
    del site.pages["/news/3-story/"]
    outcomes = check(config)
    messages = hook.messages()
    assert len(messages) == 1
    assert TITLES[3] in messages[0]
    assert "removed: the article page answers HTTP 404 (not found)" in messages[0]
    assert article_requests(site, 1) == 0  # a scroll-off is not asked about
    assert any(getattr(o, "status", None) == "articles" for o in outcomes)
    with Monitor.open(config) as monitor:
        removed = monitor.events(kind="removed")
    assert [(e.item.key if e.item else None, e.detail) for e in removed] == [
        (site.url("/news/3-story/"), "the article page answers HTTP 404 (not found)")
    ]
    # Nothing more on the next round.
    check(config)
    assert len(hook.messages()) == 1


def test_a_story_dropped_from_the_listing_but_still_online_is_only_told_where_asked(
    site: Site, hook: Hook, tmp_path: Path
) -> None:
    channels = f'[channels.watch]\nurls = ["{hook.url("watch")}"]\nevents = ["dropped"]\n'
    config = write_config(tmp_path, site, hook, channels=channels)
    serve(site, [4, 3, 2, 1], paid=set(), free_articles={4, 3, 2, 1})
    check(config)
    site.set("/politics/", listing(*(teaser(n, TITLES[n], False) for n in (4, 2, 1))))
    check(config)
    messages = hook.messages()
    assert len(messages) == 1  # only the channel that asks for "dropped"
    assert TITLES[3] in messages[0]
    assert "dropped from the listing: the article page is still there, HTTP 200" in messages[0]
    with Monitor.open(config) as monitor:
        assert monitor.events(kind="removed") == []
        assert [e.detail for e in monitor.events(kind="dropped")] == [
            "the article page is still there, HTTP 200"
        ]


def test_a_story_redirected_to_the_home_page_is_removed(
    site: Site, hook: Hook, tmp_path: Path
) -> None:
    config = write_config(tmp_path, site, hook)
    serve(site, [4, 3, 2, 1], paid=set(), free_articles={4, 3, 2, 1})
    site.set("/", HOME)
    check(config)
    site.set("/politics/", listing(*(teaser(n, TITLES[n], False) for n in (4, 2, 1))))
    site.set("/news/3-story/", "", status=301, headers={"Location": "/"}, validators=False)
    check(config)
    messages = hook.messages()
    assert len(messages) == 1
    assert (
        f"removed: the article page redirects to {site.url('/')}, which is not an article"
        in (messages[0])
    )


def test_article_fetches_of_a_round_stay_within_the_per_host_budget(
    site: Site, hook: Hook, tmp_path: Path
) -> None:
    config = write_config(tmp_path, site, hook, extra="article_budget = 2")
    serve(site, [6, 5, 4, 3, 2, 1], paid=set(), free_articles={6, 5, 4, 3, 2, 1})

    def article_fetches() -> int:
        return sum(article_requests(site, n) for n in TITLES)

    counts = []
    for _ in range(4):
        check(config)
        counts.append(article_fetches())
    # Two a round until every baseline article is read, then none.
    assert counts == [2, 4, 6, 6]


def test_the_listing_alerts_go_out_before_any_article_fetch_of_the_round(
    site: Site, hook: Hook, tmp_path: Path
) -> None:
    config = write_config(tmp_path, site, hook)
    serve(site, [2, 1], paid=set(), free_articles={2, 1})
    check(config)
    serve(site, [4, 3, 2, 1], paid={4}, free_articles={3, 2, 1})
    done = run_monitor("check", config=config)
    assert done.returncode == 0, done.stderr
    assert len(hook.received) == 1  # one message with the two new stories
    delivered_at = hook.received[0][0]
    fetched = [r.at for n in (3, 4) for r in site.requests_for(f"/news/{n}-story/")]
    assert len(fetched) == 2
    assert delivered_at < min(fetched)
