"""HTML listing extraction: the items a reader sees, with their sections and paywalls."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selectolax.lexbor import LexborHTMLParser

from monitor.config.profiles import load_profile
from monitor.extract.html import (
    article_item,
    derive_item_selector,
    discover_feeds,
    extract_html,
    extract_tree,
    page_paywall,
    parse_html,
)
from monitor.models import Change, ExtractError, Item, Rule
from monitor.pipeline.diff import item_changes

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = Path(
    os.environ.get("MONITOR_SEEDS") or Path(__file__).resolve().parents[2] / "shared" / "seeds"
)
MARKER = "The material is available only to POZIRK+"
SECTIONS = ("Politics, Security", "Politics", "Society", "Economy", "Security")
PAGE = "https://pozirk.online/en/politics/"

# The free teasers the fixtures add around the seed's paywalled ones: (section, title).
FREE = [
    ("Politics", "Zelensky: Łukašenka blamed Putin for attacks on Ukraine from Belarus"),
    ("Politics", "Pundit: Łukašenka's regime complicit in Russian takeover of Belarus"),
    ("Society", "Minsk sees record heat on last weekend of summer"),
]


def seed_items() -> list[tuple[str, str]]:
    """(section, title) of every `- <Section><Title>The material…` line of the seed."""
    path = SEEDS / "000_cbd30e8fe4be2a92.txt"
    if not path.exists():
        pytest.skip(f"seed not available: {path}")
    expected = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not (line.startswith("- ") and line.endswith(MARKER)):
            continue
        rest = line[2:].removesuffix(MARKER)
        section = next(s for s in SECTIONS if rest.startswith(s))
        expected.append((section, rest[len(section) :]))
    return expected


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def pozirk_rule() -> Rule:
    kind, rule = load_profile("pozirk")
    assert kind == "html"
    return rule


def seen(items: list[Item]) -> list[tuple[str | None, str, bool]]:
    return [(i.section, i.title, i.paywalled) for i in items]


# --- the Pozirk section page, against the seed -------------------------------


@pytest.mark.parametrize("name", ["pozirk_section.html", "pozirk_section_wp.html"])
def test_pozirk_section_page_shows_the_seed_items(name: str) -> None:
    expected_paid = seed_items()
    assert len(expected_paid) == 18
    items = extract_html(fixture(name), PAGE, pozirk_rule(), "text/html; charset=utf-8")

    paid = [(i.section, i.title) for i in items if i.paywalled]
    assert paid == expected_paid
    free = [(i.section, i.title) for i in items if not i.paywalled]
    assert free == FREE
    # Page order: the free teasers sit where the page has them.
    titles = [i.title for i in items]
    assert titles[0] == FREE[0][1]
    assert titles.index(FREE[1][1]) == 6
    assert titles[-4] == FREE[2][1]
    for item in items:
        parts = urlsplit(item.url)
        assert (parts.scheme, parts.netloc) == ("https", "pozirk.online")
        assert re.fullmatch(r"/en/[a-z]+/\d{5}/", parts.path), item.url
        assert not parts.query and not parts.fragment
        assert item.key == item.url
        assert MARKER not in item.title
        assert item.published and item.published.startswith("2025-08-")


def test_pozirk_fixture_needs_the_structure_fallback() -> None:
    rule = pozirk_rule()
    tree = parse_html(fixture("pozirk_section.html"))
    assert rule.item and not tree.css(rule.item), "the profile must not match this markup"
    assert derive_item_selector(tree, PAGE) == "div.pz-card"
    no_derivation = Rule(**{**rule.__dict__, "derive_from_marker": False})
    assert extract_html(fixture("pozirk_section.html"), PAGE, no_derivation) == []


def without_markers(body: bytes) -> bytes:
    """The page with every teaser free: no marker line, no paid class."""
    body = re.sub(rb'<div class="pz-card__lock">.*?</div>', b"", body)
    return body.replace(b"pz-card pz-card--plus", b"pz-card")


def test_pozirk_teasers_stay_when_the_last_paywalled_one_turns_free() -> None:
    before = extract_html(fixture("pozirk_section.html"), PAGE, pozirk_rule())
    after = extract_html(without_markers(fixture("pozirk_section.html")), PAGE, pozirk_rule())
    # The same teasers, in the same order, all free now.
    assert [(i.key, i.section, i.title) for i in after] == [
        (i.key, i.section, i.title) for i in before
    ]
    assert len(after) == 21 and not any(i.paywalled for i in after)
    # What a reader is told about each formerly paywalled story: now free.
    changes = {i.title: item_changes(i, a) for i, a in zip(before, after, strict=True)}
    assert {t: c for t, c in changes.items() if c} == {
        title: (Change("paywalled", True, False),) for _, title in seed_items()
    }


def test_a_marker_in_a_most_read_box_never_replaces_the_pozirk_listing() -> None:
    body = without_markers(fixture("pozirk_section.html")).replace(
        b"Belarusian border guards report fewer crossings from Poland</a>",
        b"Belarusian border guards report fewer crossings from Poland</a>"
        b"<span>" + MARKER.encode() + b"</span>",
    )
    body = body.replace(
        b"Belarus posts trade deficit with Russia for first half of the year</a>",
        b"Belarus posts trade deficit with Russia for first half of the year</a>"
        b"<span>" + MARKER.encode() + b"</span>",
    )
    items = extract_html(body, PAGE, pozirk_rule())
    free = without_markers(fixture("pozirk_section.html"))
    assert items == extract_html(free, PAGE, pozirk_rule())
    assert len(items) == 21 and not any(i.paywalled for i in items)
    assert "Belarusian border guards report fewer crossings from Poland" not in {
        i.title for i in items
    }


def test_pozirk_wp_fixture_matches_the_profile_selectors() -> None:
    rule = pozirk_rule()
    tree = parse_html(fixture("pozirk_section_wp.html"))
    assert rule.item and len(tree.css(rule.item)) == 23
    no_derivation = Rule(**{**rule.__dict__, "derive_from_marker": False})
    items = extract_html(
        fixture("pozirk_section_wp.html"), "https://elsewhere.example/", no_derivation
    )
    # <base href> wins over the page URL for relative links.
    assert items[0].url == "https://pozirk.online/en/politics/61240/"
    assert sum(i.paywalled for i in items) == 18


def test_pozirk_markup_the_profile_half_matches() -> None:
    """`item` matches a promo box but no teaser with the marker: derive anyway."""
    body = fixture("pozirk_section.html").replace(
        b'<main class="pz-main">',
        b'<main class="pz-main"><div class="news-item"><a href="/en/plus/offer-2025/">'
        b"Subscribe now and read everything for a month</a></div>",
    )
    items = extract_html(body, PAGE, pozirk_rule())
    assert sum(i.paywalled for i in items) == 18
    assert len(items) == 21


def test_pozirk_belarusian_marker_variant() -> None:
    body = fixture("pozirk_section.html").replace(
        MARKER.encode(), "Матэрыял даступны толькі для POZIRK+".encode()
    )
    items = extract_html(body, "https://pozirk.online/palityka/", pozirk_rule())
    assert sum(i.paywalled for i in items) == 18


# --- derivation on markup nobody wrote a profile for ------------------------

XNEWS = """<html><body>
<div class="top"><a href="/">Home</a> <a href="/plus/">Plus</a></div>
<ul class="lenta">
 <li class="x-news x-news--hot"><span class="x-time">12:01</span>
   <a href="/n/2001.html">Parliament passes the budget</a> <span>Only for subscribers</span></li>
 <li class="x-news"><span class="x-time">11:40</span>
   <a href="/n/2000.html">Storm warning for the weekend</a></li>
 <li class="x-news x-news--hot"><span class="x-time">11:02</span>
   <a href="/n/1999.html">Central bank keeps rate</a> <span>ONLY FOR <b>subscribers</b></span></li>
 <li class="x-news"><span class="x-time">10:15</span>
   <a href="/n/1998.html">Train timetable changes</a></li>
 <li class="x-ad"><a href="https://ads.example/">Buy now and save a lot of money</a></li>
</ul>
<script>var t = "Only for subscribers";</script>
</body></html>"""


def test_derivation_on_a_plain_news_list() -> None:
    tree = LexborHTMLParser(XNEWS)
    assert derive_item_selector(tree, "https://news.example/") == "li.x-news"
    rule = Rule(item="div.teaser", paywall_text=("only for subscribers",))
    items = extract_html(XNEWS.encode(), "https://news.example/", rule)
    assert seen(items) == [
        (None, "Parliament passes the budget", True),
        (None, "Storm warning for the weekend", False),
        (None, "Central bank keeps rate", True),
        (None, "Train timetable changes", False),
    ]
    assert items[0].url == "https://news.example/n/2001.html"


def test_teasers_of_several_kinds_are_found_by_their_container() -> None:
    html = """<div id="feed" class="md:grid w-1/2">
      <div class="[&>a]:underline hover:bg-x"><a href="/a/1-first-story">First story of the day</a>
        <em>Subscribers only</em></div>
      <div class="p-2 lg:p-4"><a href="/a/2-second-story">Second story of the day</a></div>
      <div class="p-2"><a href="/a/3-third-story">Third story of the day</a>
        <em>Subscribers only</em></div>
    </div><div class="side"><div><a href="/about">About</a></div></div>"""
    tree = LexborHTMLParser(html)
    assert derive_item_selector(tree, "https://x.example/") == "#feed > div"
    items = extract_html(
        html.encode(), "https://x.example/", Rule(paywall_text=("Subscribers only",))
    )
    assert seen(items) == [
        (None, "First story of the day", True),
        (None, "Second story of the day", False),
        (None, "Third story of the day", True),
    ]


def test_derivation_widens_past_the_link_holding_the_marker() -> None:
    html = """<ol class="list">
      <li><a href="/p/10">Budget vote delayed again <i>Plus</i></a><small>Economy</small></li>
      <li><a href="/p/11">Trains run late after storm</a><small>Society</small></li>
    </ol>"""
    rule = Rule(paywall_text=("Plus",), section="small")
    items = extract_html(html.encode(), "https://x.example/", rule)
    assert seen(items) == [
        ("Economy", "Budget vote delayed again", True),
        ("Society", "Trains run late after storm", False),
    ]


def test_derivation_finds_nothing_where_nothing_repeats() -> None:
    one = (
        "<main><h1>About us</h1>"
        "<p><a href='/team/people-who-write-here'>Our team of writers</a></p></main>"
    )
    assert derive_item_selector(LexborHTMLParser(one), "https://x.example/") is None
    assert derive_item_selector(LexborHTMLParser(""), "https://x.example/") is None
    rule = Rule(item="div.teaser", paywall_text=("Only for subscribers",))
    assert extract_html(one.encode(), "https://x.example/", rule) == []


# --- selectors and defaults ---------------------------------------------------


def test_selectors_may_match_the_item_element_itself() -> None:
    html = """<main>
      <a class="t" href="/a/1" data-plus><span>Section A</span> First headline here</a>
      <a class="t" href="/a/2"><span>Section B</span> Second headline here</a>
    </main>"""
    rule = Rule(item="a.t", link="a", title="a.t", section="span", paywall_selector="a[data-plus]")
    items = extract_html(html.encode(), "https://x.example/", rule)
    assert seen(items) == [
        # The section the rule reads is not part of the title as well.
        ("Section A", "First headline here", True),
        ("Section B", "Second headline here", False),
    ]


def test_paywall_selector_on_the_item_or_inside() -> None:
    html = """<article data-plus><h2><a href="/1">One story headline</a></h2></article>
      <article><h2><a href="/2">Two story headline</a></h2><svg class="lock"></svg></article>
      <article><h2><a href="/3">Three story headline</a></h2></article>"""
    rule = Rule(item="article", paywall_selector="article[data-plus], .lock")
    items = extract_html(html.encode(), "https://x.example/", rule)
    assert [i.paywalled for i in items] == [True, True, False]


def test_default_link_skips_section_links_and_prefers_the_headline() -> None:
    html = """<div class="c">
        <a href="/politics/">Politics</a>, <a href="/security/">Security</a>
        <a href="/politics/123/"><img src="x.jpg" alt="photo"></a>
        <a href="/politics/123/">Belarus envoy details the call</a>
      </div>
      <div class="c"><a href="/society/">Society</a>
        <h3><a href="/society/124/">Short one</a></h3></div>"""
    items = extract_html(html.encode(), "https://x.example/", Rule(item="div.c"))
    assert [(i.url, i.title) for i in items] == [
        ("https://x.example/politics/123/", "Belarus envoy details the call"),
        ("https://x.example/society/124/", "Short one"),
    ]


def test_title_fallbacks() -> None:
    html = """
      <div class="i"><a href="/1"><h4>Kicker</h4><h3>Heading inside the link</h3></a></div>
      <div class="i"><h2>Heading of the item</h2><a href="/2"><img src="a.jpg"></a></div>
      <div class="i"><a href="/3" title="Title attribute"><img src="b.jpg"></a></div>
      <div class="i"><a href="/4"><img src="c.jpg" alt="Alt text of the image"></a></div>
      <div class="i"><a href="/5"><img src="d.jpg" alt=""></a></div>
      <div class="i"><span>no link at all</span></div>
      <div class="i"><b class="t">  Selected
         title </b><a href="/7">Link text</a></div>"""
    items = extract_html(html.encode(), "https://x.example/", Rule(item="div.i", title="b.t"))
    assert [i.title for i in items] == [
        "Heading inside the link",
        "Heading of the item",
        "Title attribute",
        "Alt text of the image",
        "Selected title",
    ]


def test_sections_are_joined_once_each() -> None:
    html = """
      <div class="i"><span class="cat"><a href="/p/">Politics</a>, <a href="/s/">Security</a></span>
        <a href="/1">Envoy talks after the call</a></div>
      <div class="i"><span class="cat">Politics, Security</span>
        <a href="/2">Second story here</a></div>
      <div class="i"><a href="/3" class="cat">Third story here</a><em class="cat">Economy</em>
        <em class="cat">Economy</em></div>"""
    rule = Rule(item="div.i", section="span.cat, span.cat a, em.cat")
    items = extract_html(html.encode(), "https://x.example/", rule)
    assert [i.section for i in items] == ["Politics, Security", "Politics, Security", "Economy"]


def test_dates() -> None:
    html = """
      <li><a href="/1">One headline of the day</a>
        <time datetime="2025-08-16T10:00">10:00</time></li>
      <li><a href="/2">Two headline of the day</a><span class="d">16 Aug 2025</span></li>
      <li><a href="/3">Three headline of the day</a>
        <span class="d">on <time datetime="2025-08-14">Thursday</time></span></li>
      <li><a href="/4">Four headline of the day</a></li>"""
    items = extract_html(html.encode(), "https://x.example/", Rule(item="li", date=".d, time"))
    assert [i.published for i in items] == ["2025-08-16T10:00", "16 Aug 2025", "2025-08-14", None]
    items = extract_html(html.encode(), "https://x.example/", Rule(item="li"))
    assert [i.published for i in items] == ["2025-08-16T10:00", None, "2025-08-14", None]


def test_paywall_text_is_case_and_space_insensitive_and_stripped_from_titles() -> None:
    html = f"""
      <li><a href="/1">Budget passes {MARKER.upper()}</a></li>
      <li><a href="/2">Storm warning</a><p>The   material is available
          only to <b>POZIRK</b>+</p></li>
      <li><a href="/3">Free story today</a></li>"""
    rule = Rule(item="li", paywall_text=(MARKER,))
    items = extract_html(html.encode(), "https://x.example/", rule)
    assert seen(items) == [
        (None, "Budget passes", True),
        (None, "Storm warning", True),
        (None, "Free story today", False),
    ]


def test_duplicates_keep_the_first_and_upgrade_it() -> None:
    html = """
      <li><a href="/a/1?utm_source=x">Same story</a></li>
      <li><a href="/a/2">Other story</a></li>
      <li class="plus"><a href="/a/1#c">Same story, later copy</a><span class="s">Politics</span>
        <time datetime="2025-08-16">x</time></li>"""
    rule = Rule(item="li", section=".s", paywall_selector="li.plus")
    items = extract_html(html.encode(), "https://x.example/", rule)
    assert [(i.title, i.paywalled, i.section, i.published) for i in items] == [
        ("Same story", True, "Politics", "2025-08-16"),
        ("Other story", False, None, None),
    ]


def test_id_pattern_gives_the_key() -> None:
    html = '<li><a href="/en/politics/61234/">A story title</a></li>'
    rule = Rule(item="li", id_pattern=r"/(\d+)/$")
    [item] = extract_html(html.encode(), "https://pozirk.online/", rule)
    assert (item.key, item.url) == ("61234", "https://pozirk.online/en/politics/61234/")


def test_links_that_lead_nowhere_are_not_items() -> None:
    html = """<li><a href="javascript:void(0)">Script link story</a></li>
      <li><a href="mailto:x@y.z">Mail link story</a></li>
      <li><a href="#top">Back to top of page</a></li>
      <li><a href="">Empty href story</a></li>
      <li><a href="/real">Real story</a></li>"""
    items = extract_html(html.encode(), "https://x.example/list", Rule(item="li"))
    assert [i.title for i in items] == ["Real story"]


def test_base_href_is_honoured() -> None:
    html = '<head><base href="/en/"></head><li><a href="politics/1/">Story one here</a></li>'
    [item] = extract_html(html.encode(), "https://pozirk.online/x/y", Rule(item="li"))
    assert item.url == "https://pozirk.online/en/politics/1/"


def test_invalid_selector_is_an_extract_error() -> None:
    with pytest.raises(ExtractError, match="invalid CSS selector"):
        extract_html(b"<p>x</p>", "https://x.example/", Rule(item="li[["))


def test_extract_tree_on_an_already_parsed_page() -> None:
    tree = LexborHTMLParser(XNEWS)
    rule = Rule(item="li.x-news", paywall_text=("only for subscribers",))
    assert len(extract_tree(tree, "https://news.example/", rule)) == 4


def test_generic_rule_on_a_listing_uses_article_blocks() -> None:
    html = """<html><head><title>Front page</title></head><body>
      <article><h2><a href="/1">First story headline</a></h2></article>
      <article><h2><a href="/2">Second story headline</a></h2></article>
      <article><p>No link here</p></article></body></html>"""
    items = extract_html(html.encode(), "https://x.example/", Rule())
    assert [i.title for i in items] == ["First story headline", "Second story headline"]


# --- page-level signals ---------------------------------------------------------


def ld(data: str) -> str:
    return f'<html><head><script type="application/ld+json">{data}</script></head></html>'


@pytest.mark.parametrize(
    ("html", "locked"),
    [
        (ld('{"@type":"NewsArticle","isAccessibleForFree":false}'), True),
        (ld('{"@type":"NewsArticle","isAccessibleForFree":"False"}'), True),
        (ld('{"@type":"NewsArticle","isAccessibleForFree":"false"}'), True),
        (ld('{"@type":"NewsArticle","isAccessibleForFree":true}'), False),
        (ld('{"@type":"NewsArticle","isAccessibleForFree":"True"}'), False),
        (
            ld(
                '{"@graph":[{"@type":"WebPage"},{"@type":"Article","isAccessibleForFree":"False"}]}'
            ),
            True,
        ),
        (
            ld(
                '{"@type":"Article","hasPart":{"@type":"WebPageElement","isAccessibleForFree":false}}'
            ),
            True,
        ),
        (ld('[{"@type":"Organization"},{"@type":"Article","isAccessibleForFree":"false"}]'), True),
        (ld('<!-- {"@type":"Article","isAccessibleForFree":false} -->'), True),
        (ld('{"@type":"Article", "isAccessibleForFree": "False", broken json'), True),
        (ld('{"@type":"Article"}'), False),
        ('<meta property="article:content_tier" content="locked">', True),
        ('<meta property="article:content_tier" content="Metered">', True),
        ('<meta property="article:content_tier" content="free">', False),
        ("<p>nothing here</p>", False),
    ],
)
def test_page_paywall(html: str, locked: bool) -> None:
    assert page_paywall(html) is locked
    assert page_paywall(html.encode()) is locked
    assert page_paywall(LexborHTMLParser(html)) is locked


ARTICLE = """<html><head>
  <meta property="og:type" content="article">
  <meta property="og:title" content="Pundit: Łukašenka's regime complicit">
  <meta property="article:section" content="Politics">
  <meta property="article:published_time" content="2025-08-16T10:00:00+03:00">
  <link rel="canonical" href="https://pozirk.online/en/politics/61219/?utm_source=x">
  <script type="application/ld+json">{"@type":"NewsArticle","isAccessibleForFree":"False"}</script>
</head><body><h1>Other heading</h1>
  <ul><li><a href="/en/politics/1/">Related story one</a></li></ul></body></html>"""


def test_an_article_page_is_one_item() -> None:
    items = extract_html(ARTICLE.encode(), "https://pozirk.online/en/politics/61219/", Rule())
    assert items == [
        Item(
            key="https://pozirk.online/en/politics/61219/",
            url="https://pozirk.online/en/politics/61219/",
            title="Pundit: Łukašenka's regime complicit",
            section="Politics",
            published="2025-08-16T10:00:00+03:00",
            paywalled=True,
        )
    ]


def test_article_item_falls_back_to_h1_and_the_page_url() -> None:
    html = "<html><body><h1> Free  story </h1></body></html>"
    item = article_item(LexborHTMLParser(html), "https://x.example/a?utm_medium=m", Rule())
    assert item is not None
    assert (item.title, item.url, item.paywalled) == ("Free story", "https://x.example/a", False)


def test_discover_feeds() -> None:
    feeds = discover_feeds(fixture("pozirk_section_wp.html"), "https://elsewhere.example/")
    assert feeds == [
        {
            "url": "https://pozirk.online/en/feed/",
            "title": "Pozirk » Feed",
            "type": "application/rss+xml",
        },
        {
            "url": "https://pozirk.online/en/feed/atom/",
            "title": "Pozirk » Atom",
            "type": "application/atom+xml",
        },
        {
            "url": "https://pozirk.online/wp-json/wp/v2/categories/3",
            "title": "",
            "type": "application/json",
        },
    ]
    html = b"""<link rel="Alternate" type="application/feed+json" href="/feed.json">
      <link rel="alternate" type="text/html" hreflang="be" href="/be/">
      <link rel="stylesheet" type="text/css" href="/a.css">"""
    assert discover_feeds(html, "https://x.example/") == [
        {"url": "https://x.example/feed.json", "title": "", "type": "application/feed+json"}
    ]


def test_large_pages_stay_linear() -> None:
    """3000 teasers, half of them marked: no quadratic walk (3000² steps would be seconds)."""
    import time

    teasers = "".join(
        f'<li class="n"><span>Politics</span> <a href="/n/{i}/">Story number {i} today</a>'
        + (" <em>Subscribers only</em>" if i % 2 else "")
        + "</li>"
        for i in range(3000)
    )
    body = f'<html><body><ul class="feed">{teasers}</ul></body></html>'.encode()
    started = time.process_time()
    items = extract_html(body, "https://x.example/", Rule(paywall_text=("Subscribers only",)))
    assert time.process_time() - started < 5
    assert (len(items), sum(i.paywalled for i in items)) == (3000, 1500)


def test_nested_blocks_keep_their_own_links() -> None:
    html = """<article class="page"><h1>Front page</h1>
      <a href="/about/">About this site and everything on it</a>
      <article><h2><a href="/a/1">First story headline</a></h2><time datetime="2025-01-01">
        </time></article>
      <article><h2><a href="/a/2">Second story headline</a></h2></article>
    </article>"""
    items = extract_html(html.encode(), "https://x.example/", Rule(item="article"))
    assert [(i.title, i.published) for i in items] == [
        ("About this site and everything on it", None),
        ("First story headline", "2025-01-01"),
        ("Second story headline", None),
    ]
