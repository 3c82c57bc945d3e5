"""extract_feed on every real feed of the shared corpus, plus exact values from a few."""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.extract.feed import SUMMARY_LIMIT, extract_feed
from monitor.models import ExtractError, Item

CORPUS = Path(
    os.environ.get("MONITOR_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)
KINDS = ("feed", "malformed-feed")
BASE = "https://feeds.example/feed.xml"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")


def _manifest() -> dict[str, int]:
    path = CORPUS / "MANIFEST.tsv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return {r["local_file"]: int(r["approx_items"]) for r in rows if r["kind"] in KINDS}


def _files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        f"{kind}/{p.name}" for kind in KINDS for p in (CORPUS / kind).glob("*") if p.is_file()
    )


APPROX = _manifest()

# Files where fewer items than the manifest's entry count is the right answer.
COLLAPSED = {
    # 3 of the 6 entries have an empty <link> and no <guid>: nothing to identify them by.
    "feed/en_debian_udd_feed2exec.xml": 3,
    # Each of the 10 items holds an empty nested <item/> that feedparser counts as an
    # entry of its own (no title, no link): 20 entries, 10 items.
    "feed/en_pcmag_illegally_nested_node-feedparser.xml": 10,
    # The only entry's title is cut off inside CDATA and it has no link.
    "malformed-feed/xx_incomplete_cdata_feedparser.xml": 0,
}
NOT_A_FEED = {
    "malformed-feed/xx_notafeed_node-feedparser.html": "looks like an HTML page",
    # An HTML "Document Moved" page with a stray <rss> after it.
    "malformed-feed/xx_unrecognized_rss-parser.xml": "looks like an HTML page",
}


def extract(name: str) -> list[Item]:
    return extract_feed((CORPUS / name).read_bytes(), BASE)


def by_url(items: list[Item], url: str) -> Item:
    return next(i for i in items if i.url == url)


def test_every_corpus_file_is_listed() -> None:
    assert set(_files()) == set(APPROX)


@pytest.mark.parametrize("name", _files())
def test_corpus_file(name: str) -> None:
    if name in NOT_A_FEED:
        with pytest.raises(ExtractError, match=NOT_A_FEED[name]):
            extract(name)
        return
    items = extract(name)
    if name in COLLAPSED:
        assert len(items) == COLLAPSED[name]
    else:
        expected = APPROX[name]
        assert abs(len(items) - expected) <= expected * 0.1, (len(items), expected)
    assert len({i.key for i in items}) == len(items)
    for item in items:
        _assert_well_formed(item)


def _assert_well_formed(item: Item) -> None:
    assert item.key.strip() == item.key != ""
    # "" when the entry gives no http(s) link: never a made-up one
    assert item.url == "" or item.url.startswith(("http://", "https://")), item.url
    assert "#" not in item.url and "utm_" not in item.url
    assert item.title and item.title == " ".join(item.title.split())
    if item.summary is not None:
        assert 0 < len(item.summary) <= SUMMARY_LIMIT
        assert item.summary == " ".join(item.summary.split())
    if item.section is not None:
        assert item.section.strip() == item.section != ""
    if item.published is not None:
        assert datetime.fromisoformat(item.published).utcoffset() == UTC.utcoffset(None)
    assert item.paywalled is False  # nothing configured


# --- charsets -------------------------------------------------------------------------


def test_windows_1251_cyrillic() -> None:
    items = extract("feed/ru_ibash_windows-1251_miniflux.xml")
    assert len(items) == 50
    assert items[0] == Item(
        key="http://ibash.org.ru/quote.php?id=17703",
        url="http://ibash.org.ru/quote.php?id=17703",
        title="Цитата #17703",
        published="2018-03-21T07:27:32+00:00",
        summary=(
            "xxx: есть у кого жаба программер xxx: кот немного пхп знает? yyy: то что кот PHP "
            "немного знает, я бы ещё может поверил yyy: но вот жаба-программер - это ты "
            "по-моему загнул"
        ),
    )
    assert all(i.title.startswith("Цитата #") for i in items)


def test_iso_8859_1_declared() -> None:
    items = extract("feed/de_golem_iso-8859-1_miniflux.xml")
    titles = [i.title for i in items]
    assert "Wochenrückblick: Wilder Westen, buntes Handy, nutzloses Siegel" in titles
    assert items[0].summary is not None
    assert items[0].summary.startswith("Viele Spieler wünschen sich eine PC-Version")
    assert extract("feed/fr_zeuhl_iso-8859-1_huginn.xml")[0].title == "Mëkanïk Zaïn"


def test_undeclared_iso_8859_1() -> None:
    items = extract("malformed-feed/fr_cerclepsy_no_encoding_decl_miniflux.xml")
    # 10 entries; the fourth has an empty <link> and no <guid>, so 9 items.
    assert len(items) == 9
    url = (
        "https://le-cercle-psy.scienceshumaines.com/la-criminalite-liee-surtout-a-l-ennui_sh_39986"
    )
    item = by_url(items, url)
    assert item.title == "La criminalité liée surtout à... l'ennui ?"
    assert item.summary is not None and item.summary.startswith("« L'oisiveté est mère")


def test_utf8_scripts() -> None:
    liga = extract("feed/ua_liga_net_data-import.xml")[0]
    assert liga.title.startswith("Украина в день местных выборов")
    urdu = extract("feed/ur_bbc_urdu_miniflux.xml")[0]
    assert urdu.title.startswith("امریکی عسکری امداد")
    zh = extract("feed/zh_bbc_chinese_rss2email_atom.xml")[0]
    assert zh.title == "白宫提名艾伦为北约最高司令官"


# --- identity across versions, sections, formats -------------------------------------


def test_nodejs_series_keeps_its_key() -> None:
    t1, t2, t3 = (extract(f"feed/en_nodejs_vuln_t{n}_rss2email.xml") for n in (1, 2, 3))
    assert len(t1) == len(t2) == len(t3) == 1
    key = "https://nodejs.org/en/blog/vulnerability/february-2020-security-releases"
    assert t1[0].key == t2[0].key == t3[0].key == key
    assert t1[0].title == t2[0].title == t3[0].title == "February 2020 Security Releases"
    assert (t1[0].published, t2[0].published, t3[0].published) == (
        "2020-01-23T12:00:00+00:00",
        "2020-02-06T12:00:00+00:00",
        "2020-02-06T12:00:00+00:00",
    )
    assert t2[0].summary != t3[0].summary
    assert t3[0].summary is not None and t3[0].summary.startswith("(Update 19-May-2020) Test")


def test_nyt_categories_give_section() -> None:
    (item,) = extract("feed/en_nyt_category_node-feedparser.xml")
    # The feed lists "Water Pollution" first; sections list categories alphabetically.
    assert item.section == "Gowanus Canal (Brooklyn, NY), Water Pollution"
    assert item.title == "E.P.A. Plan to Clean Up Gowanus Canal Meets Local Resistance"
    assert item.url == (
        "http://www.nytimes.com/2013/05/06/nyregion/"
        "epa-plan-to-clean-up-gowanus-canal-meets-local-resistance.html?partner=rss&emc=rss"
    )
    assert item.published == "2013-05-05T17:15:11+00:00"


def test_guid_dupes_and_shared_links() -> None:
    # Two identical <guid>s in one item, no <link>: the permalink guid is the link.
    (item,) = extract("feed/en_guid_dupes_node-feedparser.xml")
    assert item.key == item.url == "http://www.braingle.com/50366.html"
    # No item has a link (the channel's status page is not theirs): the guids tell them
    # apart, and no url is made up.
    status = extract("feed/en_fastmail_status_rss2email.xml")
    assert len({i.key for i in status}) == 10
    assert {i.url for i in status} == {""}
    assert status[0].key == "2EC9D062-A182-11EB-8CC4-B51653FE9AF7"


def test_no_guid_keys_by_link() -> None:
    items = extract("feed/en_hackernews_rss_feedjira.xml")
    assert len(items) == 30
    assert all(i.key == i.url for i in items)


def test_feedburner_original_link() -> None:
    item = extract("feed/en_google_ads_blog_feedburner_rss-parser_atom.xml")[0]
    assert item.key == "tag:blogger.com,1999:blog-7815614485808579332.post-8394866751819460570"
    assert item.url == (
        "http://googleadsdeveloper.blogspot.com/2016/06/adwords-and-dfp-java-client-library.html"
    )
    assert item.section == "adwords_api, client_libraries, dfp_api"


def test_atom() -> None:
    items = extract("feed/de_heise_developer_rss-parser_atom.xml")
    assert items[0].key == "http://heise.de/-3088438"
    assert items[0].url == (
        "http://www.heise.de/developer/meldung/"
        "Java-Anwendungsserver-Red-Hat-gibt-WildFly-10-frei-3088438.html"
    )
    assert items[0].title == "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei"
    assert items[0].published == "2016-02-01T16:22:00+00:00"
    # An Atom feed wrapped in an XHTML page is still read.
    wrapped = extract("feed/en_duplicate_content_atom_feedjira.xml")
    assert (wrapped[0].title, wrapped[0].section, wrapped[0].published) == (
        "Down time",
        "Life",
        "2014-07-21T19:14:39+00:00",
    )


def test_rdf() -> None:
    heise = extract("feed/de_heise_rdf_miniflux.xml")
    assert len(heise) == 60
    assert heise[1].title == "Mega-Deal: IBM übernimmt Red Hat"
    assert all(i.published is None for i in heise)  # RSS 0.9 items carry no date
    craigslist = extract("feed/en_craigslist_rdf_rss-parser.xml")[0]
    assert craigslist.key == craigslist.url == "http://sfbay.craigslist.org/eby/apa/6186664607.html"
    assert craigslist.published == "2017-06-21T17:33:10+00:00"


def test_json_feeds() -> None:
    npr = extract("feed/en_jsonfeed_trafilatura.json")[0]
    assert npr.key == "1050315385"
    assert npr.url == (
        "https://www.npr.org/2021/10/29/1050315385/"
        "keller-rinaudo-how-can-delivery-drones-save-lives"
    )
    assert npr.title == "Keller Rinaudo: How can delivery drones save lives?"
    assert npr.published == "2021-10-29T14:26:00+00:00"
    escaped = extract("feed/en_jsonfeed_escaped_uris_feedjira.json")[0]
    assert (escaped.url, escaped.title, escaped.section) == (
        "https://lukedorny.com/updates/new-font",
        "New Font",
        "Design",
    )
    daring = extract("feed/en_jsonfeed_feedjira.json")[0]
    assert daring.title == "James Dempsey and the Breakpoints Benefit App Camp for Girls"
    assert daring.summary is not None and "<" not in daring.summary


def test_recovered_bozo_feeds() -> None:
    sax = extract("malformed-feed/xx_saxerror_node-feedparser.xml")
    assert [i.title for i in sax] == ["Good Item", "Bad Item", "Item After Error"]
    (amp,) = extract("malformed-feed/xx_corrupted_ampersands_feedparser.xml")
    assert amp.url == "http://link/get?a=1&b=2"
    assert extract("malformed-feed/xx_undeclared_namespace_feedparser.xml") == []


def test_paywall_category_on_real_feed() -> None:
    body = (CORPUS / "feed/en_guardian_rss-parser.xml").read_bytes()
    plain = extract_feed(body, BASE)
    items = extract_feed(body, BASE, paywall_categories=("us politics",))
    flagged = [
        (before, after) for before, after in zip(plain, items, strict=True) if after.paywalled
    ]
    assert len(flagged) == 7 and len(items) == 55
    # The paywall category marks the entry and leaves its section: the other categories.
    before, after = flagged[0]
    assert before.section == (
        "Democrats, Donald Trump, Republicans, State of the Union address, US Congress, US news,"
        " US politics"
    )
    assert after.section == (
        "Democrats, Donald Trump, Republicans, State of the Union address, US Congress, US news"
    )
    assert all("us politics" not in (a.section or "").lower() for _, a in flagged)
