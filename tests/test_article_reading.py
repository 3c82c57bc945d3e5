"""What an article page says about itself (monitor.extract.article), on the real article
pages of the corpus (their MANIFEST says which signal each carries) and on variants of
them that carry the spellings and shapes seen elsewhere in the wild."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from monitor.extract.article import ArticleRule, read_article
from tests.conftest import CORPUS, run_monitor

ARTICLES = CORPUS / "article"


def manifest_rows() -> list[dict[str, str]]:
    path = CORPUS / "MANIFEST.tsv"
    if not path.is_file():
        return []
    names = ["file", "repo", "commit", "path", "domain", "kind", "signal", "count", "notes"]
    with path.open(encoding="utf-8") as handle:
        rows = [dict(zip(names, r, strict=False)) for r in csv.reader(handle, delimiter="\t")]
    return [r for r in rows if r["file"].startswith("article/")]


ROWS = manifest_rows()


def page(name: str) -> bytes:
    path = ARTICLES / name
    if not path.is_file():
        pytest.skip(f"corpus article {name} not found")
    return path.read_bytes()


def written_spellings(signal: str) -> list[str]:
    """How the manifest says the page spells isAccessibleForFree: false, "False", ..."""
    found = re.findall(r'(?:isAccessibleForFree:|hasPart )("?\w+"?)', signal)
    assert found, signal
    return found


@pytest.mark.parametrize("row", ROWS, ids=[Path(r["file"]).stem for r in ROWS])
def test_corpus_article_reading_matches_the_manifest(row: dict[str, str]) -> None:
    body = page(Path(row["file"]).name)
    reading = read_article(body, f"https://{row['domain'].split()[0]}/article")
    control = row["signal"].startswith("-")
    assert reading.paywalled is (not control)
    assert reading.is_article
    if control:
        # The control says free in JSON-LD and in its content tier.
        assert reading.paywall_signal == "json-ld isAccessibleForFree=true"
        assert reading.content_tier == "free"
    else:
        # (A value the page keeps in a script that is not JSON-LD is not a signal.)
        spellings = written_spellings(row["signal"])
        assert any(
            f"isAccessibleForFree={spelling}" in s
            for s in reading.signals
            for spelling in spellings
        ), reading.signals
        if "hasPart" in row["signal"]:
            assert any(s.startswith("json-ld hasPart") for s in reading.signals)
    # The date the page gives is one its bytes hold, as UTC ISO text.
    assert reading.published is not None
    day = reading.published[:10]
    assert re.match(r"\d{4}-\d{2}-\d{2}$", day)
    raw_days = set(re.findall(rb"\d{4}-\d{2}-\d{2}", body))
    local_day = day.encode()
    assert local_day in raw_days or any(
        abs(_ordinal(d) - _ordinal(local_day)) <= 1 for d in raw_days
    )
    assert reading.canonical is not None
    assert reading.canonical.startswith("https://")
    domain = row["domain"].split()[0].split("/")[0]
    assert domain in reading.canonical
    assert reading.title


def _ordinal(day: bytes) -> int:
    from datetime import date

    try:
        return date.fromisoformat(day.decode()).toordinal()
    except ValueError:
        return 0


def test_metered_tier_alone_does_not_make_an_article_paywalled() -> None:
    # The Globe and Mail says "metered" in its meta tag and "False" in JSON-LD: the
    # JSON-LD decides; without it, a metered tier says neither.
    body = page("ca_globeandmail_2024-08-28_fundus.html")
    reading = read_article(body, "https://www.theglobeandmail.com/a")
    assert (reading.paywalled, reading.content_tier) == (True, "metered")
    stripped = without_json_ld(body)
    reading = read_article(stripped, "https://www.theglobeandmail.com/a")
    assert (reading.paywalled, reading.paywall_signal, reading.content_tier) == (
        None,
        None,
        "metered",
    )


@pytest.mark.parametrize(
    ("written", "paywalled"),
    [
        ('"http://schema.org/False"', True),
        ('"https://schema.org/False"', True),
        ('"https://schema.org/True"', False),
        ('"false"', True),
        ('"False"', True),
    ],
)
def test_url_form_and_string_booleans_are_read_as_the_boolean(
    written: str, paywalled: bool
) -> None:
    # Tageblatt writes `false` (a JSON boolean) on the article and its hasPart.
    body = page("lu_tageblatt_2026-01-13_fundus.html")
    variant = body.replace(
        b'"isAccessibleForFree":false', f'"isAccessibleForFree":{written}'.encode()
    )
    assert variant != body
    reading = read_article(variant, "https://www.tageblatt.lu/a")
    assert reading.paywalled is paywalled
    assert reading.paywall_signal is not None
    assert written in reading.paywall_signal


def test_a_paywalled_has_part_wins_over_a_free_article() -> None:
    body = page("fr_lemonde_2023-09-01_fundus.html")

    def article_free(data: dict[str, object]) -> None:
        assert data["hasPart"]
        data["isAccessibleForFree"] = "True"

    variant = edit_json_ld(body, "NewsArticle", article_free)
    reading = read_article(variant, "https://www.lemonde.fr/a")
    assert reading.paywalled is True
    assert reading.paywall_signal == 'json-ld hasPart isAccessibleForFree="False" (.paywall)'
    assert 'json-ld isAccessibleForFree="True"' in reading.signals


def test_a_free_article_with_a_free_part_is_free() -> None:
    body = page("fr_lemonde_2023-09-01_fundus.html")

    def all_free(data: dict[str, object]) -> None:
        data["isAccessibleForFree"] = True
        part = data["hasPart"]
        assert isinstance(part, dict)
        part["isAccessibleForFree"] = "https://schema.org/True"

    variant = edit_json_ld(body, "NewsArticle", all_free).replace(
        b'content="locked"', b'content="free"'
    )
    reading = read_article(variant, "https://www.lemonde.fr/a")
    assert reading.paywalled is False
    assert reading.paywall_signal == "json-ld isAccessibleForFree=true"


def test_related_articles_listed_in_json_ld_do_not_paywall_the_page() -> None:
    # A free article whose JSON-LD lists a paywalled related story in an ItemList.
    html = (
        "<html><head><meta property='og:type' content='article'>"
        '<script type="application/ld+json">'
        + json.dumps(
            [
                {"@type": "NewsArticle", "headline": "Free story", "isAccessibleForFree": True},
                {
                    "@type": "ItemList",
                    "itemListElement": [
                        {"@type": "NewsArticle", "isAccessibleForFree": False, "url": "/x"}
                    ],
                },
            ]
        )
        + "</script></head><body><h1>Free story</h1></body></html>"
    )
    reading = read_article(html.encode(), "https://example.org/free")
    assert reading.paywalled is False


def test_visible_text_is_a_signal_only_when_configured() -> None:
    # SPIEGEL+ without its JSON-LD: only the visible "Jetzt weiterlesen mit SPIEGEL+".
    body = without_json_ld(page("de_spiegel_plus_article_feedless.html"))
    plain = read_article(body, "https://www.spiegel.de/a")
    assert (plain.paywalled, plain.paywall_signal, plain.signals) == (None, None, ())
    rule = ArticleRule(paywall_text=("Weiterlesen mit SPIEGEL+",))
    reading = read_article(body, "https://www.spiegel.de/a", rule=rule)
    assert reading.paywalled is True
    assert reading.paywall_signal == 'text "Weiterlesen mit SPIEGEL+"'


def test_a_configured_selector_is_a_signal() -> None:
    body = without_json_ld(page("fr_lemonde_2023-09-01_fundus.html")).replace(
        b'content="locked"', b""
    )
    assert read_article(body, "https://www.lemonde.fr/a").paywalled is None
    rule = ArticleRule(paywall_selector="section.paywall, .paywall")
    reading = read_article(body, "https://www.lemonde.fr/a", rule=rule)
    assert reading.paywalled is True
    assert reading.paywall_signal == "selector section.paywall, .paywall"


def test_a_page_with_no_signal_reads_as_unknown() -> None:
    body = without_json_ld(page("ua_pravda_2026-01-08_fundus_FREE.html")).replace(
        b'content="free"', b""
    )
    reading = read_article(body, "https://www.pravda.com.ua/a")
    assert reading.paywalled is None
    assert reading.paywall_signal is None
    assert reading.content_tier is None
    # The rest still comes from the page's meta tags and markup.
    assert reading.title
    assert reading.canonical == "https://www.pravda.com.ua/rus/articles/2026/01/08/8015225/"


def test_monitor_article_prints_the_reading_of_a_served_page(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = site.set("/news/1-story/", page("de_krautreporter_2024-08-22_fundus.html"))
    done = run_monitor("--config", str(tmp_path / "none.toml"), "article", url, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["paywalled"] is True
    assert data["paywall_signal"] == 'json-ld isAccessibleForFree="False"'
    assert data["content_tier"] is None
    assert data["published"] == "2024-08-22T10:00:00+00:00"
    assert data["modified"] == "2024-08-22T10:00:00+00:00"
    assert data["canonical"].startswith("https://krautreporter.de/")
    assert data["title"] == "„Ich wollte, dass sie mich mögen. So überlebt man.“"
    assert not (tmp_path / "state.db").exists()
    text = run_monitor("--config", str(tmp_path / "none.toml"), "article", url)
    assert text.returncode == 0
    assert "paywalled:      yes" in text.stdout
    assert 'also:           json-ld hasPart isAccessibleForFree="False"' in text.stdout


def test_monitor_article_on_a_missing_page_fails_with_the_status(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = run_monitor("--config", str(tmp_path / "none.toml"), "article", site.url("/news/gone/"))
    assert done.returncode == 1
    assert "HTTP 404" in done.stderr


# -- helpers ------------------------------------------------------------------------------


def without_json_ld(body: bytes) -> bytes:
    return re.sub(
        rb'<script[^>]*type="application/ld\+json"[^>]*>.*?</script>', b"", body, flags=re.S | re.I
    )


def edit_json_ld(body: bytes, kind: str, change: object) -> bytes:
    """The page with the JSON-LD object of type `kind` edited by `change`."""
    tree = LexborHTMLParser(body)
    for script in tree.css('script[type="application/ld+json"]'):
        raw = script.text(deep=True)
        data = json.loads(raw)
        if isinstance(data, dict) and data.get("@type") == kind:
            change(data)  # type: ignore[operator]
            return body.replace(raw.encode(), json.dumps(data, ensure_ascii=False).encode())
    raise AssertionError(f"no {kind} JSON-LD")
