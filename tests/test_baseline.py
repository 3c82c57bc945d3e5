"""Baselines need items: a poll that finds nothing, a bot check or a consent wall is never
the baseline, never an empty listing and never a mass removal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Site, free_port, run_monitor
from tests.listing_pages import check, page, source_table, write_config
from tests.receivers import Webhook

CLOUDFLARE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow"></head><body class="no-js">
<div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">news.example</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<div id="challenge-body-text" class="core-msg spacer">news.example needs to review the
security of your connection before proceeding.</div>
<form id="challenge-form" action="/politics?__cf_chl_f_tk=abc" method="POST"></form>
</div></div><script>(function(){window._cf_chl_opt={cvId: '2'};}());</script>
</body></html>"""

NO_ITEMS = (
    "FAILED: no items found on the page, so there is nothing to take as the baseline"
    " (see what the rule finds with `monitor preview`)"
)


def test_a_first_poll_that_finds_nothing_is_not_the_baseline(site: Site, tmp_path: Path):
    url = site.set("/politics", "<html><body><p>Coming soon</p></body></html>")
    config = write_config(tmp_path, source_table(url))

    run = check(config)
    assert (run.code, run.events, run.line()) == (1, [], NO_ITEMS)

    # The selector matches from now on: that poll is the silent baseline, not "3 new".
    site.set("/politics", page([3, 2, 1]))
    run = check(config)
    assert (run.code, run.events, run.line()) == (0, [], "baseline, 3 items, no events")

    site.set("/politics", page([4, 3, 2, 1]))
    assert check(config).kinds() == [("new", "Story number 4")]


def test_a_bot_check_on_the_first_poll_is_a_health_event_and_the_real_page_the_baseline(
    site: Site, tmp_path: Path
):
    url = site.set("/politics", CLOUDFLARE, status=200)
    config = write_config(tmp_path, source_table(url))

    run = check(config)

    assert run.code == 1
    assert run.line() == "FAILED: blocked by a bot check (Cloudflare challenge)"
    assert run.kinds() == [("health", "blocked by a bot check (Cloudflare challenge)")]
    status = json.loads(run_monitor("status", "--json", config=config).stdout)
    (news,) = [s for s in status["sources"] if s["name"] == "news"]
    assert news["last_error"] == "blocked by a bot check (Cloudflare challenge)"

    site.set("/politics", page([3, 2, 1]))
    run = check(config)
    assert run.line() == "baseline, 3 items, 1 health"
    assert run.kinds() == [("health", "recovered: polling works again")]


def test_a_bot_check_between_real_polls_is_told_once_and_removes_nothing(
    site: Site, tmp_path: Path
):
    hook = Webhook(free_port()).start()
    try:
        url = site.set("/politics", page(range(20, 0, -1)))
        config = write_config(tmp_path, source_table(url), channel=hook.url())
        assert check(config).line() == "baseline, 20 items, no events"

        site.set("/politics", CLOUDFLARE)
        first, second, third = check(config), check(config), check(config)
        assert first.kinds() == [("health", "blocked by a bot check (Cloudflare challenge)")]
        # Said once per outage: no repeat, and no "failing" count on top of it.
        assert second.events == [] and third.events == []
        assert {first.code, second.code, third.code} == {1}

        # Back, with one story on top (and one scrolled off the end): just that.
        site.set("/politics", page(range(21, 1, -1)))
        run = check(config)
        assert run.kinds() == [
            ("health", "recovered: polling works again"),
            ("new", "Story number 21"),
        ]
        told = "\n".join(hook.messages())
        assert told.count("blocked by a bot check") == 1
        assert told.count("recovered: polling works again") == 1
        assert "Story number 21" in told
        assert "removed" not in told.lower() and "Story number 1\n" not in told
    finally:
        hook.stop()


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        (
            "<html><head><title>Один момент…</title></head><body><p>Проверка браузера перед"
            " переходом на сайт.</p></body></html>",
            'blocked by a bot check (title "Один момент…")',
        ),
        (
            "<html><head><title>DDoS-Guard</title></head><body><h1>Checking your browser"
            " before accessing news.example</h1></body></html>",
            'blocked by a bot check (title "DDoS-Guard")',
        ),
        (
            "<html><head><title>Sprawdzanie</title></head><body><p>Potwierdź, że jesteś"
            " człowiekiem.</p><div class='g-recaptcha'></div></body></html>",
            'blocked by a bot check ("jesteś człowiekiem")',
        ),
        (
            "<html><head><title>Хвілінку…</title></head><body><p>Праверка браўзера</p>"
            "</body></html>",
            'blocked by a bot check (title "Хвілінку…")',
        ),
        (
            "<html><head><title>Новини</title></head><body><p>Перевірка браузера: підтвердіть,"
            " що ви не робот.</p></body></html>",
            'blocked by a bot check ("Перевірка браузера")',
        ),
        (
            "<html><head><title>Zeit Online</title></head><body><h1>Zustimmung</h1><p>Wir"
            " verwenden Cookies. Bitte stimmen Sie zu, um die Seite zu nutzen.</p>"
            "<button>Alle akzeptieren</button></body></html>",
            'blocked by a consent wall ("Zustimmung" and "akzeptieren")',
        ),
    ],
    ids=["ru-cloudflare", "ddos-guard", "pl-captcha", "be-cloudflare", "uk-check", "de-consent"],
)
def test_bot_checks_and_consent_walls_in_the_languages_followed_are_blocked_polls(
    site: Site, tmp_path: Path, markup: str, reason: str
):
    url = site.set("/politics", markup)
    config = write_config(tmp_path, source_table(url))

    run = check(config)

    assert (run.code, run.line()) == (1, f"FAILED: {reason}")
    assert run.kinds() == [("health", reason)]
