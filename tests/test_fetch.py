"""Fetching: conditional GET, size cap, Retry-After and every failure as a clear FetchError."""

import asyncio
import gzip
import time

import httpx
import pytest

from monitor.models import FetchError
from monitor.pipeline.fetch import Fetcher, FetchSettings, parse_retry_after


def fetch(url: str, settings: FetchSettings | None = None, transport=None, **kwargs):
    async def go():
        async with Fetcher(settings or FetchSettings(), transport=transport) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(go())


def test_validators_are_sent_back_exactly_and_304_has_no_body(site):
    url = site.set("/p", "<html>hello</html>")
    first = fetch(url)
    assert first.status == 200 and first.body == b"<html>hello</html>"
    assert first.etag and first.last_modified == "Mon, 23 Nov 2026 10:00:00 GMT"
    second = fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert second.status == 304 and second.body is None
    request = site.requests_for("/p")[1]
    assert request.headers["If-None-Match"] == first.etag
    assert request.headers["If-Modified-Since"] == "Mon, 23 Nov 2026 10:00:00 GMT"


def test_user_agent_headers_and_cookies_are_sent(site):
    url = site.set("/p", "x")
    fetch(
        url,
        FetchSettings(user_agent="test-agent/1"),
        headers=(("X-Extra", "1"),),
        cookies=(("session", "abc"), ("b", "2")),
    )
    headers = site.requests_for("/p")[0].headers
    assert headers["User-Agent"] == "test-agent/1"
    assert headers["X-Extra"] == "1"
    assert headers["Cookie"] == "session=abc; b=2"


def test_http_error_status_is_a_fetch_error_with_status(site):
    url = site.set("/gone", "nope", status=500)
    with pytest.raises(FetchError, match="HTTP 500") as info:
        fetch(url)
    assert info.value.status == 500
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(site.url("/missing"))


def test_connection_refused_is_reported():
    from tests.conftest import free_port

    with pytest.raises(FetchError, match="cannot connect"):
        fetch(f"http://127.0.0.1:{free_port()}/")


def test_body_over_the_cap_is_cut_off_even_when_compressed(site):
    url = site.set("/big", b"a" * 300_000, gzip=True)
    with pytest.raises(FetchError, match="too large"):
        fetch(url, FetchSettings(max_bytes=100_000))


def test_truncated_gzip_is_a_clear_error():
    data = gzip.compress(b"<html>" + b"x" * 10000)[:-20]

    def handler(request):
        return httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(data)
        )

    with pytest.raises(FetchError, match="corrupt compressed body"):
        fetch("http://127.0.0.1/t", transport=httpx.MockTransport(handler))


def test_redirect_loop_and_non_http_redirect():
    def handler(request):
        if request.url.path == "/loop":
            return httpx.Response(302, headers={"Location": "/loop"})
        return httpx.Response(302, headers={"Location": "file:///etc/passwd"})

    transport = httpx.MockTransport(handler)
    with pytest.raises(FetchError, match="too many redirects"):
        fetch("http://127.0.0.1/loop", transport=transport)
    with pytest.raises(FetchError, match="unsupported"):
        fetch("http://127.0.0.1/file", transport=transport)


def test_slow_server_hits_the_total_timeout():
    async def handler(request):
        await asyncio.sleep(5)
        return httpx.Response(200, content=b"late")

    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetch(
            "http://127.0.0.1/slow",
            FetchSettings(total_timeout=0.3),
            transport=httpx.MockTransport(handler),
        )
    assert time.monotonic() - started < 3


def test_retry_after_holds_the_next_request_to_that_host(site):
    url = site.set("/limited", "slow down", status=429, headers={"Retry-After": "1"})
    other = site.set("/ok", "fine")

    async def go():
        async with Fetcher(FetchSettings()) as fetcher:
            with pytest.raises(FetchError, match="429"):
                await fetcher.fetch(url)
            site.set("/limited", "ok now")
            await fetcher.fetch(other)
            return await fetcher.fetch(url)

    result = asyncio.run(go())
    assert result.status == 200
    limited = site.requests_for("/limited")
    assert limited[1].at - limited[0].at >= 0.9
    # Same host: the other page waited too.
    assert site.requests_for("/ok")[0].at - limited[0].at >= 0.9


def test_parse_retry_after_forms():
    assert parse_retry_after("120", 0) == 120
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40) == 60
    assert parse_retry_after("soon", 0) is None
