"""Conditional polls reuse one connection: a 304 must not cost a new TCP handshake."""

from __future__ import annotations

import asyncio
from http.server import BaseHTTPRequestHandler

from monitor.fetch import Fetcher, FetchSettings
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
