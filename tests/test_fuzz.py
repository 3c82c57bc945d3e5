"""Property tests: random config text, random config structures, random page and feed bytes.

Whatever comes in, the config loader answers a Settings or a ConfigError, and the
extractors answer items or an ExtractError: never a traceback from inside.
"""

from __future__ import annotations

import os
from typing import Any

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config.settings import parse_settings
from monitor.extract import extract_items
from monitor.extract.feed import extract_feed
from monitor.extract.html import extract_html
from monitor.models import ConfigError, ExtractError, Item, Rule, Settings, Source

# MONITOR_FUZZ_EXAMPLES=5000 for a longer hunt than CI's.
FUZZ = settings(
    max_examples=int(os.environ.get("MONITOR_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- the config loader --------------------------------------------------------------------


def load(text: str) -> Settings | None:
    try:
        return parse_settings(text, "fuzz.toml", environ={"TOKEN": "t0k3n"})
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.toml"), exc
        return None


TOML_PIECES = st.sampled_from(
    [
        "[[sources]]\n",
        "[sources.rule]\n",
        "[channels.tg]\n",
        'url = "https://example.org/news/"\n',
        'url = "ftp://x"\n',
        'kind = "feed"\n',
        'profile = "pozirk"\n',
        'item = "li.item"\n',
        'item = "li[[["\n',
        'interval = "10m"\n',
        'interval = "-5x"\n',
        'cron = "*/5 * * * *"\n',
        'cron = "99 * * * *"\n',
        'urls = ["json://127.0.0.1:9/?token=${TOKEN}"]\n',
        'urls = ["${MISSING}"]\n',
        'include = ["re:(a+)+$", "re:(?<=x)"]\n',
        'template = "{{ title }}"\n',
        "template = \"{{ ''.__class__ }}\"\n",
        'database = "x.db"\n',
        "max_bytes = -1\n",
        "= = =\n",
        '"""\n',
        "[[",
        "\n",
    ]
)


@FUZZ
@given(st.lists(st.one_of(TOML_PIECES, st.text(max_size=20)), max_size=25).map("".join))
def test_config_text_gives_settings_or_a_config_error(text: str):
    load(text)


SCALARS = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    st.sampled_from(["10m", "1h30m", "0s", "https://example.org/", "li.item", "re:x+"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def keyed(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts whose keys are mostly the real ones, so validation goes past the first key."""
    return st.dictionaries(
        st.one_of(st.sampled_from(keys), st.text(max_size=8)), VALUES, max_size=len(keys)
    )


RULE_KEYS = ["item", "title", "link", "section", "date", "paywall_text", "paywall_selector"]
RULE_KEYS += ["id_pattern", "derive_from_marker"]
SOURCE_KEYS = ["name", "url", "kind", "profile", "interval", "cron", "jitter", "headers"]
SOURCE_KEYS += ["cookies", "baseline", "paywall_categories"]
CHANNEL_KEYS = ["urls", "sources", "sections", "events", "paywalled", "include", "exclude"]
CHANNEL_KEYS += ["format", "template", "digest", "quiet_hours", "timezone", "rate_limit"]
TOP_KEYS = ["database", "user_agent", "interval", "connect_timeout", "read_timeout"]
TOP_KEYS += ["total_timeout", "max_bytes", "concurrency", "per_host_concurrency", "proxy"]

SOURCES = st.builds(
    lambda base, rule: {**base, **({"rule": rule} if rule is not None else {})},
    keyed(SOURCE_KEYS),
    st.none() | keyed(RULE_KEYS),
)
CONFIGS = st.builds(
    lambda top, sources, channels: {**top, "sources": sources, "channels": channels},
    keyed(TOP_KEYS),
    st.lists(SOURCES, max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=6), keyed(CHANNEL_KEYS), max_size=2),
)


@FUZZ
@given(CONFIGS)
def test_config_structures_give_settings_or_a_config_error(config: dict[str, Any]):
    load(tomlkit.dumps(config))


# -- the extractors -----------------------------------------------------------------------

HTML_PIECES = st.sampled_from(
    [
        "<html>",
        "<body>",
        "<ul>",
        '<li class="item">',
        "</li>",
        '<a href="/a/1">',
        '<a href="javascript:x">',
        '<a href="http://[::1">',
        "</a>",
        "<h2>",
        "<div>" * 50,
        '<meta charset="windows-1251">',
        '<meta charset="x-unknown">',
        '<base href="ftp://x/">',
        '<script type="application/ld+json">{"isAccessibleForFree": false',
        '<meta property="article:content_tier" content="locked">',
        "<time datetime='2026-13-45'>",
        "The material is available only to POZIRK+",
        "&amp;&#0;&#xD800;",
        "\x00",
        "\ufffd",
    ]
)
SELECTORS = st.one_of(
    st.sampled_from(
        ["li.item", "a", "h2 a", ".x", "[href]", "time", ":has(a)", "li:nth-child(2n)"]
    ),
    st.text(max_size=12),
)
RULES = st.builds(
    Rule,
    item=st.none() | SELECTORS,
    title=st.none() | SELECTORS,
    link=st.none() | SELECTORS,
    section=st.none() | SELECTORS,
    date=st.none() | SELECTORS,
    paywall_text=st.lists(st.text(max_size=10), max_size=2).map(tuple),
    paywall_selector=st.none() | SELECTORS,
    id_pattern=st.none() | st.sampled_from([r"/a/(\d+)", "(a+)+$", r"(\w)\1", "["]),
    derive_from_marker=st.booleans(),
)
HTML_BODIES = st.one_of(
    st.binary(max_size=2000),
    st.lists(st.one_of(HTML_PIECES, st.text(max_size=15)), max_size=40).map(
        lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
    ),
)
CONTENT_TYPES = st.none() | st.sampled_from(
    ["text/html", "text/html; charset=utf-8", "text/html; charset=koi8-r", "text/html; charset=x"]
)


def items_or_extract_error(call: Any, *args: Any) -> list[Item]:
    try:
        found = call(*args)
    except ExtractError:
        return []
    assert all(isinstance(i, Item) and i.key and i.url for i in found)
    return found


@FUZZ
@given(HTML_BODIES, RULES, CONTENT_TYPES)
def test_html_bytes_and_rules_give_items_or_an_extract_error(body: bytes, rule: Rule, ctype):
    items_or_extract_error(extract_html, body, "https://example.org/news/", rule, ctype)


FEED_PIECES = st.sampled_from(
    [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<?xml version="1.0" encoding="x-nope"?>',
        '<rss version="2.0">',
        "<channel>",
        "<item>",
        "</item>",
        "<title>",
        "</title>",
        "<link>https://example.org/a</link>",
        "<link>javascript:alert(1)</link>",
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        "<entry>",
        '<link href="/b"/>',
        "<category>Premium</category>",
        "<pubDate>Mon, 99 Foo 2026</pubDate>",
        '<!DOCTYPE rss [<!ENTITY e "x">',
        "]>",
        "&e;&amp;&#0;",
        "<![CDATA[",
        "]]>",
        '{"version": "https://jsonfeed.org/version/1.1", "items": [',
        '{"url": "https://example.org/j", "title": 5}',
        "\xef\xbb\xbf",
        "\x00",
    ]
)
FEED_BODIES = st.one_of(
    st.binary(max_size=2000),
    st.lists(st.one_of(FEED_PIECES, st.text(max_size=15)), max_size=40).map(
        lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
    ),
)


@FUZZ
@given(FEED_BODIES, st.none() | st.sampled_from(["application/rss+xml", "text/xml; charset=x"]))
def test_feed_bytes_give_items_or_an_extract_error(body: bytes, ctype: str | None):
    items_or_extract_error(
        extract_feed, body, "https://example.org/feed", ctype, ("premium",), ("POZIRK+",)
    )


@FUZZ
@given(st.one_of(HTML_BODIES, FEED_BODIES), st.sampled_from(["html", "feed"]), CONTENT_TYPES)
def test_extract_items_by_kind(body: bytes, kind: str, ctype):
    source = Source(name="s", url="https://example.org/", kind=kind)  # type: ignore[arg-type]
    items_or_extract_error(extract_items, source, body, "https://example.org/", ctype)
