"""`preview`: fetch one page and show what a rule extracts from it, touching no state."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from monitor.extract import extract_items
from monitor.models import FetchError, Item, Source
from monitor.pipeline.fetch import Fetcher, FetchSettings

_FEED_ROOT = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]", re.I)


@dataclass(frozen=True)
class PreviewResult:
    url: str
    kind: str
    items: tuple[Item, ...]
    # Feeds the page advertises with <link rel="alternate">.
    feeds: tuple[dict[str, Any], ...] = ()


def looks_like_feed(body: bytes, content_type: str | None) -> bool:
    """An RSS/Atom/RDF root element near the start, or a JSON Feed."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return b"jsonfeed.org" in head
    if content_type and any(t in content_type for t in ("rss", "atom")):
        return True
    return bool(_FEED_ROOT.search(head)) and not head[:200].lower().startswith(b"<!doctype html")


async def preview_source(source: Source, settings: FetchSettings) -> PreviewResult:
    """Fetch the source's URL and extract with its rule. `kind="auto"` guesses the kind."""
    async with Fetcher(settings) as fetcher:
        result = await fetcher.fetch(source.url, headers=source.headers, cookies=source.cookies)
    if result.body is None:
        raise FetchError(f"HTTP {result.status}: no body")
    return preview_body(source, result.body, result.url, result.header("content-type"))


def preview_body(
    source: Source, body: bytes, url: str, content_type: str | None = None
) -> PreviewResult:
    """What the source's rule extracts from `body` (a page fetched from, or saved from,
    `url`). `kind="auto"` guesses the kind."""
    kind = source.kind
    if kind not in ("html", "feed"):
        kind = "feed" if looks_like_feed(body, content_type) else "html"
    source = dataclasses.replace(source, kind=kind)
    items = extract_items(source, body, url, content_type)
    feeds: tuple[dict[str, Any], ...] = ()
    if kind == "html":
        from monitor.extract.html import discover_feeds

        feeds = tuple(discover_feeds(body, url))
    return PreviewResult(url=url, kind=kind, items=tuple(items), feeds=feeds)
