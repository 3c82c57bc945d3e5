"""Real front and section pages (shared corpus): items and premium flags a reader sees.

MANIFEST.tsv gives, per file, the approximate item count and, for paywalled sites,
"[N of M items flagged]". Each site gets a rule here; the counts must be within 10%.
"""

from __future__ import annotations

import csv
import math
import os
import re
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from monitor.extract.html import (
    derive_item_selector,
    extract_html,
    extract_tree,
    page_paywall,
    parse_html,
)
from monitor.models import Rule

CORPUS = Path(
    os.environ.get("MONITOR_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)
LISTINGS = CORPUS / "listing"
ARTICLES = CORPUS / "article"

pytestmark = pytest.mark.skipif(not LISTINGS.is_dir(), reason=f"corpus not available: {CORPUS}")

_META = "[data-target-teaser-el]"
SPIEGEL = Rule(
    item="article[data-sara-article-id]",
    link="h2 a",
    # The innermost spans of the headline link, minus kicker ("topmark") and byline.
    title=f"h2 a span:not(:has(span)):not({_META}):not({_META} span)",
    # 2023 markup says "Spplus-paid" (and Mmplus-paid ...), 2026 "plus-paid".
    paywall_selector='[data-flag-name$="plus-paid"]',
)
BILD = Rule(
    item="article.stage-teaser",
    title=".teaser__title__headline",
    paywall_selector=".teaser__premium-icon",
)
HEISE = Rule(
    item="article[data-component=TeaserContainer]",
    title='[data-component="TeaserHeadline"]',
    paywall_selector='img[alt="heise Plus"]',
)
VOLKSSTIMME = Rule(
    item="article.fp-article, article.fp-mini-teasers__item",
    paywall_selector=".fp-paid-article__article",
)

# file -> (page URL, rule)
RULES: dict[str, tuple[str, Rule]] = {
    "de_spiegel_index_2026-03-01.html": ("https://www.spiegel.de/", SPIEGEL),
    "de_spiegel_index_2026-02-01.html": ("https://www.spiegel.de/", SPIEGEL),
    "de_spiegel_index_2023-01-01.html": ("https://www.spiegel.de/", SPIEGEL),
    "de_spiegel_plus_2026-03-01.html": ("https://www.spiegel.de/plus/", SPIEGEL),
    "de_spiegel_schlagzeilen_2026-03-01.html": ("https://www.spiegel.de/schlagzeilen/", SPIEGEL),
    "de_spiegel_politik_2026-03-01.html": ("https://www.spiegel.de/politik/", SPIEGEL),
    "de_bild_index_2026-03-01.html": ("https://www.bild.de/", BILD),
    "de_bild_politik_2026-03-01.html": ("https://www.bild.de/politik/", BILD),
    "de_bild_sport_2026-03-01.html": ("https://www.bild.de/sport/", BILD),
    "de_heise_index_2026-03-01.html": ("https://www.heise.de/", HEISE),
    "de_heise_index_2026-02-01.html": ("https://www.heise.de/", HEISE),
    "de_heise_plus_2026-03-01.html": ("https://www.heise.de/plus/", HEISE),
    "de_heise_security_2026-03-01.html": ("https://www.heise.de/security/", HEISE),
    "de_volksstimme_index_2026-03-01.html": ("https://www.volksstimme.de/", VOLKSSTIMME),
    "de_volksstimme_index_2026-02-01.html": ("https://www.volksstimme.de/", VOLKSSTIMME),
    "de_volksstimme_blaulicht_2026-03-01.html": (
        "https://www.volksstimme.de/blaulicht/",
        VOLKSSTIMME,
    ),
    "de_spiegel_index_2019_rssproxy.html": (
        "https://www.spiegel.de/",
        Rule(
            item="h2.article-title, ul.article-list li",
            paywall_selector='.spplus, [data-sponlytics-ec="spplus"]',
        ),
    ),
    "de_derstandard_index_2019_rssproxy.html": (
        "https://www.derstandard.at/",
        Rule(item="article[data-type]", link='a.teaser-inner[href^="/story/"]'),
    ),
    "en_nature_news_2019_rssproxy.html": (
        "https://www.nature.com/news",
        Rule(item="li article", link="h3 a", section='[data-test="article.type"]'),
    ),
    "en_hackernews_front_rssproxy.html": (
        "https://news.ycombinator.com/",
        Rule(item="tr.athing", link="td.title a.storylink"),
    ),
    "en_schneier_blog_rssproxy.html": (
        "https://www.schneier.com/",
        Rule(item="article", link="h2.entry a", date="p.posted"),
    ),
    "en_mozilla_blog_rssproxy.html": (
        "https://blog.mozilla.org/",
        Rule(item="article.post-summary, li.category-post", title=".entry-title"),
    ),
    "de_telepolis_index_2020_feedless.html": (
        "https://www.heise.de/tp/",
        Rule(item="article.news", title=".tp_title"),
    ),
    "fr_lemonde_index_2016_newslist.html": (
        "http://www.lemonde.fr/",
        Rule(item='a[href*="/article/20"]', paywall_selector=".marqueur_restreint"),
    ),
    "fr_lefigaro_index_2016_newslist.html": (
        "http://www.lefigaro.fr/",
        # The premium mark is a class on an ancestor of the teaser; lexbor matches
        # the ancestor part of a selector outside the item (not inside :is()).
        Rule(
            item=".fig-profil-headline a",
            paywall_selector=".fig-profil-payant a, .fig-profil-payant-bordure a",
        ),
    ),
    "at_derstandard_index_2016_newslist.html": (
        "http://derstandard.at/",
        Rule(item="li.normal, li.big"),
    ),
    "at_diepresse_wirtschaft_2016_newslist.html": (
        "http://diepresse.com/home/wirtschaft/",
        Rule(item="#content div.neu3, #content div.aufmacher3", link="h2 a"),
    ),
    "de_sueddeutsche_index_2016_newslist.html": (
        "http://www.sueddeutsche.de/",
        Rule(item="div.teaser, li.banderole-teaser, ul.oneliner li"),
    ),
    "en_cnn_home_2014_newspaper4k.html": (
        "http://edition.cnn.com/",
        Rule(item="ul.cnn_bulletbin li"),
    ),
    "en_wired_home_newspaper4k.html": (
        "https://www.wired.com/",
        Rule(item='[class*="SummaryItemWrapper"]'),
    ),
    "en_yahoo_uk_home_2014_newspaper4k.html": ("https://uk.yahoo.com/", Rule(item="h3.fw-b a")),
    "en_time_home_anonymized_html2rss.html": (
        "https://time.com/",
        Rule(item="ul.tout__list li.item"),
    ),
    "pl_onet_home_2022.html": (
        "https://www.onet.pl/",
        # "Flagged" here means sponsored (a paid promotion), not paywalled.
        Rule(
            item="a.itemBox[data-art-type]",
            title="span.title",
            paywall_selector='[data-section="paid_promo"] a',
        ),
    ),
    "de_wunderweib_home_htmldate.html": ("https://www.wunderweib.de/", Rule(item="article.teaser")),
    "en_deutschland_de_home_htmldate.html": (
        "https://www.deutschland.de/en",
        Rule(item="div.cover__inner"),
    ),
}

_FLAGGED = re.compile(r"\[(\d+) of (\d+) items flagged\]")


def manifest() -> dict[str, tuple[int, int | None]]:
    """listing file name -> (approx_items, flagged premium items or None)."""
    rows: dict[str, tuple[int, int | None]] = {}
    with open(CORPUS / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            local = row["local_file"]
            if not local.startswith("listing/"):
                continue
            flagged = _FLAGGED.search(row["paywall_markers"] or "")
            rows[local.removeprefix("listing/")] = (
                int(row["approx_items"]),
                int(flagged.group(1)) if flagged else None,
            )
    return rows


def within_ten_percent(found: int, expected: int) -> bool:
    return abs(found - expected) <= math.ceil(expected * 0.1)


def listing_files() -> list[str]:
    return sorted(p.name for p in LISTINGS.iterdir()) if LISTINGS.is_dir() else []


@pytest.mark.parametrize("name", listing_files())
def test_every_listing_page_extracts_with_a_generic_rule(name: str) -> None:
    items = extract_html((LISTINGS / name).read_bytes(), "https://example.com/", Rule())
    assert items
    for item in items:
        assert item.title and item.title == item.title.strip()
        assert item.url.startswith(("http://", "https://"))
        assert "#" not in item.url


def test_every_manifest_listing_has_a_rule() -> None:
    assert set(manifest()) == set(RULES)
    assert set(listing_files()) == set(RULES)


@pytest.mark.parametrize("name", sorted(RULES))
def test_site_rule_finds_the_items_and_premium_flags(name: str) -> None:
    expected_items, expected_premium = manifest()[name]
    page_url, rule = RULES[name]
    items = extract_html((LISTINGS / name).read_bytes(), page_url, rule)
    assert within_ten_percent(len(items), expected_items), (len(items), expected_items)
    premium = sum(item.paywalled for item in items)
    if expected_premium is not None:
        assert within_ten_percent(premium, expected_premium), (premium, expected_premium)
    else:
        assert premium == 0
    assert len({item.key for item in items}) == len(items)
    assert all(item.title for item in items)


def test_spiegel_titles_are_the_headlines() -> None:
    page_url, rule = RULES["de_spiegel_politik_2026-03-01.html"]
    body = (LISTINGS / "de_spiegel_politik_2026-03-01.html").read_bytes()
    tree = LexborHTMLParser(body)
    headline = {
        link.attributes["href"]: teaser.attributes["aria-label"]
        for teaser in tree.css("article[data-sara-article-id]")
        if (link := teaser.css_first("h2 a")) is not None
    }
    items = extract_html(body, page_url, rule)
    assert [i.title for i in items] == [headline[i.url] for i in items]


@pytest.mark.parametrize("site", ["spiegel_index", "heise_index", "volksstimme_index"])
def test_a_month_apart_the_same_articles_keep_their_keys(site: str) -> None:
    keys = []
    for month in ("2026-02-01", "2026-03-01"):
        name = f"de_{site}_{month}.html"
        page_url, rule = RULES[name]
        keys.append({i.key for i in extract_html((LISTINGS / name).read_bytes(), page_url, rule)})
    old, new = keys
    assert new - old, "a month later there is news"
    assert len(old | new) > len(new)


# --- a profile whose selectors miss: items by the page's structure ------------------

MARKER = "The material is available only to POZIRK+"


def inject_marker(name: str, rule: Rule, inside: str | None = None) -> tuple[bytes, set[str]]:
    """The page with MARKER added to each teaser the site marks as premium."""
    page_url, _ = RULES[name]
    tree = LexborHTMLParser((LISTINGS / name).read_bytes())
    assert rule.item and rule.paywall_selector
    for teaser in tree.css(rule.item):
        if teaser.css_first(rule.paywall_selector) is None:
            continue
        target = (teaser.css_first(inside) if inside else None) or teaser
        span = tree.create_node("span")
        span.insert_child(MARKER)
        target.insert_child(span)
    body = tree.html or ""
    marked = {i.key for i in extract_html(body.encode(), page_url, rule) if i.paywalled}
    return body.encode(), marked


@pytest.mark.parametrize(
    ("name", "rule", "inside"),
    [
        ("de_heise_index_2026-03-01.html", HEISE, None),
        ("de_heise_security_2026-03-01.html", HEISE, None),
        ("de_spiegel_politik_2026-03-01.html", SPIEGEL, "header"),
        ("de_volksstimme_index_2026-03-01.html", VOLKSSTIMME, None),
        ("de_bild_politik_2026-03-01.html", BILD, None),
    ],
)
def test_a_missing_profile_selector_falls_back_to_the_main_listing(
    name: str, rule: Rule, inside: str | None
) -> None:
    body, marked = inject_marker(name, rule, inside)
    page_url, _ = RULES[name]
    expected_items, _ = manifest()[name]
    profile_like = Rule(item="div.no-such-teaser", paywall_text=(MARKER,))
    items = extract_html(body, page_url, profile_like)
    assert {i.key for i in items if i.paywalled} == marked
    # The free teasers next to the marked ones are found too.
    assert abs(len(items) - expected_items) <= 0.1 * expected_items, (len(items), expected_items)
    # The marker plays no part in finding them: without it, the same items, all free.
    selector = derive_item_selector(LexborHTMLParser(body), page_url)
    plain = (LISTINGS / name).read_bytes()
    assert derive_item_selector(LexborHTMLParser(plain), page_url) == selector
    free = extract_html(plain, page_url, profile_like)
    assert [i.key for i in free] == [i.key for i in items]
    assert not any(i.paywalled for i in free)


# --- article pages: JSON-LD paywall signals --------------------------------------


def article_files() -> list[str]:
    return sorted(p.name for p in ARTICLES.iterdir()) if ARTICLES.is_dir() else []


@pytest.mark.parametrize("name", article_files())
def test_article_jsonld_paywall(name: str) -> None:
    body = (ARTICLES / name).read_bytes()
    locked = "_FREE" not in name
    assert page_paywall(body) is locked
    [item] = extract_html(body, "https://example.com/article", Rule())
    assert item.paywalled is locked
    assert item.title


def test_free_tier_meta_is_not_a_paywall() -> None:
    assert page_paywall((LISTINGS / "en_time_home_anonymized_html2rss.html").read_bytes()) is False


@pytest.mark.parametrize("name", sorted(RULES))
def test_page_wide_and_per_block_queries_agree(name: str) -> None:
    """Selectors run once per page (many teasers) or once per teaser (a few teasers on a
    big page) find the same items."""
    page_url, rule = RULES[name]
    body = (LISTINGS / name).read_bytes()
    for each in (rule, Rule()):
        page_wide = extract_tree(parse_html(body), page_url, each, size=0)
        per_block = extract_tree(parse_html(body), page_url, each, size=10**12)
        assert page_wide == per_block
