"""Turn the bytes of a page or feed into text.

The order follows what browsers do, with detection as the last resort:

1. a byte order mark (it cannot lie, so it wins even over the HTTP header, as in
   the WHATWG encoding sniffing algorithm);
2. the charset of the HTTP ``Content-Type`` header;
3. ``<meta charset>`` / ``<meta http-equiv="content-type">`` (HTML) or the XML
   declaration (feeds) near the start of the body;
4. strict UTF-8, which nearly every undeclared modern page is;
5. detection with charset-normalizer among the encodings the web uses.

A declared encoding is trusted: bytes that are invalid in it become U+FFFD, and
decoding never raises.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

__all__ = [
    "charset_from_content_type",
    "decode_html",
    "decode_text",
    "detect_encoding",
    "html_encoding",
    "normalize_encoding",
    "sniff_bom",
]

# How far into the body a <meta charset> or XML declaration is looked for. The HTML
# standard says 1024 bytes; real pages (heise.de) put it after 7 KB of preloads.
PRESCAN_BYTES = 8192
# How much of an undeclared body the detector sees.
DETECT_BYTES = 65536

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG: these labels mean windows-1252 to every browser, and pages rely on it.
_ALIASES = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}

# Encodings the detector may answer, in the order that breaks its ties: when two
# decode the same bytes equally well (French in cp1252 or cp1250), the more common
# one wins. Rarely used single-byte sets (iso8859-10, mac-*) are left out because
# the detector likes them for short Polish or Czech text.
DETECTABLE = (
    "utf_8",
    "cp1252",
    "cp1251",
    "koi8_r",
    "iso8859_2",
    "cp1250",
    "koi8_u",
    "iso8859_15",
    "iso8859_5",
    "cp1257",
    "iso8859_13",
    "cp1253",
    "iso8859_7",
    "cp1254",
    "iso8859_9",
    "cp1255",
    "cp1256",
    "cp1258",
    "cp874",
    "gb18030",
    "big5",
    "shift_jis",
    "euc_jp",
    "iso2022_jp",
    "euc_kr",
)

_IN_WORD = re.compile(r"(?<=[A-Za-z])[^\x00-\x7f]|[^\x00-\x7f](?=[A-Za-z])")
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"'\s;,]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(
    rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.IGNORECASE
)


def normalize_encoding(label: str | None) -> str | None:
    """Python codec name for an encoding label, or None if the label is unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The known encoding named by a Content-Type header value, if any."""
    if not content_type:
        return None
    match = _CT_CHARSET.search(content_type)
    return normalize_encoding(match.group(1)) if match else None


def sniff_bom(body: bytes) -> tuple[str, int] | None:
    """(encoding, BOM length) when the body starts with a byte order mark."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    return None


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body, 0, PRESCAN_BYTES)
    if not match:
        return None
    name = normalize_encoding(match.group(1).decode("ascii", "replace"))
    # A <meta> that claims UTF-16 was read as ASCII-compatible bytes: it means UTF-8.
    return "utf-8" if name and name.startswith("utf-16") else name


def _xml_encoding(body: bytes) -> str | None:
    match = _XML_ENCODING.search(body[:PRESCAN_BYTES])
    return normalize_encoding(match.group(1).decode("ascii")) if match else None


def detect_encoding(body: bytes) -> str:
    """Best guess for undeclared bytes: strict UTF-8 if it fits, else the detector."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Only a sequence cut at the end of the body is forgivable UTF-8.
        if exc.start < len(body) - 3:
            return _detect(body[:DETECT_BYTES])
    return "utf-8"


def _detect(sample: bytes) -> str:
    from charset_normalizer import from_bytes  # the detector is only needed here

    results = list(from_bytes(sample, cp_isolation=list(DETECTABLE)))
    if not results:
        return "cp1252"
    floor = min(r.chaos for r in results)
    best = min(
        (_stray_symbols(str(r)), r.chaos, -r.coherence, _rank(name), name)
        for r in results
        if r.chaos <= floor + 0.1
        for name in (r.encoding, *r.could_be_from_charset)
    )
    return normalize_encoding(best[-1]) or "cp1252"


def _rank(name: str) -> int:
    return DETECTABLE.index(name) if name in DETECTABLE else len(DETECTABLE)


def _stray_symbols(text: str) -> int:
    """Symbols stuck to letters ("przeprosi³", "£uka¹enka", "mo¿e"): the mark of a
    wrong single-byte code page, which the detector's own mess score may miss.
    Quotes, dashes and letters next to letters are normal ("l’école", "«Le")."""
    return sum(1 for m in _IN_WORD.finditer(text) if _is_stray(m.group(0)))


def _is_stray(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] == "S" or category == "No" or char in "¿¡¶§·"


def _decode(body: bytes, encoding: str) -> str:
    return body.decode(encoding, errors="replace")


def html_encoding(body: bytes, content_type: str | None = None) -> tuple[str, int]:
    """(encoding, length of the BOM to skip) of an HTML body."""
    bom = sniff_bom(body)
    if bom:
        return bom
    encoding = (
        charset_from_content_type(content_type) or _meta_charset(body) or detect_encoding(body)
    )
    return encoding, 0


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The text of an HTML body: BOM, header charset, <meta>, UTF-8, then detection."""
    encoding, skip = html_encoding(body, content_type)
    return _decode(body[skip:] if skip else body, encoding)


def decode_text(body: bytes, declared: str | None = None) -> str:
    """The text of a feed or other XML/text body.

    `declared` is an encoding label (a header's charset, or a whole Content-Type
    value). Then the XML declaration, then strict UTF-8, then detection.
    """
    bom = sniff_bom(body)
    if bom:
        return _decode(body[bom[1] :], bom[0])
    encoding = (
        (charset_from_content_type(declared) if declared and "=" in declared else None)
        or normalize_encoding(declared)
        or _xml_encoding(body)
        or detect_encoding(body)
    )
    return _decode(body, encoding)
