"""The web view in a real headless browser (Debian's chromium, `--dump-dom`): what the
page is once the browser has parsed and built it: the items table with lock marks, an
item's history, a search that finds Łukašenka for `lukasenka`, and the script headline as
text. Skipped, with the reason, where no chromium is installed (.ci/run installs it)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from tests.conftest import Site
from tests.web_helpers import XSS, Server, known_run, serving

BROWSER = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(
    BROWSER is None,
    reason="no chromium on this machine (apt-get install chromium; .ci/run installs it)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    site = Site()
    try:
        path = known_run(tmp_path_factory.mktemp("browser"), site)
        with serving(path) as running:
            yield running
    finally:
        site.close()


def rendered(server: Server, path: str, profile: Path) -> LexborHTMLParser:
    """The DOM chromium built for the page."""
    assert BROWSER is not None
    result = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            server.base + path,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return LexborHTMLParser(result.stdout)


def test_the_browser_shows_the_items_table_with_lock_marks_and_the_script_as_text(server, tmp_path):
    page = rendered(server, "/items", tmp_path)
    shown = [
        (
            row.css_first("td:nth-child(5)").text(strip=True),
            "locked" if row.css_first("td.mark svg.lock") else "free",
        )
        for row in page.css("table.items tbody tr")
    ]
    assert shown == [
        ("New story", "locked"),
        ("Old story", "locked"),
        (XSS, "free"),
        ("Biełaruski rubiel padaje", "locked"),
        ("Łukašenka's long speech", "free"),
    ]
    # The headline is a text node: the browser built no script element from it.
    assert page.css("script") == []


def test_the_browser_shows_an_items_history(server, tmp_path):
    items = rendered(server, "/items?q=rubiel", tmp_path)
    link = items.css_first("table.items td a").attributes["href"]
    page = rendered(server, link, tmp_path)
    assert page.css_first("h1").text() == "Biełaruski rubiel padaje"
    history = [
        " ".join(li.text(separator=" ", strip=True).split()[2:])
        for li in page.css("ol.history > li")
    ]
    # Both flips concern a paywalled state: the channel for paywalled items owes both.
    assert history == [
        "changed paywall: now free alerted: paid pending",
        "changed paywall: now paywalled alerted: paid pending",
    ]


def test_the_browser_search_finds_lukasenka(server, tmp_path):
    page = rendered(server, "/search?q=lukasenka", tmp_path)
    assert [a.text() for a in page.css("table.items td a")] == ["Łukašenka's long speech"]
    assert page.css_first("form.search input").attributes["value"] == "lukasenka"
