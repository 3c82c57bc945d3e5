"""Canonical URLs and item keys: one article, one identity."""

from __future__ import annotations

import pytest

from monitor.extract.urls import (
    alert_identity,
    canonical_url,
    is_tracking_param,
    item_key,
    pattern_id,
    url_fragment,
)

BASE = "https://pozirk.online/en/politics/"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/en/politics/61234/", "https://pozirk.online/en/politics/61234/"),
        ("61234/", "https://pozirk.online/en/politics/61234/"),
        ("../society/61195/", "https://pozirk.online/en/society/61195/"),
        ("//cdn.pozirk.online/a.html", "https://cdn.pozirk.online/a.html"),
        ("?page=2", "https://pozirk.online/en/politics/?page=2"),
        ("#comments", "https://pozirk.online/en/politics/"),
        ("/en/politics/61234/#comments", "https://pozirk.online/en/politics/61234/"),
        ("HTTPS://POZIRK.Online:443/en/", "https://pozirk.online/en/"),
        ("http://Example.COM:80", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("  /en/politics/\n61234/ ", "https://pozirk.online/en/politics/61234/"),
        ("/news/łukašenka talks", "https://pozirk.online/news/%C5%82uka%C5%A1enka%20talks"),
        ("/a%2fb?x=%e2%82%ac", "https://pozirk.online/a%2Fb?x=%E2%82%AC"),
        (
            "https://xn--e1afmkfd.xn--p1ai/путь",
            "https://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C",
        ),
        ("https://пример.рф/", "https://xn--e1afmkfd.xn--p1ai/"),
    ],
)
def test_canonical_url_makes_links_absolute_and_normal(href: str, expected: str) -> None:
    assert canonical_url(href, BASE) == expected


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("utm_source=tg&utm_medium=social&id=7", "id=7"),
        ("id=7&UTM_Campaign=x", "id=7"),
        ("fbclid=abc", ""),
        ("gclid=1&yclid=2&mc_cid=3&mc_eid=4&_ga=5&ref_src=6&igshid=7&msclkid=8", ""),
        ("b=2&a=1&utm_term=x&c=3", "b=2&a=1&c=3"),
        ("page=2&page=3", "page=2&page=3"),
        ("q=a+b&lang=en", "q=a+b&lang=en"),
    ],
)
def test_tracking_parameters_go_other_parameters_stay_in_order(query: str, kept: str) -> None:
    url = canonical_url(f"/en/61234/?{query}#top", BASE)
    assert url == "https://pozirk.online/en/61234/" + (f"?{kept}" if kept else "")


@pytest.mark.parametrize(
    "href",
    [
        "",
        "   ",
        "javascript:void(0)",
        "JavaScript:alert(1)",
        "mailto:info@pozirk.online",
        "tel:+375170000000",
        "data:text/html,<p>x</p>",
        "ftp://example.com/file",
        "http://[::1",
    ],
)
def test_non_web_links_have_no_canonical_url(href: str) -> None:
    assert canonical_url(href, BASE) is None


def test_same_article_from_feed_and_page_gets_the_same_url() -> None:
    from_page = canonical_url("/en/politics/61234/?utm_source=list#comments", BASE)
    from_feed = canonical_url("https://POZIRK.online:443/en/politics/61234/?fbclid=x", BASE)
    assert from_page == from_feed


def test_is_tracking_param() -> None:
    assert is_tracking_param("utm_source")
    assert is_tracking_param("FBCLID")
    assert not is_tracking_param("id")
    assert not is_tracking_param("utmost")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"/(\d+)/?$", "61234"),
        (r"\d{5}", "61234"),
        (r"/politics/", "/politics/"),
        (r"/nomatch-(\d+)/", "https://pozirk.online/en/politics/61234/"),
        (None, "https://pozirk.online/en/politics/61234/"),
        (r"(x)?/en/", "/en/"),
    ],
)
def test_item_key_uses_the_id_pattern(pattern: str | None, expected: str) -> None:
    assert item_key("https://pozirk.online/en/politics/61234/", pattern) == expected


def test_pattern_id_is_none_when_the_pattern_finds_nothing() -> None:
    assert pattern_id("https://pozirk.online/en/politics/61234/", r"/(\d+)/$") == "61234"
    assert pattern_id("post-77", r"/(\d+)/$") is None


@pytest.mark.parametrize(
    ("href", "fragment"),
    [
        ("https://tool.example/changelog#v1.3", "v1.3"),
        ("#p116390", "p116390"),
        ("https://diary.example/day.html#2017-Sep-5-09:26:34", "2017-Sep-5-09:26:34"),
        ("https://x.example/a#Łukašenka talks", "%C5%81uka%C5%A1enka%20talks"),
        ("https://x.example/a", ""),
        ("https://x.example/a#", ""),
        ("https://x.example/a#utm_source=rss&utm_medium=feed", ""),
        ("https://x.example/a#utm_source=rss&part=2", "utm_source=rss&part=2"),
        ("https://x.example/a#:~:text=budget", ""),
        ("https://x.example/a#intro:~:text=budget", "intro"),
        ("", ""),
    ],
)
def test_url_fragment_keeps_only_what_names_a_place(href: str, fragment: str) -> None:
    assert url_fragment(href) == fragment


@pytest.mark.parametrize(
    ("url", "key", "identity"),
    [
        ("https://a.example/x", "https://a.example/x", "https://a.example/x"),
        ("https://a.example/x", "guid-1", "https://a.example/x"),
        ("https://a.example/x", "61234", "https://a.example/x"),
        ("https://a.example/x", "https://a.example/x#v1.2", "https://a.example/x#v1.2"),
        ("https://a.example/x", "https://a.example/xy#v1", "https://a.example/x"),
        ("", "episode-12", ""),
    ],
)
def test_alert_identity_is_the_url_unless_the_key_adds_a_fragment(
    url: str, key: str, identity: str
) -> None:
    assert alert_identity(url, key) == identity
