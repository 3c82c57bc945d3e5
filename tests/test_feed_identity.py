"""What a feed entry is and where it points: sections without paywall categories and in
a stable order, `id_pattern`, links only from the entry, fragments that keep items apart.

Most tests run two versions of a feed through extraction and the pure diff, and assert
the items and events a user sees; the last ones run `monitor check` end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

from monitor.alerts.render import change_text, render
from monitor.extract.feed import extract_feed
from monitor.extract.urls import alert_identity
from monitor.models import Change, Event, Item, StoredItem
from monitor.pipeline.diff import diff_items
from tests.conftest import Site, free_port, run_monitor
from tests.receivers import Webhook

BASE = "https://news.example/feeds/main.xml"
NOW = "2026-11-24T12:00:00+00:00"


def rss(items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>https://news.example/</link>{items}</channel></rss>"
    ).encode()


def entry(title: str, link: str, *categories: str, guid: str = "") -> str:
    cats = "".join(f"<category>{c}</category>" for c in categories)
    guid_tag = f"<guid>{guid}</guid>" if guid else ""
    return f"<item><title>{title}</title><link>{link}</link>{guid_tag}{cats}</item>"


def events_between(before: list[Item], after: list[Item]) -> list[Event]:
    """The events a poll listing `after` records for a source that listed `before`."""
    known = {
        item.key: StoredItem(item=item, first_seen=NOW, last_seen=NOW, position=n)
        for n, item in enumerate(before)
    }
    result = diff_items("news", known, after, NOW, baseline=False, last_count=len(before))
    return list(result.events)


# --- sections -------------------------------------------------------------------------


def test_paywall_flip_in_a_feed_is_one_change_now_free() -> None:
    link = "https://news.example/politics/61234/"
    paid = rss(entry("Budget passes", link, "Politics", "POZIRK+"))
    free = rss(entry("Budget passes", link, "Politics"))
    (before,) = extract_feed(paid, BASE, paywall_categories=("pozirk+",))
    (after,) = extract_feed(free, BASE, paywall_categories=("pozirk+",))
    assert (before.section, before.paywalled) == ("Politics", True)
    assert (after.section, after.paywalled) == ("Politics", False)
    (event,) = events_between([before], [after])
    assert (event.kind, event.changes) == ("changed", (Change("paywalled", True, False),))
    assert change_text(event) == "now free"
    # ...and back: "now paywalled", nothing about sections.
    (back,) = events_between([after], [before])
    assert change_text(back) == "now paywalled"


def test_an_entry_whose_only_category_is_the_paywall_has_no_section() -> None:
    body = rss(entry("Deep dive", "https://news.example/d/1", " Abo "))
    (item,) = extract_feed(body, BASE, paywall_categories=("ABO",))
    assert (item.section, item.paywalled) == (None, True)


def test_reordered_categories_are_not_a_section_move() -> None:
    link = "https://news.example/world/7/"
    first = extract_feed(rss(entry("Summit", link, "Politics", "Europe", "Minsk")), BASE)
    second = extract_feed(rss(entry("Summit", link, "Minsk", "Europe", "Politics")), BASE)
    assert [i.section for i in first] == [i.section for i in second] == ["Europe, Minsk, Politics"]
    assert events_between(first, second) == []
    # A real move is still one: a category replaced by another.
    moved = extract_feed(rss(entry("Summit", link, "Economy", "Europe", "Minsk")), BASE)
    (event,) = events_between(first, moved)
    assert (
        change_text(event) == "moved from section Europe, Minsk, Politics to Economy, Europe, Minsk"
    )


# --- id_pattern -----------------------------------------------------------------------


def test_id_pattern_gives_the_key_from_the_link_so_a_new_slug_is_an_edit() -> None:
    pattern = r"-(\d+)\.html$"
    old = rss(entry("Talks start", "https://news.example/news/talks-start-4711.html"))
    new = rss(entry("Talks fail", "https://news.example/news/talks-fail-4711.html"))
    before = extract_feed(old, BASE, id_pattern=pattern)
    after = extract_feed(new, BASE, id_pattern=pattern)
    assert [(i.key, i.url) for i in after] == [
        ("4711", "https://news.example/news/talks-fail-4711.html")
    ]
    (event,) = events_between(before, after)
    assert event.kind == "changed"
    assert change_text(event) == "headline changed from «Talks start» to «Talks fail»"
    # Without the pattern the new slug is another article.
    plain = events_between(extract_feed(old, BASE), extract_feed(new, BASE))
    assert [(e.kind, e.item.key if e.item else None) for e in plain] == [
        ("new", "https://news.example/news/talks-fail-4711.html")
    ]


def test_id_pattern_falls_back_to_the_guid_then_to_the_usual_identity() -> None:
    body = rss(
        entry("From the guid", "https://news.example/a", guid="post-77")
        + entry("Matches nothing", "https://news.example/b", guid="other")
        + entry("From the link", "https://news.example/c?p=9", guid="post-8")
    )
    items = extract_feed(body, BASE, id_pattern=r"(?:post-|\?p=)(\d+)")
    assert [(i.key, i.url) for i in items] == [
        ("77", "https://news.example/a"),
        ("other", "https://news.example/b"),
        ("9", "https://news.example/c?p=9"),
    ]


# --- links only from the entry ----------------------------------------------------------


def test_a_non_url_guid_is_never_made_a_link() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Pod</title>
<link>https://pod.example/</link>
<item><title>Episode 12</title><guid>episode-12</guid></item>
<item><title>Tagged</title><guid>tag:example.org,2024:1</guid></item>
<item><title>Relative permalink</title><guid>/2024/01/post.html</guid></item>
<item><title>Permalink</title><guid>https://pod.example/e/13?utm_source=rss</guid></item>
<item><title>Guid before link</title><guid>x-14</guid><link>/e/14</link></item>
</channel></rss>"""
    assert extract_feed(body, "https://pod.example/feed.xml") == [
        Item(key="episode-12", url="", title="Episode 12"),
        Item(key="tag:example.org,2024:1", url="", title="Tagged"),
        Item(key="/2024/01/post.html", url="", title="Relative permalink"),
        Item(
            key="https://pod.example/e/13",
            url="https://pod.example/e/13",
            title="Permalink",
        ),
        Item(key="x-14", url="https://pod.example/e/14", title="Guid before link"),
    ]


def test_an_atom_id_is_a_link_only_when_it_is_an_http_url() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>
<entry><id>tag:blog.example,2026:1</id><title>Tag id</title>
  <link rel="enclosure" href="https://cdn.example/1.mp3"/></entry>
<entry><id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id><title>Urn id</title></entry>
<entry><id>https://blog.example/p/3</id><title>Http id</title></entry>
<entry><id>mailto:someone@blog.example</id><title>Mail link</title>
  <link href="mailto:someone@blog.example"/></entry>
</feed>"""
    assert [(i.key, i.url) for i in extract_feed(body, BASE)] == [
        ("tag:blog.example,2026:1", ""),
        ("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", ""),
        ("https://blog.example/p/3", "https://blog.example/p/3"),
        ("mailto:someone@blog.example", ""),
    ]


def test_a_json_feed_item_without_url_has_no_link() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "home_page_url": "https://news.example/",
        "items": [{"id": "42", "title": "Status: all good"}],
    }
    assert extract_feed(json.dumps(doc).encode(), BASE) == [
        Item(key="42", url="", title="Status: all good")
    ]


def test_an_alert_for_an_entry_without_link_shows_no_link() -> None:
    (item,) = extract_feed(
        rss("<item><title>Episode 12</title><guid>episode-12</guid></item>"), BASE
    )
    event = Event("new", "pod", NOW, item)
    bodies = {fmt: render([event], fmt)[0].body for fmt in ("text", "telegram-html", "markdown")}
    assert bodies == {
        "text": "Episode 12\npod",
        "telegram-html": "<b>Episode 12</b>\npod",
        "markdown": "**Episode 12**\npod",
    }
    assert "href" not in render([event], "html")[0].body


# --- fragments ----------------------------------------------------------------------------


CHANGELOG = "https://tool.example/changelog.html"


def changelog(*versions: str) -> bytes:
    return rss("".join(entry(f"Version {v}", f"{CHANGELOG}#v{v}") for v in versions))


def test_entries_differing_only_by_fragment_stay_distinct() -> None:
    items = extract_feed(changelog("1.3", "1.2", "1.1"), BASE)
    assert [(i.key, i.url, i.title) for i in items] == [
        (f"{CHANGELOG}#v1.3", CHANGELOG, "Version 1.3"),
        (f"{CHANGELOG}#v1.2", CHANGELOG, "Version 1.2"),
        (f"{CHANGELOG}#v1.1", CHANGELOG, "Version 1.1"),
    ]
    # The keys do not depend on which other versions are listed: a release is one `new`.
    before = extract_feed(changelog("1.1"), BASE)
    after = extract_feed(changelog("1.2", "1.1"), BASE)
    assert [(e.kind, e.item.title if e.item else None) for e in events_between(before, after)] == [
        ("new", "Version 1.2")
    ]


def test_guids_that_differ_only_by_fragment_stay_distinct() -> None:
    day = "http://diary.example/2017-Sep-5.html"
    body = rss(
        f"<item><title>Morning</title><link>{day}#09:26</link><guid>{day}#09:26</guid></item>"
        f"<item><title>Evening</title><link>{day}#21:03</link><guid>{day}#21:03</guid></item>"
    )
    assert [(i.key, i.url) for i in extract_feed(body, BASE)] == [
        (f"{day}#09:26", day),
        (f"{day}#21:03", day),
    ]


def test_fragments_that_name_no_place_are_not_part_of_identity() -> None:
    body = rss(
        entry("Tracked", "https://news.example/a#utm_source=rss&utm_medium=feed")
        + entry("Highlight", "https://news.example/b#:~:text=budget")
        + entry("Empty", "https://news.example/c#")
        + entry("Same article again", "https://news.example/a?utm_campaign=x")
    )
    assert [(i.key, i.url, i.title) for i in extract_feed(body, BASE)] == [
        ("https://news.example/a", "https://news.example/a", "Tracked"),
        ("https://news.example/b", "https://news.example/b", "Highlight"),
        ("https://news.example/c", "https://news.example/c", "Empty"),
    ]


def test_alert_identity_ignores_fragments_unless_the_key_needs_them() -> None:
    page_item = Item(key="https://news.example/a", url="https://news.example/a", title="A")
    feed_item = extract_feed(rss(entry("A", "https://news.example/a", guid="a-1")), BASE)[0]
    # The same article on a page and in a feed: one identity.
    assert alert_identity(page_item.url, page_item.key) == "https://news.example/a"
    assert alert_identity(feed_item.url, feed_item.key) == "https://news.example/a"
    # Changelog versions on one page: one identity each.
    versions = extract_feed(changelog("1.2", "1.1"), BASE)
    assert [alert_identity(i.url, i.key) for i in versions] == [
        f"{CHANGELOG}#v1.2",
        f"{CHANGELOG}#v1.1",
    ]
    # No link: no identity beyond the source.
    assert alert_identity("", "episode-12") == ""


# --- end to end -------------------------------------------------------------------------


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f'database = "state.db"\n{text}', encoding="utf-8")
    return path


def test_monitor_check_tells_a_feed_paywall_flip_once_as_now_free(
    site: Site, tmp_path: Path
) -> None:
    hook = Webhook(free_port()).start()
    try:
        link = "https://news.example/politics/61234/"
        url = site.set(
            "/rss",
            rss(entry("Budget passes", link, "Politics", "POZIRK+")),
            content_type="application/rss+xml",
        )
        config = write_config(
            tmp_path,
            f'[[sources]]\nname = "news"\nurl = "{url}"\nkind = "feed"\n'
            'paywall_categories = ["POZIRK+"]\n'
            f'[channels.hook]\nurls = ["{hook.url()}"]\nformat = "text"\n',
        )
        assert run_monitor("check", config=config).returncode == 0
        site.set("/rss", rss(entry("Budget passes", link, "Politics")))
        result = run_monitor("check", config=config)
        assert result.returncode == 0, result.stderr
        assert hook.messages() == [f"✏️ Budget passes\nPolitics · news\nnow free\n{link}"]
    finally:
        hook.stop()


def test_monitor_check_keys_a_feed_by_its_id_pattern(site: Site, tmp_path: Path) -> None:
    url = site.set(
        "/rss",
        rss(entry("Talks start", "https://news.example/news/talks-start-4711.html")),
        content_type="application/rss+xml",
    )
    config = write_config(
        tmp_path,
        f'[[sources]]\nname = "news"\nurl = "{url}"\nkind = "feed"\n'
        '[sources.rule]\nid_pattern = "-(\\\\d+)\\\\.html$"\n',
    )
    assert run_monitor("check", "--no-notify", config=config).returncode == 0
    site.set("/rss", rss(entry("Talks fail", "https://news.example/news/talks-fail-4711.html")))
    result = run_monitor("check", "--json", "--no-notify", config=config)
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)
    assert [(e["kind"], e["key"], e["url"], e["before"], e["after"]) for e in events] == [
        (
            "changed",
            "4711",
            "https://news.example/news/talks-fail-4711.html",
            {"title": "Talks start"},
            {"title": "Talks fail"},
        )
    ]


def test_monitor_check_alerts_each_new_changelog_version_of_one_page(
    site: Site, tmp_path: Path
) -> None:
    hook = Webhook(free_port()).start()
    try:
        url = site.set("/rss", changelog("1.1"), content_type="application/rss+xml")
        config = write_config(
            tmp_path,
            f'[[sources]]\nname = "tool"\nurl = "{url}"\nkind = "feed"\n'
            f'[channels.hook]\nurls = ["{hook.url()}"]\nformat = "text"\n',
        )
        assert run_monitor("check", config=config).returncode == 0
        site.set("/rss", changelog("1.3", "1.2", "1.1"))
        result = run_monitor("check", config=config)
        assert result.returncode == 0, result.stderr
        # Both versions link to the same page: one alert each, in one message.
        assert hook.messages() == [
            f"Version 1.3\ntool\n{CHANGELOG}\n\nVersion 1.2\ntool\n{CHANGELOG}"
        ]
    finally:
        hook.stop()
