"""Items from an HTML listing page: bytes in, items out, no I/O.

The page is parsed once (selectolax/lexbor); every selector of a `Rule` is relative
to an item block and may match the block element itself (lexbor matches the root
of a query), so ``link="a"`` works when the item *is* an ``<a>``.

How the item blocks are found, in order:

1. ``rule.item``;
2. when that matches fewer than three blocks with a link and the rule says how the
   site marks its paywall (``rule.paywall_text`` with ``rule.derive_from_marker``, as
   profiles do): the page's main run of teasers, found by its structure
   (`derive_item_selector`, the ranking discovery uses). The marker then only decides
   each item's paywall flag, so the items stay the same however many are marked;
3. with no ``rule.item`` at all: an article page is one item (`article_item`),
   otherwise ``<article>`` blocks or headline links, otherwise the page itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitor.extract.charset import decode_bytes, html_encoding
from monitor.extract.guard import check_nesting
from monitor.extract.headline import headline_text, is_label
from monitor.extract.listings import listing_runs
from monitor.extract.urls import canonical_url, item_key
from monitor.models import ExtractError, Item, Rule

__all__ = [
    "FEED_TYPES",
    "article_item",
    "derive_item_selector",
    "discover_feeds",
    "extract_html",
    "extract_tree",
    "is_article_page",
    "page_paywall",
    "parse_html",
]

TreeLike = LexborHTMLParser | str | bytes

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
    }
)
HEADINGS = "h1, h2, h3, h4, h5, h6"
_LINKS_AND_HEADINGS = f"a[href], {HEADINGS}"
# Tried in turn when a rule has no item selector and the page is not an article.
GENERIC_ITEMS = ("article", "h2 a[href], h3 a[href]")
_WORD = re.compile(r"\w+")
_ARTICLE_PATH = re.compile(r"\d|[^/]*-[^/]*-|\.(?:s?html?|php|aspx?)$", re.IGNORECASE)
_LOCKED_TIERS = frozenset({"locked", "metered"})
_ACCESS_KEY = "isaccessibleforfree"
_FALSE_RE = re.compile(r'"isAccessibleForFree"\s*:\s*"?\s*false', re.IGNORECASE)


# ---------------------------------------------------------------------------
# small text and node helpers


def collapse(text: str | None) -> str:
    """Whitespace runs (including no-break spaces) become one space; trimmed."""
    return " ".join(text.split()) if text else ""


def _squeeze(text: str) -> str:
    """Lower-case text without any whitespace: how marker texts are compared."""
    return "".join(text.split()).lower()


def node_text(node: LexborNode) -> str:
    return collapse(node.text(separator=" "))


def _attr(node: LexborNode, name: str) -> str | None:
    value = node.attrs.get(name)
    return value.strip() if value else None


def _meta(tree: LexborHTMLParser, *keys: str) -> str | None:
    for key in keys:
        node = tree.css_first(f'meta[property="{key}" i], meta[name="{key}" i]')
        content = _attr(node, "content") if node is not None else None
        if content:
            return collapse(content)
    return None


def _as_tree(tree_or_html: TreeLike) -> LexborHTMLParser:
    if isinstance(tree_or_html, LexborHTMLParser):
        return tree_or_html
    if isinstance(tree_or_html, bytes):
        return parse_html(tree_or_html)
    return LexborHTMLParser(tree_or_html)


def parse_html(body: bytes, content_type: str | None = None) -> LexborHTMLParser:
    """Decode (see charset.decode_html) and parse once.

    UTF-8 bytes go to lexbor as they are (it decodes UTF-8 itself, invalid bytes
    becoming U+FFFD, exactly as decode_html would), saving a decode and an encode.
    Markup nested absurdly deep is refused first (see extract.guard).
    """
    encoding, skip = html_encoding(body, content_type)
    if encoding == "utf-8":
        check_nesting(body)
        return LexborHTMLParser(body[skip:] if skip else body)
    text = decode_bytes(body[skip:], encoding)
    check_nesting(text)
    return LexborHTMLParser(text)


def document_base(tree: LexborHTMLParser, base_url: str) -> str:
    """The URL relative links resolve against: `<base href>` if any, else base_url."""
    node = tree.css_first("base[href]")
    href = _attr(node, "href") if node is not None else None
    return (canonical_url(href, base_url) or base_url) if href else base_url


# ---------------------------------------------------------------------------
# the context of one extraction


@lru_cache(maxsize=64)
def _marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str] | None:
    words = [r"\s*".join(map(re.escape, m.split())) for m in markers if m.strip()]
    return re.compile("|".join(words), re.IGNORECASE) if words else None


@dataclass
class _Page:
    """What every item of one page needs: URLs, markers, a cache of links."""

    url: str
    base: str
    rule: Rule
    markers: tuple[str, ...] = ()
    _urls: dict[str, str | None] = field(default_factory=dict)

    # The longest word of each marker, looked for before the whole marker.
    marker_words: tuple[str, ...] = ()

    @classmethod
    def of(cls, tree: LexborHTMLParser, base_url: str, rule: Rule) -> _Page:
        page_url = canonical_url(base_url, base_url) or base_url
        texts = [t for t in rule.paywall_text if t.strip()]
        markers = tuple(_squeeze(t) for t in texts)
        words = tuple(max(_WORD.findall(t.lower()) or [""], key=len) for t in texts)
        page = cls(page_url, document_base(tree, base_url), rule, markers)
        page.marker_words = words
        return page

    def url_of(self, href: str | None) -> str | None:
        """Canonical URL of a link, None for same-page, fragment-only or non-web links."""
        if not href:
            return None
        if href not in self._urls:
            url = canonical_url(href, self.base)
            self._urls[href] = None if url == self.url or href.startswith("#") else url
        return self._urls[href]

    def has_marker(self, text: str) -> bool:
        lowered = text.lower()
        if not any(word in lowered for word in self.marker_words):
            return False  # the common case, without building the squeezed text
        squeezed = "".join(lowered.split())
        return any(m in squeezed for m in self.markers)

    def strip_markers(self, title: str) -> str:
        pattern = _marker_pattern(self.rule.paywall_text)
        return collapse(pattern.sub(" ", title)) if pattern else title


# ---------------------------------------------------------------------------
# one item block -> Item


def _headline_like(text: str) -> bool:
    return len(text) >= 25 or text.count(" ") >= 2


def _query(root: LexborNode | LexborHTMLParser, selector: str) -> list[LexborNode]:
    try:
        return root.css(selector)
    except SelectolaxError as exc:
        raise ExtractError(f"invalid CSS selector {selector!r}: {exc}") from exc


class _Lookup:
    """Where a selector matches inside each item block, in page order.

    A match belongs to the nearest block that is or holds it (a teaser nested in
    another teaser keeps its own links). Few blocks on a big page: one query per
    block, so lexbor walks only the block. Many blocks: one query per selector for
    the whole page, each match given to its block; the selector is parsed once and
    the page walked once instead of once per block.
    """

    def __init__(self, blocks: list[LexborNode], tree: LexborHTMLParser | None) -> None:
        self.blocks = blocks
        self._tree = tree
        self._owner: dict[int, int] = {b.mem_id: i for i, b in enumerate(blocks)}
        self._groups: dict[str, list[list[LexborNode]]] = {}

    def all(self, index: int, selector: str) -> list[LexborNode]:
        if self._tree is None:
            return _query(self.blocks[index], selector)
        groups = self._groups.get(selector)
        if groups is None:
            groups = self._groups[selector] = self._group(self._tree, selector)
        return groups[index]

    def first(self, index: int, selector: str) -> LexborNode | None:
        if self._tree is None:  # css_first stops at the first match
            try:
                return self.blocks[index].css_first(selector)
            except SelectolaxError as exc:
                raise ExtractError(f"invalid CSS selector {selector!r}: {exc}") from exc
        found = self.all(index, selector)
        return found[0] if found else None

    def _group(self, tree: LexborHTMLParser, selector: str) -> list[list[LexborNode]]:
        groups: list[list[LexborNode]] = [[] for _ in self.blocks]
        for el in _query(tree, selector):
            index = self._owner_of(el)
            if index >= 0:
                groups[index].append(el)
        return groups

    def _owner_of(self, node: LexborNode) -> int:
        """Index of the nearest block that is or holds `node`, -1 for none (memoised
        for every element on the way up, so the page is walked about once)."""
        owner = self._owner
        path: list[int] = []
        current: LexborNode | None = node
        found = -1
        while current is not None:
            known = owner.get(current.mem_id)
            if known is not None:
                found = known
                break
            path.append(current.mem_id)
            current = current.parent
        for mem_id in path:
            owner[mem_id] = found
        return found


def _link_in(
    lookup: _Lookup, index: int, page: _Page, selector: str
) -> tuple[LexborNode, str] | None:
    """First element matching `selector` (the block itself first) that yields a URL."""
    first = lookup.first(index, selector)  # nearly always the one
    if first is None:
        return None
    for el in _then_rest(first, lookup, index, selector):
        url = page.url_of(el.attrs.get("href"))
        if url is None and el.tag != "a":
            inner = el.css_first("a[href]")
            if inner is not None:
                el, url = inner, page.url_of(inner.attrs.get("href"))
        if url:
            return el, url
    return None


def _then_rest(
    first: LexborNode, lookup: _Lookup, index: int, selector: str
) -> Iterator[LexborNode]:
    """`first`, then (only if the caller asks for more) the other matches."""
    yield first
    yield from lookup.all(index, selector)[1:]


@dataclass
class _Scan:
    """The links and headings of one block, in page order."""

    block: LexborNode
    anchors: list[LexborNode]
    headings: list[LexborNode]

    @classmethod
    def of(cls, lookup: _Lookup, index: int) -> _Scan:
        anchors: list[LexborNode] = []
        headings: list[LexborNode] = []
        for el in lookup.all(index, _LINKS_AND_HEADINGS):
            (anchors if el.tag == "a" else headings).append(el)
        return cls(lookup.blocks[index], anchors, headings)

    def within(self, node: LexborNode, outer: LexborNode) -> bool:
        """Is `node` inside `outer` (both inside the block)?"""
        target = outer.mem_id
        stop = self.block.mem_id
        parent = node.parent
        while parent is not None and parent.mem_id != stop:
            if parent.mem_id == target:
                return True
            parent = parent.parent
        return target == stop

    def in_heading(self, anchor: LexborNode) -> bool:
        return any(self.within(anchor, h) or self.within(h, anchor) for h in self.headings)

    def heading_text(self, skip: frozenset[int], story: list[LexborNode] | None = None) -> str:
        """Headline text of the highest-ranked non-empty heading (h2 before a kicker's h4);
        with `story` (the links to the item's article), only a heading that holds one of
        them or lies inside one."""
        best, best_rank = "", 7
        for heading in self.headings:
            rank = int((heading.tag or "h7")[1])
            if rank >= best_rank or is_label(heading):
                continue
            if story is not None and not any(
                self.within(heading, a) or self.within(a, heading) for a in story
            ):
                continue
            text = headline_text(heading, skip)
            if text:
                best, best_rank = text, rank
        return best


def _default_link(scan: _Scan, page: _Page) -> tuple[LexborNode, str] | None:
    """The item itself if it is a link; else its only target (the anchor with text);
    else a headline's link, a link with headline-like text, a link that looks like
    an article's, the first link."""
    node = scan.block
    if node.tag == "a":
        url = page.url_of(node.attrs.get("href"))
        if url:
            return node, url
    anchors = [(a, u) for a in scan.anchors if (u := page.url_of(a.attrs.get("href")))]
    if not anchors:
        return None
    several = len({url for _, url in anchors}) > 1
    if several and scan.headings:
        for anchor, url in anchors:
            if scan.in_heading(anchor):
                return anchor, url
    wanted = _headline_like if several else bool
    for anchor, url in anchors:
        if wanted(node_text(anchor)):
            return anchor, url
    if several:
        for anchor, url in anchors:
            if _is_article_link(url, ""):
                return anchor, url
    return anchors[0]


def _first_title(lookup: _Lookup, index: int, selector: str, skip: frozenset[int]) -> str:
    """Headline text of the first match of the rule's title selector that has some."""
    first = lookup.first(index, selector)
    if first is None:
        return ""
    for el in _then_rest(first, lookup, index, selector):
        text = headline_text(el, skip)
        if text:
            return text
    return ""


def _title(scan: _Scan, link: LexborNode, url: str, page: _Page, skip: frozenset[int]) -> str:
    """The headline a reader sees (see extract.headline for what it leaves out): a heading
    that holds a link to the item's article (or lies in one), the link's own text, another
    link's to the same article, any heading of the item, the link's title and aria-label;
    only then a caption inside the link (Le Monde's teasers are captioned images; Spiegel's
    galleries caption the photo credit, which never counts) and an image's alt."""
    story = [a for a in scan.anchors if page.url_of(a.attrs.get("href")) == url]
    if all(a.mem_id != link.mem_id for a in story):
        story.append(link)
    others = [a for a in story if a.mem_id != link.mem_id]
    return (
        scan.heading_text(skip, story)
        or headline_text(link, skip)
        or next((text for a in others if (text := headline_text(a, skip))), "")
        or scan.heading_text(skip)
        or _attr(link, "title")
        or _attr(link, "aria-label")
        or headline_text(link, skip, captions=True)
        or _first_alt(link)
        or ""
    )


def _other_fields(lookup: _Lookup, index: int, rule: Rule) -> frozenset[int]:
    """Elements the rule reads as another field (a kicker read as the section, a date):
    never part of the title."""
    ids: set[int] = set()
    for selector in (rule.section, rule.date):
        if selector:
            ids.update(el.mem_id for el in lookup.all(index, selector))
    return frozenset(ids)


def _first_alt(node: LexborNode) -> str | None:
    img = node.css_first("img[alt]")
    if img is None:
        return None
    return collapse(img.attributes.get("alt")) or None


def _outermost(nodes: list[LexborNode], stop: LexborNode) -> list[LexborNode]:
    """Drop nodes nested in an earlier node of the list (document order), looking no
    higher than `stop`."""
    if len(nodes) < 2:
        return nodes
    kept: list[LexborNode] = []
    seen: set[int] = set()
    top = stop.mem_id
    for node in nodes:
        parent = node.parent
        while parent is not None and parent.mem_id not in seen and parent.mem_id != top:
            parent = parent.parent
        if parent is None or parent.mem_id not in seen:
            kept.append(node)
        seen.add(node.mem_id)
    return kept


def _section(lookup: _Lookup, index: int, selector: str) -> str | None:
    """Texts of the matches joined by ", "; a match holding several links gives each."""
    texts: list[str] = []
    for el in _outermost(lookup.all(index, selector), lookup.blocks[index]):
        links = [] if el.tag == "a" else [t for t in (node_text(a) for a in el.css("a")) if t]
        for text in links if len(links) > 1 else [node_text(el)]:
            if text and text not in texts:
                texts.append(text)
    return ", ".join(texts) or None


def _date(lookup: _Lookup, index: int, selector: str | None) -> str | None:
    el = lookup.first(index, selector or "time")
    if el is None:
        return None
    time_el = el if el.tag == "time" else el.css_first("time[datetime]")
    for candidate in (time_el, el):
        if candidate is not None and _attr(candidate, "datetime"):
            return _attr(candidate, "datetime")
    return node_text(el) or None


def item_from_block(lookup: _Lookup, index: int, page: _Page) -> Item | None:
    """The item block `index` shows, or None when it has no link or no title."""
    rule = page.rule
    node = lookup.blocks[index]
    scan = None if rule.link else _Scan.of(lookup, index)
    if scan is not None:
        found = _default_link(scan, page)
    else:
        found = _link_in(lookup, index, page, rule.link or "a[href]")
    if found is None:
        return None
    link, url = found
    skip = _other_fields(lookup, index, rule)
    title = _first_title(lookup, index, rule.title, skip) if rule.title else ""
    title = title or _title(scan or _Scan.of(lookup, index), link, url, page, skip)
    marked = bool(page.markers) and page.has_marker(node.text(separator=" "))
    if marked:
        title = page.strip_markers(title)
    if not title:
        return None
    selector_paywall = rule.paywall_selector is not None and (
        lookup.first(index, rule.paywall_selector) is not None
    )
    return Item(
        key=item_key(url, rule.id_pattern),
        url=url,
        title=title,
        section=_section(lookup, index, rule.section) if rule.section else None,
        published=_date(lookup, index, rule.date),
        paywalled=marked or selector_paywall,
    )


def _merge(items: Iterable[Item]) -> list[Item]:
    """Page order, one item per key; later duplicates may add paywall, section, date."""
    merged: dict[str, Item] = {}
    for item in items:
        first = merged.get(item.key)
        if first is None:
            merged[item.key] = item
            continue
        merged[item.key] = replace(
            first,
            paywalled=first.paywalled or item.paywalled,
            section=first.section or item.section,
            published=first.published or item.published,
        )
    return list(merged.values())


# From this many blocks, at most this many page bytes per block, a selector is run once
# for the whole page (see _Lookup); a big page with a few teasers is queried per block.
GROUP_MIN_BLOCKS = 8
GROUP_MAX_BYTES_PER_BLOCK = 8192


def _nested(blocks: list[LexborNode]) -> bool:
    """Does a block hold another one? (Each ancestor is looked at once.)"""
    ids = {b.mem_id for b in blocks}
    seen: set[int] = set()
    for block in blocks:
        parent = block.parent
        while parent is not None and parent.mem_id not in seen:
            if parent.mem_id in ids:
                return True
            seen.add(parent.mem_id)
            parent = parent.parent
    return False


def _items(
    tree: LexborHTMLParser, blocks: list[LexborNode], page: _Page, size: int | None
) -> list[Item]:
    # Page-wide queries give each match to the nearest block around it; with nested
    # blocks that is the meaning wanted, so nested blocks are always matched that way.
    many = len(blocks) >= GROUP_MIN_BLOCKS and (
        size is None or size <= len(blocks) * GROUP_MAX_BYTES_PER_BLOCK
    )
    lookup = _Lookup(blocks, tree if many or _nested(blocks) else None)
    runs = listing_runs(blocks)
    found = ((item_from_block(lookup, i, page), runs[i]) for i in range(len(blocks)))
    return _merge(item if not run else replace(item, listing=run) for item, run in found if item)


# ---------------------------------------------------------------------------
# page-level signals


def _json_ld(tree: LexborHTMLParser) -> Iterator[object]:
    """Every JSON-LD block; a block that is not valid JSON is yielded as its text."""
    for script in tree.css('script[type*="ld+json" i]'):
        raw = script.text(deep=True).strip()
        if raw.startswith("<!--"):
            raw = raw.removeprefix("<!--").removesuffix("-->").strip()
        try:
            yield json.loads(raw.rstrip(";"), strict=False)
        except ValueError:
            yield raw


def _walk(data: object) -> Iterator[dict[str, Any]]:
    """Every JSON object inside `data` (@graph, hasPart, mainEntity, lists ...)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            yield value
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _is_false(value: object) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def _ld_locked(data: object) -> bool:
    if isinstance(data, str):
        return bool(_FALSE_RE.search(data))
    return any(
        _is_false(value)
        for obj in _walk(data)
        for key, value in obj.items()
        if key.lower() == _ACCESS_KEY
    )


def page_paywall(tree_or_html: TreeLike) -> bool:
    """True when the page says it is not free.

    JSON-LD ``isAccessibleForFree`` false in any spelling (false, "False", "false"),
    anywhere in the data (@graph, hasPart ...), or
    ``<meta property="article:content_tier" content="locked|metered">``.
    """
    tree = _as_tree(tree_or_html)
    tier = _meta(tree, "article:content_tier")
    if tier and tier.lower() in _LOCKED_TIERS:
        return True
    return any(_ld_locked(data) for data in _json_ld(tree))


def is_article_page(tree: LexborHTMLParser) -> bool:
    """og:type article, article:published_time, or a JSON-LD *Article at the top."""
    if (_meta(tree, "og:type") or "").lower() == "article":
        return True
    if _meta(tree, "article:published_time"):
        return True
    for data in _json_ld(tree):
        tops = data.get("@graph", [data]) if isinstance(data, dict) else data
        for top in tops if isinstance(tops, list) else [tops]:
            kind = top.get("@type") if isinstance(top, dict) else None
            names = kind if isinstance(kind, list) else [kind]
            if any(isinstance(n, str) and n.endswith("Article") for n in names):
                return True
    return False


def article_item(tree: LexborHTMLParser, base_url: str, rule: Rule) -> Item | None:
    """The page as one item: og:title/h1/<title>, canonical/og:url/base_url."""
    page = _Page.of(tree, base_url, rule)
    heading = tree.css_first("h1")
    title_el = tree.css_first("title")
    title = (
        _meta(tree, "og:title")
        or (node_text(heading) if heading is not None else "")
        or (node_text(title_el) if title_el is not None else "")
    )
    canonical = tree.css_first('link[rel~="canonical" i][href]')
    href = (_attr(canonical, "href") if canonical is not None else None) or _meta(tree, "og:url")
    url = (canonical_url(href, page.base) if href else None) or page.url
    title = page.strip_markers(title)
    if not title:
        return None
    signals = rule.paywall_selector and tree.css_first(rule.paywall_selector) is not None
    return Item(
        key=item_key(url, rule.id_pattern),
        url=url,
        title=title,
        section=_meta(tree, "article:section"),
        published=_meta(tree, "article:published_time", "date", "dc.date"),
        paywalled=bool(signals) or page_paywall(tree),
    )


def discover_feeds(body: bytes, base_url: str) -> list[dict[str, str]]:
    """Feeds a page advertises with `<link rel="alternate" type=...>`: url, title, type."""
    tree = parse_html(body)
    base = document_base(tree, base_url)
    feeds: dict[str, dict[str, str]] = {}
    for link in tree.css('link[rel~="alternate" i][href][type]'):
        kind = (link.attributes.get("type") or "").split(";")[0].strip().lower()
        url = canonical_url(link.attributes.get("href") or "", base)
        if kind in FEED_TYPES and url and url not in feeds:
            title = collapse(link.attributes.get("title"))
            feeds[url] = {"url": url, "title": title, "type": kind}
    return list(feeds.values())


# ---------------------------------------------------------------------------
# the item selector from the page's structure (where a profile's selectors miss)

# A rule's item selector has missed the page when fewer blocks than this hold a link.
MIN_MATCHED_BLOCKS = 3
# A derived listing needs at least this many teasers (a section page may show two).
MIN_DERIVED_ITEMS = 2


def _is_article_link(url: str, text: str) -> bool:
    return bool(_ARTICLE_PATH.search(urlsplit(url).path)) or text.count(" ") >= 3


def derive_item_selector(tree: LexborHTMLParser, base_url: str = "") -> str | None:
    """The item selector of the page's main run of teasers, from its structure alone.

    The ranking `monitor discover` proposes first (blocks that each hold one article
    link, ranked by how much of the page's article-like content they cover). Paywall
    markers play no part: the selector is the same whether every teaser or none carries
    one, and a marked "most read" box never outranks the listing.
    """
    from monitor.extract.discover import main_listing

    return main_listing(tree, base_url or "http://page.invalid/", min_items=MIN_DERIVED_ITEMS)


# ---------------------------------------------------------------------------
# the whole page


def _may_derive(rule: Rule) -> bool:
    """Rules that say how the site marks its paywall (profiles) find the teasers by
    structure when their item selector misses; a plain rule reports what it matches."""
    return rule.derive_from_marker and bool(rule.paywall_text)


def _missed(blocks: list[LexborNode]) -> bool:
    linked = sum(1 for b in blocks if b.tag == "a" or b.css_first("a[href]") is not None)
    return linked < MIN_MATCHED_BLOCKS


def _derived_blocks(tree: LexborHTMLParser, base_url: str) -> list[LexborNode]:
    _strip_hidden(tree)
    selector = derive_item_selector(tree, base_url)
    return tree.css(selector) if selector else []


def _generic_blocks(tree: LexborHTMLParser) -> list[LexborNode]:
    for selector in GENERIC_ITEMS:
        blocks = [b for b in tree.css(selector) if b.css_first("a[href]") is not None]
        if len(blocks) >= 2:
            return blocks
    return []


def _strip_hidden(tree: LexborHTMLParser) -> None:
    tree.strip_tags(["script", "style", "template"])


def extract_tree(
    tree: LexborHTMLParser, base_url: str, rule: Rule, *, size: int | None = None
) -> list[Item]:
    """Items of an already parsed page (see module docstring). Removes the page's
    script and style elements from `tree`. `size` (the body's bytes) helps choose
    how selectors are run (see _Lookup)."""
    blocks = _query(tree, rule.item) if rule.item else []
    if _may_derive(rule) and _missed(blocks) and (rule.item or not is_article_page(tree)):
        derived = _derived_blocks(tree, base_url)
        if len(derived) > len(blocks):
            blocks = derived
    if not blocks and not rule.item and not is_article_page(tree):
        blocks = _generic_blocks(tree)
    if not blocks and not rule.item:
        single = article_item(tree, base_url, rule)
        return [single] if single else []
    _strip_hidden(tree)
    page = _Page.of(tree, base_url, rule)
    return _items(tree, blocks, page, size)


def extract_html(
    body: bytes, base_url: str, rule: Rule, content_type: str | None = None
) -> list[Item]:
    """Items of a listing page, in page order, one per key."""
    try:
        return extract_tree(parse_html(body, content_type), base_url, rule, size=len(body))
    except SelectolaxError as exc:  # a rule's selector the config did not vet
        raise ExtractError(f"invalid CSS selector in the rule: {exc}") from None
