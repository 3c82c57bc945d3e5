"""Validators kept fresh: a Last-Modified the server sends anew for the same bytes is stored,
so the next poll asks with it and gets its 304 (the ETag's case is in test_source_faults)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.conftest import Site
from tests.listing_pages import check, page, source_table, write_config

MONDAY = "Mon, 23 Nov 2026 10:00:00 GMT"
TUESDAY = "Tue, 24 Nov 2026 10:00:00 GMT"


def last_modified_server(site: Site, body: bytes) -> str:
    """A server without ETags whose copy of the page was rewritten with the same bytes on
    Tuesday: it answers 304 only to an If-Modified-Since of that date."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        poll = len(site.requests_for("/politics")) - 1  # this request is logged already
        modified = MONDAY if poll == 0 else TUESDAY
        if request.headers.get("If-Modified-Since") == modified:
            request.send_response(304)
            request.send_header("Last-Modified", modified)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        request.send_response(200)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Last-Modified", modified)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return site.set("/politics", handler=handler)


def test_a_new_last_modified_for_the_same_bytes_is_kept_so_the_next_poll_gets_a_304(
    site: Site, tmp_path: Path
):
    url = last_modified_server(site, page([3, 2, 1]).encode())
    config = write_config(tmp_path, source_table(url))

    assert check(config).line() == "baseline, 3 items, no events"  # Monday's date
    # Rewritten on Tuesday: a full 200 of the same bytes, whose new date is kept.
    assert check(config).line() == "unchanged, 3 items, no events"
    assert check(config).line() == "not-modified, 3 items, no events"
    assert check(config).line() == "not-modified, 3 items, no events"

    sent = [r.headers.get("If-Modified-Since") for r in site.requests_for("/politics")]
    assert sent == [None, MONDAY, TUESDAY, TUESDAY]
