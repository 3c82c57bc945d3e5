"""Rules that heal: a page whose markup changes under a source's rule.

The health alert carries discovery's proposal (from the page the poll fetched), `monitor
status` shows it, `monitor sources fix NAME` previews and writes it keeping every other
line of the config, `heal = true` has the daemon write it by itself, and the polls after a
fix alert nothing but what really changes on the page.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import Site, run_monitor

# (slug, headline, premium): two dozen stories, every third one for subscribers.
STORIES = [
    (
        f"2026/03/01/{slug}-{n}",
        headline,
        n % 3 == 0,
    )
    for n, (slug, headline) in enumerate(
        [
            ("storm-closes-ports", "Storm closes the northern ports for a second day"),
            ("budget-talks-stall", "Budget talks stall over the rail investment plan"),
            ("new-bridge-opens", "A new bridge opens after six years of building"),
            ("hospital-staff-strike", "Hospital staff strike for better night shifts"),
            ("river-levels-fall", "River levels fall as the rain moves east"),
            ("school-meals-free", "School meals become free in four more towns"),
            ("airport-expansion-vote", "Council votes on the airport expansion tonight"),
            ("museum-returns-paintings", "Museum returns three paintings to their owners"),
            ("housing-prices-cool", "Housing prices cool for the first time in years"),
            ("tram-line-extended", "The tram line is extended to the university"),
            ("farmers-protest-tariffs", "Farmers protest the new grain tariffs in the capital"),
            ("coach-resigns-after-loss", "The coach resigns after a heavy cup defeat"),
            ("heatwave-warning-issued", "Heatwave warning issued for the weekend"),
            ("library-opens-late", "The city library opens late on weekdays now"),
            ("court-rules-on-data", "Court rules on how long phone data may be kept"),
            ("startup-raises-funds", "A local startup raises funds for battery recycling"),
            ("festival-lineup-announced", "Festival line-up announced with two surprises"),
            ("ferry-fares-rise", "Ferry fares rise by a tenth from next month"),
            ("wolves-return-to-forest", "Wolves return to the eastern forest after a century"),
            ("election-date-set", "The election date is set for the autumn"),
            ("bakery-wins-prize", "A village bakery wins the national bread prize"),
            ("police-review-published", "The police review is published in full"),
            ("water-bills-explained", "Water bills explained: what changes in April"),
            ("choir-tours-abroad", "The youth choir tours abroad for the first time"),
        ],
        start=1,
    )
]


def page_v1(stories: list[tuple[str, str, bool]]) -> str:
    """The site as the source's rule was written for it."""
    teasers = "\n".join(
        f'<article class="teaser"><a href="/{slug}/"><h2>{title}</h2></a>'
        f"<p>What happened, and what comes next for the people it concerns.</p>"
        f"{'<span class=abo>Abo</span>' if paid else ''}</article>"
        for slug, title, paid in stories
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>News</title></head><body>"
        "<nav><a href='/politics/'>Politics</a> <a href='/sport/'>Sport</a></nav>"
        f"<main><section class='news'>{teasers}</section></main>"
        "<footer><a href='/about/'>About us</a></footer></body></html>"
    )


def page_v2(stories: list[tuple[str, str, bool]]) -> str:
    """The same stories after a redesign: other blocks, another badge, and a "most read"
    box linking five of them again."""
    cards = "\n".join(
        f'<div class="story-card"><img src="/img/{n}.jpg" alt="">'
        f'<h3 class="story-card__title"><a href="/{slug}/">{title}</a></h3>'
        f"<p>What happened, and what comes next for the people it concerns.</p>"
        f"{'<span class=badge-premium>Premium</span>' if paid else ''}</div>"
        for n, (slug, title, paid) in enumerate(stories)
    )
    most_read = "".join(
        f'<li><a href="/{slug}/">{title}</a></li>' for slug, title, _ in stories[:5]
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>News</title></head><body>"
        "<header><a href='/politics/'>Politics</a> <a href='/sport/'>Sport</a></header>"
        f"<div class='stream'>{cards}</div>"
        f"<aside class='most-read'><h4>Most read</h4><ol>{most_read}</ol></aside>"
        "<footer><a href='/about/'>About us</a></footer></body></html>"
    )


RULE = '[sources.rule]\nitem = "article.teaser"  # the teaser blocks\npaywall_selector = ".abo"\n'


def write_config(tmp_path: Path, url: str, *, heal: bool = False, extra: str = "") -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(
        "# News we watch\n"
        'database = "state.db"\n'
        f"{extra}"
        "\n[[sources]]\n"
        'name = "news"\n'
        f'url = "{url}"\n'
        'interval = "1s"\n'
        f"{'heal = true' + chr(10) if heal else ''}"
        f"{RULE}"
        "\n# Another site, untouched by a fix of the first\n"
        "[[sources]]\n"
        'name = "other"\n'
        f'url = "{url}other/"\n'
        "[sources.rule]\n"
        'item = "article.teaser"\n',
        encoding="utf-8",
    )
    return path


def check(config: Path) -> list[dict]:
    result = run_monitor("check", "news", "--json", "--no-notify", config=config)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def local_clock(at: str) -> str:
    return datetime.fromisoformat(at).astimezone().strftime("%H:%M")


def fixed_config(url: str, *, heal: bool = False) -> str:
    """The config after the fix: the rule's keys changed, every other line as it was."""
    return (
        "# News we watch\n"
        'database = "state.db"\n'
        "\n[[sources]]\n"
        'name = "news"\n'
        f'url = "{url}"\n'
        'interval = "1s"\n'
        f"{'heal = true' + chr(10) if heal else ''}"
        "[sources.rule]\n"
        'item = "div.story-card"  # the teaser blocks\n'
        'paywall_selector = ".badge-premium"\n'
        'title = "h3"\n'
        "\n# Another site, untouched by a fix of the first\n"
        "[[sources]]\n"
        'name = "other"\n'
        f'url = "{url}other/"\n'
        "[sources.rule]\n"
        'item = "article.teaser"\n'
    )


def test_a_redesign_is_alerted_with_the_proposal_fixed_by_sources_fix_and_then_quiet(
    site: Site, tmp_path: Path
):
    url = site.set("/news/", page_v1(STORIES))
    config = write_config(tmp_path, url)
    assert check(config) == []  # the baseline

    site.set("/news/", page_v2(STORIES))
    (event,) = check(config)
    assert event["kind"] == "health"
    assert event["detail"] == (
        f"`article.teaser` matches nothing since {local_clock(event['at'])} (the last poll"
        " listed 24); proposed: `div.story-card`, 24 items, 8 paywalled;"
        " run `monitor sources fix news`"
    )
    # Polls while it stays broken say nothing more.
    assert check(config) == []

    status = run_monitor("status", config=config)
    assert f"news: {event['detail']}\n" in status.stdout
    as_json = json.loads(run_monitor("status", "--json", config=config).stdout)
    assert [s["health_detail"] for s in as_json["sources"]] == [event["detail"], None]

    # Without a terminal and without --yes: a preview, nothing written.
    before = config.read_text(encoding="utf-8")
    preview = run_monitor("sources", "fix", "news", config=config)
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.startswith(
        f"news: `article.teaser` finds 0 items on {url}.\n"
        "Proposed: item `article.teaser` → `div.story-card`, title unset → `h3`,"
        " paywall_selector `.abo` → `.badge-premium`\n"
        "With it: 24 items, 8 paywalled.\n"
    )
    assert "Storm closes the northern ports for a second day" in preview.stdout
    assert preview.stdout.endswith(
        "Nothing written; run `monitor sources fix news --yes` to apply it.\n"
    )
    assert config.read_text(encoding="utf-8") == before

    fixed = run_monitor("sources", "fix", "news", "--yes", config=config)
    assert fixed.returncode == 0, fixed.stderr
    assert f"Fixed source 'news' in {config}." in fixed.stdout
    assert config.read_text(encoding="utf-8") == fixed_config(url)

    # The next poll re-reads the listing with the new rule: no alert, health is ok again.
    result = run_monitor("check", "news", "--json", "--no-notify", config=config)
    assert json.loads(result.stdout) == []
    assert "news: rebaseline, 24 items, no events" in result.stderr
    as_json = json.loads(run_monitor("status", "--json", config=config).stdout)
    news = as_json["sources"][0]
    assert (news["name"], news["health"], news["health_detail"]) == ("news", "ok", None)
    assert check(config) == []

    # What really changes on the page is alerted as before.
    fresh = ("2026/03/02/tunnel-reopens-99", "The harbour tunnel reopens to lorries", True)
    site.set("/news/", page_v2([fresh, *STORIES]))
    assert [(e["kind"], e["title"], e["paywalled"]) for e in check(config)] == [
        ("new", "The harbour tunnel reopens to lorries", True)
    ]


def test_a_source_with_heal_gets_its_rule_rewritten_by_the_daemon_with_one_alert(
    site: Site, tmp_path: Path
):
    pytest.importorskip("monitor.alerts.notify")
    from tests.daemon_helpers import DaemonProcess, Receiver, db_events

    receiver = Receiver()
    try:
        url = site.set("/news/", page_v1(STORIES))
        site.set("/news/other/", page_v1(STORIES[:4]))
        config = write_config(
            tmp_path, url, heal=True, extra=f'\n[channels.local]\nurls = ["{receiver.url}"]\n'
        )
        with DaemonProcess(config) as daemon:
            at = daemon.wait_log("news: baseline, 24 items")
            site.set("/news/", page_v2(STORIES))
            daemon.wait(receiver.received, "the health alert")
            at = daemon.wait_log("news: rebaseline, 24 items", after=at)
            # Two more polls of the healed source, then a story that is really new.
            for _ in range(2):
                at = daemon.wait_log("news: not-modified, 24 items", after=at)
            fresh = ("2026/03/02/tunnel-reopens-99", "The harbour tunnel reopens to lorries", True)
            site.set("/news/", page_v2([fresh, *STORIES]))
            daemon.wait(lambda: len(receiver.received()) >= 2, "the alert of the new story")
            daemon.wait_log("news: not-modified, 25 items", after=at)
            assert daemon.stop() == 0
        healed = next(e for e in db_events(tmp_path / "state.db") if e["kind"] == "health")
        assert healed["detail"].startswith("`article.teaser` matches nothing since ")
        assert healed["detail"].endswith(
            " (the last poll listed 24); rule healed: item `article.teaser` → `div.story-card`,"
            " title unset → `h3`, paywall_selector `.abo` → `.badge-premium` (24 items,"
            f" 8 paywalled), written to {config}; the next poll re-reads the listing with it"
        )
        assert [(e["source"], e["kind"], e["title"]) for e in db_events(tmp_path / "state.db")] == [
            ("news", "health", None),
            ("news", "new", "The harbour tunnel reopens to lorries"),
        ]
        first, second = receiver.received()
        assert "rule healed" in first["message"]
        assert "The harbour tunnel reopens to lorries" in second["title"] + second["message"]
        assert len(receiver.received()) == 2
        assert config.read_text(encoding="utf-8") == fixed_config(url, heal=True).replace(
            'database = "state.db"\n',
            f'database = "state.db"\n\n[channels.local]\nurls = ["{receiver.url}"]\n',
        )
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def test_heal_leaves_the_config_alone_when_the_proposal_finds_far_fewer_items(
    site: Site, tmp_path: Path
):
    url = site.set("/news/", page_v1(STORIES))
    config = write_config(tmp_path, url, heal=True)
    assert check(config) == []
    # The listing is gone; only a box with five of its stories is left.
    box = "".join(f'<li><a href="/{slug}/">{title}</a></li>' for slug, title, _ in STORIES[:5])
    site.set("/news/", f"<html><body><h4>Most read</h4><ol>{box}</ol></body></html>")
    before = config.read_text(encoding="utf-8")
    result = run_monitor("check", "news", "--json", "--no-notify", config=config)
    (event,) = json.loads(result.stdout)
    assert event["detail"] == (
        f"`article.teaser` matches nothing since {local_clock(event['at'])} (the last poll"
        " listed 24); proposed (not applied by itself: it finds 5 items where the listing"
        " showed 24): `li`, 5 items, 0 paywalled; run `monitor sources fix news`"
    )
    assert config.read_text(encoding="utf-8") == before


def test_a_page_with_no_list_of_articles_left_says_so(site: Site, tmp_path: Path):
    url = site.set("/news/", page_v1(STORIES))
    config = write_config(tmp_path, url)
    assert check(config) == []
    site.set("/news/", "<html><body><p>We are down for maintenance.</p></body></html>")
    (event,) = check(config)
    assert event["detail"] == (
        f"`article.teaser` matches nothing since {local_clock(event['at'])} (the last poll"
        " listed 24); discovery found no other list of articles on the page"
    )
    fix = run_monitor("sources", "fix", "news", "--yes", config=config)
    assert (fix.returncode, fix.stdout) == (
        0,
        f"news: nothing to fix: no rule discovery proposes finds more items on {url}"
        " than `article.teaser`.\n",
    )


def test_sources_fix_of_a_working_rule_changes_nothing(site: Site, tmp_path: Path):
    url = site.set("/news/", page_v1(STORIES))
    config = write_config(tmp_path, url)
    before = config.read_text(encoding="utf-8")
    fix = run_monitor("sources", "fix", "news", "--yes", config=config)
    assert fix.returncode == 0, fix.stderr
    assert fix.stdout.startswith("news: nothing to fix")
    assert config.read_text(encoding="utf-8") == before
    unknown = run_monitor("sources", "fix", "nope", config=config)
    assert unknown.returncode == 2
    assert "no source named 'nope' (configured: news, other)" in unknown.stderr
