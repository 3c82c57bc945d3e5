"""The first minutes: `monitor demo`, `init`, `sources add|list|remove`, `discover`, `schema`.

All through the real command line in a subprocess, against pages served on 127.0.0.1.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from monitor.config.file import template_text
from tests.conftest import CORPUS, ROOT, run_monitor

PLUS = "The material is available only to POZIRK+"


def teasers(titles: list[str], *, plus: tuple[int, ...] = (), feed: str | None = None) -> str:
    """A section page: a teaser per title, some marked `Plus`; optionally advertising a feed."""
    cards = []
    for n, title in enumerate(titles):
        mark = '<span class="badge-premium">Plus</span>' if n in plus else ""
        slug = title.lower().replace(" ", "-")
        cards.append(
            f'<article class="teaser"><a href="/news/{slug}-{1000 + n}.html">'
            f'<img src="/i/{n}.jpg" alt=""><h2>{title}</h2></a>{mark}'
            f"<p>What happened, in one sentence.</p></article>"
        )
    link = f'<link rel="alternate" type="application/rss+xml" href="{feed}">' if feed else ""
    nav = '<nav><a href="/news/">News</a> <a href="/about/">About</a></nav>'
    return f"<html><head>{link}</head><body>{nav}<main>{''.join(cards)}</main></body></html>"


TITLES = [
    "Parliament passes the budget after a long night",
    "Storm closes the coastal road for two days",
    "Museum reopens with a new wing for modern art",
    "Football club signs a striker from abroad",
    "City council debates the price of bus tickets",
]

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>
<item><title>First story in the feed today</title><link>http://example.org/a</link></item>
<item><title>Second story in the feed today</title><link>http://example.org/b</link></item>
</channel></rss>"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The starter config plus a channel that lists its sources, as a user might have it."""
    path = tmp_path / "monitor.toml"
    result = run_monitor("init", str(path))
    assert result.returncode == 0, result.stderr
    with path.open("a", encoding="utf-8") as out:
        out.write(
            "\n# Alerts for the sources I care about most.\n"
            "[channels.alerts]\n"
            'urls = ["json://127.0.0.1:9/hook"]   # a local test endpoint\n'
            'sources = ["pozirk-politics"]\n'
        )
    return path


def in_order(original: list[str], edited: list[str]) -> bool:
    """Every line of `original` is in `edited`, in the same order."""
    rest = iter(edited)
    return all(any(line == other for other in rest) for line in original)


# -- demo -------------------------------------------------------------------------------------


def test_demo_runs_offline_and_shows_new_items_and_the_alert(tmp_path: Path) -> None:
    result = run_monitor("demo", env={"MONITOR_CONFIG": str(tmp_path / "none.toml")})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "First poll: 8 items, 3 of them POZIRK+" in out
    events = out.split("Second poll:")[1].split("The alerts")[0]
    assert "new      PAID     Politics, Security  Belarus envoy details Trump-Łukašenka call" in (
        events
    )
    assert "new      free     Politics            Septuagenarian activist added to extremist" in (
        events
    )
    assert "paywalled: True -> False" in events
    alert = out.split("received them (1):")[1]
    assert "┌ [news-monitor] 2 new items, 2 changed items: pozirk-politics" in alert
    assert "│ 🔒 Belarus envoy details Trump-Łukašenka call" in alert
    assert (
        "│ headline changed from «Iran’s president to visit Minsk next week»"
        " to «Iran’s president to visit Minsk on Monday»" in alert
    )
    assert "│ now free" in alert
    assert "http://127.0.0.1:" in alert
    assert "monitor init" in out.splitlines()[-2]


# -- init -------------------------------------------------------------------------------------


def test_init_writes_the_commented_example_that_validates(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "monitor.toml"
    result = run_monitor("init", str(path))
    assert result.returncode == 0, result.stderr
    assert path.read_text(encoding="utf-8") == template_text()
    assert f"Wrote {path}: sources pozirk-politics" in result.stdout
    checked = run_monitor("validate", config=path)
    assert checked.returncode == 0, checked.stderr
    assert f"{path}: OK (1 sources, 0 channels, database {path.parent}/monitor.db)" in (
        checked.stdout
    )


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text("# mine\n", encoding="utf-8")
    result = run_monitor("init", str(path))
    assert result.returncode == 2
    assert "exists; not overwritten (use --force" in result.stderr
    assert path.read_text(encoding="utf-8") == "# mine\n"
    assert run_monitor("init", str(path), "--force").returncode == 0
    assert path.read_text(encoding="utf-8") == template_text()


def test_init_names_the_profiles_there_are(tmp_path: Path) -> None:
    result = run_monitor("init", str(tmp_path / "m.toml"), "--profile", "nosuch")
    assert result.returncode == 2
    assert "unknown profile 'nosuch'; available profiles: pozirk" in result.stderr
    assert not (tmp_path / "m.toml").exists()


def test_the_shipped_template_is_the_example_config() -> None:
    example = (ROOT / "config" / "monitor.example.toml").read_text(encoding="utf-8")
    assert template_text() == example


# -- sources add ------------------------------------------------------------------------------


def test_sources_add_discovers_the_rule_and_keeps_every_line(site, config: Path) -> None:
    url = site.set("/world/", teasers(TITLES, plus=(1, 3)))
    original = config.read_text(encoding="utf-8")
    result = run_monitor(
        "sources", "add", url, "--name", "world", "--interval", "5m", "--channel", "alerts",
        "--yes", config=config,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Proposed rule: 5 items, 2 paywalled." in result.stdout
    assert "Paywall: 2 of 5 items marked by `span.badge-premium`." in result.stdout
    assert "Storm closes the coastal road for two days" in result.stdout
    assert f"Added source 'world' to {config} (2 sources)." in result.stdout
    edited = config.read_text(encoding="utf-8")
    # Every line of the original is kept, in order; the channel's list is the one changed.
    gone = [line for line in original.splitlines() if line not in edited.splitlines()]
    assert gone == ['sources = ["pozirk-politics"]']
    assert 'sources = ["pozirk-politics", "world"]' in edited.splitlines()
    assert in_order(
        [line for line in original.splitlines() if line not in gone], edited.splitlines()
    )
    data = tomllib.loads(edited)
    added = data["sources"][-1]
    assert added["name"] == "world"
    assert added["url"] == url
    assert added["interval"] == "5m"
    assert added["rule"]["item"] == "article.teaser"
    assert added["rule"]["paywall_selector"] == ".badge-premium"
    assert data["channels"]["alerts"]["sources"] == ["pozirk-politics", "world"]
    # The new source sits after the last source, before the comments about channels.
    assert edited.index('name = "world"') < edited.index("# Channels: where alerts go")
    checked = run_monitor("preview", "world", "--json", config=config)
    assert checked.returncode == 0, checked.stderr
    assert sum(item["paywalled"] for item in json.loads(checked.stdout)) == 2


def test_a_rejected_edit_leaves_the_file_byte_identical(site, config: Path) -> None:
    url = site.set("/world/", teasers(TITLES))
    before = config.read_bytes()
    bad_interval = run_monitor("sources", "add", url, "--interval", "soon", "--yes", config=config)
    assert bad_interval.returncode == 2
    assert bad_interval.stderr == (
        "error: --interval: 'soon' is not a duration: use seconds or '45s', '10m', '1h'\n"
    )
    no_channel = run_monitor("sources", "add", url, "--channel", "nosuch", "--yes", config=config)
    assert no_channel.returncode == 2
    assert f"no channel named 'nosuch' in {config} (configured: alerts)" in no_channel.stderr
    # Options that cannot work are refused before the page is fetched.
    assert site.requests_for("/world/") == []
    taken = run_monitor("sources", "add", url, "--name", "pozirk-politics", config=config)
    assert taken.returncode == 2
    assert "a source named 'pozirk-politics' exists already" in taken.stderr
    assert config.read_bytes() == before
    assert [p.name for p in config.parent.iterdir() if p.name.startswith(".")] == []


def test_sources_add_takes_a_feed_as_a_feed(site, config: Path) -> None:
    url = site.set("/feed.xml", RSS, content_type="application/rss+xml")
    original = config.read_text(encoding="utf-8").splitlines()
    result = run_monitor("sources", "add", url, "--name", "feed", "--yes", config=config)
    assert result.returncode == 0, result.stderr
    assert f"{url} is a feed with 2 entries:" in result.stdout
    edited = config.read_text(encoding="utf-8")
    assert in_order(original, edited.splitlines())
    assert len(edited.splitlines()) == len(original) + 6
    added = tomllib.loads(edited)["sources"][-1]
    assert added == {"name": "feed", "url": url, "kind": "feed"}


def test_a_page_advertising_a_feed_without_a_terminal_is_added_as_a_page(
    site, config: Path
) -> None:
    feed = site.set("/feed.xml", RSS, content_type="application/rss+xml")
    url = site.set("/world/", teasers(TITLES, feed="/feed.xml"))
    result = run_monitor("sources", "add", url, "--name", "page", config=config)
    assert result.returncode == 0, result.stderr
    assert f"1. {feed} (application/rss+xml)" in result.stdout
    assert "Adding the page itself (no terminal to ask; use --feed to take the feed)." in (
        result.stdout
    )
    with_feed = run_monitor("sources", "add", url, "--name", "its-feed", "--feed", config=config)
    assert with_feed.returncode == 0, with_feed.stderr
    sources = tomllib.loads(config.read_text(encoding="utf-8"))["sources"]
    assert [(s["name"], s["url"], s.get("kind")) for s in sources[-2:]] == [
        ("page", url, None),
        ("its-feed", feed, "feed"),
    ]


def test_sources_list_and_remove(site, config: Path) -> None:
    url = site.set("/world/", teasers(TITLES))
    added = run_monitor(
        "sources", "add", url, "--name", "world", "--channel", "alerts", "-y", config=config
    )
    assert added.returncode == 0, added.stderr
    listed = json.loads(run_monitor("sources", "list", "--json", config=config).stdout)
    assert [(s["name"], s["rule"], s["channels"]) for s in listed] == [
        ("pozirk-politics", "profile pozirk", ["alerts"]),
        ("world", "article.teaser", ["alerts"]),
    ]
    before = config.read_text(encoding="utf-8")
    removed = run_monitor("sources", "remove", "pozirk-politics", config=config)
    assert removed.returncode == 0, removed.stderr
    after = config.read_text(encoding="utf-8")
    data = tomllib.loads(after)
    assert [s["name"] for s in data["sources"]] == ["world"]
    assert data["channels"]["alerts"]["sources"] == ["world"]
    kept = [line for line in before.splitlines() if "pozirk" not in line.lower()]
    assert in_order(kept[:20], after.splitlines())
    last = run_monitor("sources", "remove", "world", config=config)
    assert last.returncode == 2
    assert "channel 'alerts' lists only 'world'" in last.stderr
    assert config.read_text(encoding="utf-8") == after


# -- discover / schema ------------------------------------------------------------------------


def test_discover_json_on_a_saved_page(corpus: Path) -> None:
    page = corpus / "listing" / "de_volksstimme_blaulicht_2026-03-01.html"
    result = run_monitor("discover", str(page), "--json", "--base-url", "https://volksstimme.de/")
    assert result.returncode == 0, result.stderr
    proposals = json.loads(result.stdout)
    best = proposals[0]
    assert (best["items"], best["paywalled"]) == (80, 23)
    assert set(best["rule"]) >= {
        "item", "title", "link", "section", "date", "paywall_text", "paywall_selector",
    }  # fmt: skip
    assert best["rule"]["paywall_selector"] == ".fp-paid-article__article"
    assert best["paywall"] == "23 of 80 items marked by `h3.fp-paid-article__article`"


def test_discover_on_a_url(site) -> None:
    url = site.set("/world/", teasers(TITLES, plus=(0, 2)))
    result = run_monitor("discover", url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("#1: 5 items, 2 paywalled\n")
    assert 'item = "article.teaser"' in result.stdout


def test_schema_describes_every_key() -> None:
    result = run_monitor("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["title"] == "news-monitor config"
    missing = []
    for where, node in [("config", schema), *schema["$defs"].items()]:
        for key, prop in node.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{where}.{key}")
    assert missing == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not found")
def test_preview_takes_an_id_pattern(tmp_path: Path, site) -> None:
    url = site.set("/world/", teasers(TITLES))
    result = run_monitor(
        "preview", url, "--item", "article.teaser", "--id-pattern", r"-(\d+)\.html", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert [i["key"] for i in json.loads(result.stdout)] == ["1000", "1001", "1002", "1003", "1004"]
