"""Feed extraction: RSS 0.9x/1.0/2.0, Atom and JSON Feed bytes in, items out.

Pure: no I/O. feedparser only ever sees the bytes we fetched, wrapped in a
``BytesIO`` (a bare ``bytes``/``str`` may be taken by feedparser as a file name or
a URL), with a Content-Type header we build (charset only) and no Content-Location:
relative links (after any ``xml:base``) are made absolute against `base_url` by
``canonical_url``, which is cheaper than feedparser's urljoin on every element.

Safety: the DOCTYPE (and with it every entity declaration) is cut out before
parsing, so neither an entity-expansion bomb nor an external entity
(``SYSTEM "file:///..."``) can take effect; expat additionally runs with external
entities off.

Speed: feedparser's HTML sanitizer and relative-URI rewriting of embedded markup
are turned off: we keep only plain text (title, a short summary), stripped here
with a few regular expressions, so neither is needed and skipping them halves
the parse time. With the above, the corpus averages 8 ms per feed instead of
18 ms with feedparser's defaults (a 30-item Hacker News feed: 6 ms). Whitespace
before the XML declaration is dropped, so common "leading newline" feeds parse in
one strict pass instead of strict, fail, loose.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXParseException

from monitor.extract.charset import parser_bytes, sniff_bom, xml_encoding
from monitor.extract.urls import canonical_url, pattern_id, url_fragment
from monitor.models import ExtractError, Item

SUMMARY_LIMIT = 500
TITLE_LIMIT = 1000
# Only this much of an HTML description is stripped down to text.
_SCAN_LIMIT = 10 * SUMMARY_LIMIT
# Longer ids are not trusted as identities.
_ID_LIMIT = 512

_JSONFEED_VERSION = "https://jsonfeed.org/version/"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
# '<?' in UTF-16 without a byte order mark.
_UTF16_MARKERS: tuple[tuple[bytes, str], ...] = (
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)

_WS = re.compile(r"\s+")
# Tag patterns stop at the next "<" so that unclosed tags cannot make them quadratic.
_HIDDEN_OPEN = re.compile(r"<!--|<script\b|<style\b", re.I)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|table|tr|td|th|blockquote|pre|"
    r"section|article|header|footer|figure|figcaption)\b[^<>]*>",
    re.I,
)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![^<>]*>|<\?[^<>]*>")
_HTML_ROOT = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>/]", re.I)
# A feed element anywhere: an HTML-looking body that has one is still parsed.
_FEED_ELEMENT = re.compile(rb"<(?:[A-Za-z0-9_.-]+:)?(?:rss|feed|RDF|channel)[\s>]")
_SUBSET_END = re.compile(rb"\]\s*>")
_CHARREF = re.compile(rb"&#([xX][0-9A-Fa-f]{1,16}|[0-9]{1,20});")


@dataclass(frozen=True)
class _Entry:
    """One feed entry, reduced to plain text; the format-neutral middle step.

    `link` is the entry's own link as written (maybe relative), never its id standing in.
    """

    id: str | None
    link: str | None
    title: str
    summary: str
    tags: tuple[str, ...]
    published: str | None


@dataclass(frozen=True)
class _Place:
    """Where an entry points: its canonical URL, and `named`, the same URL with the
    fragment that names a place on the page (a changelog's ``#v1.3``) when it has one."""

    url: str
    named: str


@dataclass(frozen=True)
class _Paywall:
    categories: frozenset[str]
    texts: tuple[str, ...]

    def matches(self, entry: _Entry) -> bool:
        if self.categories and any(t.casefold() in self.categories for t in entry.tags):
            return True
        if not self.texts:
            return False
        hay = f"{entry.title}\n{entry.summary}".casefold()
        return any(text in hay for text in self.texts)


def extract_feed(
    body: bytes,
    base_url: str,
    content_type: str | None = None,
    paywall_categories: tuple[str, ...] = (),
    paywall_text: tuple[str, ...] = (),
    id_pattern: str | None = None,
) -> list[Item]:
    """Turn a fetched RSS, Atom, RDF or JSON Feed body into items, in feed order.

    `base_url` is the address the body came from (relative links resolve against
    it); `content_type` is the response's Content-Type header, whose charset is
    honoured. An entry is paywalled when one of its categories equals one of
    `paywall_categories` or a `paywall_text` occurs in its title or summary (both
    case-insensitive); paywall categories are not part of its section.

    Identity (`Item.key`): the id `id_pattern` finds in the entry's link, else in its
    id (guid); else the entry's id (an http(s) id canonicalised, keeping a fragment
    that names a place); else its link, canonical plus such a fragment. `Item.url` is
    the canonical http(s) link the entry gives (its link, or an http(s) id), "" when it
    gives none: never a guess. Entries with neither link nor id are dropped, as are
    entries with an id but neither link nor title. Raises ExtractError when the body
    is not a feed at all.

    Example: extract_feed(b"<rss>...</rss>", "https://example.com/rss.xml")
    """
    data, transcoded = _strip_bom(body)
    if _sniff(data) == "json":
        entries = _json_entries(data)
    else:
        charset = "utf-8" if transcoded else xml_encoding(data, content_type)[0]
        entries = _xml_entries(*parser_bytes(data, charset))
    paywall = _Paywall(
        frozenset(_plain_text(c).casefold() for c in paywall_categories if c.strip()),
        tuple(_plain_text(t).casefold() for t in paywall_text if t.strip()),
    )
    return _build_items(entries, base_url, paywall, id_pattern)


# --- bytes: byte order marks, sniffing, charset, DOCTYPE ---------------------------


def _strip_bom(body: bytes) -> tuple[bytes, bool]:
    """Drop a byte order mark, transcoding UTF-16 to UTF-8; True if now known UTF-8."""
    bom = sniff_bom(body)
    marker = next((c for m, c in _UTF16_MARKERS if body.startswith(m)), None)
    if bom is None and marker is None:
        return body, False
    encoding, size = bom or (marker or "utf-8", 0)
    data = body[size:]
    if encoding != "utf-8":
        data = data.decode(encoding, "replace").encode("utf-8")
    return data, True


def _skip_misc(data: bytes, pos: int = 0) -> int:
    """Position after leading whitespace, processing instructions and comments."""
    size = len(data)
    while pos < size:
        if data[pos] in b" \t\r\n":
            pos += 1
        elif data.startswith(b"<?", pos):
            end = data.find(b"?>", pos + 2)
            pos = size if end < 0 else end + 2
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos + 4)
            pos = size if end < 0 else end + 3
        else:
            break
    return pos


def _sniff(data: bytes) -> str:
    """'json' or 'xml'; raises ExtractError for an empty body or an HTML page."""
    start = _skip_misc(data)
    if start >= len(data):
        raise ExtractError("not a feed: empty body")
    head = data[start : start + 64]
    if head[:1] in (b"{", b"["):
        return "json"
    if _HTML_ROOT.match(head) and not _FEED_ELEMENT.search(data, start):
        raise ExtractError("not a feed: looks like an HTML page")
    return "xml"


def _strip_doctype(data: bytes) -> bytes:
    """Cut out the DOCTYPE with its internal subset (entity declarations).

    Entities it declared then stay unexpanded (strict parse fails, the loose parser
    keeps them as literal text): no expansion bomb, no external entity. A subset
    whose end cannot be found removes the whole document.
    """
    start = _skip_misc(data)
    if not data.startswith(b"<!DOCTYPE", start):
        return data
    close = data.find(b">", start)
    bracket = data.find(b"[", start, len(data) if close < 0 else close)
    if bracket >= 0:
        match = _SUBSET_END.search(data, bracket)
        end = match.end() if match else len(data)
    else:
        end = len(data) if close < 0 else close + 1
    return data[:start] + data[end:]


# --- RSS / Atom / RDF through feedparser ---------------------------------------------


def _xml_entries(data: bytes, charset: str) -> list[_Entry]:
    import feedparser  # heavy: imported where used

    content_type = f"application/xml; charset={charset}"
    try:
        parsed = feedparser.parse(
            io.BytesIO(_safe_charrefs(_strip_doctype(data.lstrip()))),
            # No Content-Location: resolving against it costs a urljoin per element
            # (~20% of the parse); links are made absolute by canonical_url instead.
            response_headers={"content-type": content_type},
            resolve_relative_uris=False,
            sanitize_html=False,
        )
    except (ValueError, LookupError, TypeError, AttributeError, RecursionError) as exc:
        # feedparser's loose parser on hostile bytes; never a traceback to the user.
        raise ExtractError(f"not a feed: the parser failed ({type(exc).__name__})") from None
    if not parsed.entries and not parsed.get("version"):
        raise ExtractError(f"not a feed: {_bozo_reason(parsed.get('bozo_exception'))}")
    return [_feedparser_entry(e) for e in parsed.entries]


def _safe_charrefs(data: bytes) -> bytes:
    """`&#xD800;` (a surrogate) or `&#x110000;` makes feedparser's loose parser crash on
    chr(); such references become U+FFFD, as in a browser."""
    if b"&#" not in data:
        return data
    return _CHARREF.sub(_charref, data)


def _charref(match: re.Match[bytes]) -> bytes:
    digits = match.group(1)
    try:
        code = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
    except ValueError:
        return match.group(0)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD;"
    return match.group(0)


def _bozo_reason(exc: object) -> str:
    if exc is None:
        return "no feed element found"
    if isinstance(exc, SAXParseException):
        return f"{exc.getMessage()} (line {exc.getLineNumber()})"
    return str(exc) or type(exc).__name__


def _feedparser_entry(entry: dict[str, Any]) -> _Entry:
    # dict.get, not FeedParserDict.get: no key aliasing (nor its deprecation warnings).
    get = dict.get
    tags = get(entry, "tags") or ()
    return _Entry(
        id=_str_or_none(get(entry, "id")),
        link=_feedparser_link(entry),
        title=_detail_text(get(entry, "title_detail"), get(entry, "title")),
        summary=_feedparser_summary(entry),
        tags=_clean_tags(dict.get(t, "term") or dict.get(t, "label") for t in tags),
        published=_struct_time_iso(get(entry, "published_parsed") or get(entry, "updated_parsed")),
    )


def _feedparser_link(entry: dict[str, Any]) -> str | None:
    """The entry's link element. feedparser copies a permalink guid (or an Atom id) into
    `link` when there is none: that copy is the id, not a link ("episode-12")."""
    get = dict.get
    link = _str_or_none(get(entry, "feedburner_origlink")) or _str_or_none(get(entry, "link"))
    if link is None or not get(entry, "guidislink") or link != get(entry, "id"):
        return link
    links = get(entry, "links") or ()
    return link if any(isinstance(e, dict) and dict.get(e, "href") == link for e in links) else None


def _feedparser_summary(entry: dict[str, Any]) -> str:
    detail = dict.get(entry, "summary_detail")
    if not detail or not detail.get("value"):
        contents = dict.get(entry, "content") or ()
        detail = contents[0] if contents else None
    return _detail_text(detail, None)


def _detail_text(detail: Mapping[str, Any] | None, fallback: object) -> str:
    """Plain text of a feedparser text construct; markup only stripped when it is HTML."""
    if detail:
        value = detail.get("value") or ""
        is_html = (detail.get("type") or "").lower() in _HTML_TYPES
        return _html_text(value) if is_html else _plain_text(value[:_SCAN_LIMIT])
    return _plain_text(fallback[:_SCAN_LIMIT]) if isinstance(fallback, str) else ""


def _struct_time_iso(value: object) -> str | None:
    if not isinstance(value, tuple) or len(value) < 6:
        return None
    year, month, day, hour, minute, second = value[:6]
    try:
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


# --- JSON Feed ------------------------------------------------------------------------


def _json_entries(data: bytes) -> list[_Entry]:
    try:
        doc = json.loads(data)
    except ValueError as exc:  # JSONDecodeError or UnicodeDecodeError
        raise ExtractError(f"not a feed: invalid JSON ({exc})") from None
    except RecursionError:
        raise ExtractError("not a feed: JSON nested too deep") from None
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith(_JSONFEED_VERSION):
        raise ExtractError("not a feed: JSON without a JSON Feed version")
    items = doc.get("items")
    return [_json_entry(i) for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _json_entry(item: Mapping[str, Any]) -> _Entry:
    summary = _str_or_none(item.get("summary")) or _str_or_none(item.get("content_text"))
    html_body = _str_or_none(item.get("content_html"))
    tags = item.get("tags")
    return _Entry(
        id=_str_or_none(item.get("id")),
        link=_str_or_none(item.get("url")) or _str_or_none(item.get("external_url")),
        title=_plain_text((_str_or_none(item.get("title")) or "")[:_SCAN_LIMIT]),
        summary=_plain_text(summary[:_SCAN_LIMIT]) if summary else _html_text(html_body or ""),
        tags=_clean_tags(tags if isinstance(tags, list) else ()),
        published=_rfc3339_iso(item.get("date_published") or item.get("date_modified")),
    )


def _rfc3339_iso(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


# --- entries to items -----------------------------------------------------------------


def _build_items(
    entries: list[_Entry], base_url: str, paywall: _Paywall, id_pattern: str | None
) -> list[Item]:
    """Items in feed order, first one kept per key."""
    links = [_place(e.link, base_url) for e in entries]
    shared = _shared_ids(zip(entries, links, strict=True))
    items: dict[str, Item] = {}
    for entry, link in zip(entries, links, strict=True):
        item = _to_item(entry, link, base_url, shared, paywall, id_pattern)
        if item is not None and item.key not in items:
            items[item.key] = item
    return list(items.values())


def _place(href: str | None, base_url: str) -> _Place | None:
    """Where `href` points, if it is an http(s) link (relative ones resolve on `base_url`)."""
    if not href:
        return None
    url = canonical_url(href.strip(), base_url)
    if url is None:
        return None
    fragment = url_fragment(href)
    return _Place(url, f"{url}#{fragment}" if fragment else url)


def _shared_ids(pairs: Iterable[tuple[_Entry, _Place | None]]) -> frozenset[str]:
    """Ids that several entries with different links carry: not an identity."""
    links: dict[str, set[str | None]] = {}
    for entry, link in pairs:
        if entry.id:
            links.setdefault(entry.id.strip(), set()).add(link.named if link else None)
    return frozenset(i for i, seen in links.items() if len(seen) > 1)


def _to_item(
    entry: _Entry,
    link: _Place | None,
    base_url: str,
    shared: frozenset[str],
    paywall: _Paywall,
    id_pattern: str | None,
) -> Item | None:
    ident = _stable_id(entry, shared)
    id_place = _id_place(ident, entry.link, link, base_url)
    place = link or id_place
    if place is None and (ident is None or not entry.title):
        return None
    key = _pattern_key(id_pattern, place, entry.id)
    if key is None:
        key = id_place.named if id_place else ident or (place.named if place else None)
    if key is None:
        return None
    url = place.url if place else ""
    return Item(
        key=key,
        url=url,
        title=_shorten(entry.title or entry.summary, TITLE_LIMIT if entry.title else 120) or url,
        section=_section(entry.tags, paywall.categories),
        published=entry.published,
        paywalled=paywall.matches(entry),
        summary=_shorten(entry.summary, SUMMARY_LIMIT) or None,
    )


def _pattern_key(id_pattern: str | None, place: _Place | None, ident: str | None) -> str | None:
    """The id the source's `id_pattern` finds in the entry's link, else in its id."""
    if not id_pattern:
        return None
    texts = (place.url if place else None, ident.strip() if ident else None)
    return next((found for t in texts if t and (found := pattern_id(t, id_pattern))), None)


def _stable_id(entry: _Entry, shared: frozenset[str]) -> str | None:
    """The entry's id if it can serve as identity: present, short, not shared."""
    ident = (entry.id or "").strip()
    if not ident or len(ident) > _ID_LIMIT or ident in shared:
        return None
    return ident


def _id_place(
    ident: str | None, raw_link: str | None, link: _Place | None, base_url: str
) -> _Place | None:
    """Where an id points: the link it repeats, or itself if it is an absolute http(s) URL
    (a relative or non-URL id such as ``episode-12`` or ``tag:...`` points nowhere)."""
    if ident is None:
        return None
    if raw_link is not None and ident == raw_link.strip():
        return link
    if ident[:8].lower().startswith(("http://", "https://")):
        return _place(ident, base_url)
    return None


def _section(tags: tuple[str, ...], paywall_categories: frozenset[str]) -> str | None:
    """The entry's categories without the paywall ones, in alphabetical order, so that a
    feed listing them in another order does not move the item to another section."""
    kept = [t for t in tags if t.casefold() not in paywall_categories]
    return ", ".join(sorted(kept, key=lambda t: (t.casefold(), t))) or None


# --- text -----------------------------------------------------------------------------


def _html_text(markup: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed, entities decoded."""
    markup = markup[:_SCAN_LIMIT]
    if "<" in markup:
        markup = _drop_hidden(markup)
        markup = _BLOCK_TAG.sub(" ", markup)
        markup = _TAG.sub("", markup)
    return _plain_text(markup)


def _drop_hidden(markup: str) -> str:
    """Remove comments and script/style elements; an unclosed one runs to the end."""
    lower = markup.lower()
    kept: list[str] = []
    pos = 0
    while (found := _HIDDEN_OPEN.search(lower, pos)) is not None:
        kept.append(markup[pos : found.start()])
        opener = found.group()
        closer = "-->" if opener == "<!--" else "</" + opener[1:]
        end = lower.find(closer, found.end())
        if end < 0:
            return " ".join(kept)
        pos = end + 3 if opener == "<!--" else (lower.find(">", end) + 1 or len(markup))
    kept.append(markup[pos:])
    return " ".join(kept)


def _plain_text(text: str) -> str:
    """Collapse whitespace; decode entities a feed escaped twice (``&amp;amp;``)."""
    if "&" in text:
        text = html.unescape(text)
    return _WS.sub(" ", text).strip()


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _clean_tags(raw: Iterable[object]) -> tuple[str, ...]:
    """Non-empty tag texts, whitespace collapsed, first spelling kept per tag."""
    seen: dict[str, str] = {}
    for value in raw:
        if isinstance(value, str):
            tag = _plain_text(value)
            if tag and tag.casefold() not in seen:
                seen[tag.casefold()] = tag
    return tuple(seen.values())


def _str_or_none(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) and value.strip() else None
