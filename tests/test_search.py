"""Full-text search: `monitor items --grep` and `monitor events --grep` find words in any
case and with or without accents, follow every edit, and an existing database is indexed
when it is upgraded."""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlite_utils import Database

from monitor.alerts.route import fold
from monitor.models import Event, Item
from monitor.pipeline.search import LETTERS, match_query
from monitor.pipeline.store import MIGRATIONS, Store, _v7_search
from tests.conftest import Site, run_monitor
from tests.web_helpers import known_run

AT = "2026-11-24T12:00:00+00:00"


def record(store: Store, titles: dict[str, str], now: str = AT, section: str = "Palityka"):
    listed = [
        Item(key=key, url=f"https://a.test/{key}", title=title, section=section)
        for key, title in titles.items()
    ]
    store.commit_check(
        name="news",
        url="https://a.test/",
        kind="html",
        now=now,
        status=200,
        etag=None,
        last_modified=None,
        body_hash=now,
        listed=listed,
        gone=(),
        events=[Event(kind="new", source="news", at=now, item=item) for item in listed],
        outbox=(),
        item_count=len(listed),
        health=None,
    )


def keys(store: Store, text: str) -> list[str]:
    return sorted(row["key"] for row in store.query_items(grep=text))


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "monitor.db")
    yield opened
    opened.close()


def test_grep_on_the_command_line_finds_words_in_any_case_and_accents(tmp_path):
    site = Site()
    try:
        path = known_run(tmp_path, site)
    finally:
        site.close()
    found = run_monitor("items", "--grep", "lukasenka", "--json", config=path)
    assert [i["title"] for i in json.loads(found.stdout)] == ["Łukašenka's long speech"]
    found = run_monitor("items", "--grep", "BELARUSKI", "--json", config=path)
    assert [i["title"] for i in json.loads(found.stdout)] == ["Biełaruski rubiel padaje"]
    found = run_monitor("events", "--grep", "belaruski", "--json", config=path)
    assert [(e["kind"], e["after"]) for e in json.loads(found.stdout)] == [
        ("changed", {"paywalled": False}),
        ("changed", {"paywalled": True}),
    ]

    # The table is printed as without --grep, only fewer rows.
    def table(*args: str) -> list[str]:
        lines = run_monitor("items", *args, config=path).stdout.splitlines()
        return [" ".join(line.split()) for line in lines if not line.startswith("---")]

    everything = table()
    assert table("--grep", "palityka") == everything[:1] + [
        line for line in everything[1:] if " Palityka " in line
    ]
    assert len(table("--grep", "palityka")) == 3


def test_words_match_at_their_start_all_of_them_and_one_typo_away(store):
    record(
        store,
        {
            "a": "Łukašenka's speech",
            "b": "Biełaruski rubiel padaje",
            "c": "Straße in Øresund",
            "d": "Hramadstva",
        },
    )
    assert keys(store, "Lukasenka") == ["a"]
    assert keys(store, "lukas") == ["a"]
    assert keys(store, "belaruski") == ["b"]
    assert keys(store, "rubiel belaruski") == ["b"]
    assert keys(store, "rubiel speech") == []
    assert keys(store, "strasse oresund") == ["c"]
    assert keys(store, "senka") == []
    # A typo is forgiven in words of five letters or more, never in the first letter.
    assert keys(store, "hramadtsva") == ["d"]
    assert keys(store, "gramadstva") == []
    # Sections are searched too.
    assert keys(store, "palityka") == ["a", "b", "c", "d"]


def test_what_a_user_types_is_never_read_as_search_syntax(store):
    record(store, {"a": 'NEAR AND OR "quoted" title*'})
    for text in ('AND OR "x', "NEAR(", "title:*", "-", '"', "^x", "a OR"):
        store.query_items(grep=text)  # no FTS5 syntax error
    assert keys(store, "near and") == ["a"]
    assert keys(store, "+++") == []


def test_the_index_follows_edited_headlines(store):
    record(store, {"a": "Łukašenka's speech"})
    record(store, {"a": "Cichanoŭskaja answers"}, now="2026-11-24T13:00:00+00:00")
    assert keys(store, "lukasenka") == []
    assert keys(store, "cichanouskaja") == ["a"]
    # The first event keeps the first headline.
    assert [e.item.title for e in store.query_events(grep="lukasenka")] == ["Łukašenka's speech"]


def test_dropped_events_leave_the_index(store):
    record(store, {"a": "Łukašenka's speech"})
    assert store.prune_events("2030-01-01T00:00:00+00:00") == 1
    assert store.query_events(grep="lukasenka") == []
    assert store.conn.execute("SELECT count(*) FROM events_search").fetchone() == (0,)


def test_an_existing_database_is_indexed_when_it_is_upgraded(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    before = MIGRATIONS.index(_v7_search)
    for migration in MIGRATIONS[:before]:
        migration(Database(conn))
    conn.execute(f"PRAGMA user_version = {before}")
    conn.execute(
        "INSERT INTO items (source, key, url, title, section, paywalled, first_seen, last_seen)"
        " VALUES ('news', 'a', 'https://a.test/a', 'Biełaruski rubiel', 'Ekanomika', 0, ?, ?)",
        (AT, AT),
    )
    conn.execute(
        "INSERT INTO events (at, source, kind, key, title) VALUES (?, 'news', 'new', 'a',"
        " 'Biełaruski rubiel')",
        (AT,),
    )
    conn.close()
    store = Store.open(path)
    try:
        assert keys(store, "bielaruski") == ["a"]
        assert [e.item.key for e in store.query_events(grep="BIELARUSKI")] == ["a"]
    finally:
        store.close()


def test_every_letter_the_channel_filters_fold_is_found_by_search(store):
    """Search and the `include` keywords of channels agree on what a letter reads as."""
    words = {f"k{index}": f"x{letter}x" for index, letter in enumerate(LETTERS)}
    record(store, words)
    missed = [
        (letter, fold(f"x{letter}x"))
        for index, letter in enumerate(LETTERS)
        if f"k{index}" not in keys(store, fold(f"x{letter}x"))
    ]
    assert missed == []


def test_a_query_is_folded_like_the_index(store):
    record(store, {"a": "Łukašenka"})
    # 'Ł' has no combining mark: mapped here; 'š' is left to the tokenizer, as indexed.
    assert match_query(store.conn, "items_search", "Łukašenka") == '"Lukašenka"*'
    assert match_query(store.conn, "items_search", "...") is None
