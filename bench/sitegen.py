"""A synthetic, realistic news site for benchmarks, deterministic by seed.

`initial_site(seed, n_pages, n_feeds)` makes the state (items per page and feed);
`mutate(site, seed, generation, fraction)` makes the next state: on a `fraction` of the
pages and feeds, 1-3 new items on top (the same number scroll off the bottom), one headline
edited and one paywall lifted. `render_page` / `render_feed` turn a state into bytes:
Pozirk-like section pages of 60-90 KB with ~50 teasers (about 30% POZIRK+ teasers carrying
"The material is available only to POZIRK+") inside header, navigation, sidebar and footer
boilerplate, and RSS 2.0 feeds of ~30 items.

`write_site` writes the files under a directory, leaving a file untouched when its bytes
did not change, and stamps every file with a modification time derived from the generation,
so a static server's ETag (mtime + size) is deterministic too.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

MARKER = "The material is available only to POZIRK+"
PAYWALL_CATEGORY = "POZIRK+"
HOST_PATH = "/en"
# Article links are absolute, as on many news sites, so item keys do not depend on the port
# the benchmark's server happens to listen on.
ARTICLE_ORIGIN = "https://pozirk.example"
ITEMS_PER_PAGE = 50
ITEMS_PER_FEED = 30
PAID_SHARE = 0.3
BASE_MTIME = 1_767_225_600  # 2026-01-01T00:00:00Z
START = datetime(2026, 1, 6, 18, 0, tzinfo=UTC)

SECTIONS = ("Politics", "Society", "Economy", "Security", "Culture", "World", "Opinion")
PEOPLE = (
    "Łukašenka",
    "Cichanoŭskaja",
    "Zelensky",
    "Trump",
    "Putin",
    "the opposition",
    "the KGB",
    "Minsk authorities",
    "a Belarusian envoy",
    "EU foreign ministers",
    "UN experts",
    "political prisoners",
    "Viasna",
    "Belarusian students",
    "a pundit",
)
VERBS = (
    "talks to",
    "blames",
    "urges",
    "warns",
    "meets",
    "criticizes",
    "calls on",
    "responds to",
    "links",
    "thanks",
    "sanctions",
    "releases",
)
OBJECTS = (
    "US deputy envoy after call",
    "Kremlin over drone incursions",
    "Minsk to stop mistreating prisoners",
    "Warsaw over border closure",
    "dissidents sentenced for extremism",
    "the new potash deal",
    "Lithuania over balloon flights",
    "election observers",
    "independent journalists",
    "Russian troops in Belarus",
    "the state budget for next year",
    "relatives of political prisoners",
    "IT companies leaving the country",
    "the rising price of bread",
    "plans for a nuclear plant",
)
TAILS = (
    "",
    "",
    " amid growing pressure",
    " after Minsk-Washington call",
    " despite sanctions",
    " for the first time since 2020",
    ", sources say",
    " in Hrodna region",
    " ahead of the vote",
)
LEAD_TEXT = (
    "authorities reportedly detained several people after a search in Minsk on Tuesday while "
    "human rights defenders said the case was politically motivated and demanded release of "
    "those held pending trial the ministry declined to comment on the report the court "
    "sentenced the defendants to prison terms ranging from three to six years observers noted"
)
LEAD_WORDS = tuple(LEAD_TEXT.split(" "))


@dataclass(frozen=True)
class Teaser:
    id: int
    title: str
    sections: tuple[str, ...]
    paid: bool
    published: str
    lead: str


@dataclass(frozen=True)
class Listing:
    """One section page or feed: its items, newest first."""

    path: str
    section: str
    kind: str  # "html" or "feed"
    items: tuple[Teaser, ...]
    next_id: int


@dataclass(frozen=True)
class Site:
    pages: tuple[Listing, ...]
    feeds: tuple[Listing, ...]


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def _title(rng: random.Random) -> str:
    who = rng.choice(PEOPLE)
    text = f"{who} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}"
    return text[0].upper() + text[1:]


def _lead(rng: random.Random) -> str:
    words = [rng.choice(LEAD_WORDS) for _ in range(rng.randint(22, 38))]
    return " ".join(words).capitalize() + "."


def _teaser(rng: random.Random, ident: int, section: str, at: datetime) -> Teaser:
    extra = rng.choice(SECTIONS) if rng.random() < 0.25 else None
    sections = (section, extra) if extra and extra != section else (section,)
    return Teaser(
        id=ident,
        title=_title(rng),
        sections=sections,
        paid=rng.random() < PAID_SHARE,
        published=at.isoformat(timespec="seconds"),
        lead=_lead(rng),
    )


def _listing(seed: int, kind: str, index: int, count: int) -> Listing:
    rng = _rng(seed, kind, index)
    section = SECTIONS[index % len(SECTIONS)]
    base_id = (index + 1) * 1_000_000 + (500_000 if kind == "feed" else 0)
    items = tuple(
        _teaser(rng, base_id + count - k, section, START - timedelta(minutes=37 * k))
        for k in range(count)
    )
    path = (
        f"{HOST_PATH}/{section.lower()}-{index:05d}/"
        if kind == "html"
        else f"/feeds/{section.lower()}-{index:05d}.xml"
    )
    return Listing(path, section, kind, items, base_id + count + 1)


def initial_site(seed: int, n_pages: int, n_feeds: int) -> Site:
    return Site(
        pages=tuple(_listing(seed, "html", i, ITEMS_PER_PAGE) for i in range(n_pages)),
        feeds=tuple(_listing(seed, "feed", i, ITEMS_PER_FEED) for i in range(n_feeds)),
    )


def _mutate_listing(listing: Listing, rng: random.Random, generation: int) -> Listing:
    """1-3 new items on top (as many scroll off the end), a headline edited, a paywall lifted."""
    items = list(listing.items)
    added = rng.randint(1, 3)
    at = START + timedelta(hours=generation, minutes=rng.randint(0, 59))
    fresh = [
        _teaser(rng, listing.next_id + k, listing.section, at + timedelta(minutes=k))
        for k in range(added)
    ]
    keep = items[: len(items) - added]
    edit = rng.randrange(len(keep))
    keep[edit] = replace(keep[edit], title=keep[edit].title + " (updated)")
    paid = [i for i, t in enumerate(keep) if t.paid]
    if paid:
        lift = rng.choice(paid)
        keep[lift] = replace(keep[lift], paid=False)
    return replace(listing, items=tuple(fresh[::-1] + keep), next_id=listing.next_id + added)


def mutated_indexes(seed: int, generation: int, count: int, fraction: float) -> list[int]:
    k = round(count * fraction)
    return sorted(_rng(seed, "pick", generation, count).sample(range(count), k))


def mutate(site: Site, seed: int, generation: int, fraction: float) -> Site:
    def step(listings: tuple[Listing, ...], kind: str) -> tuple[Listing, ...]:
        chosen = set(mutated_indexes(seed, generation, len(listings), fraction))
        return tuple(
            _mutate_listing(lst, _rng(seed, kind, i, "gen", generation), generation)
            if i in chosen
            else lst
            for i, lst in enumerate(listings)
        )

    return Site(pages=step(site.pages, "html"), feeds=step(site.feeds, "feed"))


def site_at(seed: int, n_pages: int, n_feeds: int, generation: int, fraction: float) -> Site:
    site = initial_site(seed, n_pages, n_feeds)
    for g in range(1, generation + 1):
        site = mutate(site, seed, g, fraction)
    return site


# -- rendering ------------------------------------------------------------------------------


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() and c.isascii() else "-" for c in text)
    return "-".join(p for p in out.split("-") if p)[:60]


def article_url(item: Teaser) -> str:
    slug = _slug(item.title.removesuffix(" (updated)"))
    return f"{ARTICLE_ORIGIN}{HOST_PATH}/{item.sections[0].lower()}/{item.id}-{slug}/"


_ICON = (
    '<svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">'
    '<path d="M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm0 18c-4.41 '
    '0-8-3.59-8-8s3.59-8 8-8 8 3.59 8 8-3.59 8-8 8zm-1-13h2v6h-2zm0 8h2v2h-2z"/></svg>'
)


def _head(title: str, rng: random.Random) -> str:
    rules = "".join(
        f".c{rng.randrange(10**6):06d}{{margin:{rng.randint(0, 32)}px {rng.randint(0, 32)}px;"
        f"color:#{rng.randrange(16**6):06x};font:{rng.randint(11, 22)}px/1.4 Inter,sans-serif}}"
        for _ in range(rng.randint(60, 150))
    )
    config = ",".join(f'"k{n}":"{rng.randrange(16**12):012x}"' for n in range(rng.randint(40, 120)))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} — Pozirk</title>"
        f'<meta property="og:title" content="{escape(title)}">'
        '<meta property="og:type" content="website">'
        '<link rel="alternate" type="application/rss+xml" title="Pozirk" href="/en/rss/">'
        '<link rel="preload" href="/static/fonts/inter.woff2" as="font" crossorigin>'
        '<link rel="stylesheet" href="/static/css/app.3f9a1c.css">'
        f"<style>{rules}</style>"
        f"<script>window.__CONFIG__={{{config}}};</script>"
        '<script async src="/static/js/app.3f9a1c.js"></script>'
        "</head>"
    )


def _nav() -> str:
    links = "".join(
        f'<li class="menu__item"><a class="menu__link" href="{HOST_PATH}/{s.lower()}/">{s}</a></li>'
        for s in SECTIONS
    )
    langs = "".join(
        f'<a class="lang" href="/{code}/">{name}</a>'
        for code, name in (("be", "Беларуская"), ("ru", "Русский"), ("en", "English"))
    )
    return (
        '<header class="site-header"><div class="container header__inner">'
        f'<a class="logo" href="{HOST_PATH}/" aria-label="Pozirk">{_ICON * 3}</a>'
        f'<nav class="menu"><ul class="menu__list">{links}</ul></nav>'
        f'<div class="header__langs">{langs}</div>'
        '<form class="search" action="/search/"><input name="q" placeholder="Search">'
        f'<button type="submit">{_ICON}</button></form>'
        '<a class="btn btn--plus" href="/plus/">Subscribe to POZIRK+</a>'
        "</div></header>"
    )


def _teaser_html(item: Teaser) -> str:
    href = article_url(item)
    rubrics = ", ".join(
        f'<a class="news-item__rubric" href="{HOST_PATH}/{s.lower()}/">{s}</a>'
        for s in item.sections
    )
    plus = f'<div class="news-item__plus">{_ICON}<span>{MARKER}</span></div>' if item.paid else ""
    cls = "news-item news-item--plus" if item.paid else "news-item"
    day = item.published[:10]
    return (
        f'<div class="{cls}" data-id="{item.id}">'
        f'<a class="news-item__image" href="{href}"><img loading="lazy" '
        f'src="/media/{day}/{item.id}-480.webp" srcset="/media/{day}/{item.id}-480.webp 480w, '
        f'/media/{day}/{item.id}-960.webp 960w" sizes="(max-width: 600px) 100vw, 33vw" '
        f'alt="{escape(item.title)}" width="480" height="270"></a>'
        '<div class="news-item__body"><div class="news-item__meta">'
        f'{rubrics} <time class="news-item__date" datetime="{item.published}">'
        f"{day}</time></div>"
        f'<h3 class="news-item__title"><a href="{href}">{escape(item.title)}</a></h3>'
        f'<p class="news-item__lead">{escape(item.lead)}</p>{plus}</div></div>'
    )


def _sidebar(items: tuple[Teaser, ...]) -> str:
    most = "".join(
        f'<li><a href="{article_url(t)}">{escape(t.title)}</a></li>' for t in items[3:13]
    )
    return (
        '<aside class="sidebar"><section class="widget"><h2 class="widget__title">Most read</h2>'
        f'<ol class="widget__list">{most}</ol></section>'
        '<section class="widget widget--plus"><h2 class="widget__title">POZIRK+</h2>'
        "<p>Analysis and investigations for subscribers. Support independent journalism.</p>"
        '<a class="btn" href="/plus/">Subscribe</a></section></aside>'
    )


def _footer(rng: random.Random) -> str:
    links = "".join(
        f'<li><a href="/{word}/">{word.replace("-", " ").capitalize()}</a></li>'
        for word in (
            "about-us",
            "contacts",
            "advertising",
            "privacy-policy",
            "terms-of-use",
            "editorial-policy",
            "donate",
            "jobs",
            "archive",
            "newsletters",
        )
    )
    social = "".join(
        f'<a class="social social--{n}" href="https://example.invalid/{n}">{_ICON}</a>'
        for n in ("telegram", "youtube", "x", "facebook", "instagram", "tiktok")
    )
    tail = "".join(
        f'<script>(function(){{var t="{rng.randrange(16**16):016x}";}})();</script>'
        for _ in range(rng.randint(5, 25))
    )
    return (
        f'<footer class="site-footer"><div class="container"><ul class="footer__links">{links}</ul>'
        f'<div class="footer__social">{social}</div>'
        '<p class="footer__copy">© 2026 Pozirk. Reprinting is allowed only with an active link.'
        f"</p></div></footer>{tail}"
    )


def render_page(listing: Listing, seed: int) -> bytes:
    rng = _rng(seed, "chrome", listing.path)
    teasers = "".join(_teaser_html(t) for t in listing.items)
    pager = "".join(
        f'<a class="pagination__link" href="{listing.path}?page={n}">{n}</a>' for n in range(2, 12)
    )
    html = (
        f'{_head(listing.section, rng)}<body class="page page--section">{_nav()}'
        '<main class="container main"><div class="main__content">'
        f'<h1 class="page-title">{listing.section}</h1>'
        f'<div class="news-list">{teasers}</div>'
        f'<nav class="pagination">{pager}</nav></div>{_sidebar(listing.items)}</main>'
        f"{_footer(rng)}</body></html>"
    )
    return html.encode("utf-8")


def _rfc822(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%a, %d %b %Y %H:%M:%S +0000")


def render_feed(listing: Listing) -> bytes:
    entries = []
    for item in listing.items:
        link = article_url(item)
        cats = "".join(f"<category>{s}</category>" for s in item.sections)
        if item.paid:
            cats += f"<category>{PAYWALL_CATEGORY}</category>"
        entries.append(
            f"<item><title>{escape(item.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">pozirk-{item.id}</guid>'
            f"<pubDate>{_rfc822(item.published)}</pubDate>{cats}"
            f"<description>{escape('<p>' + item.lead + '</p>')}</description></item>"
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">'
        f"<channel><title>Pozirk — {listing.section}</title>"
        f"<link>{ARTICLE_ORIGIN}{HOST_PATH}/</link>"
        f"<description>{listing.section} news</description><language>en</language>"
        f"{''.join(entries)}</channel></rss>"
    )
    return xml.encode("utf-8")


def write_site(site: Site, root: Path, seed: int, generation: int) -> tuple[int, int]:
    """Write every page and feed under `root`; returns (files written, files kept)."""
    written = kept = 0
    stamp = BASE_MTIME + generation * 3600
    for listing in (*site.pages, *site.feeds):
        body = render_page(listing, seed) if listing.kind == "html" else render_feed(listing)
        path = root / listing.path.lstrip("/")
        path = path / "index.html" if listing.path.endswith("/") else path
        try:
            same = path.read_bytes() == body
        except FileNotFoundError:
            same = False
        if same:
            kept += 1
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        os.utime(path, (stamp, stamp))
        written += 1
    return written, kept
