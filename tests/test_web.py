"""The web view over a known run: pages that show what the database holds, escaped, read
only, behind a token where it must be; `monitor serve` refuses an open address without
one."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from tests.conftest import Site, free_port, run_monitor
from tests.web_helpers import XSS, Server, config, known_run, serving


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    site = Site()
    try:
        yield known_run(tmp_path_factory.mktemp("web"), site)
    finally:
        site.close()


@pytest.fixture(scope="module")
def server(run: Path) -> Iterator[Server]:
    with serving(run) as running:
        yield running


def html(response) -> LexborHTMLParser:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return LexborHTMLParser(response.text)


def rows(page: LexborHTMLParser, selector: str = "table.items tbody tr") -> list[list[str]]:
    return [
        [cell.text(strip=True) for cell in row.css("td")]
        for row in page.css(selector)
        if "empty" not in (row.attributes.get("class") or "")
    ]


def paywall_marks(page: LexborHTMLParser) -> list[str]:
    return [
        "locked" if row.css_first("td.mark svg.lock") else "free"
        for row in page.css("table.items tbody tr")
    ]


def test_items_page_lists_every_item_newest_first_with_lock_marks_and_sections(server):
    page = html(server.get("/items"))
    titles = [r[4] for r in rows(page)]
    # Newest first; the first poll's items in the page's order from the bottom.
    assert titles == [
        "New story",
        "Old story",
        XSS,
        "Biełaruski rubiel padaje",
        "Łukašenka's long speech",
    ]
    by_title = {r[4]: r for r in rows(page)}
    marks = dict(zip([r[4] for r in rows(page)], paywall_marks(page), strict=True))
    assert marks == {
        "New story": "locked",
        "Old story": "locked",
        XSS: "free",
        "Biełaruski rubiel padaje": "locked",
        "Łukašenka's long speech": "free",
    }
    assert by_title["New story"][1:4:2] == ["news", "Palityka"]
    assert by_title[XSS][3] == "Hramadstva"


def test_items_filter_by_paywall_section_source_and_event_kind(server):
    def titles(query: str) -> list[str]:
        return sorted(r[4] for r in rows(html(server.get("/items?" + query))))

    assert titles("paywall=free") == sorted([XSS, "Łukašenka's long speech"])
    assert titles("section=Ekanomika") == ["Biełaruski rubiel padaje"]
    assert titles("kind=changed") == sorted(["Biełaruski rubiel padaje", "Łukašenka's long speech"])
    assert titles("kind=new&paywall=paywalled") == ["New story"]
    assert titles("source=elsewhere") == []
    assert titles("source=news&q=rubiel") == ["Biełaruski rubiel padaje"]


def test_an_items_history_shows_every_headline_and_paywall_flip(server):
    page = html(server.get("/items"))
    link = next(
        a.attributes["href"]
        for a in page.css("table.items a")
        if a.text() == "Łukašenka's long speech"
    )
    item = html(server.get(link))
    assert item.css_first("h1").text() == "Łukašenka's long speech"
    changes = [li.text(strip=True) for li in item.css("ol.history ul.changes li")]
    assert changes == ["headline: «Łukašenka's speech» → «Łukašenka's long speech»"]

    rubiel = next(
        a.attributes["href"]
        for a in page.css("table.items a")
        if a.text() == "Biełaruski rubiel padaje"
    )
    flips = [li.text(strip=True) for li in html(server.get(rubiel)).css("ul.changes li")]
    assert flips == ["paywall: now free", "paywall: now paywalled"]


def test_a_script_headline_shows_as_text_and_no_page_carries_script(server):
    for path in ("/", "/items", "/events", "/search?q=script", "/sources"):
        response = server.get(path)
        page = html(response)
        assert page.css("script") == [], path
        assert "<script>alert(1)</script>" not in response.text, path
    titles = [a.text() for a in html(server.get("/items")).css("table.items a")]
    assert XSS in titles


def test_links_are_made_only_for_http_urls(server, run):
    db = run.parent / "monitor.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO items (source, key, url, title, paywalled, first_seen, last_seen)"
            " VALUES ('news', 'js', 'javascript:alert(1)', 'Trap', 0, '2000-01-01', '2000-01-01')"
        )
        item_id = conn.execute("SELECT rowid FROM items WHERE key = 'js'").fetchone()[0]
    try:
        page = html(server.get(f"/items/{item_id}"))
        hrefs = [a.attributes.get("href") or "" for a in page.css("main a")]
        assert [h for h in hrefs if not h.startswith(("/", "http://", "https://"))] == []
        assert page.css_first("dl.item dd").text() == "javascript:alert(1)"
    finally:
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM items WHERE key = 'js'")


def test_every_response_carries_a_strict_content_security_policy(server):
    for path in ("/", "/items", "/feeds/events.atom", "/metrics", "/nowhere"):
        headers = server.get(path).headers
        assert "script-src" not in headers["content-security-policy"]
        assert headers["content-security-policy"].startswith("default-src 'none';")
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_the_view_is_read_only(server):
    response = server.client.post("/items", data={"title": "x"})
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")


def test_search_finds_lukasenka_for_lukasenka_and_belaruski_for_bielaruski(server):
    found = rows(html(server.get("/search?q=lukasenka")))
    assert [r[4] for r in found] == ["Łukašenka's long speech"]
    found = rows(html(server.get("/search?q=belaruski")))
    assert [r[4] for r in found] == ["Biełaruski rubiel padaje"]
    assert rows(html(server.get("/search?q=speech+rubiel"))) == []


def test_events_page_is_a_timeline_newest_first(server):
    page = html(server.get("/events"))
    lines = [
        " ".join(li.text(separator=" ", strip=True).split()[1:])
        for li in page.css("ol.timeline > li")
    ]
    assert [line.split(" news ")[0] for line in lines] == ["changed", "changed", "changed", "new"]
    assert "now paywalled" in lines[0] and "now free" in lines[1]
    kind = html(server.get("/events?kind=new"))
    assert [a.text() for a in kind.css("ol.timeline a.title")] == ["New story"]


def test_sources_page_shows_health_and_healthz_says_no_daemon(server):
    cells = rows(html(server.get("/sources")), "table.sources tbody tr")
    assert [c[:2] for c in cells] == [["news", "ok"]]
    assert cells[0][6] == "5 (5 listed)"
    response = server.get("/healthz")
    assert response.status_code == 503
    assert response.json()["scheduler"].startswith("no monitor daemon runs on")
    assert response.json()["database"] == "writable"


def test_serve_refuses_an_open_address_without_a_token(tmp_path):
    site = Site()
    try:
        path = config(tmp_path, site)
        result = run_monitor("serve", "--listen", f"0.0.0.0:{free_port()}", config=path)
        assert result.returncode == 2
        assert "lets other machines read the monitor: set [web] token" in result.stderr
        path = config(tmp_path, site, web='[web]\nlisten = "0.0.0.0:8080"\n')
        result = run_monitor("validate", config=path)
        assert result.returncode == 2
        assert "web.token" in result.stderr
    finally:
        site.close()


def test_with_a_token_requests_without_it_get_401(tmp_path):
    site = Site()
    try:
        port = free_port()
        web = f'[web]\nlisten = "0.0.0.0:{port}"\ntoken = "${{MONITOR_WEB_TOKEN}}"\n'
        env = {"MONITOR_WEB_TOKEN": "s3cret-token"}
        path = known_run(tmp_path, site, web=web, env=env)
        with serving(path, command=("serve",), port=port, env=env) as server:
            assert server.get("/items").status_code == 401
            assert server.get("/metrics").status_code == 401
            wrong = server.get("/items", Authorization="Bearer nope")
            assert (wrong.status_code, wrong.headers["www-authenticate"]) == (
                401,
                'Bearer realm="news-monitor"',
            )
            right = server.get("/items", Authorization="Bearer s3cret-token")
            assert right.status_code == 200
            assert "New story" in right.text
    finally:
        site.close()


def test_the_command_line_loads_the_web_stack_only_to_serve():
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from monitor.cli import cli\n"
        "for args in (['--help'], ['serve', '--help'], ['items', '--help']):\n"
        "    try:\n"
        "        cli.main(args=args, prog_name='monitor')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    assert [m for m in ("starlette", "uvicorn", "jinja2", "monitor.web.app") if m in loaded] == []
