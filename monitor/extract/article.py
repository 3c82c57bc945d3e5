"""What an article page says about itself: bytes in, an `ArticleReading` out, no I/O.

Publishers mark their articles for search engines even where the teasers say nothing:

- JSON-LD ``isAccessibleForFree`` on the article (``NewsArticle``, ``WebPage`` and their
  ``mainEntity``, inside ``@graph`` or a list), or on one of its ``hasPart`` elements
  (``WebPageElement`` with a ``cssSelector``: that part is for subscribers). Every
  spelling seen in the wild counts: ``false``, ``"False"``, ``"false"``,
  ``"http://schema.org/False"``, ``"https://schema.org/False"`` (and ``True`` alike);
- microdata ``<meta itemprop="isAccessibleForFree" content="false">``;
- ``<meta property="article:content_tier">``: ``locked``, ``metered`` or ``free``;
- a CSS selector or a visible text the user configured (``ArticleRule``).

`paywalled` is True when the publisher says the article is not free (anything above that
says so, `content_tier` locked, the configured selector or text), False when it says the
article is free and nothing says otherwise, and None when nothing says either. A metered
tier alone says neither: a reader gets a few articles a month for free.

Objects the article merely mentions (an ``ItemList`` of related stories, a breadcrumb) are
not read: their paywall is theirs, not the page's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitor.extract.html import collapse, document_base, is_article_page, node_text, parse_html
from monitor.extract.urls import canonical_url
from monitor.models import ExtractError

__all__ = ["ArticleReading", "ArticleRule", "read_article", "read_tree"]

# Where an article's own data may nest an article: WebPage -> mainEntity -> NewsArticle.
_NESTING_KEYS = ("mainEntity", "mainEntityOfPage", "@graph")
_ACCESS_KEY = "isaccessibleforfree"
_SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/", "schema:")
# JSON-LD types of what a page is about (the article or the page holding it).
_WORK_TYPES = ("Article", "BlogPosting", "Report", "WebPage", "CreativeWork", "Posting")
# A JSON-LD block that is not valid JSON (an unescaped quote is common): its values are
# taken from the text, where they cannot be told apart from a hasPart's.
_RAW_ACCESS = re.compile(r'"isAccessibleForFree"\s*:\s*("[^"]*"|true|false)', re.IGNORECASE)
_RAW_FIELD = r'"{}"\s*:\s*"([^"]+)"'
_LOCKED_TIER = "locked"
_FREE_TIER = "free"


@dataclass(frozen=True)
class ArticleRule:
    """How a site marks its paywalled articles beyond what search engines are told."""

    # A CSS selector that matches only on paywalled articles (a subscribe box).
    paywall_selector: str | None = None
    # Texts (case-insensitive) that appear in a paywalled article's visible text only.
    paywall_text: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticleReading:
    """What an article page says about itself (see the module docstring).

    `paywall_signal` names what decided `paywalled`, e.g. ``json-ld hasPart
    isAccessibleForFree="False" (.paywall)``; `signals` every paywall mark found."""

    url: str
    paywalled: bool | None
    paywall_signal: str | None
    content_tier: str | None
    published: str | None
    modified: str | None
    author: str | None
    canonical: str | None
    title: str | None
    # og:type article, article:published_time or a JSON-LD *Article: the page is an article.
    is_article: bool
    signals: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """What `monitor article --json` prints."""
        return {
            "url": self.url,
            "paywalled": self.paywalled,
            "paywall_signal": self.paywall_signal,
            "content_tier": self.content_tier,
            "published": self.published,
            "modified": self.modified,
            "author": self.author,
            "canonical": self.canonical,
            "title": self.title,
            "is_article": self.is_article,
            "signals": list(self.signals),
        }


@dataclass(frozen=True)
class _Signal:
    """One paywall mark: what it says (True: paywalled) and how it is described."""

    paywalled: bool
    text: str


def read_article(
    body: bytes, url: str, content_type: str | None = None, rule: ArticleRule | None = None
) -> ArticleReading:
    """Read an article page. Raises ExtractError for a selector that cannot be run."""
    return read_tree(parse_html(body, content_type), url, rule)


def read_tree(tree: LexborHTMLParser, url: str, rule: ArticleRule | None = None) -> ArticleReading:
    """`read_article` on a parsed page."""
    rule = rule or ArticleRule()
    blocks = list(_json_ld_blocks(tree))
    works = [work for data in blocks if not isinstance(data, str) for work in _works(data)]
    raw_blocks = [data for data in blocks if isinstance(data, str)]
    tier = _meta(tree, "article:content_tier")
    tier = tier.lower() if tier else None
    signals = [
        *_ld_signals(works),
        *_raw_signals(raw_blocks),
        *_microdata_signals(tree),
        *_tier_signals(tier),
        *_rule_signals(tree, rule),
    ]
    paid = [s for s in signals if s.paywalled]
    free = [s for s in signals if not s.paywalled]
    decided = paid[0] if paid else free[0] if free else None
    article = _main_work(works)
    base = document_base(tree, url)
    return ArticleReading(
        url=url,
        paywalled=decided.paywalled if decided else None,
        paywall_signal=decided.text if decided else None,
        content_tier=tier,
        published=_published(tree, article, raw_blocks),
        modified=_modified(tree, article, raw_blocks),
        author=_author(tree, article),
        canonical=_canonical(tree, article, base),
        title=_title(tree, article),
        is_article=is_article_page(tree),
        signals=tuple(s.text for s in signals),
    )


# -- JSON-LD ---------------------------------------------------------------------------


def _json_ld_blocks(tree: LexborHTMLParser) -> Iterator[object]:
    """Every JSON-LD block, parsed; one that is not valid JSON is yielded as its text."""
    for script in tree.css('script[type*="ld+json" i]'):
        raw = script.text(deep=True).strip()
        # Wrappers that old CMSs put around inline scripts.
        for prefix in ("<!--", "//<![CDATA[", "/*<![CDATA[*/", "<![CDATA["):
            raw = raw.removeprefix(prefix).strip()
        for suffix in ("-->", "//]]>", "/*]]>*/", "]]>"):
            raw = raw.removesuffix(suffix).strip()
        if not raw:
            continue
        try:
            yield json.loads(raw.rstrip(";"), strict=False)
        except ValueError:
            yield raw


def _types(obj: dict[str, Any]) -> list[str]:
    kind = obj.get("@type")
    names = kind if isinstance(kind, list) else [kind]
    return [n.rsplit("/", 1)[-1] for n in names if isinstance(n, str)]


def _is_work(obj: dict[str, Any]) -> bool:
    return any(t.endswith(_WORK_TYPES) for t in _types(obj)) or any(
        k.lower() == _ACCESS_KEY for k in obj
    )


def _works(data: object) -> Iterator[dict[str, Any]]:
    """The objects a block says the page *is*: its top-level works, the members of its
    @graph, and what they name as their main entity; never what they only mention."""
    stack: list[object] = [data]
    seen: set[int] = set()
    while stack:
        value = stack.pop(0)
        if isinstance(value, list):
            stack[:0] = value
            continue
        if not isinstance(value, dict) or id(value) in seen:
            continue
        seen.add(id(value))
        if _is_work(value):
            yield value
        for key in _NESTING_KEYS:
            nested = value.get(key)
            if isinstance(nested, dict | list):
                stack.append(nested)


def _access(obj: dict[str, Any]) -> tuple[bool | None, str | None]:
    """The object's isAccessibleForFree as a bool (None: absent or unreadable) and as
    written."""
    for key, value in obj.items():
        if key.lower() == _ACCESS_KEY:
            return _schema_bool(value), _as_written(value)
    return None, None


def _schema_bool(value: object) -> bool | None:
    """false, "False", "false", "http://schema.org/False", ... (True alike)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and value:
        readings = [_schema_bool(v) for v in value]
        return False if False in readings else True if True in readings else None
    if isinstance(value, dict):
        return _schema_bool(value.get("@id") or value.get("@value"))
    if not isinstance(value, str):
        return None
    text = value.strip()
    for prefix in _SCHEMA_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    lowered = text.strip().lower()
    return False if lowered == "false" else True if lowered == "true" else None


def _as_written(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f'"{value}"'


def _parts(work: dict[str, Any]) -> list[dict[str, Any]]:
    parts = work.get("hasPart")
    found = parts if isinstance(parts, list) else [parts]
    return [p for p in found if isinstance(p, dict)]


def _ld_signals(works: list[dict[str, Any]]) -> Iterator[_Signal]:
    for work in works:
        free, written = _access(work)
        if free is not None:
            yield _Signal(not free, f"json-ld isAccessibleForFree={written}")
        for part in _parts(work):
            part_free, part_written = _access(part)
            if part_free is None:
                continue
            selector = part.get("cssSelector")
            where = f" ({_text(selector)})" if selector else ""
            yield _Signal(
                not part_free, f"json-ld hasPart isAccessibleForFree={part_written}{where}"
            )


def _raw_signals(raw_blocks: list[str]) -> Iterator[_Signal]:
    for raw in raw_blocks:
        for match in _RAW_ACCESS.finditer(raw):
            written = match.group(1)
            value = json.loads(written) if written.startswith('"') else written.lower() == "true"
            free = _schema_bool(value)
            if free is not None:
                yield _Signal(not free, f"json-ld isAccessibleForFree={written} (invalid JSON)")


def _main_work(works: list[dict[str, Any]]) -> dict[str, Any]:
    """The article among the works (a *Article before a WebPage), or {}."""
    for work in works:
        if any(t.endswith(("Article", "BlogPosting", "Posting", "Report")) for t in _types(work)):
            return work
    return works[0] if works else {}


# -- other marks -----------------------------------------------------------------------


def _microdata_signals(tree: LexborHTMLParser) -> Iterator[_Signal]:
    for node in tree.css("[itemprop]"):
        if (node.attributes.get("itemprop") or "").strip().lower() != _ACCESS_KEY:
            continue
        value = node.attributes.get("content") or node.attributes.get("href") or node_text(node)
        free = _schema_bool(value)
        if free is not None:
            yield _Signal(not free, f'microdata isAccessibleForFree="{value}"')


def _tier_signals(tier: str | None) -> Iterator[_Signal]:
    if tier == _LOCKED_TIER:
        yield _Signal(True, "meta article:content_tier=locked")
    elif tier == _FREE_TIER:
        yield _Signal(False, "meta article:content_tier=free")


def _rule_signals(tree: LexborHTMLParser, rule: ArticleRule) -> Iterator[_Signal]:
    if rule.paywall_selector:
        try:
            found = tree.css_first(rule.paywall_selector)
        except SelectolaxError as exc:
            raise ExtractError(f"invalid CSS selector {rule.paywall_selector!r}: {exc}") from exc
        if found is not None:
            yield _Signal(True, f"selector {rule.paywall_selector}")
    texts = [t for t in rule.paywall_text if t.strip()]
    if texts:
        visible = _squeeze(_visible_text(tree))
        for text in texts:
            if _squeeze(text) in visible:
                yield _Signal(True, f'text "{collapse(text)}"')
                break


def _visible_text(tree: LexborHTMLParser) -> str:
    body = tree.body
    if body is None:
        return ""
    # A copy, so that the caller's tree keeps its scripts (JSON-LD).
    copy = LexborHTMLParser(body.html or "")
    copy.strip_tags(["script", "style", "template", "noscript"])
    root = copy.body
    return root.text(separator=" ") if root is not None else ""


def _squeeze(text: str) -> str:
    return "".join(text.split()).casefold()


# -- what the article is ------------------------------------------------------------------


def _meta(tree: LexborHTMLParser, *keys: str) -> str | None:
    for key in keys:
        node = tree.css_first(
            f'meta[property="{key}" i][content], meta[name="{key}" i][content],'
            f' meta[itemprop="{key}" i][content]'
        )
        content = collapse(node.attributes.get("content")) if node is not None else ""
        if content:
            return content
    return None


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return collapse(value) or None
    if isinstance(value, list):
        texts = [t for t in (_text(v) for v in value) if t]
        return ", ".join(texts) if texts else None
    return None


def _date(value: object) -> str | None:
    """An ISO date as UTC ISO text; any other text as written."""
    text = _text(value[0] if isinstance(value, list) and value else value)
    if not text:
        return None
    candidate = text.replace("Z", "+00:00").replace("z", "+00:00")
    # +0100 -> +01:00, which fromisoformat of Python 3.11 needs.
    candidate = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", candidate)
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return moment.isoformat(timespec="seconds")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _raw_field(raw_blocks: list[str], name: str) -> str | None:
    pattern = re.compile(_RAW_FIELD.format(name))
    for raw in raw_blocks:
        match = pattern.search(raw)
        if match:
            return match.group(1)
    return None


def _time_element(tree: LexborHTMLParser) -> LexborNode | None:
    for selector in ("article time[datetime]", "main time[datetime]", "time[datetime]"):
        node = tree.css_first(selector)
        if node is not None:
            return node
    return None


def _published(tree: LexborHTMLParser, article: dict[str, Any], raw: list[str]) -> str | None:
    time_el = _time_element(tree)
    return _date(
        article.get("datePublished")
        or _meta(tree, "article:published_time", "datePublished", "date", "dc.date")
        or _raw_field(raw, "datePublished")
        or (time_el.attributes.get("datetime") if time_el is not None else None)
    )


def _modified(tree: LexborHTMLParser, article: dict[str, Any], raw: list[str]) -> str | None:
    return _date(
        article.get("dateModified")
        or _meta(tree, "article:modified_time", "og:updated_time", "dateModified")
        or _raw_field(raw, "dateModified")
    )


def _author(tree: LexborHTMLParser, article: dict[str, Any]) -> str | None:
    authors = article.get("author") or article.get("creator")
    names: list[str] = []
    for author in authors if isinstance(authors, list) else [authors]:
        name = author.get("name") if isinstance(author, dict) else author
        text = _text(name)
        if text and text not in names:
            names.append(text)
    if names:
        return ", ".join(names)
    meta = _meta(tree, "author", "article:author", "dc.creator")
    return meta if meta and "://" not in meta else None


def _canonical(tree: LexborHTMLParser, article: dict[str, Any], base: str) -> str | None:
    link = tree.css_first('link[rel~="canonical" i][href]')
    entity = article.get("mainEntityOfPage")
    if isinstance(entity, dict):
        entity = entity.get("@id") or entity.get("url")
    candidates = [
        link.attributes.get("href") if link is not None else None,
        _meta(tree, "og:url"),
        article.get("url") if isinstance(article.get("url"), str) else None,
        entity if isinstance(entity, str) else None,
    ]
    for href in candidates:
        if href and href.strip():
            url = canonical_url(href.strip(), base)
            if url:
                return url
    return None


def _title(tree: LexborHTMLParser, article: dict[str, Any]) -> str | None:
    heading = tree.css_first("h1")
    title_el = tree.css_first("title")
    return (
        _meta(tree, "og:title")
        or _text(article.get("headline"))
        or (node_text(heading) if heading is not None else None)
        or (node_text(title_el) if title_el is not None else None)
        or None
    )
