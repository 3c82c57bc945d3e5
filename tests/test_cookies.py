"""Cookies per source: what a server sets is kept for the source that received it, and a
source's configured cookies go only with its own requests."""

from __future__ import annotations

import asyncio
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from monitor.pipeline.fetch import Fetcher, FetchSettings
from tests.conftest import Site, run_monitor

SUBSCRIBER = (("plus", "subscriber-token"),)


def session_page(site: Site, path: str) -> str:
    """A page that opens a session: a subscriber's request (cookie `plus`) gets a session
    cookie valid for the whole host, as news sites do."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        body = b"<html><body><article><a href='/a'>A story</a></article></body></html>"
        request.send_response(200)
        if "plus=" in (request.headers.get("Cookie") or ""):
            request.send_header("Set-Cookie", "session=paid-session; Path=/")
        else:
            request.send_header("Set-Cookie", "visitor=anonymous; Path=/")
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return site.set(path, b"", handler=handler)


def cookies_seen(site: Site, path: str) -> list[str | None]:
    return [r.headers.get("Cookie") for r in site.requests_for(path)]


def test_a_subscriber_session_never_reaches_a_public_source_on_the_same_host(
    site: Site,
) -> None:
    plus = session_page(site, "/plus/")
    public = session_page(site, "/news/")

    async def poll() -> None:
        async with Fetcher(FetchSettings()) as fetcher:
            for _ in range(2):
                await fetcher.fetch(plus, cookies=SUBSCRIBER)
                await fetcher.fetch(public)

    asyncio.run(poll())
    assert cookies_seen(site, "/plus/") == [
        "plus=subscriber-token",
        "plus=subscriber-token; session=paid-session",
    ]
    assert cookies_seen(site, "/news/") == [None, "visitor=anonymous"]


def test_two_sources_on_one_page_with_different_cookies_keep_separate_jars(site: Site) -> None:
    page = session_page(site, "/news/")

    async def poll() -> None:
        async with Fetcher(FetchSettings()) as fetcher:
            for _ in range(2):
                await fetcher.fetch(page, cookies=SUBSCRIBER)
                await fetcher.fetch(page)

    asyncio.run(poll())
    assert cookies_seen(site, "/news/") == [
        "plus=subscriber-token",
        None,
        "plus=subscriber-token; session=paid-session",
        "visitor=anonymous",
    ]


def test_monitor_check_sends_configured_cookies_only_to_their_source(
    site: Site, tmp_path: Path
) -> None:
    plus = session_page(site, "/plus/")
    public = session_page(site, "/news/")
    config = tmp_path / "monitor.toml"
    # One source at a time, the subscriber first: the order in which a shared jar leaked.
    config.write_text(
        'database = "state.db"\nconcurrency = 1\n'
        f'[[sources]]\nname = "plus"\nurl = "{plus}"\ncookies = {{ plus = "subscriber-token" }}\n'
        '[sources.rule]\nitem = "article"\n'
        f'[[sources]]\nname = "public"\nurl = "{public}"\n'
        '[sources.rule]\nitem = "article"\n',
        encoding="utf-8",
    )
    result = run_monitor("check", "--json", "--no-notify", config=config)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert "plus: baseline, 1 items, no events" in result.stderr
    assert "public: baseline, 1 items, no events" in result.stderr
    assert cookies_seen(site, "/plus/") == ["plus=subscriber-token"]
    assert cookies_seen(site, "/news/") == [None]


def test_a_configured_cookie_wins_over_one_the_server_sets_with_the_same_name(
    site: Site,
) -> None:
    url = site.set("/p", "x", headers={"Set-Cookie": "plus=logged-out; Path=/"})

    async def poll() -> None:
        async with Fetcher(FetchSettings()) as fetcher:
            for _ in range(2):
                await fetcher.fetch(url, cookies=SUBSCRIBER)

    asyncio.run(poll())
    assert cookies_seen(site, "/p") == ["plus=subscriber-token", "plus=subscriber-token"]
