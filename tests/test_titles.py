"""What a title is: the headline a reader sees, without what changes by itself.

Real corpus pages (Spiegel, heise, Bild, Le Monde) for the faults found on them, small
pages for each kind of text a title leaves out, and two real polls of a served page whose
only change is a relative date and a byline: no `changed` alert.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.extract.discover import discover, reads_like_sections
from monitor.extract.headline import is_byline, is_credit, is_date_text
from monitor.extract.html import extract_html
from monitor.models import Item, Rule
from tests.conftest import CORPUS, Site, run_monitor

LISTINGS = CORPUS / "listing"
needs_corpus = pytest.mark.skipif(not LISTINGS.is_dir(), reason=f"corpus not found: {CORPUS}")

SPIEGEL = "https://www.spiegel.de/"
HEISE_SECURITY = "https://www.heise.de/security/"
BILD_POLITIK = "https://www.bild.de/politik/"


def page(name: str) -> bytes:
    return (LISTINGS / name).read_bytes()


def by_url(items: list[Item]) -> dict[str, Item]:
    return {item.url: item for item in items}


def title_of(items: list[Item], slug: str) -> str:
    """The title of the one item whose URL holds `slug`."""
    (title,) = {item.title for item in items if slug in item.url}
    return title


def proposed(body: bytes, base: str) -> Rule:
    proposals = discover(body, base, limit=1)
    assert proposals, "discovery proposes no rule"
    return proposals[0].rule


# -- Spiegel -----------------------------------------------------------------------------


@needs_corpus
def test_spiegel_titles_have_no_byline_date_or_kicker() -> None:
    body = page("de_spiegel_index_2026-03-01.html")
    for rule in (proposed(body, SPIEGEL), Rule(item="article[data-sara-article-id]")):
        items = extract_html(body, SPIEGEL, rule)
        assert title_of(items, "immobilien-warum-mieten-oft") == (
            "Darum ist Mieten oft besser als Kaufen"
        )
        assert title_of(items, "deutschland-schickt-sarah-engels") == (
            "Deutschland schickt Sängerin und Multitalent Sarah Engels zum ESC"
        )
        assert title_of(items, "sexismus-im-eishockey") == (
            "Für die Männer gibt’s Applaus, für die Frauen nur Gelächter"
        )
        titles = [item.title for item in items]
        # No title of the page ends in a byline or a relative date.
        assert not [t for t in titles if " Von " in t or " Vor " in t or "Kolumne" in t]


@needs_corpus
def test_discovery_proposes_the_heading_as_spiegels_title() -> None:
    assert proposed(page("de_spiegel_index_2026-03-01.html"), SPIEGEL).title == "h2"


@needs_corpus
def test_spiegel_gallery_is_titled_by_its_headline_not_the_photo_credit() -> None:
    body = page("de_spiegel_index_2026-03-01.html")
    items = extract_html(body, SPIEGEL, Rule(item="article[data-sara-article-id]"))
    assert title_of(items, "bilder-des-tages-fotos-aus-deutschland") == "Kriegskindheit"
    assert not [item.title for item in items if item.title.endswith(("/ AFP", "/ dpa"))]


@needs_corpus
def test_spiegel_february_to_march_changes_only_titles_the_site_edited() -> None:
    """The same teasers a month apart: a byline that appeared and a kicker that moved into
    a marked kicker line change nothing; the two edits the site made remain."""
    february = page("de_spiegel_index_2026-02-01.html")
    march = page("de_spiegel_index_2026-03-01.html")
    rule = proposed(march, SPIEGEL)
    before = by_url(extract_html(february, SPIEGEL, rule))
    after = by_url(extract_html(march, SPIEGEL, rule))
    edits = [(before[u].title, after[u].title) for u in before if u in after]
    assert [(old, new) for old, new in edits if old != new] == [
        (
            "Aktion im Januar: American Express Business Platinum Card mit 200.000 Punkten "
            "Willkommensbonus",
            "American Express Business Platinum Card mit 200.000 Punkten Willkommensbonus",
        ),
    ]
    assert ("Ordentlich Druck machen", "Ordentlich Druck machen") in edits


# -- heise -------------------------------------------------------------------------------

HEISE_ALERTS = [
    "Junos OS Evolved",
    "Cisco",
    "n8n",
    "VMware Aria Operations",
    "Trend Micro Apex One",
]


@needs_corpus
def test_heise_alert_teasers_are_titled_without_their_relative_date() -> None:
    body = page("de_heise_security_2026-03-01.html")
    discovered = proposed(body, HEISE_SECURITY)
    assert discovered.title == '[data-component="TeaserHeadline"]'
    for rule in (discovered, Rule(item="article[data-component=TeaserContainer]")):
        titles = [item.title for item in extract_html(body, HEISE_SECURITY, rule)]
        assert titles[2:7] == HEISE_ALERTS
        assert titles[0] == "Microsoft Authenticator stellt Funktion auf geknackten Handys ein"
        assert not [t for t in titles if "vor " in t and "Tagen" in t]


# -- Bild --------------------------------------------------------------------------------


@needs_corpus
def test_bild_kickers_are_neither_sections_nor_part_of_the_title() -> None:
    body = page("de_bild_politik_2026-03-01.html")
    rule = proposed(body, BILD_POLITIK)
    assert rule.section is None
    items = extract_html(body, BILD_POLITIK, rule)
    assert [(i.title, i.section) for i in items[:3]] == [
        ("Rache der Mullahs trifft diese Länder!", None),
        ("Frau stirbt bei Mullah-Angriff auf Israel", None),
        ("Mullah-Führer Chamenei ist tot!", None),
    ]


@needs_corpus
def test_a_kicker_a_rule_reads_as_the_section_is_not_repeated_in_the_title() -> None:
    body = page("de_bild_politik_2026-03-01.html")
    rule = Rule(item="article.stage-teaser", title="h3", section="span.teaser__title__kicker")
    first = extract_html(body, BILD_POLITIK, rule)[0]
    assert (first.title, first.section) == (
        "Rache der Mullahs trifft diese Länder!",
        "Angriffe auf neun Länder!",
    )


# -- Le Monde: a captioned image is the teaser --------------------------------------------


@needs_corpus
def test_a_caption_is_the_title_only_when_nothing_else_names_the_story() -> None:
    body = page("fr_lemonde_index_2016_newslist.html")
    items = by_url(extract_html(body, "https://www.lemonde.fr/", Rule(item='a[href*="/article/"]')))
    url = (
        "https://www.lemonde.fr/les-decodeurs/article/2016/01/28/"
        "six-chiffres-cles-sur-le-mal-logement-en-france_4855440_4355770.html"
    )
    # The caption's comment count (8) is not part of it.
    assert items[url].title == "Six chiffres clés sur le mal-logement en France"


# -- Telepolis: author, "heute, 18:00 Uhr" and a comment count inside the link -------------


@needs_corpus
def test_telepolis_titles_drop_author_time_and_comment_count() -> None:
    body = page("de_telepolis_index_2020_feedless.html")
    base = "https://www.heise.de/tp/"
    rule = proposed(body, base)
    assert rule.title == "header.tp_title"
    assert extract_html(body, base, rule)[0].title == '"Wegen" oder "mit" COVID-19?'
    # Without a title selector: the link's text, summary and all, but not what changes.
    first = extract_html(body, base, Rule(item="article.news"))[0].title
    assert first == (
        '"Wegen" oder "mit" COVID-19? Die Zahl der Corona-Intensivpatienten steigt weiter '
        "dramatisch"
    )


# -- what a title leaves out, on small pages ---------------------------------------------


def titles(html: str, rule: Rule | None = None) -> list[str]:
    items = extract_html(html.encode(), "https://news.example/", rule or Rule(item="article"))
    return [item.title for item in items]


def test_time_elements_and_relative_dates_are_not_part_of_the_title() -> None:
    html = """<main>
      <article><a href="/a/1">Bridge closed after storm <time datetime="2026-03-01">vor 2 Tagen</time></a></article>
      <article><a href="/a/2"><span>Mayor resigns</span> <span>3 hours ago</span></a></article>
      <article><a href="/a/3"><span>Budget passed</span><span class="teaser-date">01.03.2026, 14:30</span></a></article>
    </main>"""  # noqa: E501
    assert titles(html) == ["Bridge closed after storm", "Mayor resigns", "Budget passed"]


def test_bylines_are_not_part_of_the_title() -> None:
    html = """<main>
      <article><h2><a href="/a/1"><span>Rents rise again</span> <span>Von Jan Nowak</span></a></h2></article>
      <article><h2><a href="/a/2"><span>Tax plan fails</span> <span>Eine Kolumne von Anna Graf</span></a></h2></article>
      <article><h2><a href="/a/3">Storm warning <span class="author">Kim Lee</span></a></h2></article>
      <article><h2><a href="/a/4"><span itemprop="author">Ola Berg</span> Trains stop</a></h2></article>
      <article><h2><a href="/a/5"><span>Streit:</span> <span>Angriff von Russland auf Kiew</span></a></h2></article>
    </main>"""  # noqa: E501
    assert titles(html) == [
        "Rents rise again",
        "Tax plan fails",
        "Storm warning",
        "Trains stop",
        # Names after "von" that are no names: part of the headline.
        "Streit: Angriff von Russland auf Kiew",
    ]


def test_screen_reader_labels_kickers_and_comment_counts_are_not_part_of_the_title() -> None:
    html = """<main>
      <article><a href="/a/1"><span class="sr-only">Premium:</span> Harbour sold</a></article>
      <article><a href="/a/2"><span class="visually-hidden">Artikel lesen</span>Ferry strike</a></article>
      <article><a href="/a/3"><span class="kicker">Live</span><span>Election night</span></a></article>
      <article><a href="/a/4"><span data-component="TeaserKicker">Exklusiv</span>: <span>Port deal</span></a></article>
      <article><a href="/a/5">Road works <span class="comment-count">14</span></a></article>
    </main>"""  # noqa: E501
    assert titles(html) == [
        "Harbour sold",
        "Ferry strike",
        "Election night",
        "Port deal",
        "Road works",
    ]


def test_a_heading_of_the_story_comes_before_a_link_that_only_holds_a_credit() -> None:
    html = """<main>
      <article><a href="/g/1" title="Winter light"><figure><figcaption>Jane Roe / AFP</figcaption></figure></a>
        <a href="/g/1"><h2><span class="topline">Photo of the day</span> <span>Winter light</span></h2></a></article>
      <article><a href="/g/2" title="Snow at last"><figure><figcaption>Foto: dpa</figcaption></figure></a></article>
    </main>"""  # noqa: E501
    assert titles(html) == ["Winter light", "Snow at last"]


def test_a_title_that_is_all_label_falls_back_to_the_link() -> None:
    html = """<main>
      <article><h3 class="kicker">Politik</h3><a href="/a/1">Coalition talks collapse</a></article>
      <article><h3 class="kicker">Sport</h3><a href="/a/2">Cup final postponed</a></article>
    </main>"""
    assert titles(html) == ["Coalition talks collapse", "Cup final postponed"]


def test_a_box_named_like_a_label_around_the_headline_is_kept() -> None:
    html = """<main>
      <article><a href="/a/1"><div class="card-caption"><h3>Dam repaired in time</h3></div></a></article>
      <article><a href="/a/2"><section class="teaser_figcaption"><header>Floods recede</header></section></a></article>
    </main>"""  # noqa: E501
    assert titles(html) == ["Dam repaired in time", "Floods recede"]


def test_a_kicker_separator_reads_as_the_reader_sees_it() -> None:
    html = """<main><article><a href="/a/1"><h3><span>Auch Urlauber betroffen</span><span>: </span><span>Rache der Mullahs</span></h3></a></article></main>"""  # noqa: E501
    assert titles(html) == ["Auch Urlauber betroffen: Rache der Mullahs"]


@pytest.mark.parametrize(
    "text",
    ["vor 2 Tagen", "Vor 1 Stunde", "3 hours ago", "il y a 2 h", "2 godziny temu", "2 часа назад",
     "gestern, 14:30", "28.02.2026", "Feb 28, 2026", "28. Februar 2026", "12:30 Uhr", "6 Min",
     "Lesezeit: 4 Min."],
)  # fmt: skip
def test_dates_and_reading_times_read_as_such(text: str) -> None:
    assert is_date_text(text)


@pytest.mark.parametrize("text", ["Junos OS Evolved", "5 Jahre Haft", "Cisco", "2054"])
def test_headlines_do_not_read_as_dates(text: str) -> None:
    assert not is_date_text(text)


def test_bylines_and_credits_read_as_such() -> None:
    assert is_byline("Von Tim Jürgens und Tobias Ahrens")
    assert is_byline("Ein Kommentar von Cornelius Dieckmann, Tokio")
    assert is_byline("Автор: Иван Петров")
    assert not is_byline("Von Kiew nach Berlin")
    assert not is_byline("Der Polarschreck Von Tammo Buschmann")
    assert is_credit("Bakr Alkasem / AFP") and is_credit("Foto: dpa")
    assert not is_credit("Six chiffres clés sur le mal-logement en France")


def test_sections_are_recurring_short_labels_not_kickers() -> None:
    assert reads_like_sections(["Politik", "Sport", "Politik", "Sport", "Kultur", "Politik"])
    assert reads_like_sections(["Politik"] * 5)
    kickers = ["Angriffe auf neun Länder!", "Live-Ticker", "Trump bestätigt", "In Bahrain"]
    assert not reads_like_sections(kickers)
    assert not reads_like_sections(["Live-Ticker", "Live-Ticker", "Iran schlägt zurück!"] * 2)


def test_discovery_proposes_a_recurring_label_as_the_section_and_no_kicker() -> None:
    def teaser(n: int, label: str, cls: str) -> str:
        return (
            f'<article class="teaser"><span class="{cls}">{label}</span>'
            f'<h2><a href="/news/2026/03/story-number-{n}-about-things">Story number {n} '
            f"tells about important things</a></h2><p>Some summary text of the story.</p>"
            "</article>"
        )

    sections = ["Politik", "Sport", "Politik", "Kultur", "Sport", "Politik"]
    html = "<main>" + "".join(teaser(n, s, "rubric") for n, s in enumerate(sections)) + "</main>"
    rule = proposed(html.encode(), "https://news.example/")
    assert (rule.section, rule.title) == ("span.rubric", "h2")
    kickers = ["Trump bestätigt", "Angriff!", "In Bahrain", "Neuer Job", "Zwei Tote", "Live"]
    html = "<main>" + "".join(teaser(n, k, "kicker") for n, k in enumerate(kickers)) + "</main>"
    assert proposed(html.encode(), "https://news.example/").section is None


# -- two polls: a relative date ticks on, a byline appears -------------------------------


def listing(date: str, byline: str, headline: str = "Ferry strike ends after three weeks") -> str:
    teasers = [
        ("/news/2026/03/ferry-strike-ends", headline, date, byline),
        ("/news/2026/03/harbour-sold-to-city", "Harbour sold to the city for one euro", "", ""),
        ("/news/2026/03/storm-closes-bridge", "Storm closes the old bridge again", date, ""),
    ]
    blocks = "".join(
        f'<article><h2><a href="{href}"><span>{title}</span>'
        + (f'<span class="meta">{when}</span>' if when else "")
        + (f"<span>{by}</span>" if by else "")
        + "</a></h2><p>Summary of the story in a few words.</p></article>"
        for href, title, when, by in teasers
    )
    return f"<!doctype html><html><head><meta charset='utf-8'></head><body><main>{blocks}</main></body></html>"  # noqa: E501


def check(config: Path) -> tuple[int, list[dict[str, object]], str]:
    result = run_monitor("check", "--json", "--no-notify", config=config)
    return result.returncode, json.loads(result.stdout or "[]"), result.stderr


def test_a_relative_date_ticking_on_and_a_byline_appearing_make_no_changed_alert(
    site: Site, tmp_path: Path
) -> None:
    url = site.set("/news/", listing("vor 2 Stunden", ""))
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'database = "state.db"\n[[sources]]\nname = "news"\nurl = "{url}"\n'
        '[sources.rule]\nitem = "article"\n',
        encoding="utf-8",
    )
    code, events, stderr = check(config)
    assert (code, events) == (0, []), stderr
    assert "news: baseline, 3 items" in stderr

    site.set("/news/", listing("vor 1 Tag", "Von Markus Linden"))
    code, events, stderr = check(config)
    assert (code, events) == (0, []), stderr

    # A real edit of the headline is still one alert, with the headline before and after.
    site.set("/news/", listing("vor 2 Tagen", "Von Markus Linden", "Ferry strike is over"))
    code, events, stderr = check(config)
    assert code == 0, stderr
    assert [(e["kind"], e["before"], e["after"]) for e in events] == [
        (
            "changed",
            {"title": "Ferry strike ends after three weeks"},
            {"title": "Ferry strike is over"},
        )
    ]
