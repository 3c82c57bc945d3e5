"""Recognising bot checks and consent walls from the page's own words and markup, and never
mistaking a real page (with a cookie banner, a comment captcha, a bot-management script)
for one."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.extract.blocked import Blocked, blocking_page
from tests.conftest import Site
from tests.listing_pages import check, page, source_table, write_config

COOKIE_BANNER = (
    "<div id='onetrust-consent-sdk'><p>Wir verwenden Cookies und ähnliche Technologien."
    " Mit „Alle akzeptieren“ stimmen Sie der Verarbeitung zu.</p>"
    "<button>Alle akzeptieren</button><button>Ablehnen</button></div>"
)


def test_no_page_of_the_corpus_is_taken_for_a_bot_check_or_consent_wall(corpus: Path):
    pages = [p for p in sorted(corpus.rglob("*")) if p.suffix in {".html", ".xml", ".json"}]
    assert len(pages) > 100
    flagged = {p.name: blocking_page(p.read_bytes()) for p in pages}
    assert {name: b for name, b in flagged.items() if b is not None} == {}


def test_a_listing_with_a_cookie_banner_is_read_as_a_listing(site: Site, tmp_path: Path):
    url = site.set("/politics", page([3, 2, 1], banner=COOKIE_BANNER))
    config = write_config(tmp_path, source_table(url))

    run = check(config)

    assert (run.code, run.line()) == (0, "baseline, 3 items, no events")
    assert blocking_page(page([3, 2, 1], banner=COOKIE_BANNER).encode()) is None


def test_a_cookie_banner_on_a_page_with_one_teaser_is_not_a_consent_wall():
    one = page([1], banner=COOKIE_BANNER).replace(
        "</ul>", "</ul>" + "<p>" + "Ein langer Artikeltext über Politik. " * 120 + "</p>"
    )
    assert blocking_page(one.encode()) is None


def test_an_article_with_a_comment_captcha_and_cloudflare_beacon_is_no_bot_check():
    article = (
        "<html><head><title>Budget vote tonight</title>"
        "<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script></head><body>"
        "<article><h1>Budget vote tonight</h1>"
        + "<p>The parliament votes on the budget tonight after a long debate.</p>" * 60
        + "</article><form class='comments'><div class='g-recaptcha'></div></form></body></html>"
    )
    assert blocking_page(article.encode()) is None


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        (
            "<title>Attention Required! | Cloudflare</title><div id='cf-error-details'>"
            "Sorry, you have been blocked</div>",
            Blocked("bot check", "Cloudflare block page"),
        ),
        (
            "<title>Einen Moment…</title><p>Ihr Browser wird überprüft.</p>",
            Blocked("bot check", 'title "Einen Moment…"'),
        ),
        (
            "<title>ok</title><p>Request unsuccessful. Incapsula incident ID: 1-2</p>",
            Blocked("bot check", "Incapsula block page"),
        ),
        (
            "<title>news.example</title><script src='https://ct.captcha-delivery.com/c.js'>"
            "</script>",
            Blocked("bot check", "DataDome captcha"),
        ),
        (
            "<title>Вы не робот?</title><p>Подтвердите, что запросы отправляли вы.</p>",
            Blocked("bot check", 'title "Вы не робот?"'),
        ),
        (
            "<title>Onet</title><p>Dbamy o Twoją prywatność. Używamy plików cookie.</p>"
            "<button>Przejdź do serwisu / Akceptuję</button>",
            Blocked("consent wall", '"cookie" and "Akceptuję"'),
        ),
        (
            "<title>Before you continue to Google</title><p>We use cookies and data to deliver"
            " and maintain services.</p><button>Accept all</button>",
            Blocked("consent wall", '"cookies" and "Accept"'),
        ),
    ],
    ids=["cf-block", "de-cloudflare", "incapsula", "datadome", "ru-yandex", "pl-consent", "en"],
)
def test_bot_checks_and_consent_walls_are_recognised(markup: str, expected: Blocked):
    assert blocking_page(f"<html><body>{markup}</body></html>".encode()) == expected


def test_an_article_about_captchas_is_no_bot_check():
    article = (
        "<html><head><title>Captcha: why the boxes got harder</title></head><body><article>"
        + "<p>Researchers show how image puzzles are solved by machines.</p>" * 80
        + "</article></body></html>"
    )
    assert blocking_page(article.encode()) is None
