"""One source's fault is that source's error: whatever fetching, decoding or extracting it
raises is recorded like a 500 (health, backoff, `monitor status`), and the other sources of
the round go on. And validators are kept fresh: a new ETag for the same bytes is stored."""

from __future__ import annotations

import asyncio
import json
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from monitor.models import FetchResult, Rule, Source
from monitor.pipeline.check import CheckOutcome, check_source
from monitor.pipeline.fetch import Fetcher, FetchSettings
from monitor.pipeline.store import Store
from tests.conftest import Site, run_monitor
from tests.listing_pages import check, page, source_table, write_config

ZLIB_FAULT = "Error -3 while decompressing data: invalid stored block lengths"


class FaultyDecoder(Fetcher):
    """A real fetcher whose decoding breaks, for one URL, with an exception nobody wrapped
    (as a library's bug would)."""

    def __init__(self, settings: FetchSettings, broken_url: str) -> None:
        super().__init__(settings)
        self.broken_url = broken_url

    async def fetch(self, url: str, **kwargs: object) -> FetchResult:  # type: ignore[override]
        if url == self.broken_url:
            raise zlib.error(ZLIB_FAULT)
        return await super().fetch(url, **kwargs)  # type: ignore[arg-type]


def test_an_unexpected_exception_is_that_sources_error_and_the_round_goes_on(
    site: Site, tmp_path: Path
):
    broken = Source(name="broken", url=site.set("/broken", page([1])), rule=Rule(item="li.item"))
    healthy = Source(
        name="healthy", url=site.set("/healthy", page([3, 2, 1])), rule=Rule(item="li.item")
    )
    tables = source_table(broken.url, name="broken") + source_table(healthy.url, name="healthy")
    config = write_config(tmp_path, tables)
    store = Store.open(tmp_path / "state.db")

    async def round_() -> tuple[CheckOutcome, CheckOutcome]:
        async with FaultyDecoder(FetchSettings(), broken.url) as fetcher:
            bad, good = await asyncio.gather(
                check_source(broken, fetcher=fetcher, store=store, failure_threshold=3),
                check_source(healthy, fetcher=fetcher, store=store, failure_threshold=3),
            )
            return bad, good

    try:
        rounds = [asyncio.run(round_()) for _ in range(3)]
    finally:
        store.close()

    error = f"zlib.error: {ZLIB_FAULT}"
    assert [(bad.status, bad.error) for bad, _ in rounds] == [("error", error)] * 3
    assert [good.status for _, good in rounds] == ["baseline", "not-modified", "not-modified"]
    # The third failure in a row is a health event, as for a 500.
    assert [[e.detail for e in bad.events] for bad, _ in rounds] == [
        [],
        [],
        [f"failing: 3 polls in a row failed; last error: {error}"],
    ]
    status = json.loads(run_monitor("status", "--json", config=config).stdout)
    by_name = {s["name"]: s for s in status["sources"]}
    assert (by_name["broken"]["last_error"], by_name["broken"]["consecutive_errors"]) == (error, 3)
    assert (by_name["healthy"]["last_error"], by_name["healthy"]["consecutive_errors"]) == (None, 0)


def etag_server(site: Site, body: bytes) -> str:
    """A CDN that hands out a new ETag when it refreshes its copy of the same page: "v1",
    then "v2" on a full 200 of the same bytes, then "v3" on a 304."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        poll = len(site.requests_for("/politics")) - 1  # this request is logged already
        asked = request.headers.get("If-None-Match")
        if poll >= 2 and asked == ('"v2"' if poll == 2 else '"v3"'):
            request.send_response(304)
            request.send_header("ETag", '"v3"')
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        request.send_response(200)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("ETag", '"v1"' if poll == 0 else '"v2"')
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return site.set("/politics", handler=handler)


def test_a_new_etag_for_the_same_bytes_is_kept_so_the_next_poll_gets_a_304(
    site: Site, tmp_path: Path
):
    body = page([3, 2, 1]).encode()
    url = etag_server(site, body)
    config = write_config(tmp_path, source_table(url))

    assert check(config).line() == "baseline, 3 items, no events"  # stores "v1"
    # The CDN moved on to "v2": a full 200 of the same bytes, whose new ETag is kept.
    assert check(config).line() == "unchanged, 3 items, no events"
    assert check(config).line() == "not-modified, 3 items, no events"  # 304, names "v3"
    assert check(config).line() == "not-modified, 3 items, no events"

    sent = [r.headers.get("If-None-Match") for r in site.requests_for("/politics")]
    assert sent == [None, '"v1"', '"v2"', '"v3"']
