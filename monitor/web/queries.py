"""What the web view reads from the database: plain SQL over a read-only connection.

Each request opens its own read-only connection (the database is in WAL mode): reading
never takes a write lock, so the web view never holds up a poll, and a poll never holds
up a page for longer than SQLite's busy timeout.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from monitor.models import Event, StoreError
from monitor.pipeline.search import match_query

BUSY_TIMEOUT_S = 5.0
EVENT_COLUMNS = (
    "events.id, events.at, events.source, events.kind, events.key, events.url, events.title,"
    " events.section, events.published, events.paywalled, events.changes, events.detail"
)


@dataclass(frozen=True)
class ItemRow:
    """An item as a page shows it; `id` addresses its page (/items/ID)."""

    id: int
    source: str
    key: str
    url: str
    title: str
    section: str | None
    published: str | None
    paywalled: bool
    first_seen: str
    last_seen: str
    listed: bool


@dataclass(frozen=True)
class EventRow:
    """A recorded event with its id, and the id of its item's page when there is one."""

    id: int
    event: Event
    item_id: int | None = None


@dataclass(frozen=True)
class Delivery:
    """What became of an event's alert on one channel."""

    event_id: int
    channel: str
    status: str
    attempts: int
    sent_at: str | None
    last_error: str | None


@dataclass(frozen=True)
class Figures:
    """Counts for /metrics."""

    events: tuple[tuple[str, str, int], ...]  # (source, kind, count)
    outbox: tuple[tuple[str, str, int], ...]  # (channel, status, count)


@contextmanager
def reading(database: str) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection, or None while there is no database yet."""
    path = Path(database)
    if not path.exists():
        yield None
        return
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(path.resolve()))}?mode=ro",
            uri=True,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise StoreError(f"{database}: {exc}") from exc
    try:
        yield conn
    except sqlite3.Error as exc:
        raise StoreError(f"{database}: {exc}") from exc
    finally:
        conn.close()


def _item_row(row: Sequence[Any]) -> ItemRow:
    return ItemRow(
        id=row[0],
        source=row[1],
        key=row[2],
        url=row[3],
        title=row[4],
        section=row[5],
        published=row[6],
        paywalled=bool(row[7]),
        first_seen=row[8],
        last_seen=row[9],
        listed=bool(row[10]),
    )


ITEM_COLUMNS = (
    "items.rowid, items.source, items.key, items.url, items.title, items.section,"
    " items.published, items.paywalled, items.first_seen, items.last_seen,"
    " items.position IS NOT NULL"
)


def items(
    conn: sqlite3.Connection,
    *,
    source: str | None = None,
    section: str | None = None,
    paywalled: bool | None = None,
    kind: str | None = None,
    text: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ItemRow]:
    """Items, newest first, filtered by source, section, paywall, an event kind they had,
    and words (full-text search)."""
    where: list[str] = []
    params: list[Any] = []
    if source:
        where.append("items.source = ?")
        params.append(source)
    if section:
        where.append("items.section = ?")
        params.append(section)
    if paywalled is not None:
        where.append("items.paywalled = ?")
        params.append(int(paywalled))
    if kind:
        where.append(
            "EXISTS (SELECT 1 FROM events WHERE events.source = items.source"
            " AND events.key = items.key AND events.kind = ?)"
        )
        params.append(kind)
    if text:
        query = match_query(conn, "items_search", text)
        if query is None:
            return []
        where.append("items.rowid IN (SELECT rowid FROM items_search WHERE items_search MATCH ?)")
        params.append(query)
    sql = (
        f"SELECT {ITEM_COLUMNS} FROM items"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY items.first_seen DESC, items.rowid DESC LIMIT ? OFFSET ?"
    )
    return [_item_row(row) for row in conn.execute(sql, [*params, limit, offset])]


def item(conn: sqlite3.Connection, item_id: int) -> ItemRow | None:
    row = conn.execute(f"SELECT {ITEM_COLUMNS} FROM items WHERE rowid = ?", (item_id,)).fetchone()
    return _item_row(row) if row else None


def event_of(row: Sequence[Any]) -> Event:
    """An events row (EVENT_COLUMNS) as an Event."""
    from monitor.pipeline.store import event_from_row

    return event_from_row(row[:12])


def history(conn: sqlite3.Connection, found: ItemRow) -> list[EventRow]:
    """Every event of one item, oldest first."""
    rows = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE source = ? AND key = ? ORDER BY id",
        (found.source, found.key),
    )
    return [EventRow(row[0], event_of(row), found.id) for row in rows]


def deliveries(conn: sqlite3.Connection, event_ids: Sequence[int]) -> list[Delivery]:
    """The outbox rows of these events (one per channel that wanted the event)."""
    if not event_ids:
        return []
    marks = ",".join("?" * len(event_ids))
    rows = conn.execute(
        "SELECT event_id, channel, status, attempts, sent_at, last_error FROM outbox"
        f" WHERE event_id IN ({marks}) ORDER BY event_id, channel",
        list(event_ids),
    )
    return [Delivery(*row) for row in rows]


def events(
    conn: sqlite3.Connection,
    *,
    sources: Sequence[str] = (),
    kinds: Sequence[str] = (),
    text: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[EventRow]:
    """Events, newest first; `before`: only events older than that id (the next page)."""
    where: list[str] = []
    params: list[Any] = []
    if sources:
        where.append(f"events.source IN ({','.join('?' * len(sources))})")
        params += list(sources)
    if kinds:
        where.append(f"events.kind IN ({','.join('?' * len(kinds))})")
        params += list(kinds)
    if before is not None:
        where.append("events.id < ?")
        params.append(before)
    if text:
        query = match_query(conn, "events_search", text)
        if query is None:
            return []
        where.append("events.id IN (SELECT rowid FROM events_search WHERE events_search MATCH ?)")
        params.append(query)
    sql = (
        f"SELECT {EVENT_COLUMNS}, items.rowid FROM events LEFT JOIN items"
        " ON items.source = events.source AND items.key = events.key"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY events.id DESC LIMIT ?"
    )
    return [EventRow(row[0], event_of(row), row[12]) for row in conn.execute(sql, [*params, limit])]


def figures(conn: sqlite3.Connection) -> Figures:
    """Events by source and kind, and the alerts waiting or given up per channel."""
    by_kind = conn.execute(
        "SELECT source, kind, count(*) FROM events GROUP BY source, kind ORDER BY source, kind"
    ).fetchall()
    outbox = conn.execute(
        "SELECT channel, status, count(*) FROM outbox WHERE status IN ('pending', 'failed')"
        " GROUP BY channel, status ORDER BY channel, status"
    ).fetchall()
    return Figures(
        events=tuple((s, k, int(n)) for s, k, n in by_kind),
        outbox=tuple((c, s, int(n)) for c, s, n in outbox),
    )


def database_writable(database: str, timeout: float = 2.0) -> str | None:
    """Why the database cannot take a write now, or None when it can. Takes the write lock
    for an instant (BEGIN IMMEDIATE, ROLLBACK); waits `timeout` at most for another
    writer."""
    path = Path(database)
    if not path.exists():
        return f"{database} does not exist"
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(path.resolve()))}?mode=rw",
            uri=True,
            timeout=timeout,
            isolation_level=None,
        )
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{database}: {exc}"
    return None
