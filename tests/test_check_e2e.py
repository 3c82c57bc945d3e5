"""`monitor check` end to end: a real HTTP server, a real SQLite file, the real CLI."""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path

import pytest

from tests.conftest import CORPUS, Site, free_port, run_monitor

SEED = CORPUS.parent / "seeds" / "000_cbd30e8fe4be2a92.txt"
MARKER = "The material is available only to POZIRK+"


def seed_teasers() -> list[tuple[str, str]]:
    """(section, title) of every paywalled teaser in the seed text."""
    teasers = []
    for line in SEED.read_text(encoding="utf-8").splitlines():
        if not (line.startswith("- ") and line.endswith(MARKER)):
            continue
        text = line[2:].removesuffix(MARKER)
        match = re.match(r"((?:Politics|Society|Economy|Security)(?:, (?:Security))?)(.*)", text)
        assert match, line
        teasers.append((match.group(1), match.group(2)))
    return teasers


def section_page(teasers: list[tuple[str, str, bool]]) -> str:
    """A listing page in markup the Pozirk profile was not written for."""
    blocks = []
    for n, (section, title, paid) in enumerate(teasers):
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40]
        marker = f'<span class="lbl">{MARKER}</span>' if paid else ""
        blocks.append(
            f'<li class="feed-row"><span class="rubric">{section}</span>'
            f'<h3><a href="/en/{n:05d}-{slug}/?utm_source=x">{title}</a></h3>{marker}</li>'
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Politics</title></head><body>"
        "<nav><a href='/en/'>Home</a> <a href='/en/politics/'>Politics</a></nav>"
        f"<ul class='stream'>{''.join(blocks)}</ul>"
        "<footer><a href='/en/about/'>About us</a></footer></body></html>"
    )


def write_config(tmp_path: Path, sources: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f'database = "state.db"\n{sources}', encoding="utf-8")
    return path


def check_json(config: Path, *sources: str) -> tuple[int, list[dict], str]:
    result = run_monitor("check", *sources, "--json", "--no-notify", config=config)
    return result.returncode, json.loads(result.stdout or "[]"), result.stderr


@pytest.fixture
def seed() -> list[tuple[str, str]]:
    if not SEED.exists():
        pytest.skip("seed text not found")
    return seed_teasers()


def test_pozirk_section_page_baseline_then_exact_events(site: Site, tmp_path: Path, seed):
    first = [(s, t, True) for s, t in seed[:8]] + [("Society", "A free story about Minsk", False)]
    url = site.set("/en/politics/", section_page(first))
    config = write_config(
        tmp_path,
        f'[[sources]]\nname = "pozirk"\nurl = "{url}"\nprofile = "pozirk"\n'
        # The profile cannot know where this markup keeps the section: the user says so.
        '[sources.rule]\nsection = ".rubric"\n',
    )

    code, events, stderr = check_json(config)
    assert (code, events) == (0, []), stderr
    assert "pozirk: baseline, 9 items, no events" in stderr

    listed = json.loads(run_monitor("items", "--json", config=config).stdout)
    assert {(i["title"], i["section"], i["paywalled"]) for i in listed} == {
        (t, s, p) for s, t, p in first
    }

    # One new POZIRK+ item on top, one headline edited, one paywall lifted, one removed.
    second = list(first)
    second[1] = (first[1][0], first[1][1] + " (updated)", True)
    second[2] = (first[2][0], first[2][1], False)
    removed = second.pop(4)
    second.insert(0, ("Economy", "Rubel falls against the dollar", True))
    # Rebuild with stable links: an item's link derives from its original position.
    page = section_page(first)
    page = page.replace(f">{first[1][1]}<", f">{first[1][1]} (updated)<")
    page = re.sub(
        rf'(<li class="feed-row">(?:(?!</li>).)*?>{re.escape(first[2][1])}</a></h3>)'
        rf'<span class="lbl">{re.escape(MARKER)}</span>',
        r"\1",
        page,
    )
    page = re.sub(
        rf'<li class="feed-row">(?:(?!</li>).)*?>{re.escape(removed[1])}</a></h3>.*?</li>',
        "",
        page,
    )
    new_block = (
        '<li class="feed-row"><span class="rubric">Economy</span>'
        '<h3><a href="/en/99999-rubel-falls/">Rubel falls against the dollar</a></h3>'
        f'<span class="lbl">{MARKER}</span></li>'
    )
    page = page.replace("<ul class='stream'>", "<ul class='stream'>" + new_block)
    site.set("/en/politics/", page)

    code, events, stderr = check_json(config)
    assert code == 0, stderr
    summary = [
        (e["kind"], e["title"], e["section"], e["paywalled"], e["before"], e["after"])
        for e in events
    ]
    assert summary == [
        ("new", "Rubel falls against the dollar", "Economy", True, None, None),
        (
            "changed",
            first[1][1] + " (updated)",
            first[1][0],
            True,
            {"title": first[1][1]},
            {"title": first[1][1] + " (updated)"},
        ),
        ("changed", first[2][1], first[2][0], False, {"paywalled": True}, {"paywalled": False}),
        ("removed", removed[1], removed[0], True, None, None),
    ]
    assert events[0]["url"] == site.url("/en/99999-rubel-falls/")
    assert all(e["source"] == "pozirk" for e in events)

    # Nothing changed: no events, and the server answered 304.
    code, events, stderr = check_json(config)
    assert (code, events) == (0, []), stderr
    assert "not-modified" in stderr
    assert site.requests_for("/en/politics/")[-1].headers.get("If-None-Match")


def test_corpus_pages_a_month_apart_report_the_new_teasers(site: Site, tmp_path: Path, corpus):
    from monitor.extract.html import extract_html
    from monitor.models import Rule

    old = (corpus / "listing" / "de_heise_index_2026-02-01.html").read_bytes()
    new = (corpus / "listing" / "de_heise_index_2026-03-01.html").read_bytes()
    url = site.set("/heise/", old)
    rule = (
        'item = "article[data-component=TeaserContainer]"\n'
        "paywall_selector = \"img[alt='heise Plus']\""
    )
    config = write_config(
        tmp_path, f'[[sources]]\nname = "heise"\nurl = "{url}"\n[sources.rule]\n{rule}\n'
    )
    assert check_json(config)[:2] == (0, [])
    site.set("/heise/", new)
    code, events, stderr = check_json(config)
    assert code == 0, stderr
    parsed_rule = Rule(
        item="article[data-component=TeaserContainer]", paywall_selector="img[alt='heise Plus']"
    )
    old_keys = {i.key for i in extract_html(old, url, parsed_rule)}
    fresh = extract_html(new, url, parsed_rule)
    expected_new = [(i.url, i.paywalled) for i in fresh if i.key not in old_keys]
    assert len(expected_new) > 50  # a month of news: almost the whole page turned over
    assert [(e["url"], e["paywalled"]) for e in events if e["kind"] == "new"] == expected_new
    assert {e["kind"] for e in events} <= {"new", "changed", "removed"}


def test_feed_source_reports_new_entries(site: Site, tmp_path: Path, corpus):
    feed = (corpus / "feed" / "ru_ibash_windows-1251_miniflux.xml").read_bytes()
    # The same feed with its two newest entries not yet published.
    older = re.sub(rb"<item>.*?</item>\s*<item>.*?</item>", b"", feed, count=1, flags=re.S)
    url = site.set("/rss", older, content_type="application/rss+xml")
    config = write_config(tmp_path, f'[[sources]]\nname = "ibash"\nurl = "{url}"\nkind = "feed"\n')
    assert check_json(config)[:2] == (0, [])
    site.set("/rss", feed, content_type="application/rss+xml")
    code, events, stderr = check_json(config)
    assert code == 0, stderr
    assert [(e["kind"], e["url"]) for e in events] == [
        ("new", "http://ibash.org.ru/quote.php?id=17703"),
        ("new", "http://ibash.org.ru/quote.php?id=17705"),
    ]
    assert all(re.search("[а-яА-Я]", e["title"]) for e in events)


def slow_handler(request) -> None:
    time.sleep(3)
    request.send_response(200)
    request.end_headers()


BAD_INPUTS = {
    "http-404": dict(body="gone", status=404),
    "http-500": dict(body="oops", status=500),
    "timeout": dict(handler=slow_handler),
    "not-html": dict(body=b"\x89PNG\r\n\x1a\n" + b"\0" * 100, content_type="image/png"),
    "empty": dict(body=""),
    "truncated-gzip": dict(
        handler=lambda r: (
            r.send_response(200),
            r.send_header("Content-Encoding", "gzip"),
            r.send_header("Content-Length", "60"),
            r.end_headers(),
            r.wfile.write(gzip.compress(b"<html>" + b"x" * 5000)[:60]),
        )
    ),
    "bozo-feed": dict(body="<html><body>not a feed</body></html>"),
    "too-big": dict(body="<html>" + "x" * 300_000 + "</html>"),
}

ERRORS = {
    "http-404": "HTTP 404",
    "http-500": "HTTP 500",
    "timeout": "timed out",
    "refused": "cannot connect",
    "not-html": "image/png",
    "empty": "empty response body",
    "truncated-gzip": "truncated",
    "bozo-feed": "not a feed",
    "too-big": "too large",
}


def test_each_bad_input_is_a_clear_error_and_loses_nothing(site: Site, tmp_path: Path):
    good = "<html><body>" + "".join(
        f"<article><a href='/a/{n}'>Headline number {n}</a></article>" for n in range(3)
    )
    names = [*BAD_INPUTS, "refused"]
    for name in names:
        site.set(f"/{name}", good)
    site.set("/healthy", good)
    refused_port = free_port()
    sources = "read_timeout = 1\ntotal_timeout = 2\nmax_bytes = 200000\n"
    for name in [*names, "healthy"]:
        url = f"http://127.0.0.1:{refused_port}/" if name == "refused" else site.url(f"/{name}")
        kind = "feed" if name == "bozo-feed" else "html"
        rule = '[sources.rule]\nitem = "article"\n' if kind == "html" else ""
        sources += f'[[sources]]\nname = "{name}"\nurl = "{url}"\nkind = "{kind}"\n{rule}'
    config = write_config(tmp_path, sources)

    # Baseline while every page is fine (the refused and the feed one fail already).
    run_monitor("check", "--no-notify", config=config)
    before = json.loads(run_monitor("items", "--json", config=config).stdout)

    for name, spec in BAD_INPUTS.items():
        site.set(f"/{name}", **spec)  # type: ignore[arg-type]
    site.set("/healthy", good.replace("number 2", "number 2 (edited)"))
    code, events, stderr = check_json(config)
    assert code == 1
    for name, message in ERRORS.items():
        line = next(line for line in stderr.splitlines() if line.startswith(f"{name}: "))
        assert "FAILED" in line and message in line, line
    assert "healthy: ok, 3 items, 1 changed" in stderr
    assert [(e["source"], e["kind"]) for e in events] == [("healthy", "changed")]

    after = json.loads(run_monitor("items", "--json", config=config).stdout)
    unchanged = [(i["source"], i["key"], i["title"]) for i in before if i["source"] != "healthy"]
    assert unchanged == [
        (i["source"], i["key"], i["title"]) for i in after if i["source"] != "healthy"
    ]
    assert len(unchanged) == 3 * (len(names) - 2)  # every html source but "refused"
