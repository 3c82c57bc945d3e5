"""The headline text of an element: what a reader takes for the story's title.

A teaser's heading or headline link often holds more than the headline: a date ("vor 2
Tagen", `<time>`), a byline ("Von Michael Brächer"), a photo credit (`<figcaption>`), a
label only screen readers hear ("Premium:"), a kicker above the headline ("Ehemalige
DSDS-Finalistin"), a comment count. These change by themselves (a relative date every
day, a byline added an hour later, a "Live" kicker dropped when the blog ends), so a title
that kept them would report headline edits nobody made. `headline_text` leaves out every
descendant that the markup names as one of these (class, itemprop, rel or a short data-*
value), `<time>` and `<figcaption>` elements, and separate elements whose whole text reads
as a date or, after the headline, as a byline. The element itself is never left out: its
text is what remains, "" when nothing does.
"""

from __future__ import annotations

import re
from functools import lru_cache

from selectolax.lexbor import LexborNode

__all__ = ["headline_text", "is_byline", "is_credit", "is_date_text", "is_label"]

# Elements that are never headline text.
_SKIP_TAGS = frozenset(
    {"time", "figcaption", "script", "style", "template", "noscript", "svg", "button", "select"}
)
_HEADING_SELECTOR = "h1, h2, h3, h4, h5, h6"
# Inline markup inside one piece of text.
_INLINE_TAGS = frozenset(
    {"a", "b", "strong", "em", "i", "u", "abbr", "bdi", "bdo", "small", "sup", "sub", "br",
     "wbr", "mark", "cite", "q", "s"}
)  # fmt: skip
# Words (of class names, itemprop, rel, short data-* values) that name what is not the
# headline. A kicker is the line above the headline (topline, Dachzeile, Spitzmarke).
_BYLINE_NAMES = frozenset(
    {"author", "authors", "byline", "autor", "autoren", "auteur", "autore", "writer", "avtor"}
)
_DATE_NAMES = frozenset(
    {"date", "time", "datetime", "timestamp", "datum", "published", "pubdate", "dateline", "ago"}
)
_CREDIT_NAMES = frozenset({"credit", "credits", "copyright", "photographer", "bildquelle"})
_KICKER_NAMES = frozenset(
    {
        "kicker", "topline", "overline", "dachzeile", "eyebrow", "topmark", "roofline",
        "spitzmarke", "supertitle", "surtitre", "pretitle", "overtitle", "flag", "catchline",
    }
)  # fmt: skip
_COUNT_NAMES = frozenset({"comments", "comment", "commentcount", "kommentare", "reactions"})
_NOT_HEADLINE_NAMES = _BYLINE_NAMES | _DATE_NAMES | _CREDIT_NAMES | _KICKER_NAMES | _COUNT_NAMES
# Screen-reader-only classes: sr-only, visually-hidden, screen-reader-text, a11y-only.
_SCREEN_READER_PAIRS = (
    ("sr", "only"),
    ("visually", "hidden"),
    ("screen", "reader"),
    ("a11y", "only"),
    ("a11y", "hidden"),
)
_SCREEN_READER_WORDS = frozenset({"visuallyhidden", "screenreader", "offscreen", "sronly"})
# A data-* value at most this long without spaces is a name (`data-component="TeaserMeta"`).
_MAX_NAME_VALUE = 40
# Separate elements longer than this are not dates or bylines.
_MAX_LABEL_CHARS = 120

_WORD_SPLIT = re.compile(r"[^0-9a-z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Punctuation that closes what comes before it: no space is put in front of it when it
# starts a text node (`<span>Kicker</span><span>: </span>`).
_CLOSING = frozenset(":,.;!?)]}»“”’…")
# What is left of a dropped kicker's separator at the start ("Kicker: Headline").
_LEADING_SEPARATOR = re.compile(r"^[\s:;,|•·–—-]+")

# Dates as a whole text: relative ("vor 2 Tagen", "3 hours ago", "il y a 2 h", "2 godziny
# temu", "2 часа назад"), day words with an optional time ("gestern, 14:30"), numeric
# dates and times, and "28. Februar 2026" / "Feb 28, 2026" forms, optionally after
# "updated"/"aktualisiert".
_UNITS = (
    r"(?:sek\w*|sec\w*|s|min\w*|m|std\.?|stunden?|h|hrs?|hours?|tag(?:en?)?|days?|d|"
    r"wochen?|weeks?|w|monat(?:en?)?|months?|jahr(?:en?)?|years?|"
    r"heures?|jours?|semaines?|mois|ans?|horas?|d[ií]as?|semanas?|mes(?:es)?|a[nñ]os?|"
    r"minut[ayę]?|godzin[ay]?|godz\.?|dni|dzie[nń]|tygodni[e]?|miesi[aą]c\w*|"
    r"минут[уы]?|мин\.?|час(?:а|ов)?|ч\.?|дн(?:я|ей)|день|недел[июь]|месяц\w*|"
    r"хвілін\w*|гадзін\w*|дзён|дні)"
)
_AMOUNT = r"(?:\d+|an?|one|einer?|einem|wenigen|kurzem|un|une|una?|jed(?:en|ną|na))"
_CLOCK = r"\d{1,2}[:.]\d{2}(?:\s*(?:uhr|h|[ap]\.?m\.?))?"
_DAY_WORDS = (
    r"(?:heute|gestern|vorgestern|today|yesterday|aujourd'hui|hier|hoy|ayer|oggi|ieri|"
    r"dzisiaj|dzi[sś]|wczoraj|сегодня|вчера|сёння|учора|сьогодні|вчора|just now|gerade eben|"
    r"soeben|jetzt|now)"
)
_DATE_TEXT = re.compile(
    r"(?:(?:aktualisiert|updated?|stand|publi[ée]e?\s+le|mis\s+[àa]\s+jour(?:\s+le)?|"
    r"ver[öo]ffentlicht(?:\s+am)?|am|on|le)\s*:?\s*)?"
    r"(?:"
    rf"(?:vor|seit)\s+{_AMOUNT}\s+{_UNITS}"
    rf"|{_AMOUNT}\s*{_UNITS}\.?\s+(?:ago|temu|назад|таму|тому)"
    rf"|(?:il\s+y\s+a|hace|fa)\s+{_AMOUNT}\s*{_UNITS}"
    rf"|{_AMOUNT}\s*{_UNITS}\s+fa"
    rf"|{_DAY_WORDS}(?:\s*,?\s*(?:um|at|à|a las|o)?\s*{_CLOCK})?"
    rf"|\d{{1,2}}[./-]\d{{1,2}}[./-](?:\d{{4}}|\d{{2}})(?:\s*,?\s*(?:um\s+)?{_CLOCK})?"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}(?:[ T]{_CLOCK})?"
    rf"|\d{{1,2}}\.?\s+[^\W\d_]{{3,10}}\.?\s+\d{{4}}(?:\s*,?\s*(?:um\s+)?{_CLOCK})?"
    rf"|[^\W\d_]{{3,10}}\.?\s+\d{{1,2}},?\s+\d{{4}}(?:\s*,?\s*(?:at\s+)?{_CLOCK})?"
    rf"|{_CLOCK}"
    # A reading time ("6 Min", "Lesezeit: 3 Min.", "4 min read") is no headline either.
    r"|(?:lesezeit|reading\s+time|temps\s+de\s+lecture)?\s*:?\s*\d+\s*"
    r"(?:min\.?|mins?|minuten|minutes?|мин\.?|минут[уы]?)"
    r"(?:\s+(?:lesezeit|read|lesen|de\s+lecture|czytania|чтения))?"
    r")",
    re.IGNORECASE,
)
# A byline: "Von Tim Jürgens und Tobias Ahrens", "By Jane Doe", "Eine Kolumne von Samira El
# Ouassil", "Autor: Jan Nowak", "Автор: Иван Петров" — a few words, a "by" word, names.
_BY_WORDS = r"(?:von|by|par|por|door|av|af|od|przez|di|от|ад|mit|with|avec|führten|führte)"
_BY_LABEL = (
    r"(?:autor(?:in|en)?|authors?|auteur(?:e|s)?|autore|autori|text|texte|автор(?:ы)?|аўтар)"
)
# After a few words ("Eine Kolumne von …") the "by" word is lower-case, as in a sentence.
_BYLINE = re.compile(
    rf"^(?:(?i:{_BY_WORDS})\s+|(?:[^\s:]+\s+){{1,3}}{_BY_WORDS}\s+|(?i:{_BY_LABEL})\s*:\s*)"
    r"(?P<names>.+)$",
)
_CREDIT_START = re.compile(
    r"^(?:©|\(c\)|(?:foto|fotos|photo|photos|bild|bilder|fot|фото|credit|quelle|source)\s*:)",
    re.IGNORECASE,
)
_NAME_JOINERS = re.compile(r"\s*(?:,|&|\+|/|\s(?:und|and|et|i|y|e|и|і|oraz|a)\s)\s*")
_NAME_PARTICLES = frozenset(
    {"von", "van", "de", "der", "den", "da", "di", "du", "la", "le", "al", "bin", "ibn", "zu", "y"}
)


@lru_cache(maxsize=8192)
def _tokens(text: str) -> frozenset[str]:
    """Words of a name, split at case changes too ("TeaserKicker", "topMark") and not."""
    split = _WORD_SPLIT.split(_CAMEL.sub(" ", text).lower())
    whole = _WORD_SPLIT.split(text.lower())
    return frozenset(t for t in (*split, *whole) if t)


def _names(node: LexborNode) -> set[str]:
    """Words the markup names an element with: classes, itemprop, rel, short data-* values."""
    words: set[str] = set()
    for name, value in node.attributes.items():
        if not value:
            continue
        short = len(value) <= _MAX_NAME_VALUE and " " not in value
        if name in ("class", "itemprop", "rel", "role") or (name.startswith("data-") and short):
            words.update(_tokens(value))
    return words


def _screen_reader_only(words: set[str]) -> bool:
    return bool(words & _SCREEN_READER_WORDS) or any(
        a in words and b in words for a, b in _SCREEN_READER_PAIRS
    )


def is_date_text(text: str) -> bool:
    """Does the whole text read as a date or a time ("vor 2 Tagen", "28.02.2026, 14:30")?"""
    return bool(_DATE_TEXT.fullmatch(text.strip(" \t\n()[]|•·")))


def is_credit(text: str) -> bool:
    """Does the text read as a photo credit ("Bakr Alkasem / AFP", "Foto: dpa", "© Reuters")?"""
    label = " ".join(text.split())
    if not label or len(label) > _MAX_LABEL_CHARS:
        return False
    if _CREDIT_START.match(label):
        return True
    sides = [side.split() for side in label.split(" / ")]
    return len(sides) >= 2 and all(
        1 <= len(words) <= 4 and all(w[:1].isupper() or w[:1].isdigit() for w in words)
        for words in sides
    )


def is_byline(text: str) -> bool:
    """Does the whole text read as a byline ("Von Michael Brächer", "Ein Kommentar von
    Cornelius Dieckmann, Tokio", "Autor: Jan Nowak")? The names must look like names
    (capitalised words, particles), so "Angriff von Russland auf Kiew" is not one."""
    if len(text) > _MAX_LABEL_CHARS:
        return False
    match = _BYLINE.match(text.strip())
    if match is None:
        return False
    parts = [p for p in _NAME_JOINERS.split(match.group("names").strip(" .")) if p]
    if not parts or len(parts) > 6:
        return False
    for part in parts:
        words = part.split()
        if not 1 <= len(words) <= 4:
            return False
        for word in words:
            if word.lower() in _NAME_PARTICLES:
                continue
            if not word[:1].isupper():
                return False
    return True


def is_label(node: LexborNode) -> bool:
    """Does the markup name the element as something beside the headline (a kicker, a
    byline, a date, a credit, a screen-reader label, a comment count)?"""
    words = _names(node)
    return bool(words & _NOT_HEADLINE_NAMES) or _screen_reader_only(words)


def _holds_heading(node: LexborNode) -> bool:
    """Is there a heading inside the element (a query matches the element itself too)?"""
    return any(h.mem_id != node.mem_id for h in node.css(_HEADING_SELECTOR))


def _not_headline(node: LexborNode, after_text: bool, captions: bool) -> bool:
    """Is this descendant of a headline element something else (see module docstring)?"""
    tag = node.tag or ""
    if tag == "figcaption":
        return not captions and not _holds_heading(node)
    if tag in _SKIP_TAGS:
        return True
    if "hidden" in node.attributes:
        return True
    label = " ".join(node.text(separator=" ").split())
    words = _names(node)
    if words & _NOT_HEADLINE_NAMES or _screen_reader_only(words):
        # A box around a heading or a long text ("card-caption", "kicker-wrap") is not a
        # label, whatever its name.
        return len(label) <= 2 * _MAX_LABEL_CHARS and not _holds_heading(node)
    if not label or len(label) > _MAX_LABEL_CHARS or not _phrasing_only(node):
        return False
    return is_date_text(label) or (after_text and is_byline(label))


def _left_out(node: LexborNode, skip: frozenset[int], after_text: bool, captions: bool) -> bool:
    """Is the child left out of the headline text (comments, other fields, labels)?"""
    tag = node.tag
    if tag is None or tag.startswith("-") or node.mem_id in skip:
        return True
    if _not_headline(node, after_text, captions):
        return True
    return tag == "figcaption" and is_credit(node.text(separator=" "))


def _phrasing_only(node: LexborNode) -> bool:
    """A separate piece of text: its children are text and inline markup only ("Von
    <a>Jan Nowak</a>"), not a wrapper of several pieces (headline span and byline span)."""
    return all(
        (child.tag or "-").startswith("-") or child.tag in _INLINE_TAGS
        for child in node.iter(include_text=True)
    )


def headline_text(
    node: LexborNode, skip: frozenset[int] = frozenset(), *, captions: bool = False
) -> str:
    """The element's text without dates, bylines, credits, screen-reader labels, kickers
    and comment counts (and without the descendants whose mem_id is in `skip`: elements
    another field of the rule reads, such as the section). Whitespace collapsed.
    `captions`: keep `<figcaption>` text (for a teaser whose only words are a caption);
    a caption that reads as a photo credit is dropped even then."""
    parts: list[str] = []

    def has_text() -> bool:
        return any(p.strip() for p in parts)

    def walk(element: LexborNode) -> None:
        for child in element.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                parts.append(child.text(deep=False) or "")
            elif not _left_out(child, skip, has_text(), captions):
                walk(child)

    walk(node)
    return _LEADING_SEPARATOR.sub("", _join(parts))


def _join(parts: list[str]) -> str:
    """Text nodes joined as they read: a space between two pieces (as `text(separator=" ")`
    does), but none before closing punctuation ("Kicker: Headline", not "Kicker : …")."""
    out: list[str] = []
    for part in parts:
        piece = " ".join(part.split())
        if not piece:
            if out:
                out.append(" ")
            continue
        if out and piece[0] not in _CLOSING:
            out.append(" ")
        out.append(piece)
    return " ".join("".join(out).split())
