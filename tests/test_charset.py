"""Charset: what a reader sees, whatever the page's bytes and declarations."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from monitor.extract.charset import (
    charset_from_content_type,
    decode_html,
    decode_text,
    detect_encoding,
    html_encoding,
    normalize_encoding,
    xml_encoding,
)
from monitor.extract.feed import extract_feed
from monitor.extract.html import extract_html
from monitor.models import Rule

CORPUS = Path(
    os.environ.get("MONITOR_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)

RU_TITLE = "Лукашенко извинился за ракетные удары по Украине"
RU_TEXT = (
    "Президент Украины Владимир Зеленский рассказал американскому подкастеру Лексу "
    "Фридману, что Александр Лукашенко извинился за ракетные удары по Украине с "
    "территории Беларуси в 2022 году и переложил ответственность на Путина."
)
PL_TITLE = "Łukašenka przeprosił Zełenskiego za ataki rakietowe z Białorusi"
PL_TEXT = (
    "Prezydent Ukrainy Wołodymyr Zełenski powiedział, że Alaksandr Łukašenka przeprosił "
    "go za ostrzał z terytorium Białorusi w 2022 roku. Według Zełenskiego białoruski "
    "przywódca zrzucił winę na Władimira Putina. Źródła w Mińsku nie skomentowały tych "
    "doniesień, a opozycja żąda śledztwa."
)
BE_LATIN = (
    "Alaksandar Łukašenka pierapraŭ za rakietnyja ŭdary z terytoryi Biełarusi ŭ 2022 "
    "hodzie, raskazaŭ Uładzimir Zialenski. Ciapier žyćcio ŭ Minsku ciažkaje."
)


def page(title: str, text: str, head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head>{head}<title>{title}</title></head><body>"
        f'<ul><li class="n"><a href="/a/1.html">{title}</a><p>{text}</p></li>'
        f'<li class="n"><a href="/a/2.html">{text[:60]}</a></li></ul></body></html>'
    )


@pytest.mark.parametrize("encoding", ["windows-1251", "koi8-r"])
@pytest.mark.parametrize("declared", ["header", "meta", "http-equiv", "nothing"])
def test_cyrillic_pages_come_out_right(encoding: str, declared: str) -> None:
    head = {
        "meta": f'<meta charset="{encoding}">',
        "http-equiv": f'<meta http-equiv="Content-Type" content="text/html; charset={encoding}">',
    }.get(declared, "")
    body = page(RU_TITLE, RU_TEXT, head).encode(encoding)
    content_type = f"text/html; charset={encoding}" if declared == "header" else None
    text = decode_html(body, content_type)
    assert RU_TITLE in text
    assert RU_TEXT in text


@pytest.mark.parametrize("declared", ["header", "meta", "nothing"])
def test_polish_latin2_comes_out_right(declared: str) -> None:
    head = '<meta charset="iso-8859-2">' if declared == "meta" else ""
    body = page(PL_TITLE, PL_TEXT, head).encode("iso-8859-2")
    content_type = "text/html; charset=ISO-8859-2" if declared == "header" else None
    text = decode_html(body, content_type)
    assert PL_TITLE in text
    assert "Łukašenka" in text


def test_belarusian_latin_in_undeclared_utf8() -> None:
    body = page("Łukašenka", BE_LATIN).encode("utf-8")
    assert BE_LATIN in decode_html(body)


def test_extract_html_reads_cp1251_titles() -> None:
    body = page(RU_TITLE, RU_TEXT).encode("cp1251")
    items = extract_html(
        body, "https://example.by/", Rule(item="li.n"), "text/html; charset=cp1251"
    )
    assert items[0].title == RU_TITLE
    assert items[0].url == "https://example.by/a/1.html"


def test_header_charset_beats_meta() -> None:
    body = page(RU_TITLE, RU_TEXT, '<meta charset="utf-8">').encode("cp1251")
    assert RU_TITLE in decode_html(body, "text/html; charset=windows-1251")


def test_unknown_header_charset_falls_back_to_meta() -> None:
    body = page(RU_TITLE, RU_TEXT, '<meta charset="koi8-r">').encode("koi8-r")
    assert RU_TITLE in decode_html(body, "text/html; charset=x-no-such-charset")


def test_meta_late_in_a_long_head_is_found() -> None:
    # heise.de declares its charset after 7 KB of preload links.
    preload = '<link rel="preload" href="/assets/chunk.js" as="script">' * 110
    body = page(RU_TITLE, RU_TEXT, preload + '<meta charset="windows-1251">').encode("cp1251")
    assert body.index(b"<meta charset") > 4096
    assert RU_TITLE in decode_html(body)


def test_declared_utf8_keeps_a_stray_byte_as_one_replacement_character() -> None:
    html = page(RU_TITLE, RU_TEXT, '<meta charset="utf-8">').replace("Лукашенко", "Лука\x00шенко")
    body = html.encode().replace(b"\x00", b"\xff")
    text = decode_html(body, "text/html; charset=utf-8")
    assert "Лука\ufffdшенко извинился за ракетные удары по Украине" in text
    assert text.count("\ufffd") == html.count("\x00")  # one per stray byte, no more
    items = extract_html(body, "https://example.by/", Rule(item="li.n"), "text/html; charset=utf-8")
    assert items[0].title == "Лука\ufffdшенко извинился за ракетные удары по Украине"


def test_bom_wins_and_is_not_text() -> None:
    body = "\ufeff" + page("Zażółć gęślą jaźń", PL_TEXT)
    text = decode_html(body.encode("utf-8"), "text/html; charset=iso-8859-1")
    assert text.startswith("<!DOCTYPE html>")
    assert "Zażółć gęślą jaźń" in text
    utf16 = decode_html(body.encode("utf-16"))
    assert "Zażółć gęślą jaźń" in utf16


def test_latin1_label_means_windows_1252() -> None:
    body = "<p>“Quoted” – naïve</p>".encode("cp1252")
    assert "“Quoted” – naïve" in decode_html(body, "text/html; charset=ISO-8859-1")


def test_meta_utf16_means_utf8() -> None:
    body = '<meta charset="utf-16"><p>Łukašenka</p>'.encode()
    assert "Łukašenka" in decode_html(body)


def test_french_windows_1252_is_not_read_as_central_european() -> None:
    text = (
        "Le ministre a annoncé que les élèves reprendront l’école après l’été. « C’est très "
        "important », a-t-il déclaré à la télévision française mercredi soir."
    )
    assert text in decode_html(page("Les élèves", text).encode("cp1252"))


def test_decode_never_raises_on_garbage() -> None:
    garbage = bytes(range(256)) * 8
    assert isinstance(decode_html(garbage), str)
    assert isinstance(decode_html(garbage, "text/html; charset=utf-8"), str)
    assert isinstance(decode_text(garbage), str)
    assert decode_html(b"") == ""


def test_truncated_utf8_is_still_utf8() -> None:
    body = "Łukašenka".encode()[:-1] + b""
    assert detect_encoding("Беларусь".encode()[:-1]) == "utf-8"
    assert decode_html(body).startswith("Łukašen")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text/html; charset=windows-1251", "cp1251"),
        ('text/html; Charset="KOI8-R"', "koi8-r"),
        ("text/html;charset=utf8", "utf-8"),
        ("text/html; charset=latin1", "cp1252"),
        ("text/html", None),
        ("text/html; charset=bogus", None),
        (None, None),
    ],
)
def test_charset_from_content_type(value: str | None, expected: str | None) -> None:
    assert charset_from_content_type(value) == expected


def test_normalize_encoding() -> None:
    assert normalize_encoding("Windows-1251") == "cp1251"
    assert normalize_encoding("us-ascii") == "cp1252"
    assert normalize_encoding(None) is None


def test_decode_text_uses_the_declared_then_xml_encoding() -> None:
    xml = f'<?xml version="1.0" encoding="koi8-r"?><rss><title>{RU_TITLE}</title></rss>'
    assert RU_TITLE in decode_text(xml.encode("koi8-r"))
    assert RU_TITLE in decode_text(xml.encode("koi8-r"), "koi8-r")
    assert RU_TITLE in decode_text(xml.encode("koi8-r"), "application/rss+xml; charset=koi8-r")
    assert RU_TITLE in decode_text(xml.replace("koi8-r", "utf-8").encode("cp1251"), "cp1251")


# --- real files ------------------------------------------------------------


def corpus_file(relative: str) -> bytes:
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"corpus not available: {path}")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("relative", "words"),
    [
        ("listing/en_hackernews_front_rssproxy.html", ["Nüshu", "you’ve"]),
        ("listing/en_nature_news_2019_rssproxy.html", ["O’Meara", "Brazil’s"]),
        ("article/ie_irishtimes_israel_htmldate.html", ["“relentlessly", "Gallant’s"]),
    ],
)
def test_corpus_pages_without_charset_meta(relative: str, words: list[str]) -> None:
    text = decode_html(corpus_file(relative))
    assert "\ufffd" not in text
    for word in words:
        assert word in text


def test_corpus_iso_8859_1_article() -> None:
    text = decode_html(corpus_file("article/de_die-tagespost_demut_trafilatura.html"))
    assert "\ufffd" not in text
    assert "Demut" in text
    assert "ü" in text or "ä" in text or "ö" in text


@pytest.mark.parametrize(
    ("relative", "word"),
    [
        ("feed/ru_ibash_windows-1251_miniflux.xml", "Обсуждение"),
        ("feed/fr_zeuhl_iso-8859-1_huginn.xml", "Mëkanïk"),
        ("malformed-feed/fr_cerclepsy_no_encoding_decl_miniflux.xml", "thérapeutique"),
        # "à" is "ŕ" in the Central European code pages: French must stay French.
        ("malformed-feed/fr_cerclepsy_no_encoding_decl_miniflux.xml", "surtout à... l'ennui"),
    ],
)
def test_corpus_feeds_decode(relative: str, word: str) -> None:
    text = decode_text(corpus_file(relative))
    assert word in text
    assert "\ufffd" not in text


# --- declared versus bytes, labels, BOMs -------------------------------------------

_META = re.compile(r"<meta\b[^>]*charset[^>]*>", re.IGNORECASE)

# Real UTF-8 pages, re-encoded into the code pages their language was published in.
RE_ENCODED = [
    ("article/ua_pravda_2026-01-08_fundus_FREE.html", "windows-1251"),
    ("article/ua_pravda_2026-01-08_fundus_FREE.html", "koi8-r"),
    ("article/ua_pravda_2026-01-08_fundus_FREE.html", "koi8-u"),
    ("listing/pl_onet_home_2022.html", "iso-8859-2"),
    ("listing/pl_onet_home_2022.html", "windows-1250"),
    ("listing/de_telepolis_index_2020_feedless.html", "windows-1252"),
    ("article/es_elpais_2024-10-15_fundus.html", "windows-1252"),
    ("article/it_corriere_2025-02-04_fundus.html", "windows-1252"),
]


def declare(html: str, how: str, label: str) -> tuple[str, str | None]:
    """The page with its own charset declarations replaced by `how`, and the
    Content-Type header to serve it with."""
    html = _META.sub("", html)
    tag = {
        "meta": f'<meta charset="{label}">',
        "http-equiv": f'<meta http-equiv="Content-Type" content="text/html; charset={label}">',
    }.get(how)
    if tag:
        html = re.sub(r"<head\b[^>]*>", lambda m: m.group(0) + tag, html, count=1)
    return html, f"text/html; charset={label}" if how == "header" else None


def re_encoded(relative: str, encoding: str, how: str, label: str) -> tuple[bytes, str | None]:
    html, content_type = declare(corpus_file(relative).decode("utf-8"), how, label)
    # Characters the code page lacks become references, which HTML reads back.
    return html.encode(encoding, "xmlcharrefreplace"), content_type


@pytest.mark.parametrize(("relative", "encoding"), RE_ENCODED)
@pytest.mark.parametrize(
    ("how", "declared"),
    [
        ("header", "utf-8"),
        ("meta", "utf-8"),
        ("http-equiv", "utf-8"),
        ("nothing", ""),
        ("header", "own"),
        ("meta", "own"),
        ("http-equiv", "own"),
    ],
)
def test_legacy_pages_read_right_however_declared(
    relative: str, encoding: str, how: str, declared: str
) -> None:
    label = declared if declared == "utf-8" else encoding
    body, content_type = re_encoded(relative, encoding, how, label)
    assert decode_html(body, content_type) == body.decode(encoding)


def test_polish_listing_declared_utf8_lists_the_same_items() -> None:
    rule = Rule(item="section.mosaic a.itemBox[data-art-type]", title="span.title")
    original = corpus_file("listing/pl_onet_home_2022.html")
    expected = [(i.title, i.url) for i in extract_html(original, "https://www.onet.pl/", rule)]
    body, _ = re_encoded("listing/pl_onet_home_2022.html", "iso-8859-2", "meta", "utf-8")
    items = extract_html(body, "https://www.onet.pl/", rule, "text/html; charset=utf-8")
    assert len(expected) > 50
    assert [(i.title, i.url) for i in items] == expected
    assert any("ł" in title or "ż" in title for title, _ in expected)


@pytest.mark.parametrize("declared", ["header", "meta"])
def test_windows_1251_page_declared_utf8_reads_as_cyrillic(declared: str) -> None:
    head = '<meta charset="utf-8">' if declared == "meta" else ""
    body = page(RU_TITLE, RU_TEXT, head).encode("cp1251")
    content_type = "text/html; charset=utf-8" if declared == "header" else None
    items = extract_html(body, "https://example.by/", Rule(item="li.n"), content_type)
    assert [i.title for i in items] == [RU_TITLE, RU_TEXT[:60].strip()]


def test_server_default_utf8_yields_to_the_pages_own_meta() -> None:
    body = page(RU_TITLE, RU_TEXT, '<meta charset="windows-1251">').encode("cp1251")
    assert html_encoding(body, "text/html; charset=UTF-8") == ("cp1251", 0)


def test_utf8_bytes_under_a_legacy_label_read_as_utf8() -> None:
    body = page(PL_TITLE, PL_TEXT).encode("utf-8")
    assert decode_html(body, "text/html; charset=iso-8859-1") == page(PL_TITLE, PL_TEXT)


def test_xml_declaration_of_an_xhtml_page_is_read_after_meta() -> None:
    xhtml = '<?xml version="1.0" encoding="windows-1251"?>\n' + page(RU_TITLE, RU_TEXT)
    assert RU_TITLE in decode_html(xhtml.encode("cp1251"))
    with_meta = xhtml.replace("<head>", '<head><meta charset="koi8-r">')
    assert html_encoding(with_meta.encode("koi8-r"))[0] == "koi8-r"


PT_TITLE = "Simulação mostra que a prisão preventiva não é a solução"
LATIN_TEXTS = [
    ("Portuguese", PT_TITLE + ", disse o ministro à imprensa.", "windows-1252"),
    ("Polish", PL_TEXT, "iso-8859-2"),
    ("Polish", PL_TEXT, "windows-1250"),
    # Łacinka without "ŭ", which neither code page has.
    (
        "Łacinka",
        "Alaksandar Łukašenka pieraprasiŭ za rakietnyja ŭdary, raskazaŭ Uładzimir "
        "Zialenski. Ciapier žyćcio ŭ Minsku ciažkaje, piša Źmicier.".replace("ŭ", "u"),
        "windows-1250",
    ),
    (
        "Łacinka",
        "Alaksandar Łukašenka pieraprasiŭ za rakietnyja ŭdary, raskazaŭ Uładzimir "
        "Zialenski. Ciapier žyćcio ŭ Minsku ciažkaje, piša Źmicier.".replace("ŭ", "u"),
        "iso-8859-2",
    ),
    (
        "German",
        "Die Bürger müssen größere Anstrengungen unternehmen, sagte der Außenminister "
        "über die Lösung der Krise „in dieser Woche“.",
        "windows-1252",
    ),
    (
        "German",
        "Die Bürger müssen größere Anstrengungen unternehmen, sagte der Außenminister.",
        "iso-8859-15",
    ),
    (
        "Czech",
        "Předseda vlády řekl, že změny zákona přinesou úspory. Očekává se, že sněmovna "
        "o nich bude hlasovat příští týden.",
        "windows-1250",
    ),
    (
        "Czech",
        "Předseda vlády řekl, že změny zákona přinesou úspory. Očekává se, že sněmovna "
        "o nich bude hlasovat příští týden.",
        "iso-8859-2",
    ),
    ("Russian", RU_TEXT, "windows-1251"),
    ("Russian", RU_TEXT, "koi8-r"),
]


@pytest.mark.parametrize(("language", "text", "encoding"), LATIN_TEXTS)
@pytest.mark.parametrize("declared", ["utf-8", None])
def test_code_page_is_the_one_that_makes_words_of_the_language(
    language: str, text: str, encoding: str, declared: str | None
) -> None:
    head = f'<meta charset="{declared}">' if declared else ""
    html = page(language, text, head)
    assert decode_html(html.encode(encoding)) == html


def test_portuguese_windows_1252_declared_utf8_reads_right() -> None:
    titles = ["Simulação de ataque", "A prisão preventiva", "Ação da polícia não é legal"]
    entries = "".join(
        f"<item><title>{t}</title><link>https://e.pt/{n}</link></item>"
        for n, t in enumerate(titles)
    )
    rss = f'<?xml version="1.0" encoding="UTF-8"?><rss><channel>{entries}</channel></rss>'
    body = rss.encode("cp1252")
    items = extract_feed(body, "https://e.pt/", "application/rss+xml; charset=utf-8")
    assert [i.title for i in items] == titles
    html = "".join(f'<li><a href="/{n}">{t}</a></li>' for n, t in enumerate(titles))
    body = f'<meta charset="utf-8"><ul>{html}</ul>'.encode("cp1252")
    assert [i.title for i in extract_html(body, "https://e.pt/", Rule(item="li"))] == titles


def test_feed_declared_utf8_with_one_cut_character_reads_right_but_one_replacement() -> None:
    source = corpus_file("feed/ua_unian_data-import.xml")
    expected = [i.title for i in extract_feed(source, "https://www.unian.ua/")]
    title = expected[3]
    cut_at = next(n for n, char in enumerate(title) if ord(char) > 127)
    before, char = title[:cut_at].encode(), title[cut_at].encode()
    start = source.index(title.encode()) + len(before)
    # A CMS that cut a character mid-way: its last byte is gone.
    cut = source[:start] + char[:-1] + source[start + len(char) :]
    expected[3] = title[:cut_at] + "\ufffd" + title[cut_at + 1 :]
    for content_type in (None, "application/rss+xml; charset=utf-8"):
        items = extract_feed(cut, "https://www.unian.ua/", content_type)
        assert [i.title for i in items] == expected


@pytest.mark.parametrize(
    "content_type", [None, "application/rss+xml; charset=utf-8", "text/xml; charset=windows-1251"]
)
def test_windows_1251_feed_declared_utf8_reads_as_cyrillic(content_type: str | None) -> None:
    source = corpus_file("feed/ru_ibash_windows-1251_miniflux.xml")
    expected = [i.title for i in extract_feed(source, "https://ibash.org.ru/")]
    assert expected[0] == "Цитата #17703"
    misdeclared = source.replace(b'encoding="windows-1251"', b'encoding="utf-8"')
    assert misdeclared != source
    items = extract_feed(misdeclared, "https://ibash.org.ru/", content_type)
    assert [i.title for i in items] == expected
    text = decode_text(misdeclared, content_type)
    assert "\ufffd" not in text
    assert text == source.decode("cp1251").replace('encoding="windows-1251"', 'encoding="utf-8"')


SUPERSETS = [
    # label, the encoding browsers read it as, text with characters only the superset has
    ("gb2312", "gb18030", "朱镕基会见代表团，票价100€"),
    ("gbk", "gb18030", "朱镕基会见代表团，票价100€"),
    ("euc-kr", "cp949", "똠방각하 뉴스 속보"),
    ("ks_c_5601-1987", "cp949", "똠방각하 뉴스 속보"),
    ("shift_jis", "cp932", "①髙橋さんのニュース"),
    ("x-sjis", "cp932", "①髙橋さんのニュース"),
    ("big5", "big5hkscs", "香港新聞：𡃁仔"),
]


@pytest.mark.parametrize(("label", "encoding", "text"), SUPERSETS)
@pytest.mark.parametrize("declared", ["header", "meta"])
def test_legacy_labels_read_their_common_supersets(
    label: str, encoding: str, text: str, declared: str
) -> None:
    head = f'<meta charset="{label}">' if declared == "meta" else ""
    body = f'<html><head>{head}</head><body><ul><li><a href="/1">{text}</a></li></ul></body></html>'
    content_type = f"text/html; charset={label}" if declared == "header" else None
    items = extract_html(body.encode(encoding), "https://e.cn/", Rule(item="li"), content_type)
    assert [i.title for i in items] == [text]
    rss = f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel><item><title>{text}</title><link>https://e.cn/1</link></item></channel></rss>'
    assert [i.title for i in extract_feed(rss.encode(encoding), "https://e.cn/")] == [text]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("x-gbk", "gb18030"),
        ("euc-kr", "cp949"),
        ("windows-949", "cp949"),
        ("shift_jis", "cp932"),
        ("windows-31j", "cp932"),
        ("big5", "big5hkscs"),
        ("iso-8859-1", "cp1252"),
        ("ascii", "cp1252"),
        ("latin1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("iso-8859-9", "cp1254"),
        ("latin5", "cp1254"),
        ("tis-620", "cp874"),
        ("iso-8859-11", "cp874"),
        ("iso-8859-8-i", "iso8859-8"),
        ("x-mac-cyrillic", "mac-cyrillic"),
        ("utf-16", "utf-16-le"),
        (" UTF8 ", "utf-8"),
        ("unicode-1-1-utf-8", "utf-8"),
        ("koi8-ru", "koi8-u"),
        # Labels the standard does not know are no declaration at all.
        ("utf-7", None),
        ("latin-1", None),
        ("cp-1252", None),
        ("hz-gb-2312", None),
        ("", None),
    ],
)
def test_labels_map_as_the_whatwg_encoding_standard(label: str, expected: str | None) -> None:
    assert normalize_encoding(label) == expected


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be"])
def test_utf32_byte_order_mark_is_honoured(encoding: str) -> None:
    html = page(PL_TITLE, BE_LATIN)
    body = ("\ufeff" + html).encode(encoding)
    assert html_encoding(body, "text/html; charset=utf-8") == (encoding, 4)
    assert decode_html(body) == html
    items = extract_html(body, "https://example.by/", Rule(item="li.n"))
    assert items[0].title == PL_TITLE
    rss = f'<?xml version="1.0"?><rss version="2.0"><channel><item><title>{RU_TITLE}</title><link>https://e.by/1</link></item></channel></rss>'
    feed = ("\ufeff" + rss).encode(encoding)
    assert xml_encoding(feed) == (encoding, 4)
    assert [i.title for i in extract_feed(feed, "https://e.by/")] == [RU_TITLE]


def test_x_user_defined_maps_high_bytes_to_the_private_use_area() -> None:
    assert decode_html(b"a\x80\xff", "text/html; charset=x-user-defined") == "a\uf780\uf7ff"
