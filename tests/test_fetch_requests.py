"""Requests on the wire: connections reused after a 304, redirects, cookies."""

from __future__ import annotations

import asyncio
from http.server import BaseHTTPRequestHandler

from monitor.pipeline.fetch import Fetcher, FetchSettings
from tests.conftest import Site


def test_not_modified_responses_keep_the_connection(site: Site) -> None:
    ports: list[int] = []

    def handler(request: BaseHTTPRequestHandler) -> None:
        ports.append(request.client_address[1])
        if request.headers.get("If-None-Match") == '"v1"':
            request.send_response(304)
            request.send_header("ETag", '"v1"')
            request.end_headers()
            return
        body = b"<html><body><a href='/a'>A story</a></body></html>"
        request.send_response(200)
        request.send_header("ETag", '"v1"')
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    url = site.set("/page", b"", handler=handler)

    async def poll() -> list[int]:
        async with Fetcher(FetchSettings()) as fetcher:
            first = await fetcher.fetch(url)
            statuses = [first.status]
            for _ in range(5):
                result = await fetcher.fetch(url, etag=first.etag)
                statuses.append(result.status)
            return statuses

    assert asyncio.run(poll()) == [200, 304, 304, 304, 304, 304]
    assert len(set(ports)) == 1, ports


def fetch_with(url: str, **kwargs: object) -> tuple[object, ...]:
    async def go() -> tuple[object, ...]:
        async with Fetcher(FetchSettings()) as fetcher:
            first = await fetcher.fetch(url, **kwargs)  # type: ignore[arg-type]
            second = await fetcher.fetch(url, **kwargs)  # type: ignore[arg-type]
            return first, second

    return asyncio.run(go())


def test_same_origin_redirect_keeps_the_source_cookie_and_reports_the_final_url(
    site: Site,
) -> None:
    site.set("/en/politics", b"", status=301, headers={"Location": "/en/politics/"})
    final = site.set("/en/politics/", "<html>list</html>")
    first, _ = fetch_with(site.url("/en/politics"), cookies=(("plus", "secret"),))
    assert first.url == final and first.body == b"<html>list</html>"  # type: ignore[attr-defined]
    assert [r.headers.get("Cookie") for r in site.requests_for("/en/politics/")] == [
        "plus=secret",
        "plus=secret",
    ]


def test_cross_origin_redirect_leaves_cookie_and_authorization_behind(site: Site) -> None:
    other = Site()
    try:
        target = other.set("/feed", "<rss></rss>")
        site.set("/feed", b"", status=302, headers={"Location": target})
        first, _ = fetch_with(
            site.url("/feed"),
            cookies=(("plus", "secret"),),
            headers=(("Authorization", "Bearer t0ken"), ("X-Extra", "1")),
        )
        assert first.url == target  # type: ignore[attr-defined]
        seen = other.requests_for("/feed")[0].headers
        assert "Cookie" not in seen and "Authorization" not in seen
        assert seen["X-Extra"] == "1"
        assert site.requests_for("/feed")[0].headers["Cookie"] == "plus=secret"
    finally:
        other.close()


def test_cookies_the_server_sets_are_sent_back(site: Site) -> None:
    url = site.set("/p", "x", headers={"Set-Cookie": "consent=yes; Path=/"})
    fetch_with(url)
    assert [r.headers.get("Cookie") for r in site.requests_for("/p")] == [None, "consent=yes"]


def test_each_site_keeps_its_own_connection_when_polls_alternate(site: Site) -> None:
    other = Site()
    seen: dict[str, list[int]] = {"a": [], "b": []}

    def handler_for(name: str):
        def handler(request: BaseHTTPRequestHandler) -> None:
            seen[name].append(request.client_address[1])
            request.send_response(304 if request.headers.get("If-None-Match") else 200)
            request.send_header("ETag", '"v1"')
            request.send_header("Content-Length", "0")
            request.end_headers()

        return handler

    try:
        urls = [
            site.set("/a", b"", handler=handler_for("a")),
            other.set("/b", b"", handler=handler_for("b")),
        ]

        async def poll() -> list[int]:
            async with Fetcher(FetchSettings()) as fetcher:
                return [
                    (await fetcher.fetch(url, etag='"v1"' if n >= 2 else None)).status
                    for n in range(8)
                    for url in [urls[n % 2]]
                ]

        assert asyncio.run(poll()) == [200, 200, 304, 304, 304, 304, 304, 304]
        assert [len(set(ports)) for ports in seen.values()] == [1, 1]
    finally:
        other.close()
