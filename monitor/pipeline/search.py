"""Full-text search over items and events: SQLite FTS5, case- and diacritic-insensitive.

Two contentless FTS5 tables follow the data by rowid: `items_search` (title, section) and
`events_search` (title, section, detail). Triggers keep them in step with every write,
whoever makes it, and the migration indexes what a database already holds.

FTS5's `unicode61` tokenizer with `remove_diacritics 2` folds case and strips combining
marks ('Biełaruski' is not enough: 'ł', 'ø', 'đ', 'ß', ... carry no combining mark), so
those letters are mapped to a plain Latin reading first, by the same table when indexing
(in SQL, inside the triggers) and when querying (in Python): `Lukasenka` finds
`Łukašenka`, `belaruski` finds `Biełaruski`.

A query's words each match the start of a word (`lukas` finds `Łukašenka`), all of them
in the same row; a word of five letters or more also matches words one typo away
(`belaruski` finds `Biełaruski`, whose plain reading is `bielaruski`). No heavy library
here: the connection is the caller's.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata

from monitor.patterns import PLAIN_LETTERS

# Letters that FTS5's unicode61 tokenizer keeps as they are with remove_diacritics 2 (see
# monitor.patterns.PLAIN_LETTERS). Changing that table needs a migration that recreates the
# triggers and re-indexes.
LETTERS = PLAIN_LETTERS
_TRANSLATE = str.maketrans(LETTERS)
# Words this long or longer also find the indexed words one typo away, at most this many.
TYPO_MIN = 5
MAX_VARIANTS = 30
TOKENIZER = "unicode61 remove_diacritics 2"
# What unicode61 counts as part of a word: letters and digits (not '_').
_WORD = re.compile(r"[^\W_]+")


def sql_fold(expression: str) -> str:
    """SQL that maps LETTERS in `expression` (a column or `new.title`)."""
    out = expression
    for letter, plain in LETTERS.items():
        out = f"replace({out}, '{letter}', '{plain}')"
    return out


def fold_words(text: str) -> list[str]:
    """The words of a query as the index holds them (before unicode61's own folding)."""
    return _WORD.findall(unicodedata.normalize("NFC", text).translate(_TRANSLATE))


def match_query(conn: sqlite3.Connection, table: str, text: str) -> str | None:
    """An FTS5 MATCH expression for what a user typed into `table` (items_search or
    events_search): every word, as the start of a word; a word of TYPO_MIN letters or more
    also as the indexed words one typo away ('belaruski' finds 'Biełaruski'). None when
    the text has no word at all (only punctuation)."""
    words = fold_words(text)
    if not words:
        return None
    parts = []
    for word in words:
        # Quoted, a word is never read as an FTS5 operator (AND, NEAR, column:...); the
        # words hold letters and digits only, never a quote.
        terms = [f'"{word}"*']
        if len(word) >= TYPO_MIN:
            terms += [f'"{term}"*' for term in near_terms(conn, table, word)]
        parts.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
    return " AND ".join(parts)


def near_terms(conn: sqlite3.Connection, table: str, word: str) -> list[str]:
    """Indexed words that start with `word` give or take one typo (a letter added, left
    out, replaced, or two swapped; never the first letter), most common first."""
    plain = _plain(word)
    first = plain[0]
    rows = conn.execute(
        f"SELECT term, doc FROM {table}_vocab WHERE term >= ? AND term < ?",
        (first, chr(ord(first) + 1)),
    ).fetchall()
    found = [
        (doc, term)
        for term, doc in rows
        if not term.startswith(plain)
        and any(_one_edit(plain, term[:size]) for size in _sizes(len(plain), len(term)))
    ]
    found.sort(key=lambda pair: (-pair[0], pair[1]))
    return [term for _doc, term in found[:MAX_VARIANTS]]


def _plain(word: str) -> str:
    """A word as unicode61 with remove_diacritics 2 indexes it."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _sizes(wanted: int, available: int) -> list[int]:
    return [size for size in (wanted - 1, wanted, wanted + 1) if 0 < size <= available]


def _one_edit(a: str, b: str) -> bool:
    """True when b is a with exactly one letter added, left out, replaced, or two
    neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :]
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    return a[i + 1 :] == b[i:]


def _item_values(row: str) -> str:
    return f"{row}.rowid, {sql_fold(f'{row}.title')}, {sql_fold(f'{row}.section')}"


def _event_values(row: str) -> str:
    return (
        f"{row}.id, {sql_fold(f'{row}.title')}, {sql_fold(f'{row}.section')},"
        f" {sql_fold(f'{row}.detail')}"
    )


def install(conn: sqlite3.Connection) -> None:
    """Create the search tables and their triggers, and index the rows already stored."""
    conn.execute(
        "CREATE VIRTUAL TABLE items_search USING fts5(title, section, content='',"
        f" tokenize='{TOKENIZER}')"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE events_search USING fts5(title, section, detail, content='',"
        f" tokenize='{TOKENIZER}')"
    )
    # A contentless table forgets a row only when told the values it indexed.
    conn.execute(
        "CREATE TRIGGER items_search_insert AFTER INSERT ON items BEGIN"
        f" INSERT INTO items_search (rowid, title, section) VALUES ({_item_values('new')});"
        " END"
    )
    conn.execute(
        "CREATE TRIGGER items_search_update AFTER UPDATE OF title, section ON items"
        " WHEN old.title IS NOT new.title OR old.section IS NOT new.section BEGIN"
        " INSERT INTO items_search (items_search, rowid, title, section)"
        f" VALUES ('delete', {_item_values('old')});"
        f" INSERT INTO items_search (rowid, title, section) VALUES ({_item_values('new')});"
        " END"
    )
    conn.execute(
        "CREATE TRIGGER items_search_delete AFTER DELETE ON items BEGIN"
        " INSERT INTO items_search (items_search, rowid, title, section)"
        f" VALUES ('delete', {_item_values('old')});"
        " END"
    )
    conn.execute(
        "CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN"
        " INSERT INTO events_search (rowid, title, section, detail)"
        f" VALUES ({_event_values('new')});"
        " END"
    )
    conn.execute(
        "CREATE TRIGGER events_search_update AFTER UPDATE OF title, section, detail ON events"
        " BEGIN"
        " INSERT INTO events_search (events_search, rowid, title, section, detail)"
        f" VALUES ('delete', {_event_values('old')});"
        " INSERT INTO events_search (rowid, title, section, detail)"
        f" VALUES ({_event_values('new')});"
        " END"
    )
    conn.execute(
        "CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN"
        " INSERT INTO events_search (events_search, rowid, title, section, detail)"
        f" VALUES ('delete', {_event_values('old')});"
        " END"
    )
    conn.execute(
        "INSERT INTO items_search (rowid, title, section)"
        f" SELECT {_item_values('items')} FROM items"
    )
    conn.execute(
        "INSERT INTO events_search (rowid, title, section, detail)"
        f" SELECT {_event_values('events')} FROM events"
    )
    # The indexed words, for words one typo away (see near_terms).
    conn.execute("CREATE VIRTUAL TABLE items_search_vocab USING fts5vocab(items_search, 'row')")
    conn.execute("CREATE VIRTUAL TABLE events_search_vocab USING fts5vocab(events_search, 'row')")
    # One item's history (the web view) reads its events by source and key.
    conn.execute("CREATE INDEX IF NOT EXISTS idx_events_source_key ON events (source, key)")
