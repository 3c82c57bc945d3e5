"""extract_feed on small hand-written feeds: formats, text, identity, paywall, charset, safety."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from monitor.extract.feed import SUMMARY_LIMIT, extract_feed
from monitor.models import ExtractError, Item

BASE = "https://news.example/feeds/main.xml"


def rss(items: str, *, prolog: str = '<?xml version="1.0" encoding="utf-8"?>\n') -> bytes:
    return (
        f'{prolog}<rss version="2.0"><channel><title>News</title>'
        f"<link>https://news.example/</link>{items}</channel></rss>"
    ).encode()


def one(body: bytes, **kwargs: object) -> Item:
    items = extract_feed(body, BASE, **kwargs)  # type: ignore[arg-type]
    assert len(items) == 1, items
    return items[0]


# --- formats -------------------------------------------------------------------------


def test_rss2_fields() -> None:
    item = one(
        rss(
            "<item><title>  Budget\n  passes </title>"
            "<link>https://news.example/a/1?utm_source=rss#top</link>"
            '<guid isPermaLink="false">article-1</guid>'
            "<category>Politics</category><category> Economy </category>"
            "<category>politics</category>"
            "<pubDate>Tue, 24 Nov 2026 10:30:00 +0200</pubDate>"
            "<description>&lt;p&gt;The &lt;b&gt;vote&lt;/b&gt; was 51&amp;amp;49.&lt;/p&gt;"
            "</description>"
            "</item>"
        )
    )
    assert item == Item(
        key="article-1",
        url="https://news.example/a/1",
        title="Budget passes",
        # categories in alphabetical order: a feed that reorders them moves nothing
        section="Economy, Politics",
        published="2026-11-24T08:30:00+00:00",
        paywalled=False,
        summary="The vote was 51&49.",
    )


def test_atom_with_xml_base_and_html_title() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/2026/">
  <title>Blog</title><id>urn:blog</id><updated>2026-11-24T10:00:00Z</updated>
  <entry>
    <title type="html">&lt;em&gt;Fast&lt;/em&gt; &amp;amp; small</title>
    <id>tag:blog.example,2026:42</id>
    <link rel="alternate" href="posts/42.html"/>
    <updated>2026-11-24T10:00:00Z</updated>
    <published>2026-11-23T09:00:00-05:00</published>
    <category term="Tech"/>
    <summary type="text">Plain &lt;summary&gt;</summary>
  </entry>
</feed>"""
    item = one(body)
    assert item.key == "tag:blog.example,2026:42"
    assert item.url == "https://blog.example/2026/posts/42.html"
    assert item.title == "Fast & small"
    assert item.section == "Tech"
    assert item.published == "2026-11-23T14:00:00+00:00"
    assert item.summary == "Plain <summary>"


def test_rdf_rss10() -> None:
    body = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://news.example/"><title>N</title><link>https://news.example/</link>
    <description>d</description></channel>
  <item rdf:about="https://news.example/r/1"><title>One</title>
    <link>https://news.example/r/1</link><dc:date>2026-11-24T10:00:00Z</dc:date>
    <dc:subject>Local</dc:subject></item>
  <item rdf:about="https://news.example/r/2"><title>Two</title>
    <link>https://news.example/r/2</link></item>
</rdf:RDF>"""
    items = extract_feed(body, BASE)
    assert [(i.title, i.url, i.section, i.published) for i in items] == [
        ("One", "https://news.example/r/1", "Local", "2026-11-24T10:00:00+00:00"),
        ("Two", "https://news.example/r/2", None, None),
    ]


def test_rss091_relative_link_resolves_against_base() -> None:
    body = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="0.91"><channel><title>Old</title><link>https://news.example/</link>
<item><title>Caf\xe9</title><link>/old/1.html</link></item></channel></rss>"""
    item = one(body)
    assert item.url == "https://news.example/old/1.html"
    assert item.key == item.url
    assert item.title == "Café"


def test_json_feed() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "home_page_url": "https://news.example/",
        "items": [
            {
                "id": "1",
                "url": "https://news.example/j/1?fbclid=xyz",
                "title": "Hello &amp; welcome",
                "content_html": "<p>Body <script>evil()</script>text</p>",
                "date_published": "2026-11-24T12:00:00+01:00",
                "tags": ["World", "world", "Europe"],
            },
            {"id": 2, "content_text": "A note without a title or link."},
            {"url": "/j/3", "summary": "Only a link and summary"},
            {"id": "1", "url": "https://news.example/j/1", "title": "Duplicate id"},
            "not an object",
        ],
    }
    items = extract_feed(json.dumps(doc).encode(), BASE, "application/feed+json")
    assert items[0] == Item(
        key="1",
        url="https://news.example/j/1",
        title="Hello & welcome",
        section="Europe, World",
        published="2026-11-24T11:00:00+00:00",
        summary="Body text",
    )
    # An id without a link (and without a title) is skipped; a link without a title
    # is kept with its summary as title; the repeated id collapses into the first.
    assert [(i.key, i.title) for i in items[1:]] == [
        ("https://news.example/j/3", "Only a link and summary"),
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"items": []}', "JSON without a JSON Feed version"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": [', "invalid JSON"),
        (b"[1, 2]", "JSON without a JSON Feed version"),
    ],
)
def test_json_not_a_feed(body: bytes, reason: str) -> None:
    with pytest.raises(ExtractError, match=reason):
        extract_feed(body, BASE)


# --- identity ------------------------------------------------------------------------


def test_key_prefers_id_and_canonicalises_url_ids() -> None:
    items = extract_feed(
        rss(
            "<item><title>A</title><link>https://news.example/a</link>"
            "<guid>https://news.example/a?utm_medium=feed</guid></item>"
            "<item><title>B</title><link>https://news.example/b</link></item>"
            "<item><title>C</title><guid isPermaLink='false'>c-1</guid></item>"
        ),
        BASE,
    )
    assert [(i.key, i.url) for i in items] == [
        ("https://news.example/a", "https://news.example/a"),
        ("https://news.example/b", "https://news.example/b"),
        # no link: no url (the feed's home page is not the entry's link)
        ("c-1", ""),
    ]


def test_id_shared_by_different_links_is_not_trusted() -> None:
    items = extract_feed(
        rss(
            "<item><title>A</title><link>https://news.example/a</link><guid>same</guid></item>"
            "<item><title>B</title><link>https://news.example/b</link><guid>same</guid></item>"
        ),
        BASE,
    )
    assert [i.key for i in items] == ["https://news.example/a", "https://news.example/b"]


def test_dedupe_keeps_first_and_skips_empty_entries() -> None:
    items = extract_feed(
        rss(
            "<item><title>First</title><link>https://news.example/x</link></item>"
            "<item><title>Second</title><link>https://news.example/x?utm_source=rss</link></item>"
            "<item><description>no title, no link, no id</description></item>"
            "<item><guid isPermaLink='false'>id-only</guid></item>"
            "<item><link>https://news.example/untitled</link></item>"
        ),
        BASE,
    )
    assert [(i.title, i.url) for i in items] == [
        ("First", "https://news.example/x"),
        ("https://news.example/untitled", "https://news.example/untitled"),
    ]


# --- text ----------------------------------------------------------------------------


def test_summary_is_short_plain_text() -> None:
    words = " ".join(f"word{n}" for n in range(400))
    item = one(
        rss(
            f"<item><title>T</title><link>https://news.example/s</link>"
            f"<description><![CDATA[<div><p>{words}</p></div>]]></description></item>"
        )
    )
    assert item.summary is not None
    assert len(item.summary) <= SUMMARY_LIMIT
    assert item.summary.startswith("word0 word1 ")
    assert item.summary.endswith("…")
    assert "<" not in item.summary


def test_plain_title_keeps_angle_brackets() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>
<entry><id>urn:1</id><title type="text">Use &lt;div&gt; wisely</title>
<link href="https://news.example/d"/></entry></feed>"""
    assert one(body).title == "Use <div> wisely"


def test_unparseable_date_gives_none() -> None:
    item = one(
        rss(
            "<item><title>T</title><link>https://news.example/t</link>"
            "<pubDate>sometime soon</pubDate></item>"
        )
    )
    assert item.published is None


# --- paywall -------------------------------------------------------------------------


def test_paywall_by_configured_category_only() -> None:
    body = rss(
        "<item><title>A</title><link>https://news.example/a</link>"
        "<category>Abo</category></item>"
        "<item><title>B</title><link>https://news.example/b</link>"
        "<category>premium</category></item>"
    )
    assert [i.paywalled for i in extract_feed(body, BASE)] == [False, False]
    flags = [i.paywalled for i in extract_feed(body, BASE, paywall_categories=(" ABO ",))]
    assert flags == [True, False]


def test_paywall_by_text_in_title_or_summary() -> None:
    body = rss(
        "<item><title>SPIEGEL+ Deep dive</title><link>https://news.example/a</link></item>"
        "<item><title>Free</title><link>https://news.example/b</link>"
        "<description>Only for subscribers: read on</description></item>"
        "<item><title>Free too</title><link>https://news.example/c</link></item>"
    )
    flags = extract_feed(body, BASE, paywall_text=("spiegel+", "ONLY FOR SUBSCRIBERS"))
    assert [i.paywalled for i in flags] == [True, True, False]


# --- charset -------------------------------------------------------------------------


def test_declared_windows_1251() -> None:
    body = rss(
        "<item><title>Привет, мир</title><link>https://news.example/ru</link></item>",
        prolog='<?xml version="1.0" encoding="windows-1251"?>',
    )
    body = body.decode().encode("cp1251")
    assert one(body).title == "Привет, мир"
    assert one(body, content_type="text/xml").title == "Привет, мир"


def test_http_charset_wins_over_missing_declaration() -> None:
    body = (
        rss(
            "<item><title>Добрый день</title><link>https://news.example/ru</link></item>",
            prolog="",
        )
        .decode()
        .encode("cp1251")
    )
    assert one(body, content_type="application/rss+xml; charset=windows-1251").title == (
        "Добрый день"
    )


def test_utf8_body_mislabelled_latin1_is_read_as_utf8() -> None:
    body = rss("<item><title>Größe – ≥ 5 €</title><link>https://news.example/u</link></item>")
    item = one(body, content_type="text/xml; charset=ISO-8859-1")
    assert item.title == "Größe – ≥ 5 €"


def test_undeclared_latin1_bytes() -> None:
    body = (
        rss("<item><title>Fête à Noël</title><link>https://news.example/f</link></item>", prolog="")
        .decode()
        .encode("latin-1")
    )
    assert one(body).title == "Fête à Noël"


@pytest.mark.parametrize("codec", ["utf-16", "utf-8-sig"])
def test_byte_order_marks(codec: str) -> None:
    text = rss(
        "<item><title>Ελληνικά</title><link>https://news.example/g</link></item>",
        prolog=f'<?xml version="1.0" encoding="{codec.removesuffix("-sig")}"?>',
    ).decode()
    body = text.encode(codec)
    assert one(body, content_type="application/xml; charset=iso-8859-1").title == "Ελληνικά"


def test_whitespace_before_declaration() -> None:
    item = one(
        rss(
            "<item><title>T</title><link>https://news.example/w</link></item>",
            prolog='\n\n  <?xml version="1.0" encoding="utf-8"?>',
        )
    )
    assert item.title == "T"


# --- not a feed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"  \n\t", "empty body"),
        (
            b"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>",
            "looks like an HTML page",
        ),
        (b"<html><body><p>Moved</p></body></html>", "looks like an HTML page"),
        (b"\x00\x01\x02garbage\xff", "not a feed"),
        (b"just some text", "not a feed"),
        (b"<note><to>x</to></note>", "not a feed"),
        # feedparser takes a bare bytes/str for a file name: never here
        (b"/etc/passwd", "not a feed"),
    ],
)
def test_not_a_feed(body: bytes, reason: str) -> None:
    with pytest.raises(ExtractError, match=reason):
        extract_feed(body, BASE)


def test_feed_without_entries_is_empty_not_an_error() -> None:
    assert extract_feed(rss(""), BASE) == []


def test_bozo_feed_with_entries_is_recovered() -> None:
    body = rss(
        "<item><title>Good</title><link>https://news.example/g</link></item>"
        "<item><title>Bad & broken</title><link>https://news.example/b?x=1&y=2</link></item>"
    )
    titles = [i.title for i in extract_feed(body, BASE)]
    assert titles[0] == "Good"
    assert len(titles) == 2


# --- safety --------------------------------------------------------------------------


def _laughs(inline: bool) -> bytes:
    decls = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    ]
    sep = "" if inline else "\n"
    return rss(
        "<item><title>boom &lol9;</title><link>https://news.example/l</link>"
        "<description>&lol9;&lol9;</description></item>",
        prolog=f'<?xml version="1.0"?>{sep}<!DOCTYPE rss [{sep}{sep.join(decls)}{sep}]>{sep}',
    )


@pytest.mark.parametrize("inline", [False, True])
def test_billion_laughs_is_inert(inline: bool) -> None:
    start = time.perf_counter()
    items = extract_feed(_laughs(inline), BASE)
    assert time.perf_counter() - start < 2.0
    for item in items:
        assert len(item.title) < 100
        assert "lollollol" not in repr(item)


@pytest.mark.parametrize("inline", [False, True])
def test_external_entity_is_not_read(tmp_path: Path, inline: bool) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENTS")
    sep = "" if inline else "\n"
    for target in (secret.as_uri(), "file:///etc/passwd"):
        body = rss(
            "<item><title>a &x; b</title><link>https://news.example/x</link>"
            "<description>&x;</description></item>",
            prolog=f'<?xml version="1.0"?>{sep}<!DOCTYPE rss [{sep}'
            f'<!ENTITY x SYSTEM "{target}">{sep}]>{sep}',
        )
        for item in extract_feed(body, BASE):
            assert "TOP-SECRET" not in repr(item)
            assert "root:" not in repr(item)


def test_nothing_is_fetched() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        server.setblocking(False)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/evil.dtd"
        bodies = [
            rss(
                "<item><title>t</title><link>https://news.example/n</link></item>",
                prolog=f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{url}">',
            ),
            rss(
                "<item><title>t &e;</title><link>https://news.example/n</link></item>",
                prolog=f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p SYSTEM "{url}"> %p;'
                f'<!ENTITY e SYSTEM "{url}">]>',
            ),
        ]
        for body in bodies:
            for item in extract_feed(body, url):
                assert item.title.startswith("t")
        with pytest.raises(BlockingIOError):
            server.accept()


def test_undeclared_windows_1251_is_detected() -> None:
    body = rss(
        "<item><title>Правительство утвердило новый бюджет на следующий год</title>"
        "<link>https://news.example/ru/1</link>"
        "<description>Депутаты обсудили расходы на образование, медицину и дороги; "
        "решение принято большинством голосов.</description></item>",
        prolog="",
    )
    item = one(body.decode().encode("cp1251"))
    assert item.title == "Правительство утвердило новый бюджет на следующий год"


def test_wrong_header_charset_falls_back_to_declaration() -> None:
    body = (
        rss(
            "<item><title>Новости дня</title><link>https://news.example/ru/2</link></item>",
            prolog='<?xml version="1.0" encoding="windows-1251"?>',
        )
        .decode()
        .encode("cp1251")
    )
    assert one(body, content_type="application/xml; charset=utf-8").title == "Новости дня"


def test_json_feed_with_bom() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1",
        "items": [{"id": "a", "url": "https://news.example/a", "title": "Zürich"}],
    }
    body = b"\xef\xbb\xbf \n" + json.dumps(doc, ensure_ascii=False).encode()
    assert one(body).title == "Zürich"


def test_hostile_markup_stays_linear() -> None:
    junk = "&lt;a" * 2000 + "&lt;script" * 500 + "&lt;!--" * 500
    items = "".join(
        f"<item><title>T{n}</title><link>https://news.example/h/{n}</link>"
        f"<description>&lt;p&gt;x&lt;/p&gt;{junk}</description></item>"
        for n in range(50)
    )
    start = time.perf_counter()
    assert len(extract_feed(rss(items), BASE)) == 50
    assert time.perf_counter() - start < 2.0


def test_script_style_and_comments_are_not_text() -> None:
    item = one(
        rss(
            "<item><title>T</title><link>https://news.example/s</link><description><![CDATA["
            "<p>Shown</p><script>hidden()</script><style>.x{}</style><!-- note -->"
            "<p>also shown</p>]]></description></item>"
        )
    )
    assert item.summary == "Shown also shown"
