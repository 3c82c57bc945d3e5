"""A source's own fault is a FetchError for that source, whatever raised it: raw deflate is
read, a corrupt body, an unsendable header, a missing proxy library are clear errors."""

from __future__ import annotations

import asyncio
import gzip
import importlib.util
import json
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from monitor.models import FetchError
from monitor.pipeline.fetch import Fetcher, FetchSettings
from tests.conftest import Site, run_monitor

PAGE = b"<html><body>" + b"<article><a href='/a'>A story</a></article>" * 200 + b"</body></html>"


def fetch(url: str, settings: FetchSettings | None = None, transport=None, **kwargs):
    async def go():
        async with Fetcher(settings or FetchSettings(), transport=transport) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(go())


def encoded_page(site: Site, path: str, body: bytes, encoding: str) -> str:
    """A page the real server sends with these bytes and this Content-Encoding."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Encoding", encoding)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return site.set(path, b"", handler=handler)


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def test_raw_deflate_body_without_zlib_header_is_decoded(site: Site) -> None:
    url = encoded_page(site, "/raw", raw_deflate(PAGE), "deflate")
    assert fetch(url).body == PAGE


def test_zlib_wrapped_deflate_body_is_decoded(site: Site) -> None:
    url = encoded_page(site, "/zlib", zlib.compress(PAGE), "deflate")
    assert fetch(url).body == PAGE


def test_raw_deflate_arriving_one_byte_at_a_time_is_decoded() -> None:
    data = raw_deflate(PAGE)

    def handler(request: httpx.Request) -> httpx.Response:
        chunks = [data[i : i + 1] for i in range(len(data))]
        return httpx.Response(200, headers={"Content-Encoding": "deflate"}, stream=Chunks(chunks))

    assert fetch("http://127.0.0.1/drip", transport=httpx.MockTransport(handler)).body == PAGE


class Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk


def test_raw_deflate_body_is_still_capped(site: Site) -> None:
    url = encoded_page(site, "/bomb", raw_deflate(b"a" * 2_000_000), "deflate")
    with pytest.raises(FetchError, match=r"^response too large: over the 100000 byte cap$"):
        fetch(url, FetchSettings(max_bytes=100_000))


def test_corrupt_gzip_body_is_a_fetch_error_naming_the_encoding(site: Site) -> None:
    url = encoded_page(site, "/bad", b"this is not gzip at all, just text", "gzip")
    with pytest.raises(FetchError) as info:
        fetch(url)
    assert str(info.value) == "corrupt compressed body (gzip): incorrect header check"


def test_gzip_with_a_damaged_middle_is_a_fetch_error(site: Site) -> None:
    data = bytearray(gzip.compress(PAGE))
    data[30:60] = b"\xff" * 30
    url = encoded_page(site, "/damaged", bytes(data), "gzip")
    with pytest.raises(FetchError, match=r"^corrupt compressed body \(gzip\): "):
        fetch(url)


def test_corrupt_deflate_body_is_a_fetch_error(site: Site) -> None:
    url = encoded_page(site, "/bad", b"\x78\x9c garbage after a zlib header", "deflate")
    with pytest.raises(FetchError, match=r"^corrupt compressed body \(deflate\): "):
        fetch(url)


def test_socks_proxy_without_socksio_is_a_fetch_error_with_the_install_command() -> None:
    if importlib.util.find_spec("socksio") is not None:
        pytest.skip("socksio is installed here")
    with pytest.raises(FetchError) as info:
        fetch("http://127.0.0.1:9/", FetchSettings(proxy="socks5://127.0.0.1:1080"))
    assert str(info.value) == (
        "the proxy is a SOCKS proxy, which needs the socksio library: pip install 'httpx[socks]'"
    )


def test_non_ascii_cookie_is_a_fetch_error_that_does_not_show_the_value(site: Site) -> None:
    url = site.set("/p", "x")
    with pytest.raises(FetchError) as info:
        fetch(url, cookies=(("session", "sécret-value"),))
    assert str(info.value) == (
        "cannot send a header or cookie: its value holds a non-ASCII character (percent-encode it)"
    )
    assert site.requests_for("/p") == []


def test_line_break_in_a_header_is_a_fetch_error_that_does_not_show_the_value(
    site: Site,
) -> None:
    url = site.set("/p", "x")
    with pytest.raises(FetchError) as info:
        fetch(url, headers=(("Authorization", "Bearer t0ken\r\nX-Injected: 1"),))
    assert str(info.value) == (
        "cannot send a header or cookie: a name or value holds a character HTTP does not"
        " allow (a line break or control character)"
    )
    assert "t0ken" not in str(info.value)
    assert site.requests_for("/p") == []


def test_any_other_exception_while_fetching_becomes_a_fetch_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("the transport broke in a new way")

    with pytest.raises(FetchError) as info:
        fetch("http://127.0.0.1/x", transport=httpx.MockTransport(handler))
    assert str(info.value) == (
        "unexpected error while fetching: RuntimeError: the transport broke in a new way"
    )


def test_one_corrupt_source_fails_alone_and_the_round_goes_on(site: Site, tmp_path: Path) -> None:
    feed = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>F</title>"
        b"<item><title>One</title><link>https://a.test/1</link></item></channel></rss>"
    )
    raw = encoded_page(site, "/raw.xml", raw_deflate(feed), "deflate")
    bad = encoded_page(site, "/bad.xml", b"not gzip", "gzip")
    config = tmp_path / "monitor.toml"
    config.write_text(
        'database = "state.db"\n'
        f'[[sources]]\nname = "raw"\nurl = "{raw}"\nkind = "feed"\n'
        f'[[sources]]\nname = "bad"\nurl = "{bad}"\nkind = "feed"\n',
        encoding="utf-8",
    )
    result = run_monitor("check", "--no-notify", config=config)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "raw: baseline, 1 items, no events" in result.stderr
    assert "bad: FAILED: corrupt compressed body (gzip): incorrect header check" in result.stderr

    status = run_monitor("status", "--json", config=config)
    assert status.returncode == 0, status.stderr
    by_name = {s["name"]: s for s in json.loads(status.stdout)["sources"]}
    assert by_name["raw"]["health"] == "ok"
    assert by_name["bad"]["health"] == "erroring"
    assert by_name["bad"]["last_error"] == "corrupt compressed body (gzip): incorrect header check"
