"""`monitor preview`: what a rule extracts, as a table or JSON, touching no state."""

import json

from tests.conftest import run_monitor


def test_preview_with_rule_options_on_a_corpus_page(site, tmp_path, corpus):
    url = site.set("/bild/", (corpus / "listing" / "de_bild_politik_2026-03-01.html").read_bytes())
    result = run_monitor(
        "preview",
        url,
        "--item",
        "article.stage-teaser",
        "--paywall-selector",
        "span.teaser__premium-icon",
        "--json",
        config=tmp_path / "absent.toml",
    )
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert 31 <= len(items) <= 39  # the manifest counts 35 teasers, 8 of them BILDplus
    assert 7 <= sum(i["paywalled"] for i in items) <= 9
    assert set(items[0]) >= {"url", "title", "section", "paywalled", "published"}
    assert all(i["url"].startswith("http") for i in items)
    assert list(tmp_path.iterdir()) == []


def test_preview_table_shows_paywall_column_and_advertised_feeds(site, tmp_path):
    page = (
        "<html><head><link rel='alternate' type='application/rss+xml' title='All news'"
        " href='/rss.xml'></head><body>"
        "<article><a href='/a/1'>Free headline for everyone</a></article>"
        "<article><a href='/a/2'>Locked headline for subscribers</a><i>Plus</i></article>"
        "</body></html>"
    )
    url = site.set("/news/", page)
    result = run_monitor(
        "preview",
        url,
        "--item",
        "article",
        "--paywall-text",
        "Plus",
        config=tmp_path / "absent.toml",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["#", "paywall", "section", "title"]
    assert "free" in lines[2] and "Free headline for everyone" in lines[2]
    assert "PAID" in lines[3] and "Locked headline for subscribers" in lines[3]
    assert "2 items, 1 paywalled (html" in result.stdout
    assert f"feed advertised: {site.url('/rss.xml')}" in result.stdout


def test_preview_guesses_a_feed(site, tmp_path, corpus):
    url = site.set(
        "/feed",
        (corpus / "feed" / "en_hackernews_rss_feedjira.xml").read_bytes(),
        content_type="text/xml",
    )
    result = run_monitor("preview", url, "--json", config=tmp_path / "absent.toml")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 30


def test_preview_of_a_dead_url_is_a_clear_error(tmp_path):
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/news/"
    result = run_monitor("preview", url, "--item", "article", config=tmp_path / "absent.toml")
    assert result.returncode == 1
    assert result.stderr == f"error: {url}: cannot connect: All connection attempts failed\n"
