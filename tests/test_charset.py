"""Charset: what a reader sees, whatever the page's bytes and declarations."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.extract.charset import (
    charset_from_content_type,
    decode_html,
    decode_text,
    detect_encoding,
    normalize_encoding,
)
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


def test_declared_utf8_with_invalid_bytes_gets_replacement_characters() -> None:
    body = b"<html><head><meta charset=utf-8></head><body><p>ok \xff\xfe bad \xd0</p></body></html>"
    text = decode_html(body, "text/html; charset=utf-8")
    assert "ok \ufffd\ufffd bad \ufffd" in text
    items = extract_html(
        b'<ul><li><a href="/x">Caf\xe9 \xff news today</a></li></ul>',
        "https://example.com/",
        Rule(item="li"),
        "text/html; charset=utf-8",
    )
    assert items[0].title == "Caf\ufffd \ufffd news today"


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
