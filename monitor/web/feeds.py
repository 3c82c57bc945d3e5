"""Events as Atom and JSON Feed documents, and the channel filters a feed takes.

Entry ids are derived from what never changes about an event (its id, time, source and
kind), so a feed reader sees each event once however often it asks; a new database never
reuses an old event's id. Every text that came from a page goes through the XML writer
(escaped) with the characters XML cannot carry removed; links are only http(s) URLs.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.alerts.render import change_text
from monitor.models import Channel, Event

ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Newest events a feed holds.
FEED_SIZE = 50
FILTER_KEYS = ("sources", "sections", "events", "paywalled", "include", "exclude")
EVENT_KINDS = ("new", "changed", "removed", "health")
_ENTRY_NAMESPACE = uuid.UUID("6f1c1f3e-2a51-4d4e-9b1e-0f8a6b7c2d90")
# XML 1.0 forbids most control characters; a page may hold any of them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_KIND_WORDS = {"new": "New", "changed": "Changed", "removed": "Removed", "health": "Health"}


def web_url(url: str | None) -> str | None:
    """The URL when it is an http(s) URL with a host (only those become links)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    url: str | None
    text: str
    at: str
    categories: tuple[str, ...]


def entry_id(event_id: int, event: Event) -> str:
    key = f"{event_id}|{event.at}|{event.source}|{event.kind}"
    return f"urn:uuid:{uuid.uuid5(_ENTRY_NAMESPACE, key)}"


def event_title(event: Event) -> str:
    """'New: headline 🔒', 'Health: source'."""
    item = event.item
    if item is None:
        return f"{_KIND_WORDS[event.kind]}: {event.source}"
    lock = " 🔒" if item.paywalled else ""
    return f"{_KIND_WORDS[event.kind]}: {item.title}{lock}"


def event_text(event: Event) -> str:
    """What happened, in words: the change, the section and the source."""
    item = event.item
    if item is None:
        return f"{event.source}: {event.detail or ''}".strip()
    parts = []
    if event.kind == "changed":
        parts.append(change_text(event))
    elif event.kind == "removed":
        parts.append("no longer listed")
    else:
        parts.append("paywalled" if item.paywalled else "free")
    if item.section:
        parts.append(f"section {item.section}")
    parts.append(f"source {event.source}")
    if event.detail:
        parts.append(event.detail)
    return "; ".join(parts)


def entry_of(event_id: int, event: Event) -> FeedEntry:
    item = event.item
    categories = [event.kind, event.source]
    if item is not None and item.section:
        categories.append(item.section)
    return FeedEntry(
        id=entry_id(event_id, event),
        title=event_title(event),
        url=web_url(item.url) if item is not None else None,
        text=event_text(event),
        at=event.at,
        categories=tuple(categories),
    )


@dataclass(frozen=True)
class FeedInfo:
    title: str
    feed_url: str
    site_url: str
    # Stable feed id: the same filter on the same server gives the same id.
    id: str


def atom(info: FeedInfo, entries: Sequence[FeedEntry], generated: str) -> bytes:
    """An Atom 1.0 document; `generated` is its <updated> when there is no entry."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            node.text = xml_text(text)
        return node

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", info.id)
    sub(feed, "title", info.title)
    sub(feed, "updated", entries[0].at if entries else generated)
    sub(feed, "link", rel="self", href=info.feed_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=info.site_url, type="text/html")
    author = sub(feed, "author")
    sub(author, "name", "news-monitor")
    sub(feed, "generator", "news-monitor")
    for entry in entries:
        node = sub(feed, "entry")
        sub(node, "id", entry.id)
        sub(node, "title", entry.title, type="text")
        sub(node, "updated", entry.at)
        sub(node, "published", entry.at)
        if entry.url:
            sub(node, "link", rel="alternate", href=xml_text(entry.url))
        for category in entry.categories:
            sub(node, "category", term=xml_text(category))
        sub(node, "summary", entry.text, type="text")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


def json_feed(info: FeedInfo, entries: Sequence[FeedEntry]) -> bytes:
    """A JSON Feed 1.1 document."""
    items = []
    for entry in entries:
        one: dict[str, object] = {
            "id": entry.id,
            "title": entry.title,
            "content_text": entry.text,
            "date_published": entry.at,
            "tags": list(entry.categories),
        }
        if entry.url:
            one["url"] = entry.url
        items.append(one)
    document = {
        "version": JSON_FEED_VERSION,
        "title": info.title,
        "home_page_url": info.site_url,
        "feed_url": info.feed_url,
        "authors": [{"name": "news-monitor"}],
        "items": items,
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match holds this ETag (or '*'); weak tags compare as strong ones."""
    if not header:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


class FilterError(ValueError):
    """A feed's query parameters do not make a channel filter."""


def channel_from_query(params: Mapping[str, Sequence[str]]) -> Channel:
    """The filters of a feed given as query parameters, in the keys a channel has (each
    repeatable: ?sources=a&sources=b); the `re:` patterns are checked."""
    from monitor.alerts.route import REGEX_PREFIX, compile_regex

    unknown = sorted(set(params) - set(FILTER_KEYS))
    if unknown:
        raise FilterError(f"unknown filter {unknown[0]!r}; use {', '.join(FILTER_KEYS)}")
    kinds = tuple(params.get("events", ()))
    bad = [k for k in kinds if k not in EVENT_KINDS]
    if bad:
        raise FilterError(f"events={bad[0]!r}: use {', '.join(EVENT_KINDS)}")
    paywalled: bool | None = None
    for value in params.get("paywalled", ()):
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise FilterError(f"paywalled={value!r}: use true or false")
        paywalled = value.lower() in ("true", "1", "yes")
    for key in ("include", "exclude"):
        for entry in params.get(key, ()):
            if entry.startswith(REGEX_PREFIX):
                try:
                    compile_regex(entry[len(REGEX_PREFIX) :])
                except ValueError as exc:
                    raise FilterError(f"{key}={entry!r}: {exc}") from None
    return Channel(
        name="feed",
        urls=(),
        sources=tuple(params.get("sources", ())),
        sections=tuple(params.get("sections", ())),
        events=kinds,  # type: ignore[arg-type]
        paywalled=paywalled,
        include=tuple(params.get("include", ())),
        exclude=tuple(params.get("exclude", ())),
    )
