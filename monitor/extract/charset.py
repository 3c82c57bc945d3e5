"""Turn the bytes of a page or feed into text, as a browser reads them.

The order is a browser's, with detection as the last resort:

1. a byte order mark (it cannot lie, so it wins even over the HTTP header, as in
   the WHATWG encoding sniffing algorithm); UTF-32 marks are looked for before
   UTF-16 ones, whose mark is a prefix of UTF-32 LE's;
2. the charset of the HTTP ``Content-Type`` header;
3. ``<meta charset>`` / ``<meta http-equiv="content-type">`` (HTML only);
4. the XML declaration;
5. detection: UTF-8 if the bytes are UTF-8, else the reading that makes words.

Labels are mapped as the WHATWG Encoding Standard maps them: ``iso-8859-1`` and
``ascii`` mean windows-1252, ``gb2312`` means GB18030, ``euc-kr`` windows-949,
``shift_jis`` windows-31J, ``iso-8859-9`` windows-1254, and so on.

A declaration wins over detection unless the bytes prove it wrong by more than a
stray byte: text declared UTF-8 with one invalid byte is UTF-8 with one U+FFFD,
but windows-1251 or windows-1252 text declared UTF-8 is read in its own code page.
Bytes that form UTF-8 sequences are UTF-8 even under a legacy label (legacy text
practically never does). Decoding never raises.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

__all__ = [
    "charset_from_content_type",
    "decode_bytes",
    "decode_html",
    "decode_text",
    "detect_encoding",
    "html_encoding",
    "normalize_encoding",
    "parser_bytes",
    "sniff_bom",
    "xml_encoding",
]

# How far into the body a <meta charset> or XML declaration is looked for. The HTML
# standard says 1024 bytes; real pages (heise.de) put it after 7 KB of preloads.
PRESCAN_BYTES = 8192
# How much of an undeclared body the detector sees.
DETECT_BYTES = 65536
# A declaration stands while its invalid byte runs are at most one, or at most one
# for every this many characters it decodes outside ASCII (a CMS that cut a few
# characters mid-way); text in another encoding has hardly any valid ones.
VALID_PER_INVALID = 4

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# The WHATWG Encoding Standard's labels (encoding.spec.whatwg.org, "Names and
# labels"), under the Python codec that decodes as the standard's decoder does:
# its GBK decoder is GB18030's, its Big5 includes HKSCS, its EUC-KR and Shift_JIS
# are Microsoft's supersets. The "replacement" labels (iso-2022-kr, hz-gb-2312,
# iso-2022-cn) are left out: a browser shows such a page as one U+FFFD, and a
# monitor is better served by reading the bytes.
_WHATWG_LABELS: tuple[tuple[str, str], ...] = (
    ("utf-8", "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8"),
    ("cp866", "866 cp866 csibm866 ibm866"),
    (
        "iso8859-2",
        "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2",
    ),
    (
        "iso8859-3",
        "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3",
    ),
    (
        "iso8859-4",
        "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4",
    ),
    (
        "iso8859-5",
        "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 iso_8859-5 "
        "iso_8859-5:1988",
    ),
    (
        "iso8859-6",
        "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6 "
        "iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987",
    ),
    (
        "iso8859-7",
        "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 iso8859-7 "
        "iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    ),
    (
        "iso8859-8",
        "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 iso8859-8 "
        "iso88598 iso_8859-8 iso_8859-8:1988 visual csiso88598i iso-8859-8-i logical",
    ),
    (
        "iso8859-10",
        "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    ),
    ("iso8859-13", "iso-8859-13 iso8859-13 iso885913"),
    ("iso8859-14", "iso-8859-14 iso8859-14 iso885914"),
    ("iso8859-15", "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9"),
    ("iso8859-16", "iso-8859-16"),
    ("koi8-r", "cskoi8r koi koi8 koi8-r koi8_r"),
    ("koi8-u", "koi8-ru koi8-u"),
    ("mac-roman", "csmacintosh mac macintosh x-mac-roman"),
    ("cp874", "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874"),
    ("cp1250", "cp1250 windows-1250 x-cp1250"),
    ("cp1251", "cp1251 windows-1251 x-cp1251"),
    (
        "cp1252",
        "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 "
        "iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 "
        "x-cp1252",
    ),
    ("cp1253", "cp1253 windows-1253 x-cp1253"),
    (
        "cp1254",
        "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 "
        "iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254",
    ),
    ("cp1255", "cp1255 windows-1255 x-cp1255"),
    ("cp1256", "cp1256 windows-1256 x-cp1256"),
    ("cp1257", "cp1257 windows-1257 x-cp1257"),
    ("cp1258", "cp1258 windows-1258 x-cp1258"),
    ("mac-cyrillic", "x-mac-cyrillic x-mac-ukrainian"),
    (
        "gb18030",
        "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk gb18030",
    ),
    ("big5hkscs", "big5 big5-hkscs cn-big5 csbig5 x-x-big5"),
    ("euc_jp", "cseucpkdfmtjapanese euc-jp x-euc-jp"),
    ("iso2022_jp", "csiso2022jp iso-2022-jp"),
    ("cp932", "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis"),
    (
        "cp949",
        "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 "
        "ksc5601 ksc_5601 windows-949",
    ),
    ("utf-16-be", "unicodefffe utf-16be"),
    ("utf-16-le", "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le"),
    ("x-user-defined", "x-user-defined"),
    # Not in the standard (no browser decodes UTF-32), but its BOM is honoured, so a
    # header that names it is understood too.
    ("utf-32-le", "utf-32 utf-32le utf32"),
    ("utf-32-be", "utf-32be"),
)
_LABELS = {label: codec for codec, labels in _WHATWG_LABELS for label in labels.split()}
_WIDE = ("utf-16", "utf-32")
# x-user-defined: ASCII, then bytes 0x80-0xFF as U+F780-U+F7FF.
_USER_DEFINED = {byte: 0xF700 + byte for byte in range(0x80, 0x100)}

# Encodings the detector may answer, in the order that breaks its ties: when two
# read the bytes equally well, the more common one wins. Rarely used single-byte
# sets are left out: the detector likes iso8859-10 and mac-* for short Polish or
# Czech text, and windows-1258 (whose combining accents no alphabet below judges)
# for Italian.
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
    "cp874",
    "gb18030",
    "big5",
    "shift_jis",
    "euc_jp",
    "iso2022_jp",
    "euc_kr",
)

# Letters outside ASCII that each language writes (lower case), to tell which
# reading of the bytes makes words of one language: "simulação" is Portuguese,
# "simulaçăo" (windows-1250) and "simulaēćo" (windows-1257) are no language's.
_ALPHABETS: tuple[str, ...] = (
    "áâãàçéêíóôõúü",  # Portuguese
    "áéíñóúü",  # Spanish
    "àçéèíïòóúü",  # Catalan
    "àâæçéèêëîïôœùûüÿ",  # French
    "àèéìíîòóù",  # Italian
    "äöüß",  # German
    "áäéëèêïíóöüú",  # Dutch
    "æøåéóôèàü",  # Danish, Norwegian
    "åäöéüšž",  # Swedish, Finnish
    "áðéíóúýþæö",  # Icelandic
    "ąćęłńóśźż",  # Polish
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "čćđšž",  # Slovenian, Croatian, Bosnian, Serbian
    "áéíóöőúüű",  # Hungarian
    "ăâîșțşţ",  # Romanian
    "ąčęėįšųūž",  # Lithuanian
    "āčēģīķļņšūž",  # Latvian
    "äöõüšž",  # Estonian
    "çğıöşüâîİ",  # Turkish
    "çë",  # Albanian
    "ćčłńśšŭźž",  # Belarusian Łacinka
    "ĉĝĥĵŝŭ",  # Esperanto
    "ċġħżàèìòù",  # Maltese
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",  # Russian
    "абвгдежзийклмнопрстуфхцчшщьюяєіїґ",  # Ukrainian
    "абвгдеёжзійклмнопрстуўфхцчшыьэюя",  # Belarusian
    "абвгдежзийклмнопрстуфхцчшщъьюяѝ",  # Bulgarian
    "абвгдђежзијклљмнњопрстћуфхцчџш",  # Serbian
    "абвгдѓежзѕијклљмнњопрстќуфхцчџш",  # Macedonian
    "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώϊϋΐΰς",  # Greek
)
_ALPHABET_SETS = tuple(frozenset(a) for a in _ALPHABETS)
# Letters the alphabets judge: Latin beyond ASCII, Greek, Cyrillic. Other scripts
# (CJK, Arabic, Hebrew, Thai) are left to the detector's own measures.
_JUDGED_LETTER = re.compile(r"[\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u1e00-\u1eff]")
# Runs of ASCII letters and characters beyond ASCII: the words a reading is judged by.
_RUN = re.compile(r"[^\x00-\x40\x5b-\x60\x7b-\x7f]+")
_LETTERS = re.compile(r"[^\W\d_]+")
# A character beyond ASCII that is neither letter, digit nor space, next to a letter.
_BY_LETTER = re.compile(r"(?<=[^\W\d_])[^\x00-\x7f\w\s]|[^\x00-\x7f\w\s](?=[^\W\d_])")
# A letter of another alphabet (Greek to Thai) touching an ASCII letter: "perchи"
# is Italian read as windows-1251. CJK next to Latin is normal ("iPhone发布").
_MIXED = re.compile(r"(?<=[A-Za-z])[\u0370-\u0e7f]|[\u0370-\u0e7f](?=[A-Za-z])")
# The detector drops an encoding when a few of its chunks look messier than this; the
# words sample is denser than a page, so it needs more room.
_DETECTOR_THRESHOLD = 0.5
_UNDEFINED = re.compile(r"[\x80-\x9f\ufffd]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_HIGH_BYTES = bytes(range(0x80, 0x100))
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
# Multi-byte encodings whose second bytes may be ASCII letters.
_ASCII_TRAILS = frozenset({"gb18030", "big5hkscs", "cp932", "cp949"})
_HIGH_RUN = re.compile(rb"[\x40-\xff]+")
_ESCAPED_RUN = re.compile(r"[\udc80-\udcff]+")
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"'\s;,]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(
    rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.IGNORECASE
)


# --- labels ------------------------------------------------------------------------


def normalize_encoding(label: str | None) -> str | None:
    """Python codec name for an encoding label as the WHATWG Encoding Standard reads
    it ("latin1" → cp1252, "gb2312" → gb18030), or None if the label is unknown."""
    if not label:
        return None
    key = label.strip("\t\n\f\r \"'").lower()
    return _LABELS.get(key) if key.isascii() else None


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


def _in_document(label: str | None) -> str | None:
    # A label found by reading the bytes as ASCII cannot be UTF-16 or UTF-32: the
    # HTML standard reads such a <meta> (and so an XML declaration) as UTF-8.
    return "utf-8" if label and label.startswith(_WIDE) else label


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body, 0, PRESCAN_BYTES)
    return _in_document(normalize_encoding(match.group(1).decode("ascii"))) if match else None


def _xml_charset(body: bytes) -> str | None:
    match = _XML_ENCODING.search(body[:PRESCAN_BYTES])
    return _in_document(normalize_encoding(match.group(1).decode("ascii"))) if match else None


# --- declared versus bytes ---------------------------------------------------------


def html_encoding(body: bytes, content_type: str | None = None) -> tuple[str, int]:
    """(encoding, length of the BOM to skip) of an HTML body: BOM, header charset,
    <meta>, XML declaration, each only if the bytes do not prove it wrong, then
    detection."""
    bom = sniff_bom(body)
    if bom:
        return bom
    declared = (charset_from_content_type(content_type), _meta_charset(body), _xml_charset(body))
    return _choose(body, declared), 0


def xml_encoding(body: bytes, content_type: str | None = None) -> tuple[str, int]:
    """(encoding, length of the BOM to skip) of a feed or other XML body: BOM,
    header charset, XML declaration, each only if the bytes do not prove it wrong,
    then detection. `content_type` is a whole header value or a bare label."""
    bom = sniff_bom(body)
    if bom:
        return bom
    header = (
        charset_from_content_type(content_type)
        if content_type and "=" in content_type
        else normalize_encoding(content_type)
    )
    return _choose(body, (header, _xml_charset(body))), 0


def _choose(body: bytes, declared: Iterable[str | None]) -> str:
    """The first declaration the bytes bear out, else what detection reads.

    When several declarations disagree and the bytes bear out more than one (a
    server's default iso-8859-1 against the page's own windows-1251), the one
    whose reading makes words wins; on a tie, the earlier one.
    """
    standing: list[str] = []
    utf8: bool | None = None
    for encoding in dict.fromkeys(e for e in declared if e):
        if encoding != "utf-8":
            utf8 = _is_utf8(body) if utf8 is None else utf8
            if utf8:
                return "utf-8"
        if _bears_out(body, encoding):
            standing.append(encoding)
    if not standing:
        return detect_encoding(body)
    if len(standing) == 1:
        return standing[0]
    sample = body[:DETECT_BYTES]
    return min(
        standing,
        key=lambda e: (_misreadings(decode_bytes(sample, e)), standing.index(e)),
    )


def _bears_out(body: bytes, encoding: str) -> bool:
    """Whether the bytes are text in `encoding` give or take a stray byte."""
    if encoding == "x-user-defined":
        return True
    if encoding.startswith(_WIDE) and b"\x00" not in body[:PRESCAN_BYTES]:
        return False  # a header's UTF-16 over ASCII-compatible bytes
    valid, invalid = _counts(body, encoding)
    return invalid <= 1 or valid >= VALID_PER_INVALID * invalid


def _is_utf8(body: bytes) -> bool:
    """Whether the bytes are UTF-8 beyond doubt: multi-byte sequences, and at most
    one invalid run per VALID_PER_INVALID of them."""
    first = _HIGH_BYTE.search(body)
    if first is None:
        return False
    # A large legacy page is told from its first text beyond ASCII (the window's cut
    # end may split one character).
    window = body[first.start() : first.start() + DETECT_BYTES]
    if first.start() + len(window) < len(body) and not _utf8_counts_hold(window, cut=True):
        return False
    return _utf8_counts_hold(body)


def _utf8_counts_hold(body: bytes, cut: bool = False) -> bool:
    valid, invalid = _counts(body, "utf-8")
    return valid >= 1 and valid >= VALID_PER_INVALID * max(0, invalid - cut)


def _counts(body: bytes, encoding: str) -> tuple[int, int]:
    """(characters outside ASCII decoded, runs of bytes invalid in the encoding); the
    first is only 0 or 1 when there is no invalid run (all that is asked then)."""
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        text = body.decode(encoding, "surrogateescape")
    except LookupError:
        return 0, len(body)
    else:
        return int(not body.isascii()), 0
    runs = _ESCAPED_RUN.findall(text)
    escaped = sum(map(len, runs))
    if encoding in _ASCII_TRAILS:  # a character may end in an ASCII byte: count exactly
        non_ascii = len(text) - len(_NON_ASCII.sub("", text))
    else:  # each ASCII byte is one ASCII character
        non_ascii = len(text) - len(body.translate(None, _HIGH_BYTES))
    return non_ascii - escaped, len(runs)


# --- detection ---------------------------------------------------------------------


def detect_encoding(body: bytes) -> str:
    """Best guess for undeclared bytes: UTF-8 if they are UTF-8, else the detector."""
    if body.isascii() or _is_utf8(body):
        return "utf-8"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sequence cut at the end of the body is forgivable UTF-8.
        if exc.start < len(body) - 3:
            return _detect(_words_sample(body))
    return "utf-8"


def _words_sample(body: bytes) -> bytes:
    """Up to DETECT_BYTES of the body's words with bytes beyond ASCII, from all of it:
    the start of a page is mostly markup, and the letters that tell one code page
    from its cousin (Ukrainian "і" in KOI8-U, not KOI8-R) may come late. A run of
    bytes from 0x40 up never splits a character of the multi-byte encodings."""
    words: list[bytes] = []
    size = 0
    for run in _HIGH_RUN.findall(body):
        if not run.isascii():
            words.append(run)
            size += len(run) + 1
            if size >= DETECT_BYTES:
                break
    return b" ".join(words)


def _detect(sample: bytes) -> str:
    from charset_normalizer import from_bytes  # the detector is only needed here

    results = list(from_bytes(sample, cp_isolation=list(DETECTABLE), threshold=_DETECTOR_THRESHOLD))
    if not results:
        return "cp1252"
    floor = min(r.chaos for r in results)
    best = min(
        (misreadings, r.chaos, -r.coherence, _rank(name), name)
        for r in results
        if r.chaos <= floor + 0.1
        for misreadings in (_misreadings(str(r)),)
        for name in (r.encoding, *r.could_be_from_charset)
    )
    # The detector's names are Python's ("euc_kr"): read them as labels, so that
    # they get the standard's supersets (cp949) too.
    name = codecs.lookup(best[-1]).name
    return normalize_encoding(name.replace("_", "-")) or name


def _rank(name: str) -> int:
    return DETECTABLE.index(name) if name in DETECTABLE else len(DETECTABLE)


def _misreadings(text: str) -> int:
    """How many marks of a wrong code page a reading shows: C1 controls and U+FFFD
    (undefined bytes), symbols stuck to letters ("przeprosi³", "mo¿e"), letters of
    another alphabet stuck to Latin ones ("perchи"), case flipping inside words
    ("пРЕЗИДЕНТ": KOI8-R read as windows-1251), each counting twice, and letters
    foreign to the one language that fits the text best ("simulaçăo"), which a
    quoted name from a neighbouring language can also produce."""
    words = "\n".join(run for run in _RUN.findall(text) if not run.isascii())
    impossible = (
        len(_UNDEFINED.findall(text))
        + _stray_symbols(words)
        + sum(1 for m in _MIXED.finditer(words) if m.group(0).isalpha())
        + _case_flips(words)
    )
    return 2 * impossible + _foreign_letters(words)


def _stray_symbols(words: str) -> int:
    """Symbols stuck to letters. Quotes, dashes and letters next to letters are normal
    ("l’école", "«Le")."""
    return sum(1 for m in _BY_LETTER.finditer(words) if _is_stray(m.group(0)))


def _is_stray(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] == "S" or category == "No" or char in "¿¡¶§·"


def _case_flips(words: str) -> int:
    """Words beyond ASCII in neither lower, upper nor title case ("iPhone" is ASCII
    and not judged)."""
    return sum(
        1
        for word in _LETTERS.findall(words)
        if not (word.isascii() or word.islower() or word.isupper() or word.istitle())
    )


def _foreign_letters(words: str) -> int:
    letters = Counter(_lower(c) for c in _JUDGED_LETTER.findall(words))
    if not letters:
        return 0
    return min(
        sum(n for letter, n in letters.items() if letter not in alphabet)
        for alphabet in _ALPHABET_SETS
    )


def _lower(char: str) -> str:
    lower = char.lower()
    return lower if len(lower) == 1 else char


# --- decoding ----------------------------------------------------------------------


def decode_bytes(body: bytes, encoding: str) -> str:
    """The text of `body` in `encoding`; bytes invalid in it become U+FFFD."""
    if encoding == "x-user-defined":
        return body.decode("latin-1").translate(_USER_DEFINED)
    return body.decode(encoding, errors="replace")


def parser_bytes(body: bytes, encoding: str) -> tuple[bytes, str]:
    """Bytes and encoding for a parser that decodes strictly and, on failure, tries
    encodings of its own (feedparser): the body as it is when it decodes cleanly,
    else its text re-encoded as UTF-8, invalid bytes become U+FFFD."""
    if encoding != "x-user-defined":
        try:
            body.decode(encoding)
        except UnicodeDecodeError:
            pass
        else:
            return body, encoding
    return decode_bytes(body, encoding).encode("utf-8"), "utf-8"


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The text of an HTML body (see html_encoding)."""
    encoding, skip = html_encoding(body, content_type)
    return decode_bytes(body[skip:] if skip else body, encoding)


def decode_text(body: bytes, declared: str | None = None) -> str:
    """The text of a feed or other XML/text body (see xml_encoding). `declared` is an
    encoding label (a header's charset) or a whole Content-Type value."""
    encoding, skip = xml_encoding(body, declared)
    return decode_bytes(body[skip:] if skip else body, encoding)
