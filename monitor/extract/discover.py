"""Propose a rule for a listing page nobody has written one for: pure, bytes in, data out.

How it works:

1. Headline links: every ``a[href]`` to another web page (not this one, not a site's
   root) whose text (or ``title``/``aria-label``/image ``alt``) is headline-length. Links
   whose address looks like an article's (a date, a long number or id, a wordy slug)
   weigh more than links to section pages.
2. Item blocks: every ancestor of a headline link proposes selectors (its tag; its tag and
   one class; its tag and an attribute, with or without the value; ``list.class > li``),
   and article links sharing a path segment propose ``a[href*="/segment/"]``. A selector
   scores by the articles its blocks cover when each block holds exactly one article,
   is not nested in another, and is a teaser rather than a bare link (an image, text
   beside the headline); blocks with several articles or none count against it. Blocks
   that carry the site's own article ids score higher; among selectors finding the same
   articles the outer block wins (it holds the section, date and paywall marks too).
   A page with two kinds of teaser (big ones and a list) gets the union when it adds
   enough. Not items: links in a teaser's list of related stories (a list named or
   labelled so: `ul.related`, "Mehr zum Thema"), which leave the teaser one article;
   blocks a shop or sponsored mark sets apart (`sel:not(.teaser--shop)`); and where most
   teasers show their headline as a heading's link, the blocks of the same markup that do
   not (cards, audio players: `sel:has(h2 a)`).
3. Fields: title, section and date selectors are tried on the blocks and kept when they
   work on most of them; a link selector only when the extractor's default link misses.
   The title is a heading or an element the site names as the headline, read as the
   extractor reads titles (`monitor.extract.headline`: no date, byline or kicker); the
   section is a section-named element whose texts read as sections (short labels several
   items share), never a kicker that differs per story.
4. Paywall: among the blocks, what a subset carries and the rest lack — a class or an
   attribute (on the block, inside it, or on an ancestor), an image ``alt``, a short
   marker text (an svg ``<title>`` counts), a URL segment — when its words say so (plus,
   premium, paid, abo, subscriber, locked, payant, restreint, "only to …", "SPIEGEL+").
   More items marked and more such words rank higher; a mark on a superset of the best
   one's items wins (the site's general mark rather than one kind of it).

`discover` returns proposals best first; each one's counts come from running the real
extractor (`monitor.extract.html.extract_html`) with the proposed rule, so what it promises
is what `monitor check` will do.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from monitor.models import Item, Rule

if TYPE_CHECKING:
    from selectolax.lexbor import LexborHTMLParser, LexborNode

# A headline: at least this many characters and words, at most this many characters.
MIN_HEADLINE_CHARS = 15
MIN_HEADLINE_WORDS = 2
MAX_HEADLINE_CHARS = 300
# How far up from a link an item block may be.
MAX_ITEM_DEPTH = 9
# How many item selectors (by a cheap first count) are measured exactly.
MEASURED_CANDIDATES = 40
# Blocks that carry the site's own article ids are items (Spiegel's data-sara-article-id).
ID_BONUS = 1.5
# Links picked by the site's article address pattern (Le Monde's /article/) are items.
URL_BONUS = 1.15
# An outer block holding this share of the best selector's articles, scoring at least
# this share of it, is the listing's teaser (the rest sit in other boxes).
OUTER_SHARE = 0.6
OUTER_SCORE = 0.5
# A second item selector is added when the union scores this much better.
UNION_GAIN = 1.35
# When at least this share of the listing's blocks show their headline as a heading's
# link and at least HEADLINE_OTHERS do not, only the blocks with one are items.
HEADLINE_SHARE = 0.7
HEADLINE_OTHERS = 0.05
# A promotion mark (shop, sponsored) leaves out the blocks it marks when it marks at most
# this share of them (a mark on most blocks is the page's own word for its teasers).
PROMO_SHARE = 0.25
# How far up from a link its "related stories" box, and from that box its teaser, may be.
RELATED_DEPTH = 4
# Below this many items a repeated block is not a listing.
MIN_ITEMS = 3
# A selector on generated class names (no stable hook) scores this share.
UNSTABLE_WEIGHT = 0.6
# How many ancestors of an item are searched for a paywall class (Le Figaro style).
ANCESTOR_DEPTH = 5
# A paywall mark must mark at least this many items.
MIN_MARKED = 2
# Texts and attribute values longer than this are content, not marks.
MAX_MARKER_CHARS = 40
# Marker texts ("The material is available only to POZIRK+") are at most this long.
MAX_MARKER_TEXT = 60
# A field selector is proposed when it works on this share of the blocks.
FIELD_SHARE = 0.8
# Blocks looked at when choosing field selectors.
FIELD_SAMPLE = 200

_SKIP_TAGS = frozenset({"html", "body", "head", "script", "style", "noscript", "template"})
_CLASS_OK = re.compile(r"^-?[A-Za-z_][\w-]*$")
_ATTR_NAME_OK = re.compile(r"^[A-Za-z_][\w.-]*$")
# Attributes whose values are per item, presentational, or not marks.
_ATTR_SKIP = frozenset(
    {
        "class", "id", "style", "href", "src", "srcset", "sizes", "title", "alt", "width",
        "height", "name", "content", "datetime", "loading", "decoding", "fetchpriority",
        "onclick", "onload", "value", "data-src", "data-srcset", "data-sizes",
        "data-original", "data-lazy-src", "viewbox", "d", "xmlns", "tabindex", "target",
        "rel", "for", "type", "media", "fill", "stroke", "points", "transform",
    }
)  # fmt: skip
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Blocks that are only a link or a headline, not a teaser around one.
_BARE = frozenset({"a", *_HEADINGS})
_SECTION_WORDS = (
    "kicker", "section", "rubric", "ressort", "category", "categories", "topline",
    "overline", "dachzeile", "eyebrow", "channel", "department", "rubrik",
)  # fmt: skip
_DATE_WORDS = ("date", "time", "datum", "published", "posted", "timestamp")
_TITLE_WORDS = ("title", "headline", "heading", "titel", "hed")
_WORD_SPLIT = re.compile(r"[^0-9a-zà-ÿа-яёіў+]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_PAYWALL_WORDS = frozenset(
    {
        "paid", "premium", "paywall", "paywalled", "locked", "lock", "payant", "payante",
        "restreint", "restricted", "subscriber", "subscribers", "abo", "abonnes", "abonné",
        "abonnés", "abonnement", "bezahl", "bezahlinhalt", "members", "member", "paying",
        "платный", "платно", "подписка", "подписчиков", "падпіска",
    }
)  # fmt: skip
_PAYWALL_PREFIXES = ("abonn", "subscri", "premium", "paywall", "bezahl", "plus")
# Social buttons and streaming services, not paywalls.
_NOT_PAYWALL = ("google-plus", "googleplus", "gplus", "google+", "disney+", "apple tv+")
# Paid placements (sponsored stories, partner offers) and newsletter sign-ups: a "paid"
# or "subscribe" beside these words is not a paywall.
_NOT_PAYWALL_WORDS = frozenset(
    {
        "promo", "promotion", "sponsored", "sponsor", "ad", "ads", "advert", "advertorial",
        "anzeige", "werbung", "partner", "reklama", "sponsorowane", "newsletter", "surplus",
    }
)  # fmt: skip
# Attributes that record clicks for analytics: their values name links, not paywalls.
_TRACKING_ATTR = re.compile(
    r"^data-(?:link-name|track|tracking|analytics|gtm|ga|event|click|component-name|sara-click)",
    re.I,
)
# Lists of related stories inside a teaser ("more on this topic"): class or id words, and
# the phrases of their labels.
_RELATED_PREFIXES = ("related", "package", "seealso", "zumthema", "mehrzumthema")
_RELATED_PHRASES = (
    "more on this", "more on the topic", "related", "see also", "read more on",
    "mehr zum thema", "zum thema", "lesen sie auch", "auch interessant", "weitere artikel",
    "lire aussi", "voir aussi", "sur le même sujet", "à lire également", "czytaj też",
    "czytaj także", "zobacz też", "leggi anche", "ver también", "читайте также", "по теме",
)  # fmt: skip
# Words of shop offers, deals and paid placements, in class names and labels.
_PROMO_WORDS = frozenset(
    {
        "shop", "deal", "deals", "promo", "promotion", "sponsored", "sponsor", "advertorial",
        "anzeige", "werbung", "commerce", "affiliate", "ad", "ads", "advert", "advertisement",
        "reklama", "sponsorowane", "publicite", "publicité", "gutschein", "voucher", "coupon",
    }
)  # fmt: skip
_HEADING_LINKS = ", ".join(f"{h} a[href]" for h in ("h1", "h2", "h3", "h4", "h5", "h6"))
_PAYWALL_PHRASES = (
    "only to", "only for", "for subscribers", "nur für", "réservé aux", "available only",
    "доступен только", "даступны толькі",
)  # fmt: skip
_DATE_PATH = re.compile(r"(19|20)\d\d([/-]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])?\b")
_LONG_NUMBER = re.compile(r"\d{5,}")
_MIXED_ID = re.compile(r"(?=[a-z]*\d)(?=\d*[a-z])[a-z\d]{7,}", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_ID_ATTRIBUTE = re.compile(r"^[\w-]+\[([\w-]*[-_]id)\]$", re.I)


@dataclass(frozen=True)
class PaywallGuess:
    """A signal that marks some of the items as paywalled."""

    # One of the two is set: a CSS selector, or texts searched in the item block.
    selector: str | None
    texts: tuple[str, ...]
    # Items it marks among those discovery found (a proposal's own counts are exact).
    marked: int
    total: int
    # What it looks at, for people: "`article[data-zplus=zplus]`", 'text "SPIEGEL+"'.
    evidence: str
    score: float

    def describe(self) -> str:
        return f"{self.marked} of {self.total} items marked by {self.evidence}"


@dataclass(frozen=True)
class Proposal:
    """One way to read the page: a rule and what the extractor makes of it."""

    rule: Rule
    # Exact figures from the extractor run with `rule`.
    items: int
    paywalled: int
    score: float
    sample: tuple[Item, ...] = ()
    paywall: PaywallGuess | None = None
    # Other paywall signals, best first, for the user to choose from.
    paywall_alternatives: tuple[PaywallGuess, ...] = ()
    # False when the item selector rests on generated names (no stable hook found).
    stable: bool = True
    # What the user should know before accepting it.
    notes: tuple[str, ...] = ()

    def rule_table(self) -> dict[str, object]:
        """The rule as the keys of a config file's [sources.rule], unset keys left out."""
        return rule_table(self.rule)

    def to_json(self) -> dict[str, object]:
        rule = {
            "item": self.rule.item,
            "title": self.rule.title,
            "link": self.rule.link,
            "section": self.rule.section,
            "date": self.rule.date,
            "paywall_text": list(self.rule.paywall_text),
            "paywall_selector": self.rule.paywall_selector,
        }
        return {
            "rule": rule,
            "items": self.items,
            "paywalled": self.paywalled,
            "score": round(self.score, 2),
            "paywall": self.paywall.describe() if self.paywall else None,
            "paywall_alternatives": [p.describe() for p in self.paywall_alternatives],
            "evidence": self.paywall.evidence if self.paywall else None,
            "stable": self.stable,
            "notes": list(self.notes),
            "sample": [
                {
                    "title": i.title,
                    "url": i.url,
                    "section": i.section,
                    "published": i.published,
                    "paywalled": i.paywalled,
                }
                for i in self.sample
            ],
        }


def rule_table(rule: Rule) -> dict[str, object]:
    """A rule as config keys ([sources.rule]); unset keys are left out."""
    table: dict[str, object] = {}
    for key in ("item", "title", "link", "section", "date"):
        value = getattr(rule, key)
        if value:
            table[key] = value
    if rule.paywall_text:
        table["paywall_text"] = list(rule.paywall_text)
    if rule.paywall_selector:
        table["paywall_selector"] = rule.paywall_selector
    if rule.id_pattern:
        table["id_pattern"] = rule.id_pattern
    return table


def discover(
    body: bytes, base_url: str, content_type: str | None = None, *, limit: int = 3
) -> list[Proposal]:
    """Rule proposals for a listing page, best first (empty when it lists nothing).

    The page is parsed once (`parse_html`, as the extractor does); each proposal's counts
    come from `extract_tree` on that parse with the proposed rule, which is exactly what
    `extract_html` does with the body.
    """
    from monitor.extract.html import extract_tree, parse_html

    tree = parse_html(body, content_type)
    # What the extractor drops first anyway; dropped before the nodes are looked at.
    tree.strip_tags(["script", "style", "template"])
    page = _read_page(tree, base_url)

    def extract(rule: Rule) -> list[Item]:
        return extract_tree(tree, base_url, rule)

    proposals: list[Proposal] = []
    seen: list[set[str]] = []
    for candidate in _rank_items(page)[: limit * 4]:
        # Another selector for the same articles is not another reading of the page.
        if any(_same_items(set(candidate.urls), urls) for urls in seen):
            continue
        rule, guesses = _build_rule(page, candidate)
        items = extract(rule)
        link = _link_if_needed(page, candidate, items)
        if link:
            rule = replace(rule, link=link)
            items = extract(rule)
        urls = {item.url for item in items}
        if len(items) < MIN_ITEMS or any(_same_items(urls, other) for other in seen):
            continue
        seen += [urls, set(candidate.urls)]
        proposals.append(
            Proposal(
                rule=rule,
                items=len(items),
                paywalled=sum(1 for i in items if i.paywalled),
                score=candidate.score,
                sample=tuple(items[:10]),
                paywall=guesses[0] if guesses else None,
                paywall_alternatives=tuple(guesses[1:6]),
                stable=candidate.stable,
                notes=_notes(rule, candidate),
            )
        )
        if len(proposals) >= limit:
            break
    return proposals


# The rule keys discovery proposes; a fix replaces these and keeps the others
# (id_pattern, derive_from_marker).
DISCOVERED_KEYS = ("item", "title", "link", "section", "date", "paywall_text", "paywall_selector")


@dataclass(frozen=True)
class Fix:
    """A new reading for a source whose rule stopped matching: what to write into its
    `[sources.rule]` and what the extractor then finds (exact figures)."""

    # The rule the source reads the page with now, and the one it would read it with.
    before: Rule
    rule: Rule
    # Keys to set in the config's [sources.rule], and keys to take out of it (left to the
    # profile, or unset).
    table: dict[str, object]
    drop: tuple[str, ...]
    # What each rule finds on the page.
    items_before: int
    items: int
    paywalled: int
    sample: tuple[Item, ...] = ()
    stable: bool = True
    notes: tuple[str, ...] = ()

    def changes(self) -> list[tuple[str, object, object]]:
        """(key, before, after) of every rule key the fix changes."""
        found = []
        for key in DISCOVERED_KEYS:
            old, new = getattr(self.before, key), getattr(self.rule, key)
            if old != new:
                found.append((key, old, new))
        return found

    def summary(self) -> str:
        """'`article.y`, 48 items, 12 paywalled'."""
        return f"`{self.rule.item}`, {self.items} items, {self.paywalled} paywalled"


def fixed_rule(current: Rule, base: Rule, proposed: Rule) -> Rule:
    """`current` with the discovered keys of `proposed`; a key the proposal leaves unset
    falls back to `base` (the profile's rule, or no rule), as the config then reads it."""
    values = {key: getattr(proposed, key) or getattr(base, key) for key in DISCOVERED_KEYS}
    return replace(current, **values)


def propose_fix(
    body: bytes,
    base_url: str,
    content_type: str | None,
    current: Rule,
    base: Rule | None = None,
) -> Fix | None:
    """The best rule discovery proposes for a page the `current` rule reads badly (None
    when no proposal finds more items than it). `base`: the rule under the config's
    [sources.rule] (the source's profile's), which keys the fix leaves unset fall back to.
    The figures come from the extractor run with the fixed rule."""
    from monitor.extract.html import extract_html

    base = base or Rule()
    now = extract_html(body, base_url, current, content_type)
    for proposal in discover(body, base_url, content_type):
        rule = fixed_rule(current, base, proposal.rule)
        items = extract_html(body, base_url, rule, content_type)
        if len(items) <= len(now) or len(items) < MIN_ITEMS:
            continue
        table = rule_table(proposal.rule)
        table.pop("id_pattern", None)
        return Fix(
            before=current,
            rule=rule,
            table={k: v for k, v in table.items() if k in DISCOVERED_KEYS},
            drop=tuple(k for k in DISCOVERED_KEYS if k not in table),
            items_before=len(now),
            items=len(items),
            paywalled=sum(1 for i in items if i.paywalled),
            sample=tuple(items[:10]),
            stable=proposal.stable,
            notes=proposal.notes,
        )
    return None


def _notes(rule: Rule, candidate: _Candidate) -> tuple[str, ...]:
    if candidate.stable:
        return ()
    return (
        f"no stable hook: `{rule.item}` is a generated name that may change on the site's "
        "next deploy",
    )


# -- the page ---------------------------------------------------------------------------------


@dataclass
class _Page:
    """What one parse of the page yields, shared by all the steps."""

    tree: LexborHTMLParser
    base_url: str
    # mem_id of every element that is (or holds) a headline link -> the URLs it holds.
    urls_below: dict[int, set[str]] = field(default_factory=dict)
    # Item selector -> mem_ids of the elements that proposed it.
    candidates: dict[str, set[int]] = field(default_factory=dict)
    # Per URL: 1.0 when it looks like an article's address, less for section pages.
    weight: dict[str, float] = field(default_factory=dict)
    # Per URL: the longest headline text of its links.
    titles: dict[str, str] = field(default_factory=dict)
    # Per element (mem_id), computed once however many selectors match it.
    quality: dict[int, float] = field(default_factory=dict)
    ancestors: dict[int, tuple[int, ...]] = field(default_factory=dict)
    # Below this many items a repeated block is not a listing.
    min_items: int = MIN_ITEMS
    # Words that name the site (see `site_brand`).
    brand: frozenset[str] | None = None


@dataclass(frozen=True)
class _Candidate:
    selector: str
    # The matched blocks that hold exactly one article, and that article's URL.
    elements: tuple[LexborNode, ...]
    urls: tuple[str, ...]
    score: float
    specificity: int
    depth: float
    # False when the selector names a generated class or id (no stable hook found).
    stable: bool = True


def main_listing(
    tree: LexborHTMLParser, base_url: str, *, min_items: int = MIN_ITEMS
) -> str | None:
    """The item selector of the page's main run of teasers (what `discover` proposes
    first), from the page's structure alone; None when nothing repeats."""
    ranked = _rank_items(_read_page(tree, base_url, min_items=min_items))
    return ranked[0].selector if ranked else None


def _read_page(tree: LexborHTMLParser, base_url: str, *, min_items: int = MIN_ITEMS) -> _Page:
    from monitor.extract.html import document_base

    page = _Page(
        tree=tree,
        base_url=document_base(tree, base_url),
        min_items=min_items,
        brand=site_brand(tree, base_url),
    )
    here = _canonical(base_url, base_url)
    for link in tree.css("a[href]"):
        url = _article_url(link.attributes.get("href") or "", page.base_url, here)
        text = _link_text(link) if url else ""
        if url is None or not _is_headline(text) or _side_link(link):
            continue
        page.weight[url] = 1.0 if looks_like_article(url) else 0.25
        if len(text) > len(page.titles.get(url, "")):
            page.titles[url] = text
        node: LexborNode | None = link
        level = 0
        while node is not None and level <= MAX_ITEM_DEPTH and node.tag not in _SKIP_TAGS:
            key = node.mem_id
            page.urls_below.setdefault(key, set()).add(url)
            for selector in _selectors_for(node):
                page.candidates.setdefault(selector, set()).add(key)
            node = node.parent
            level += 1
    return page


def _related_box(node: LexborNode) -> bool:
    """An element named or labelled as links to related stories ("more on this topic")."""
    attrs = node.attributes
    names = " ".join(str(attrs.get(k) or "") for k in ("class", "id", "aria-label", "title"))
    tokens = set(_tokens(names))
    if any(t.startswith(_RELATED_PREFIXES) for t in tokens) or _related_pair(tokens):
        return True
    label = next(node.iter(), None)  # the first child element: a box's label
    text = _text(label).lower() if label is not None and label.tag != "a" else ""
    return 0 < len(text) <= MAX_MARKER_TEXT and any(p in text for p in _RELATED_PHRASES)


def _related_pair(tokens: set[str]) -> bool:
    return bool(tokens & {"more", "mehr", "plus"}) and bool(tokens & {"topic", "thema", "sujet"})


def _side_link(link: LexborNode) -> bool:
    """A link in a teaser's list of related stories: inside an element named or labelled
    like one (`ul.related`, "Mehr zum Thema"), in a block whose headline is another link
    in a heading. Such links are the teaser's, not items of the listing."""
    node: LexborNode | None = link
    for _ in range(RELATED_DEPTH):
        if node is None or node.tag in _SKIP_TAGS:
            return False
        if _related_box(node):
            break
        node = node.parent
    else:
        return False
    box = node.mem_id
    outer = node.parent
    for _ in range(RELATED_DEPTH):
        if outer is None or outer.tag in _SKIP_TAGS:
            return False
        for heading_link in outer.css(_HEADING_LINKS):
            if not _inside(heading_link, box):
                return True
        outer = outer.parent
    return False


def _inside(node: LexborNode, ancestor: int) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id == ancestor:
            return True
        parent = parent.parent
    return False


def _lead_url(page: _Page, key: int) -> str | None:
    """The one article a block shows, None for a block with several (a container)."""
    below = page.urls_below.get(key, set())
    return next(iter(below)) if len(below) == 1 else None


def _canonical(href: str, base: str) -> str | None:
    from monitor.extract.urls import canonical_url

    return canonical_url(href, base)


def _article_url(href: str, base_url: str, here: str | None) -> str | None:
    """The canonical URL of a link to another page, else None."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    url = _canonical(href, base_url)
    if url is None or url == here:
        return None
    parts = urlsplit(url)
    if parts.path.strip("/") == "" and not parts.query:
        return None
    return url


def looks_like_article(url: str) -> bool:
    """An article's address: a date, a long number or id, or a wordy slug in the path."""
    path = urlsplit(url).path
    if _DATE_PATH.search(path):
        return True
    tail = "/".join(path.rstrip("/").split("/")[-2:])
    if _LONG_NUMBER.search(tail) or _MIXED_ID.search(tail):
        return True
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return len(re.findall(r"[-_]", last)) >= 3


def _text(node: LexborNode) -> str:
    return " ".join(node.text(separator=" ").split())


def _link_text(link: LexborNode) -> str:
    text = _text(link)
    if text:
        return text
    attrs = link.attributes
    for name in ("title", "aria-label"):
        if attrs.get(name):
            return " ".join(str(attrs[name]).split())
    image = link.css_first("img[alt]")
    if image is not None:
        return " ".join(str(image.attributes.get("alt") or "").split())
    return ""


def _is_headline(text: str) -> bool:
    return (
        MIN_HEADLINE_CHARS <= len(text) <= MAX_HEADLINE_CHARS
        and len(text.split()) >= MIN_HEADLINE_WORDS
    )


def _classes(node: LexborNode) -> tuple[str, ...]:
    return _class_list(node.attributes.get("class") or "")


@lru_cache(maxsize=8192)
def _class_list(value: str) -> tuple[str, ...]:
    return tuple(c for c in value.split() if _CLASS_OK.match(c))


# Names a build tool makes up (CSS-in-JS, CSS modules, hashes): they change on every deploy.
_GENERATED_NAME = re.compile(
    r"^(?:css|sc|jsx|svelte|emotion|styled|astro|tw|chakra|mui)-[\w-]*\d[\w-]*$"
    r"|^(?:css|sc|jsx|svelte|astro)-[A-Za-z]{5,}$"
    r"|^_[\w-]*\d[\w-]*$"
    r"|__(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z\d]{5,}$",
)
# A hash-like part: letters and digits alternating (`e1ns0k20`), or the case flipping
# inside a short token (`bdVaJa`).
_ALTERNATION = re.compile(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)", re.I)
_LOWER_UPPER = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Sizes (`728x90`) are readable.
_SIZE = re.compile(r"\d+x\d+")


@lru_cache(maxsize=8192)
def is_generated(name: str) -> bool:
    """A class or id a build tool made up (`css-uthm1l`, `sc-bdVaJa`, `_3xX7a`,
    `Teaser_title__3xX7a`, `e1f2a9c0`): it changes on every deploy, so a rule must not
    depend on it. Readable names (`teaser`, `pz-card--plus`, `col-md-4`) are stable."""
    if _GENERATED_NAME.search(name):
        return True
    for part in re.split(r"[-_]+", _SIZE.sub("", name)):
        if len(part) >= 5 and len(_ALTERNATION.findall(part)) >= 3:
            return True
        if 5 <= len(part) <= 8 and len(_LOWER_UPPER.findall(part)) >= 2:
            return True
    return False


def _usable_value(value: str | None) -> bool:
    return (
        bool(value)
        and len(value or "") <= MAX_MARKER_CHARS
        and not re.search(r'["\\\n]', value or "")
    )


def _selectors_for(node: LexborNode) -> Iterator[str]:
    tag = node.tag
    if not tag or not _CLASS_OK.match(tag):
        return
    yield tag
    for cls in _classes(node):
        yield f"{tag}.{cls}"
    for name, value in node.attributes.items():
        if name in _ATTR_SKIP or not _ATTR_NAME_OK.match(name) or name.startswith("aria-"):
            continue
        yield f"{tag}[{name}]"
        if _usable_value(value):
            yield f'{tag}[{name}="{value}"]'
    # Plain list entries, or teasers of several kinds, are told apart by their container:
    # `ul.article-list > li`, `#feed > div`.
    parent = node.parent
    if parent is not None and parent.tag not in _SKIP_TAGS and _CLASS_OK.match(parent.tag or ""):
        for cls in _classes(parent):
            yield f"{parent.tag}.{cls} > {tag}"
        container = parent.attributes.get("id") or ""
        if _CLASS_OK.match(container) and not is_generated(container):
            yield f"#{container} > {tag}"


# -- item blocks ------------------------------------------------------------------------------


def _rank_items(page: _Page) -> list[_Candidate]:
    """Item selectors measured on the page, best first."""
    rough: list[tuple[float, str]] = []
    for selector, keys in page.candidates.items():
        leads = [u for u in (_lead_url(page, k) for k in keys) if u is not None]
        if len(leads) >= page.min_items:
            weight = sum(page.weight[u] for u in leads)
            rough.append((weight, selector))
    rough.sort(key=lambda pair: (-pair[0], pair[1]))
    selectors = [selector for _, selector in rough[:MEASURED_CANDIDATES]]
    selectors += _url_selectors(page)
    ranked = [c for c in (_measure(page, s) for s in selectors) if c is not None]
    # A selector on the site's article address pattern keeps working through redesigns.
    ranked = [
        replace(c, score=c.score * URL_BONUS) if "href*=" in c.selector else c for c in ranked
    ]
    ranked = _prefer_stable(ranked)
    ranked.sort(key=lambda c: (-c.score, c.depth, -c.specificity, c.selector))
    return _without_promos(page, _headline_blocks(page, _with_union(page, _prefer_outer(ranked))))


def stable_selector(selector: str) -> bool:
    """No class, id or attribute value in the selector is a generated name."""
    names = _SELECTOR_NAMES.findall(selector)
    return not any(is_generated(a or b) for a, b in names)


_SELECTOR_NAMES = re.compile(r'[.#](-?[A-Za-z_][\w-]*)|="([^"]*)"')


def _prefer_stable(ranked: list[_Candidate]) -> list[_Candidate]:
    """A selector on a generated name is dropped when a stable one finds the same blocks
    as well (it would break on the site's next deploy); `_measure` ranks the others lower."""
    best_stable: dict[frozenset[int], float] = {}
    for cand in ranked:
        if cand.stable:
            blocks = frozenset(n.mem_id for n in cand.elements)
            best_stable[blocks] = max(best_stable.get(blocks, cand.score), cand.score)
    kept = []
    for cand in ranked:
        rival = best_stable.get(frozenset(n.mem_id for n in cand.elements))
        # The unstable score was lowered in `_measure`; compare what each finds.
        if cand.stable or rival is None or rival < 0.9 * cand.score / UNSTABLE_WEIGHT:
            kept.append(cand)
    return kept


def _url_selectors(page: _Page) -> list[str]:
    """Links whose addresses share a path segment (Le Monde's /article/) as the items."""
    counts: Counter[str] = Counter()
    article_urls = [u for u, w in page.weight.items() if w == 1.0]
    for url in article_urls:
        segments = urlsplit(url).path.strip("/").split("/")[:-1]
        counts.update({s for s in segments if _CLASS_OK.match(s)})
    return [
        f'a[href*="/{segment}/"]'
        for segment, count in counts.most_common(5)
        if count >= max(MIN_ITEMS, 0.3 * len(article_urls))
    ]


def _measure(page: _Page, selector: str) -> _Candidate | None:
    """Score a selector: many one-article, rich, non-nested blocks and little else."""
    try:
        matched = page.tree.css(selector)
    except Exception:  # selectolax raises its own error types
        return None
    ids = {node.mem_id for node in matched}
    one: list[LexborNode] = []
    urls: list[str] = []
    value: dict[str, float] = {}
    multi = zero = nested = 0
    depths: list[int] = []
    for node in matched:
        below = page.urls_below.get(node.mem_id, set())
        lead = _lead_url(page, node.mem_id)
        if lead is not None:
            url = lead
            one.append(node)
            urls.append(url)
            key = node.mem_id
            if key not in page.quality:
                page.quality[key] = _teaser_quality(node, page.titles[url])
            worth = page.weight[url] * page.quality[key]
            value[url] = max(value.get(url, 0.0), worth)
        elif below:
            multi += 1
        else:
            zero += 1
        chain = page.ancestors.get(node.mem_id)
        if chain is None:
            chain = page.ancestors[node.mem_id] = _ancestor_ids(node)
        depths.append(len(chain))
        nested += not ids.isdisjoint(chain)
    if len(value) < page.min_items:
        return None
    # Blocks with several articles are containers, blocks with none are ads or
    # placeholders, blocks inside blocks mean the selector is too loose.
    bad = 1.5 * multi + 0.25 * zero + 2.0 * nested
    purity = len(one) / len(matched)
    score = (sum(value.values()) - bad) * (0.5 + 0.5 * purity)
    if selector.startswith("article"):
        score *= 1.05
    if _carries_ids(selector, one):
        score *= ID_BONUS
    stable = stable_selector(selector)
    if not stable:
        score *= UNSTABLE_WEIGHT
    return _Candidate(
        selector=selector,
        elements=tuple(one),
        urls=tuple(urls),
        score=score,
        specificity=selector.count(".") + selector.count("[") + selector.count("="),
        depth=sum(depths) / len(depths),
        stable=stable,
    )


def _carries_ids(selector: str, blocks: Sequence[LexborNode]) -> bool:
    """`article[data-article-id]`: the site numbers its teasers, a sure sign of items."""
    match = _ID_ATTRIBUTE.match(selector)
    if not match:
        return False
    values = [b.attributes.get(match.group(1)) for b in blocks]
    return len(set(values)) >= 0.8 * len(values)


def _teaser_quality(node: LexborNode, title: str) -> float:
    """1 for a teaser (its headline shown, and an image or text beside it), less for a bare
    link, least for a block that shows no headline (an image whose link has a title)."""
    text = _text(node)
    if len(text) < MIN_HEADLINE_CHARS:
        return 0.4
    if node.css_first("img, picture, svg, video") is not None:
        return 1.0
    return 1.0 if len(text) - len(title) >= 12 else 0.6


def _ancestor_ids(node: LexborNode) -> tuple[int, ...]:
    """mem_ids of the element's ancestors, up to the document."""
    chain = []
    parent = node.parent
    while parent is not None:
        chain.append(parent.mem_id)
        parent = parent.parent
    return tuple(chain)


def _prefer_outer(ranked: list[_Candidate]) -> list[_Candidate]:
    """Among selectors that find the same articles, rank the outermost block first.

    An outer block that holds most of the best selector's articles is the listing's
    teaser, and the articles only the inner selector finds sit in other boxes (bare links
    in a "most read" list or a voucher box match `a`, but are not wrapped like teasers).
    """
    if not ranked:
        return ranked
    best = ranked[0]
    best_urls = set(best.urls)
    bare = all(node.tag in _BARE for node in best.elements)
    for cand in ranked[1:]:
        shared = len(best_urls & set(cand.urls))
        same = shared >= 0.97 * len(best_urls) and cand.score >= 0.97 * best.score
        wider = (
            bare
            and shared >= OUTER_SHARE * len(best_urls)
            and cand.score >= OUTER_SCORE * best.score
            and cand.depth < best.depth - 0.5
            and len(cand.urls) <= len(best_urls)
        )
        if (same and cand.depth < best.depth - 0.5) or wider:
            best = cand
            best_urls = set(cand.urls)
    return [best, *(c for c in ranked if c is not best)]


def _with_union(page: _Page, ranked: list[_Candidate]) -> list[_Candidate]:
    """Pages with two kinds of teaser (big ones and a list): the union when it adds."""
    if not ranked:
        return ranked
    best = ranked[0]
    for other in ranked[1:]:
        have = set(best.urls)
        theirs = set(other.urls)
        new = theirs - have
        # Another kind of teaser adds articles; a looser selector for the same ones does not.
        if len(new) < max(MIN_ITEMS, 0.2 * len(have)) or len(theirs & have) > 0.2 * len(theirs):
            continue
        union = _measure(page, f"{best.selector}, {other.selector}")
        if union is not None and union.score > UNION_GAIN * best.score:
            best = union
    if best is ranked[0]:
        return ranked
    return [best, *ranked]


def _heading_link(block: LexborNode) -> str | None:
    """The heading tag whose link is the block's headline (`<h2><a href>`), else None."""
    for tag in _HEADINGS:
        if block.css_first(f"{tag} a[href]") is not None:
            return tag
    return None


def _headline_blocks(page: _Page, ranked: list[_Candidate]) -> list[_Candidate]:
    """Where most of the best selector's teasers show their headline as a link in a
    heading, the blocks that do not are another kind of box sharing the teaser's markup
    (cards of related links, audio players, ads): the listing is the blocks with one,
    `sel:has(h2 a)`."""
    if not ranked:
        return ranked
    best = ranked[0]
    tags = [_heading_link(block) for block in best.elements]
    linked = sum(1 for tag in tags if tag)
    share = linked / len(tags) if tags else 0.0
    if not HEADLINE_SHARE <= share <= 1 - HEADLINE_OTHERS:
        return ranked
    heads = ", ".join(f"{tag} a" for tag in _HEADINGS if tag in tags)
    selector = ", ".join(f"{part.strip()}:has({heads})" for part in best.selector.split(","))
    restricted = _measure(page, selector)
    if restricted is None or len(restricted.urls) < page.min_items:
        return ranked
    return [replace(restricted, stable=best.stable), *ranked]


def _promo_marks(block: LexborNode) -> Iterator[str]:
    """Selectors of the promotion marks of one block: a class or an attribute value on it
    or inside it whose words say shop, sponsored, ad ("teaser--shop", "Anzeige")."""
    inner = [n for n in block.css("[class], [data-type], [data-kind]") if n.mem_id != block.mem_id]
    for level, node in enumerate((block, *inner)):
        for cls in _classes(node):
            if _PROMO_WORDS & set(_tokens(cls)) and not is_generated(cls):
                yield f".{cls}" if level == 0 else f":has(.{cls})"
        for name in ("data-type", "data-kind"):
            value = node.attributes.get(name)
            if _usable_value(value) and _PROMO_WORDS & set(_tokens(value or "")):
                mark = f'[{name}="{value}"]'
                yield mark if level == 0 else f":has({mark})"


def _without_promos(page: _Page, ranked: list[_Candidate]) -> list[_Candidate]:
    """Shop offers and sponsored stories that share the teasers' markup are not items: a
    mark that says so on a few of the best selector's blocks is left out, `sel:not(.shop)`."""
    if not ranked:
        return ranked
    best = ranked[0]
    holders: Counter[str] = Counter()
    for block in best.elements:
        holders.update(set(_promo_marks(block)))
    marks = sorted(m for m, n in holders.items() if n <= PROMO_SHARE * len(best.elements))
    if not marks:
        return ranked
    exclude = "".join(f":not({mark})" for mark in marks)
    parts = [part.strip() for part in best.selector.split(",")]
    restricted = _measure(page, ", ".join(f"{part}{exclude}" for part in parts))
    if restricted is None or len(restricted.urls) < page.min_items:
        return ranked
    return [replace(restricted, stable=best.stable), *ranked]


# -- fields -----------------------------------------------------------------------------------


def _build_rule(page: _Page, candidate: _Candidate) -> tuple[Rule, list[PaywallGuess]]:
    blocks = candidate.elements[:FIELD_SAMPLE]
    urls = candidate.urls[:FIELD_SAMPLE]
    rule = Rule(
        item=candidate.selector,
        title=_title_selector(page, blocks, urls),
        section=_section_selector(blocks),
        date=_date_selector(blocks),
        derive_from_marker=False,
    )
    guesses = guess_paywall(candidate.elements, candidate.urls, page.brand)
    if guesses:
        best = guesses[0]
        rule = replace(rule, paywall_selector=best.selector, paywall_text=best.texts)
    return rule, guesses


def _share(blocks: Sequence[LexborNode], ok: Iterable[bool]) -> float:
    return sum(ok) / len(blocks) if blocks else 0.0


def _title_selector(page: _Page, blocks: Sequence[LexborNode], urls: Sequence[str]) -> str | None:
    """The element that holds the headline in most blocks: a heading, or an element the
    site names as the headline (a class or a data-* value with a title word, itemprop
    headline). Its text is read as the extractor reads titles (no date, byline, kicker,
    credit); among elements that hold it as often, the shortest selector."""
    options: Counter[str] = Counter()
    for block in blocks:
        options.update(set(_title_options(block)))
    references = [_story_texts(page, b, u) for b, u in zip(blocks, urls, strict=True)]
    best: tuple[float, int, str] | None = None
    for selector, count in options.most_common(12):
        if count < FIELD_SHARE * len(blocks):
            continue
        share = _share(
            blocks,
            (
                _same_headline(_first_title(b, selector), refs)
                for b, refs in zip(blocks, references, strict=True)
            ),
        )
        rank = (share, -len(selector), selector)
        if share >= FIELD_SHARE and (best is None or rank > best):
            best = rank
    return best[2] if best else None


def _title_options(block: LexborNode) -> Iterator[str]:
    """Selectors of the elements of a block that may hold its headline."""
    from monitor.extract.headline import is_label

    for node in block.css(", ".join(_HEADINGS) + ", [class], [itemprop], [data-component]"):
        if is_label(node):  # a kicker or a date named "teaser__title__kicker"
            continue
        if node.tag in _HEADINGS:
            yield node.tag
        for cls in _classes(node):
            if any(w in _tokens(cls) for w in _TITLE_WORDS) and not is_generated(cls):
                yield f"{node.tag}.{cls}"
        for name, value in node.attributes.items():
            if name == "class" or not (name == "itemprop" or name.startswith("data-")):
                continue
            if not _usable_value(value) or " " in (value or ""):
                continue
            if any(w in _tokens(value or "") for w in _TITLE_WORDS) and _ATTR_NAME_OK.match(name):
                yield f'[{name}="{value}"]'


def _story_texts(page: _Page, block: LexborNode, url: str) -> list[str]:
    """What the block says its article is called: the headline text of the headings in or
    around its links to it and of those links, their title and aria-label."""
    from monitor.extract.headline import headline_text, is_label

    texts: list[str] = []
    for link in block.css("a[href]"):
        if _article_url(link.attributes.get("href") or "", page.base_url, None) != url:
            continue
        inner = [h for h in link.css(", ".join(_HEADINGS)) if not is_label(h)]
        if inner:
            texts.append(headline_text(min(inner, key=lambda h: h.tag or "h7")))
        parent = link.parent
        while parent is not None and parent.mem_id != block.mem_id:
            if parent.tag in _HEADINGS:
                texts.append(headline_text(parent))
                break
            parent = parent.parent
        texts.append(headline_text(link))
        for name in ("title", "aria-label"):
            texts.append(" ".join(str(link.attributes.get(name) or "").split()))
    return [t for t in texts if t]


def _same_headline(found: str, references: Sequence[str]) -> bool:
    """The text a title selector finds is the block's headline (or the heart of it): most
    of a link's text to the article, or its title."""
    if not found:
        return False
    for ref in references:
        if found == ref:
            return True
        if found in ref and len(found) >= 0.4 * len(ref):
            return True
        if ref in found and len(ref) >= 0.6 * len(found):
            return True
        # A link holding the headline and then the summary (Telepolis) starts with it.
        if ref.startswith(found) and _is_headline(found):
            return True
    return False


def _first_title(block: LexborNode, selector: str) -> str:
    """The headline text of the first match that has some (as the extractor reads it)."""
    from monitor.extract.headline import headline_text

    for node in block.css(selector):
        text = headline_text(node)
        if text:
            return text
    return ""


def _first_text(block: LexborNode, selector: str) -> str:
    for node in block.css(selector):
        text = _text(node)
        if text:
            return text
    return ""


def _section_selector(blocks: Sequence[LexborNode]) -> str | None:
    """A section-named element (kicker, rubric, category ...) in half the blocks whose texts
    read as sections: short labels that recur ("Politik", "Sport"). A kicker, a line
    above the headline that is different for every story ("Angriffe auf neun Länder!"),
    is not a section: it stays out of the rule (and the title leaves it out)."""
    counts: Counter[str] = Counter()
    texts: dict[str, list[str]] = defaultdict(list)
    for block in blocks:
        seen: dict[str, str] = {}
        for node in block.css("[class]"):
            for cls in _classes(node):
                if not any(w in _tokens(cls) for w in _SECTION_WORDS):
                    continue
                text = _text(node)
                selector = f"{node.tag}.{cls}"
                if 0 < len(text) <= MAX_MARKER_CHARS and selector not in seen:
                    seen[selector] = text
        counts.update(seen.keys())
        for selector, text in seen.items():
            texts[selector].append(text)
    for selector, count in counts.most_common(5):
        if count < 0.5 * len(blocks):
            break
        if reads_like_sections(texts[selector]):
            return selector
    return None


# A section label: at most this many words and characters, and no sentence punctuation.
SECTION_MAX_WORDS = 3
SECTION_MAX_CHARS = 30
_SENTENCE_MARKS = re.compile(r"[!?:;…\"„“”«»]|\.$")
# Share of the items whose label is a short one, and share whose label recurs on the page.
SECTION_LABEL_SHARE = 0.8
SECTION_REPEAT_SHARE = 0.5


def reads_like_sections(texts: Sequence[str]) -> bool:
    """Do the texts an element shows across the items read as section names: short labels
    ("Politik", "Sport", "Ukraine-Krieg"), most of them shared by several items? Texts that
    differ per item and read like sentences ("Iran schlägt zurück!", "Trump bestätigt")
    are kickers."""
    if not texts:
        return False
    labels = [
        t
        for t in texts
        if len(t.split()) <= SECTION_MAX_WORDS
        and len(t) <= SECTION_MAX_CHARS
        and not _SENTENCE_MARKS.search(t)
    ]
    if len(labels) < SECTION_LABEL_SHARE * len(texts):
        return False
    counts = Counter(texts)
    repeated = sum(n for n in counts.values() if n >= 2)
    return repeated >= SECTION_REPEAT_SHARE * len(texts)


def _date_selector(blocks: Sequence[LexborNode]) -> str | None:
    if _share(blocks, (b.css_first("time") is not None for b in blocks)) >= 0.5:
        return "time"
    return _worded_selector(blocks, _DATE_WORDS, max_chars=60)


def _worded_selector(
    blocks: Sequence[LexborNode], words: Sequence[str], *, max_chars: int
) -> str | None:
    """A class named like the field (kicker, date ...) with short text in half the blocks."""
    counts: Counter[str] = Counter()
    for block in blocks:
        seen: set[str] = set()
        for node in block.css("[class]"):
            for cls in _classes(node):
                if not any(w in _tokens(cls) for w in words):
                    continue
                text = _text(node)
                if 0 < len(text) <= max_chars:
                    seen.add(f"{node.tag}.{cls}")
        counts.update(seen)
    for selector, count in counts.most_common(1):
        if count >= 0.5 * len(blocks):
            return selector
    return None


def _link_if_needed(page: _Page, candidate: _Candidate, items: Sequence[Item]) -> str | None:
    """A link selector, only when the extractor's default link misses the articles."""
    wanted = set(candidate.urls)
    found = {item.url for item in items}
    if len(found & wanted) >= 0.9 * len(wanted):
        return None
    options: Counter[str] = Counter()
    for block, url in zip(candidate.elements[:FIELD_SAMPLE], candidate.urls, strict=False):
        for link in block.css("a[href]"):
            if _article_url(link.attributes.get("href") or "", page.base_url, None) != url:
                continue
            for cls in _classes(link):
                options[f"a.{cls}"] += 1
            parent = link.parent
            if parent is not None and parent.tag in _HEADINGS:
                options[f"{parent.tag} a"] += 1
    if options:
        selector, count = options.most_common(1)[0]
        if count >= FIELD_SHARE * min(len(wanted), FIELD_SAMPLE):
            return selector
    return None


# -- paywall ----------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(t for t in _WORD_SPLIT.split(_CAMEL.sub(" ", text).lower()) if t)


@lru_cache(maxsize=8192)
def paywall_words(text: str, brand: frozenset[str] | None = None) -> int:
    """How many paywall words a class, attribute or text holds (0: none).

    A "word+" mark (SPIEGEL+, heise+, Z+) is the site's premium brand only when the word
    is the site's name or its start (`brand`: words of the host, og:site_name and title);
    "Forum+" on a site called derStandard is a link to more posts. Without a known brand
    every "word+" counts."""
    lowered = text.lower()
    if any(noise in lowered for noise in _NOT_PAYWALL):
        return 0
    tokens = set(_tokens(text))
    if tokens & _NOT_PAYWALL_WORDS:
        return 0
    strength = 1 if any(phrase in lowered for phrase in _PAYWALL_PHRASES) else 0
    for token in tokens:
        if (
            token in _PAYWALL_WORDS
            or token.startswith(_PAYWALL_PREFIXES)
            or token.endswith("plus")
            or (token.endswith("+") and len(token) > 1 and _brand_word(token[:-1], brand))
        ):
            strength += 1
    return strength


def _brand_word(word: str, brand: frozenset[str] | None) -> bool:
    return brand is None or any(name.startswith(word) for name in brand)


# Host labels that name no site.
_NOT_BRAND = frozenset({"www", "m", "mobile", "amp", "co", "com", "org", "net", "news"})


def site_brand(tree: LexborHTMLParser, base_url: str) -> frozenset[str] | None:
    """Words that name the site: its host's labels (but the top-level domain), its
    og:site_name and application-name, and the short parts of its title ("Nachrichten |
    derStandard.at"). None when the page says nothing of itself (a local file)."""
    names: set[str] = set()
    host = (urlsplit(base_url).hostname or "").lower()
    labels = host.split(".")[:-1]
    if host and not host.replace(".", "").isdigit() and host not in ("localhost",):
        names.update(label for label in labels if label not in _NOT_BRAND)
    texts = []
    for selector in ('meta[property="og:site_name"]', 'meta[name="application-name"]'):
        node = tree.css_first(selector)
        if node is not None:
            texts.append(node.attributes.get("content") or "")
    title = tree.css_first("title")
    if title is not None:
        texts += [p for p in re.split(r"\s+[|–—:-]\s+|\s*\|\s*", _text(title)) if p]
    for text in texts:
        words = _tokens(text.replace("+", " "))
        if 0 < len(words) <= 3:
            names.update(words)
            names.add("".join(words))
    return frozenset(n for n in names if len(n) >= 2) or None


@dataclass(frozen=True)
class _Feature:
    kind: str  # "attr", "class", "alt", "text", "ancestor", "url"
    selector: str | None
    text: str | None
    evidence: str
    words: int


# Signals on the item or inside it are the most direct; ancestors and URLs the least.
_KIND_WEIGHT = {"attr": 1.0, "class": 1.0, "alt": 0.95, "text": 0.9, "ancestor": 0.8, "url": 0.7}


def guess_paywall(
    blocks: Sequence[LexborNode], urls: Sequence[str], brand: frozenset[str] | None = None
) -> list[PaywallGuess]:
    """Paywall signals that split the items (blocks and their article URLs), best first.
    `brand`: the words that name the site (see `site_brand`)."""
    total = len(set(urls))
    holders: dict[_Feature, set[str]] = defaultdict(set)
    for block, url in zip(blocks, urls, strict=True):
        for feature in _features(block, url, brand):
            holders[feature].add(url)
    _add_unions(holders)
    scored: list[tuple[float, _Feature, set[str]]] = []
    for feature, marked in holders.items():
        count = len(marked)
        if count < MIN_MARKED:
            continue
        # More paywall words weigh more; more items marked weigh more (a one-off ad
        # saying "Abo" is not the site's mark).
        strength = 1.0 + 0.5 * (min(feature.words, 3) - 1)
        score = _KIND_WEIGHT[feature.kind] * strength * math.log1p(count)
        # A mark every item carries does not split them: trust it less.
        if count == total:
            score *= 0.35
        scored.append((score, feature, marked))
    scored.sort(key=lambda t: (-t[0], t[1].evidence))
    guesses = [
        PaywallGuess(
            selector=feature.selector,
            texts=(feature.text,) if feature.text else (),
            marked=len(marked),
            total=total,
            evidence=feature.evidence,
            score=score,
        )
        for score, feature, marked in _prefer_wider(scored)
    ]
    return _distinct_splits(guesses)


def _prefer_wider(
    scored: list[tuple[float, _Feature, set[str]]],
) -> list[tuple[float, _Feature, set[str]]]:
    """A mark on a superset of the best one's items (heise+ on every heise+ teaser, not
    just the "exklusiv" ones) is the site's general mark: put it first."""
    if not scored:
        return scored
    best = scored[0]
    for candidate in scored[1:]:
        if candidate[2] > best[2] and candidate[0] >= 0.25 * best[0]:
            best = candidate
    # The same items marked more simply: one attribute rather than a list of values.
    for candidate in scored:
        same = candidate[2] == best[2] and candidate[0] >= 0.9 * best[0]
        if same and _complexity(candidate[1]) < _complexity(best[1]):
            best = candidate
    return [best, *(s for s in scored if s is not best)]


_KIND_ORDER = ("attr", "class", "alt", "text", "ancestor", "url")


def _complexity(feature: _Feature) -> tuple[int, int, int]:
    """Fewer alternatives, then a mark on the item before a text or an ancestor, then
    the shorter."""
    selector = feature.selector or feature.text or ""
    return (selector.count(","), _KIND_ORDER.index(feature.kind) // 3, len(selector))


def _distinct_splits(guesses: list[PaywallGuess]) -> list[PaywallGuess]:
    """One guess per marked count and kind of evidence, so alternatives differ."""
    out: list[PaywallGuess] = []
    seen: set[tuple[int, bool]] = set()
    for guess in guesses:
        key = (guess.marked, guess.selector is None)
        if key not in seen:
            seen.add(key)
            out.append(guess)
    return out


def _add_unions(holders: dict[_Feature, set[str]]) -> None:
    """Equally worded values of one attribute (Spplus-paid, Mmplus-paid) as one signal."""
    groups: dict[tuple[str, str, int], list[tuple[_Feature, set[str]]]] = defaultdict(list)
    for feature, marked in holders.items():
        if feature.kind in ("attr", "ancestor") and feature.selector and "=" in feature.selector:
            name = feature.selector.split("=", 1)[0]
            groups[(feature.kind, name, feature.words)].append((feature, marked))
    for (kind, _, words), group in groups.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda pair: pair[0].selector or "")
        selector = ", ".join(f.selector or "" for f, _ in group)
        union: set[str] = set().union(*(m for _, m in group))
        holders[_Feature(kind, selector, None, f"`{selector}`", words)] = union


def _features(block: LexborNode, url: str, brand: frozenset[str] | None) -> set[_Feature]:
    """Every paywall-worded mark of one item block."""
    found: set[_Feature] = set()
    for node in (block, *block.css("*")):
        found.update(_node_features(node, brand))
        for text in _marker_texts(node):
            words = paywall_words(text, brand)
            if words:
                found.add(_Feature("text", None, text, f'text "{text}"', words))
    for level, ancestor in enumerate(_ancestors(block)):
        if level >= ANCESTOR_DEPTH:
            break
        for feature in _node_features(ancestor, brand):
            if feature.kind in ("class", "attr") and feature.selector:
                selector = ", ".join(f"{part} *" for part in feature.selector.split(", "))
                found.add(
                    _Feature(
                        "ancestor", selector, None, f"ancestor {feature.evidence}", feature.words
                    )
                )
    path = urlsplit(url).path
    for segment in path.strip("/").split("/"):
        # The word a segment starts with (`/plus/`, `/plus250123/`, `/premium-…`).
        head = re.match(r"[a-z]+\+?", segment.lower())
        word = head.group(0) if head else ""
        if len(word) < 3 or not paywall_words(word) or not _usable_value(word):
            continue
        whole = segment.lower() == word
        selector = f'a[href*="/{word}/"]' if whole else f'a[href*="/{word}"]'
        evidence = f"URL path `/{word}/`" if whole else f"URL path `/{word}…`"
        found.add(_Feature("url", selector, None, evidence, paywall_words(word)))
    return found


def _marker_texts(node: LexborNode) -> list[str]:
    """An element's own short text, or the short sentences of a longer one."""
    own = " ".join((node.text(deep=False) or "").split())
    if len(own) <= MAX_MARKER_TEXT:
        return [own] if len(own) > 1 else []
    return [s for s in _SENTENCE_END.split(own) if 1 < len(s) <= MAX_MARKER_TEXT]


def _node_features(node: LexborNode, brand: frozenset[str] | None) -> Iterator[_Feature]:
    """Paywall-worded classes, attributes and image alt texts of one element."""
    tag = node.tag or ""
    for cls in _classes(node):
        words = paywall_words(cls, brand)
        if words:
            yield _Feature("class", f".{cls}", None, f"`{tag}.{cls}`", words)
    for name, value in node.attributes.items():
        if name in ("class", "href", "src", "srcset", "style", "id") or not _ATTR_NAME_OK.match(
            name
        ):
            continue
        if _TRACKING_ATTR.match(name):
            continue
        if value and value.lstrip()[:1] in ("{", "["):
            yield from _json_features(tag, name, value, brand)
            continue
        if name == "alt":
            words = paywall_words(value or "", brand) if _usable_value(value) else 0
            if words:
                selector = f'{tag}[alt="{value}"]'
                yield _Feature("alt", selector, None, f"`{selector}`", words)
            continue
        name_words = paywall_words(name, brand)
        if name_words:
            yield _Feature("attr", f"[{name}]", None, f"`{tag}[{name}]`", name_words)
        if _usable_value(value):
            words = paywall_words(value or "", brand) + name_words
            if words:
                selector = f'[{name}="{value}"]'
                yield _Feature("attr", selector, None, f"`{tag}{selector}`", words)


_JSON_PAIR = re.compile(r'"([\w-]{2,40})"\s*:\s*(true|1|"[^"\\]{1,40}")')


def _json_features(
    tag: str, name: str, value: str, brand: frozenset[str] | None
) -> Iterator[_Feature]:
    """Paywall-worded key/value pairs of JSON in an attribute (`{"isPremium": true}`),
    matched as the attribute's text (`[data-meta*='"isPremium":true']`)."""
    for match in _JSON_PAIR.finditer(value):
        key, raw = match.group(1), match.group(2)
        words = paywall_words(key, brand) + (
            paywall_words(raw, brand) if raw.startswith('"') else 0
        )
        if not words or raw.lower() in ('"false"', '"0"', '""', '"free"'):
            continue
        if "'" in match.group(0):
            continue
        selector = f"[{name}*='{match.group(0)}']"
        yield _Feature("attr", selector, None, f"`{tag}{selector}`", words)


def _ancestors(node: LexborNode) -> Iterator[LexborNode]:
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html"):
        yield parent
        parent = parent.parent


def _same_items(one: set[str], other: set[str]) -> bool:
    """Two item sets that are nearly the same (Jaccard index 0.9 or more)."""
    union = len(one | other)
    return union == 0 or len(one & other) >= 0.9 * union
