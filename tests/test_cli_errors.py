"""What a newcomer sees when a command is given something that cannot work: one line
naming the option, key, URL or host at fault, and the exit status (2 for what the user
typed or configured, 1 for a page that could not be fetched), never a traceback.

Through the real command line in a subprocess (or in-process where the resolver must
fail), against pages served on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import Site, free_port, run_monitor

TITLES = [
    "Parliament passes the budget after a long night",
    "Storm closes the coastal road for two days",
    "Museum reopens with a new wing for modern art",
    "Football club signs a striker from abroad",
    "City council debates the price of bus tickets",
    "Hospital opens a new ward for children today",
]


def listing(*, feed: str | None = None, promos: bool = False, canonical: str = "") -> str:
    """A section page: a teaser per title, the second and fourth marked `Site Plus`;
    optionally two teasers of the same markup for the site's events and shop (links to
    other hosts), a feed it advertises, and a canonical URL."""
    cards = []
    for n, title in enumerate(TITLES):
        mark = '<img src="/plus.svg" alt="Site Plus">' if n in (1, 3) else ""
        slug = title.lower().replace(" ", "-")
        cards.append(
            f'<article class="teaser" data-id="{1000 + n}"><a href="/news/{slug}-{1000 + n}.html">'
            f"<h3>{title}</h3></a>{mark}<p>What happened.</p></article>"
        )
    if promos:
        for n, (link, title) in enumerate(
            [
                ("https://conference.example.net/", "Our security conference in May: tickets"),
                ("https://shop.example.net/", "The shop: books and courses for your team"),
            ]
        ):
            cards.append(
                f'<article class="teaser" data-id="{2000 + n}"><a href="{link}">'
                f"<h3>{title}</h3></a><p>Advert.</p></article>"
            )
    head = f'<link rel="alternate" type="application/rss+xml" href="{feed}">' if feed else ""
    if canonical:
        head += f'<link rel="canonical" href="{canonical}">'
    return f"<html><head>{head}</head><body><main>{''.join(cards)}</main></body></html>"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    result = run_monitor("init", str(path))
    assert result.returncode == 0, result.stderr
    return path


def source_config(tmp_path: Path, url: str, name: str = "local-news") -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'database = "{tmp_path / "monitor.db"}"\n\n'
        f'[[sources]]\nname = "{name}"\nurl = "{url}"\n\n'
        '[sources.rule]\nitem = "article.teaser"\npaywall_selector = "img[alt=\\"Site Plus\\"]"\n',
        encoding="utf-8",
    )
    return path


# -- rule options -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("--item", "article[[x", "--item: invalid CSS selector 'article[[x': Can't parse CSS"),
        ("--title", "h3 >>> a", "--title: invalid CSS selector 'h3 >>> a': Can't parse CSS"),
        ("--id-pattern", "(x", "--id-pattern: invalid regular expression '(x': missing ): (x"),
        ("--profile", "nope", "--profile: unknown profile 'nope'; available profiles: pozirk"),
        (
            "--paywall-selector",
            "span[",
            "--paywall-selector: invalid CSS selector 'span[': Can't parse CSS",
        ),
    ],
)
def test_preview_names_the_option_that_cannot_work_and_exits_2(
    site: Site, tmp_path: Path, option: str, value: str, error: str
) -> None:
    url = site.set("/news/", listing())
    result = run_monitor("preview", url, option, value, config=tmp_path / "absent.toml")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {error}")
    assert len(result.stderr.splitlines()) == 1  # no traceback
    assert site.requests_for("/news/") == []


def test_an_unknown_profile_exits_2_in_init_and_sources_add_alike(
    site: Site, config: Path, tmp_path: Path
) -> None:
    url = site.set("/news/", listing())
    before = config.read_bytes()
    added = run_monitor("sources", "add", url, "--profile", "nope", "--yes", config=config)
    written = run_monitor("init", str(tmp_path / "other.toml"), "--profile", "nope")
    expected = "error: --profile: unknown profile 'nope'; available profiles: pozirk\n"
    assert (added.returncode, added.stderr) == (2, expected)
    assert (written.returncode, written.stderr) == (2, expected)
    assert site.requests_for("/news/") == []
    assert config.read_bytes() == before
    assert not (tmp_path / "other.toml").exists()


# -- sources add ------------------------------------------------------------------------------


def test_sources_add_names_the_advertised_feed_that_failed(site: Site, config: Path) -> None:
    feed = site.url("/feed.xml")  # not served: 404
    page = site.set("/news/", listing(feed=feed))
    result = run_monitor("sources", "add", page, "--feed", "--yes", config=config)
    assert result.returncode == 1
    assert result.stderr == f"error: {feed} (the feed advertised by {page}): HTTP 404 Not Found\n"


def test_sources_add_paywall_line_counts_the_items_the_rule_finds(site: Site, config: Path) -> None:
    # The shop and event teasers are items of the rule, not articles discovery counts.
    url = site.set("/news/", listing(promos=True))
    result = run_monitor("sources", "add", url, "--yes", config=config)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Proposed rule: 8 items, 2 paywalled." in lines
    assert 'Paywall: 2 of 8 items marked by `img[alt="Site Plus"]`.' in lines
    assert '# (paywall: 2 of 8 items marked by `img[alt="Site Plus"]`).' in config.read_text()


def test_sources_add_of_a_url_without_scheme_suggests_https(config: Path) -> None:
    result = run_monitor("sources", "add", "www.heise.de/security/", config=config)
    assert result.returncode == 2
    assert result.stderr == (
        "error: 'www.heise.de/security/' is not an http(s) URL:"
        " did you mean https://www.heise.de/security/?\n"
    )


def test_sources_add_to_a_channel_the_config_lacks_says_how_before_fetching(
    site: Site, config: Path
) -> None:
    url = site.set("/news/", listing())
    result = run_monitor("sources", "add", url, "--channel", "telegram", config=config)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: --channel: no channel named 'telegram' in {config} (configured: none);"
        " add a [channels.telegram] table with its `urls` first (the example config has"
        " them commented out), or leave --channel out\n"
    )
    assert site.requests_for("/news/") == []


# -- config values ----------------------------------------------------------------------------

SOURCE = '[[sources]]\nname = "a"\nurl = "https://news.example.org/"\nprofile = "pozirk"\n'


def validate(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    result = run_monitor("validate", config=path)
    return result.returncode, result.stderr.replace(str(path), "FILE")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            f"interval = true\n{SOURCE}",
            "FILE:1: interval: expected seconds or a duration like '10m', not the boolean true",
        ),
        (
            f"per_host_delay = true\n{SOURCE}",
            "FILE:1: per_host_delay: expected seconds or a duration like '10m', not the boolean"
            " true",
        ),
        (f"concurrency = true\n{SOURCE}", "FILE:1: concurrency: expected a number, not the"),
        (f"max_bytes = false\n{SOURCE}", "FILE:1: max_bytes: expected a number, not the boolean"),
        (
            f"{SOURCE}interval = true\n",
            "FILE:5: sources[0].interval: expected seconds or a duration like '10m', not the",
        ),
        (
            '[channels.x]\nurls = ["json://127.0.0.1:9/"]\nrate_limit = true\n',
            "FILE:3: channels.x.rate_limit: expected a number, not the boolean true",
        ),
    ],
)
def test_a_boolean_is_no_number_or_duration(tmp_path: Path, text: str, error: str) -> None:
    status, stderr = validate(tmp_path, text)
    assert status == 2
    assert stderr.startswith(f"error: config error: {error}")


def test_fractional_seconds_and_a_zero_delay_stay_accepted(tmp_path: Path) -> None:
    status, stderr = validate(tmp_path, f"interval = 1.5\nper_host_delay = 0\n{SOURCE}")
    assert (status, stderr) == (0, "")


def test_a_negative_per_host_delay_says_zero_or_more(tmp_path: Path) -> None:
    status, stderr = validate(tmp_path, f"per_host_delay = -1\n{SOURCE}")
    assert (status, stderr) == (
        2,
        "error: config error: FILE:1: per_host_delay: must be zero or more\n",
    )


def test_a_top_level_key_below_the_sources_says_to_move_it_up(config: Path) -> None:
    with config.open("a", encoding="utf-8") as out:
        out.write("concurrency = 0\n")
    line = len(config.read_text(encoding="utf-8").splitlines())
    result = run_monitor("validate", config=config)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: config error: {config}:{line}: sources[0].concurrency: `concurrency` is a"
        " top-level key: move it above the first table ([[sources]])\n"
    )


def test_a_source_key_below_its_rule_table_says_to_move_it_up(tmp_path: Path) -> None:
    text = '[[sources]]\nname = "a"\nurl = "https://a.example/"\n[sources.rule]\nitem = "li"\n'
    status, stderr = validate(tmp_path, text + 'interval = "5m"\n')
    assert status == 2
    assert stderr == (
        "error: config error: FILE:6: sources[0].rule.interval: `interval` is a key of the"
        " source: move it above its [sources.rule] line\n"
    )


def test_a_sources_table_with_one_bracket_hints_at_two(tmp_path: Path) -> None:
    status, stderr = validate(tmp_path, '[sources]\nname = "a"\nurl = "https://a.example/"\n')
    assert status == 2
    assert stderr == (
        "error: config error: FILE:1: sources: write [[sources]] (two brackets) above each"
        " source, not [sources]\n"
    )


def test_a_misspelled_key_names_the_key_it_resembles(tmp_path: Path) -> None:
    status, stderr = validate(tmp_path, f"{SOURCE}intervall = '5m'\n")
    assert status == 2
    assert stderr == (
        "error: config error: FILE:5: sources[0].intervall: unknown key (did you mean"
        " `interval`? see `monitor schema`)\n"
    )


# -- what to look at --------------------------------------------------------------------------


def test_preview_of_a_host_without_scheme_suggests_https_and_lists_the_sources(
    config: Path,
) -> None:
    result = run_monitor("preview", "www.spiegel.de/politik/", config=config)
    assert result.returncode == 2
    assert result.stderr == (
        "error: 'www.spiegel.de/politik/' is not a URL: did you mean"
        " https://www.spiegel.de/politik/? (configured sources: pozirk-politics)\n"
    )


def test_preview_of_an_unknown_name_lists_the_sources(config: Path) -> None:
    result = run_monitor("preview", "nosuch", config=config)
    assert result.returncode == 2
    assert result.stderr == (
        "error: no source named 'nosuch' (configured: pozirk-politics), and no file of that"
        " name; give a URL, a source name or a saved page\n"
    )


def test_discover_of_a_host_without_scheme_suggests_https(tmp_path: Path) -> None:
    result = run_monitor("discover", "www.example.org/x", config=tmp_path / "absent.toml")
    assert result.returncode == 2
    assert result.stderr == (
        "error: cannot read www.example.org/x: No such file or directory;"
        " did you mean https://www.example.org/x?\n"
    )


def test_article_of_a_url_without_scheme_suggests_https(tmp_path: Path) -> None:
    result = run_monitor("article", "www.example.org/a/1", config=tmp_path / "absent.toml")
    assert result.returncode == 2
    assert result.stderr == (
        "error: 'www.example.org/a/1' is not an http(s) URL:"
        " did you mean https://www.example.org/a/1?\n"
    )


def test_preview_reads_a_saved_page_with_links_from_its_canonical_url(tmp_path: Path) -> None:
    saved = tmp_path / "news.html"
    saved.write_text(listing(canonical="https://news.example.org/world/"), encoding="utf-8")
    result = run_monitor(
        "preview",
        str(saved),
        "--item",
        "article.teaser",
        "--paywall-selector",
        'img[alt="Site Plus"]',
        "--json",
        config=tmp_path / "absent.toml",
    )
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert [i["title"] for i in items] == TITLES
    assert [i["paywalled"] for i in items] == [False, True, False, True, False, False]
    assert items[1]["url"] == (
        "https://news.example.org/news/storm-closes-the-coastal-road-for-two-days-1001.html"
    )


def test_preview_of_a_refused_connection_names_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/news/"
    result = run_monitor("preview", url, "--item", "article", config=tmp_path / "absent.toml")
    assert result.returncode == 1
    assert result.stderr == f"error: {url}: cannot connect: All connection attempts failed\n"


def test_a_host_that_does_not_resolve_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def resolve(host: object, *args: object, **kwargs: object) -> object:
        if host == "www.nosuch.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    url = "http://www.nosuch.example/news/"
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "absent.toml"), "preview", url, "--item", "article"]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {url}: cannot resolve host www.nosuch.example: Name or service not known\n"
    )


# -- items and events -------------------------------------------------------------------------


def test_items_and_events_refuse_an_unknown_source_but_keep_a_removed_ones(
    site: Site, tmp_path: Path
) -> None:
    url = site.set("/news/", listing())
    config = source_config(tmp_path, url)
    with config.open("a", encoding="utf-8") as out:
        out.write(
            f'\n[[sources]]\nname = "other"\nurl = "{url}"\n[sources.rule]\nitem = "article"\n'
        )
    assert run_monitor("check", config=config).returncode == 0
    removed = run_monitor("sources", "remove", "local-news", config=config)
    assert removed.returncode == 0, removed.stderr
    kept = run_monitor("items", "--source", "local-news", "--json", config=config)
    assert kept.returncode == 0, kept.stderr
    assert len(re.findall(r'"source": "local-news"', kept.stdout)) == len(TITLES)
    no_events = run_monitor("events", "--source", "local-news", config=config)
    assert (no_events.returncode, no_events.stdout) == (0, "No events.\n")
    for command in ("items", "events"):
        unknown = run_monitor(command, "--source", "nosuch", config=config)
        assert unknown.returncode == 2
        assert unknown.stderr == (
            "error: --source: no source named 'nosuch' in the config or the database"
            " (configured: other)\n"
        )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["items", "--limit", "-1"], "Invalid value for '--limit': -1 is not in the range x>=1."),
        (["events", "--limit", "0"], "Invalid value for '--limit': 0 is not in the range x>=1."),
        (["discover", "page.html", "--limit", "0"], "Invalid value for '--limit': 0 is not in"),
    ],
)
def test_a_limit_below_one_is_refused(tmp_path: Path, args: list[str], error: str) -> None:
    result = run_monitor(*args, config=tmp_path / "absent.toml")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith(f"Error: {error}")


def test_discover_refuses_a_base_url_that_is_no_url(tmp_path: Path) -> None:
    saved = tmp_path / "news.html"
    saved.write_text(listing(), encoding="utf-8")
    result = run_monitor("discover", str(saved), "--base-url", "notaurl")
    assert result.returncode == 2
    assert result.stderr == "error: --base-url: 'notaurl' is not an http(s) URL\n"
