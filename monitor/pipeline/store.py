"""SQLite state: sources, items, the append-only events table and the notification outbox.

One `commit_check` call records a whole poll in one transaction: the items, the events they
raised and the outbox rows those events owe. A crash at any point leaves either all of it or
none of it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from sqlite_utils import Database

from monitor.models import (
    Change,
    CorruptDatabaseError,
    Event,
    Item,
    StoredItem,
    StoreError,
)

BUSY_TIMEOUT_MS = 10_000

P = ParamSpec("P")
T = TypeVar("T")


def _v1_initial(db: Database) -> None:
    db.table("sources").create(
        {
            "name": str,
            "url": str,
            "kind": str,
            "first_poll": str,
            "last_poll": str,
            "last_success": str,
            "last_status": int,
            "last_error": str,
            "consecutive_errors": int,
            "etag": str,
            "last_modified": str,
            "body_hash": str,
            "item_count": int,
            "health": str,
            "next_run": str,
        },
        pk="name",
        not_null={"url", "kind", "consecutive_errors", "item_count"},
        defaults={"consecutive_errors": 0, "item_count": 0},
    )
    db.table("items").create(
        {
            "source": str,
            "key": str,
            "url": str,
            "title": str,
            "section": str,
            "published": str,
            "paywalled": int,
            "summary": str,
            "first_seen": str,
            "last_seen": str,
            "position": int,
        },
        pk=("source", "key"),
        not_null={"url", "title", "paywalled", "first_seen", "last_seen"},
        defaults={"paywalled": 0},
    )
    db.table("items").create_index(["first_seen"])
    db.table("events").create(
        {
            "id": int,
            "at": str,
            "source": str,
            "kind": str,
            "key": str,
            "url": str,
            "title": str,
            "section": str,
            "published": str,
            "paywalled": int,
            "changes": str,
            "detail": str,
        },
        pk="id",
        not_null={"at", "source", "kind"},
    )
    db.table("events").create_index(["source", "at"])
    db.table("outbox").create(
        {
            "id": int,
            "event_id": int,
            "channel": str,
            "dedupe": str,
            "status": str,
            "attempts": int,
            "created": str,
            "next_attempt": str,
            "last_error": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"event_id", "channel", "status", "attempts", "created", "next_attempt"},
        defaults={"status": "pending", "attempts": 0},
        foreign_keys=[("event_id", "events", "id")],
    )
    db.table("outbox").create_index(["channel", "dedupe"], unique=True)
    db.table("outbox").create_index(["status", "next_attempt"])


def _v2_delivery(db: Database) -> None:
    """Per-URL delivery: which URLs of a channel took a row, when it was first tried, and
    each URL's outage and rate-limit state (see monitor.alerts.outbox)."""
    db.execute("ALTER TABLE outbox ADD COLUMN delivered TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE outbox ADD COLUMN first_attempt TEXT")
    db.table("delivery_targets").create(
        {
            "channel": str,
            "target": str,
            "label": str,
            "failing_since": str,
            "last_error": str,
            "next_send": str,
        },
        pk=("channel", "target"),
    )


def _v3_outbox_claims(db: Database) -> None:
    """Which process is sending a row (host:pid) and until when, so that two processes on
    one database never send it twice, and a killed one's rows are taken over at once."""
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_until TEXT")


def _v4_outbox_per_url(db: Database) -> None:
    """Alert identity and per-URL delivery.

    `told` keeps what each channel was last told of each subject, and which source told it
    (see monitor.alerts.route.dedupe_key): an alert from another source repeating all of
    it is a duplicate; a state that comes back is news. It replaces the unique (channel,
    dedupe) index, which kept a recurring change from ever being sent again; one event
    still makes at most one row per channel. `deliveries` holds each URL's own state of
    each row (sent, retry schedule, give-up), so a dead URL never delays or blocks
    another."""
    db.execute("DROP INDEX IF EXISTS idx_outbox_channel_dedupe")
    db.execute("CREATE UNIQUE INDEX idx_outbox_event_id_channel ON outbox (event_id, channel)")
    db.execute(
        "CREATE TABLE told (channel TEXT NOT NULL, subject TEXT NOT NULL, state TEXT NOT NULL,"
        " source TEXT NOT NULL, PRIMARY KEY (channel, subject))"
    )
    # The old keys knew one thing for sure: which articles each channel was told are new.
    db.execute(
        "INSERT OR IGNORE INTO told (channel, subject, state, source) SELECT o.channel,"
        " 'item ' || substr(o.dedupe, 5), 'listed', e.source FROM outbox o"
        " JOIN events e ON e.id = o.event_id WHERE o.dedupe LIKE 'new:%' ORDER BY o.id"
    )
    db.execute(
        "CREATE TABLE deliveries (outbox_id INTEGER NOT NULL REFERENCES outbox (id)"
        " ON DELETE CASCADE, target TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',"
        " attempts INTEGER NOT NULL DEFAULT 0, first_attempt TEXT, next_attempt TEXT,"
        " last_error TEXT, sent_at TEXT, PRIMARY KEY (outbox_id, target))"
    )
    taken = db.execute("SELECT id, delivered, sent_at FROM outbox WHERE delivered != ''")
    db.conn.executemany(
        "INSERT OR IGNORE INTO deliveries (outbox_id, target, status, sent_at)"
        " VALUES (?, ?, 'sent', ?)",
        [(row_id, target, sent_at) for row_id, done, sent_at in taken for target in done.split()],
    )


def _v5_source_hold(db: Database) -> None:
    """Until when the source's host asked not to be polled (Retry-After, capped), so that
    `monitor status` can say so."""
    db.execute("ALTER TABLE sources ADD COLUMN held_until TEXT")


def _v6_source_rule(db: Database) -> None:
    """What a source's items were last read with (a fingerprint of its rule, profile, kind
    and URL), how many polls in a row its listing has looked suspect, and which listing
    (run of teasers) of the page each item was in."""
    db.execute("ALTER TABLE sources ADD COLUMN rule_fingerprint TEXT")
    db.execute("ALTER TABLE sources ADD COLUMN suspect_polls INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE items ADD COLUMN listing INTEGER NOT NULL DEFAULT 0")
    # Items recorded by an earlier version were read differently (feed sections, keys):
    # a fingerprint that matches no rule makes each source's next poll a silent re-read.
    db.execute(
        "UPDATE sources SET rule_fingerprint = 'earlier version' WHERE last_success IS NOT NULL"
    )


def _v7_search(db: Database) -> None:
    """Full-text search over items and events (see monitor.pipeline.search), kept in step
    by triggers; what the database holds already is indexed here."""
    from monitor.pipeline.search import install

    install(db.conn)


def _v8_poll_budget(db: Database) -> None:
    """Adaptive scheduling: each source's requests on its budget's day, when the last
    one was made, and the interval the daemon chose next with its reason (for `monitor
    status`)."""
    db.execute(
        "CREATE TABLE poll_budget (source TEXT PRIMARY KEY, day TEXT, spent INTEGER NOT NULL"
        " DEFAULT 0, last_request TEXT, interval REAL, reason TEXT, budget REAL)"
    )


def _v9_articles(db: Database) -> None:
    """Article pages (sources with `articles`): each item's last reading of its article
    (see monitor.pipeline.articles), when it is due again, and a removal from the listing
    waiting for the article page to confirm it; `fetches` counts every request and its
    bytes, for `monitor stats`."""
    db.execute(
        "CREATE TABLE articles (source TEXT NOT NULL, key TEXT NOT NULL, url TEXT NOT NULL,"
        " paywalled INTEGER, paywall_signal TEXT, content_tier TEXT, published TEXT,"
        " modified TEXT, author TEXT, canonical TEXT, title TEXT, teaser_paywalled INTEGER,"
        " etag TEXT, last_modified TEXT, first_read TEXT, last_read TEXT, last_status INTEGER,"
        " last_error TEXT, failures INTEGER NOT NULL DEFAULT 0, next_check TEXT,"
        " recheck_wait REAL, removal TEXT, PRIMARY KEY (source, key))"
    )
    db.execute("CREATE INDEX idx_articles_next_check ON articles (next_check)")
    db.execute(
        "CREATE TABLE fetches (id INTEGER PRIMARY KEY, source TEXT NOT NULL, at TEXT NOT NULL,"
        " what TEXT NOT NULL, status INTEGER, bytes INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX idx_fetches_at ON fetches (at)")


def _v10_source_rule_spec(db: Database) -> None:
    """What a source's rule fingerprint is a digest of (check.rule_spec), so that the poll
    after a rule edit can read the page with the rule the listing was read with too."""
    db.execute("ALTER TABLE sources ADD COLUMN rule_spec TEXT")


# Each entry upgrades the schema by one version; never edit a released entry, add one.
MIGRATIONS: tuple[Callable[[Database], None], ...] = (
    _v1_initial,
    _v2_delivery,
    _v3_outbox_claims,
    _v4_outbox_per_url,
    _v5_source_hold,
    _v6_source_rule,
    _v7_search,
    _v8_poll_budget,
    _v9_articles,
    _v10_source_rule_spec,
)


@dataclass(frozen=True)
class SourceState:
    """What the database remembers of a source between polls."""

    name: str
    first_poll: str | None = None
    last_poll: str | None = None
    last_success: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    consecutive_errors: int = 0
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    item_count: int = 0
    health: str | None = None
    next_run: str | None = None
    held_until: str | None = None
    # A fingerprint of what the stored items were read with (see check.rule_fingerprint).
    rule_fingerprint: str | None = None
    # Polls in a row whose listing looked broken (shrank or empty).
    suspect_polls: int = 0
    # What the fingerprint is a digest of (check.rule_spec, JSON); None when an earlier
    # version recorded the listing.
    rule_spec: str | None = None

    @property
    def has_baseline(self) -> bool:
        return self.last_success is not None


@dataclass(frozen=True)
class PollBudget:
    """A source's requests on `day` (its local date), and the daemon's last choice of
    interval (seconds), why, and the day's budget (requests)."""

    source: str
    day: str | None = None
    spent: int = 0
    last_request: str | None = None
    interval: float | None = None
    reason: str | None = None
    budget: float | None = None


@dataclass(frozen=True)
class OutboxRow:
    """A notification an event owes a channel.

    `told`: (subject, state) pairs the alert tells the channel; the row is left out when
    another source last told the channel every one of them (the same article in a page
    and in its feed). Within one source every event is news
    (monitor.alerts.route.dedupe_key).
    `dedupe` is a free label kept in its column."""

    event_index: int
    channel: str
    dedupe: str | None = None
    told: tuple[tuple[str, str], ...] = ()


class Store:
    """The SQLite database. Open with `Store.open(path)`; close with `close()`."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.db = Database(conn)
        self.path = path
        self._thread: ThreadPoolExecutor | None = None
        self._inline = False

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store call on the database's own thread, from an event loop.

        A write lock held by another process then delays that one call (up to the busy
        timeout), never the loop: polls, delivery and the systemd watchdog go on. Every
        call from async code goes through here, so the connection is used by one thread
        at a time and transactions never interleave."""
        if self._inline:
            return fn(*args, **kwargs)
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, functools.partial(fn, *args, **kwargs))

    @contextmanager
    def calls_inline(self) -> Iterator[None]:
        """Within this block `run` calls the store on the caller's thread: for an event loop
        that serves nothing else (a one-shot `monitor check`), where a thread hop per call
        cost a fifth of a round of 304s and no watchdog or sender waits."""
        self._inline = True
        try:
            yield
        finally:
            self._inline = False

    @classmethod
    def open(cls, path: str | Path) -> Store:
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _refuse_non_sqlite(path)
        try:
            # check_same_thread=False: async callers use the connection from the store's own
            # thread (see `run`), one call at a time.
            conn = sqlite3.connect(
                path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if path != ":memory:":
                Database(conn).enable_wal()
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            store = cls(conn, path)
            store.check_pages()
            store.migrate()
        except sqlite3.DatabaseError as exc:
            if _looks_corrupt(exc):
                raise CorruptDatabaseError(
                    f"{path}: not a usable SQLite database ({exc}); it was left untouched"
                ) from exc
            raise StoreError(f"{path}: {exc}") from exc
        return store

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        self.conn.close()

    # -- schema ---------------------------------------------------------------------------

    def migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                script(self.db)
                self.conn.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: {exc}") from exc
        try:
            yield self.conn
        except sqlite3.DatabaseError as exc:
            # Disk full, a corrupt page, ...: SQLite may have rolled back already.
            self._rollback()
            raise StoreError(f"{self.path}: {exc}") from exc
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise StoreError(f"{self.path}: {exc}") from exc

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def check_pages(self) -> None:
        """PRAGMA quick_check (a fraction of a second even for 100 MB): a file with a valid
        header but damaged pages is refused at start-up, not half-way through a poll."""
        rows = self.conn.execute("PRAGMA quick_check(5)").fetchall()
        if [tuple(r) for r in rows] != [("ok",)]:
            problems = "; ".join(str(r[0]) for r in rows)
            raise sqlite3.DatabaseError(f"database disk image is corrupt: {problems}")

    # -- sources --------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read whose SQLite error (a damaged page, ...) comes out as a StoreError."""
        try:
            yield self.conn
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    def source_state(self, name: str) -> SourceState:
        with self.reading() as conn:
            row = conn.execute(
                "SELECT name, first_poll, last_poll, last_success, last_status, last_error,"
                " consecutive_errors, etag, last_modified, body_hash, item_count, health,"
                " next_run, held_until, rule_fingerprint, suspect_polls, rule_spec"
                " FROM sources WHERE name = ?",
                (name,),
            ).fetchone()
        return SourceState(*row) if row else SourceState(name=name)

    def source_states(self) -> list[SourceState]:
        rows = self.conn.execute(
            "SELECT name, first_poll, last_poll, last_success, last_status, last_error,"
            " consecutive_errors, etag, last_modified, body_hash, item_count, health, next_run,"
            " held_until, rule_fingerprint, suspect_polls, rule_spec"
            " FROM sources ORDER BY name"
        ).fetchall()
        return [SourceState(*row) for row in rows]

    def _ensure_source(self, name: str, url: str, kind: str) -> None:
        self.conn.execute(
            "INSERT INTO sources (name, url, kind) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET url = excluded.url, kind = excluded.kind",
            (name, url, kind),
        )

    def record_failure(
        self,
        name: str,
        url: str,
        kind: str,
        now: str,
        error: str,
        status: int | None,
        events: Sequence[Event] = (),
        outbox: Sequence[OutboxRow] = (),
        health: str | None = None,
        held_until: str | None = None,
    ) -> int:
        """A failed poll: nothing about items changes. Returns the new error count.
        `held_until`: the host asked not to be polled before then (Retry-After)."""
        with self.transaction() as conn:
            self._ensure_source(name, url, kind)
            conn.execute(
                "UPDATE sources SET last_poll = ?, last_status = ?, last_error = ?,"
                " consecutive_errors = consecutive_errors + 1,"
                " first_poll = coalesce(first_poll, ?), health = coalesce(?, health),"
                " held_until = ? WHERE name = ?",
                (now, status, error, now, health, held_until, name),
            )
            self._insert_events(events, outbox, now)
            return int(
                conn.execute(
                    "SELECT consecutive_errors FROM sources WHERE name = ?", (name,)
                ).fetchone()[0]
            )

    def claim_host_hold(
        self, name: str, url: str, kind: str, now: str, held_until: str, health: str
    ) -> bool:
        """The source's host asked to wait past the cap: does this source tell it? Not when
        another source on the host was already put in `health` since this source last
        heard its host answer (the same outage, answered to sources polled at once or one
        after another): this source's hold is then recorded (`monitor status` shows it, the
        next run waits for it) and it is no failure of its own. Otherwise the source is put
        in `health` here, in the same transaction, so that a source asked at the same time
        sees it and stays quiet."""
        host = _host_of(url)
        with self.transaction() as conn:
            self._ensure_source(name, url, kind)
            since = conn.execute(
                "SELECT coalesce(last_success, '') FROM sources WHERE name = ?", (name,)
            ).fetchone()[0]
            told = conn.execute(
                "SELECT url FROM sources WHERE health = ? AND name != ? AND last_poll >= ?",
                (health, name, since),
            ).fetchall()
            if any(_host_of(other) == host for (other,) in told):
                conn.execute("UPDATE sources SET held_until = ? WHERE name = ?", (held_until, name))
                return False
            conn.execute(
                "UPDATE sources SET health = ?, last_poll = ? WHERE name = ?", (health, now, name)
            )
            return True

    def record_unchanged(
        self,
        name: str,
        url: str,
        kind: str,
        now: str,
        status: int,
        events: Sequence[Event] = (),
        outbox: Sequence[OutboxRow] = (),
        health: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        rule_fingerprint: str | None = None,
        rule_spec: str | None = None,
    ) -> None:
        """A 304, or a body identical to the last one: only the poll times move, and the
        validators the server sent this time (a new ETag for the same bytes) are kept."""
        with self.transaction() as conn:
            self._ensure_source(name, url, kind)
            conn.execute(
                "UPDATE sources SET last_poll = ?, last_success = ?, last_status = ?,"
                " last_error = NULL, consecutive_errors = 0, health = ?,"
                " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified),"
                " rule_fingerprint = coalesce(rule_fingerprint, ?),"
                " rule_spec = coalesce(?, rule_spec),"
                " first_poll = coalesce(first_poll, ?) WHERE name = ?",
                (
                    now,
                    now,
                    status,
                    health,
                    etag,
                    last_modified,
                    rule_fingerprint,
                    rule_spec,
                    now,
                    name,
                ),
            )
            self._insert_events(events, outbox, now)

    def set_next_run(self, name: str, when: str | None) -> None:
        self.conn.execute("UPDATE sources SET next_run = ? WHERE name = ?", (when, name))

    # -- items ----------------------------------------------------------------------------

    def load_items(self, source: str) -> dict[str, StoredItem]:
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT key, url, title, section, published, paywalled, summary, first_seen,"
                " last_seen, position, listing FROM items WHERE source = ?",
                (source,),
            ).fetchall()
        return {
            row[0]: StoredItem(
                item=Item(
                    key=row[0],
                    url=row[1],
                    title=row[2],
                    section=row[3],
                    published=row[4],
                    paywalled=bool(row[5]),
                    summary=row[6],
                    listing=row[10] or 0,
                ),
                first_seen=row[7],
                last_seen=row[8],
                position=row[9],
            )
            for row in rows
        }

    def commit_check(
        self,
        *,
        name: str,
        url: str,
        kind: str,
        now: str,
        status: int,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
        listed: Sequence[Item],
        gone: Sequence[str],
        events: Sequence[Event],
        outbox: Sequence[OutboxRow],
        item_count: int | None,
        health: str | None,
        rule_fingerprint: str | None = None,
        suspect_polls: int = 0,
        keep_positions: bool = False,
        rule_spec: str | None = None,
    ) -> list[int]:
        """Record one successful poll in one transaction; returns the new event ids.

        `keep_positions` (a suspect poll): the stored listing stays as it was; the items
        are updated and new ones recorded, unlisted, so that the next good poll is judged
        against the last good listing."""
        with self.transaction() as conn:
            self._ensure_source(name, url, kind)
            conn.executemany(
                "INSERT INTO items (source, key, url, title, section, published, paywalled,"
                " summary, first_seen, last_seen, position, listing)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (source, key) DO UPDATE SET url = excluded.url,"
                " title = excluded.title, section = coalesce(excluded.section, section),"
                " published = coalesce(excluded.published, published),"
                " paywalled = excluded.paywalled, summary = excluded.summary,"
                " last_seen = excluded.last_seen,"
                " listing = iif(excluded.position IS NULL, listing, excluded.listing),"
                " position = coalesce(excluded.position, position)",
                [
                    (
                        name,
                        item.key,
                        item.url,
                        item.title,
                        item.section,
                        item.published,
                        int(item.paywalled),
                        item.summary,
                        now,
                        now,
                        None if keep_positions else position,
                        item.listing,
                    )
                    for position, item in enumerate(listed)
                ],
            )
            if gone:
                conn.executemany(
                    "UPDATE items SET position = NULL WHERE source = ? AND key = ?",
                    [(name, key) for key in gone],
                )
            conn.execute(
                "UPDATE sources SET last_poll = ?, last_success = ?, last_status = ?,"
                " last_error = NULL, consecutive_errors = 0, etag = ?, last_modified = ?,"
                " body_hash = ?, item_count = coalesce(?, item_count), health = ?,"
                " rule_fingerprint = coalesce(?, rule_fingerprint), suspect_polls = ?,"
                " rule_spec = coalesce(?, rule_spec),"
                " first_poll = coalesce(first_poll, ?) WHERE name = ?",
                (
                    now,
                    now,
                    status,
                    etag,
                    last_modified,
                    body_hash,
                    item_count,
                    health,
                    rule_fingerprint,
                    suspect_polls,
                    rule_spec,
                    now,
                    name,
                ),
            )
            return self._insert_events(events, outbox, now)

    def _insert_events(
        self, events: Sequence[Event], outbox: Sequence[OutboxRow], now: str
    ) -> list[int]:
        ids: list[int] = []
        for event in events:
            item = event.item
            cursor = self.conn.execute(
                "INSERT INTO events (at, source, kind, key, url, title, section, published,"
                " paywalled, changes, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.at,
                    event.source,
                    event.kind,
                    item.key if item else None,
                    item.url if item else None,
                    item.title if item else None,
                    item.section if item else None,
                    item.published if item else None,
                    int(item.paywalled) if item else None,
                    _changes_json(event.changes),
                    event.detail,
                ),
            )
            ids.append(int(cursor.lastrowid or 0))
        for row in outbox:
            source = events[row.event_index].source
            if self._told_by_another_source(row, source):
                continue
            self.conn.execute(
                "INSERT OR IGNORE INTO outbox (event_id, channel, dedupe, created, next_attempt)"
                " VALUES (?, ?, ?, ?, ?)",
                (ids[row.event_index], row.channel, row.dedupe, now, now),
            )
            self.conn.executemany(
                "INSERT INTO told (channel, subject, state, source) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel, subject) DO UPDATE SET state = excluded.state,"
                " source = excluded.source",
                [(row.channel, subject, state, source) for subject, state in row.told],
            )
        return ids

    def _told_by_another_source(self, row: OutboxRow, source: str) -> bool:
        """True when every subject of the row was last told to its channel, as the row
        says it, by a source other than `source`."""
        if not row.told:
            return False
        for subject, state in row.told:
            last = self.conn.execute(
                "SELECT state, source FROM told WHERE channel = ? AND subject = ?",
                (row.channel, subject),
            ).fetchone()
            if last is None or last[0] != state or last[1] == source:
                return False
        return True

    # -- queries --------------------------------------------------------------------------

    def query_items(
        self,
        *,
        source: str | None = None,
        paywalled: bool | None = None,
        since: str | None = None,
        grep: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        where, params = _filters(source=source, since=since, since_column="first_seen")
        if paywalled is not None:
            where.append("paywalled = ?")
            params.append(int(paywalled))
        if grep:
            where.append(_search_filter(self.conn, "items_search", "rowid", grep, params))
        sql = (
            "SELECT source, key, url, title, section, published, paywalled, first_seen,"
            " last_seen, position IS NOT NULL AS listed FROM items"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY first_seen DESC, source, position"
            + (" LIMIT ?" if limit else "")
        )
        if limit:
            params.append(limit)
        rows = self.conn.execute(sql, params).fetchall()
        keys = [
            "source",
            "key",
            "url",
            "title",
            "section",
            "published",
            "paywalled",
            "first_seen",
            "last_seen",
            "listed",
        ]
        return [
            _with_bools(dict(zip(keys, row, strict=True)), "paywalled", "listed") for row in rows
        ]

    def query_events(
        self,
        *,
        source: str | None = None,
        kind: str | None = None,
        since: str | None = None,
        grep: str | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        where, params = _filters(source=source, since=since, since_column="at")
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if grep:
            where.append(_search_filter(self.conn, "events_search", "id", grep, params))
        sql = (
            "SELECT id, at, source, kind, key, url, title, section, published, paywalled,"
            " changes, detail FROM events"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY id DESC"
            + (" LIMIT ?" if limit else "")
        )
        if limit:
            params.append(limit)
        rows = self.conn.execute(sql, params).fetchall()
        return [event_from_row(row) for row in reversed(rows)]

    def events_by_id(self, ids: Iterable[int]) -> dict[int, Event]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            "SELECT id, at, source, kind, key, url, title, section, published, paywalled,"
            f" changes, detail FROM events WHERE id IN ({marks})",
            ids,
        ).fetchall()
        return {row[0]: event_from_row(row) for row in rows}

    def prune_events(self, before: str, batch: int = 5000) -> int:
        """Drop events recorded before `before` (ISO UTC) that owe no pending alert, with
        their sent or given-up outbox rows; a batch per transaction, so the daemon's polls
        are never held up for long. The request log behind `monitor stats` older than
        `before` goes too. Returns how many events went."""
        while True:
            with self.transaction() as conn:
                gone = conn.execute(
                    "DELETE FROM fetches WHERE id IN (SELECT id FROM fetches WHERE at < ? LIMIT ?)",
                    (before, batch),
                ).rowcount
            if gone < batch:
                break
        dropped = 0
        while True:
            with self.transaction() as conn:
                ids = [
                    row[0]
                    for row in conn.execute(
                        "SELECT id FROM events WHERE at < ? AND NOT EXISTS (SELECT 1 FROM outbox"
                        " WHERE outbox.event_id = events.id AND outbox.status = 'pending')"
                        " LIMIT ?",
                        (before, batch),
                    )
                ]
                if not ids:
                    return dropped
                marks = ",".join("?" * len(ids))
                conn.execute(f"DELETE FROM outbox WHERE event_id IN ({marks})", ids)
                conn.execute(f"DELETE FROM events WHERE id IN ({marks})", ids)
            dropped += len(ids)

    def count_items(self, source: str | None = None) -> int:
        if source is None:
            return int(self.conn.execute("SELECT count(*) FROM items").fetchone()[0])
        return int(
            self.conn.execute("SELECT count(*) FROM items WHERE source = ?", (source,)).fetchone()[
                0
            ]
        )

    # -- adaptive scheduling --------------------------------------------------------------

    def sightings(self, source: str, since: str) -> tuple[str | None, list[tuple[str, str | None]]]:
        """When the source's first listing was recorded (its items' earliest first-seen
        time), and (first_seen, published) of its items first seen at or after `since`."""
        with self.reading() as conn:
            baseline = conn.execute(
                "SELECT min(first_seen) FROM items WHERE source = ?", (source,)
            ).fetchone()[0]
            rows = conn.execute(
                "SELECT first_seen, published FROM items WHERE source = ? AND first_seen >= ?",
                (source, since),
            ).fetchall()
        return baseline, [(seen, published) for seen, published in rows]

    def count_request(self, source: str, day: str, at: str) -> tuple[int, str | None]:
        """One more request of the source on `day`; returns the day's count so far and
        when the request before this one was made."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT day, spent, last_request FROM poll_budget WHERE source = ?", (source,)
            ).fetchone()
            spent = row[1] + 1 if row is not None and row[0] == day else 1
            conn.execute(
                "INSERT INTO poll_budget (source, day, spent, last_request) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET day = excluded.day,"
                " spent = excluded.spent, last_request = excluded.last_request",
                (source, day, spent, at),
            )
        return spent, row[2] if row is not None else None

    def save_poll_plan(self, source: str, interval: float, reason: str, budget: float) -> None:
        """The interval chosen for the source's next poll, why, and its day's budget."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO poll_budget (source, interval, reason, budget) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET interval = excluded.interval,"
                " reason = excluded.reason, budget = excluded.budget",
                (source, interval, reason, budget),
            )

    def poll_budgets(self) -> dict[str, PollBudget]:
        """Every source's requests today and its last planned interval, by name."""
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT source, day, spent, last_request, interval, reason, budget FROM poll_budget"
            ).fetchall()
        return {row[0]: PollBudget(*row) for row in rows}

    # -- article pages (monitor.pipeline.articles) ------------------------------------------

    def queue_removals(self, source: str, keys: Sequence[str], at: str) -> None:
        """Items that left their listing as a removal does: the article round confirms them
        (or finds them still there). One already waiting keeps its time."""
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO articles (source, key, url, removal) SELECT source, key, url, ?"
                " FROM items WHERE source = ? AND key = ? ON CONFLICT (source, key)"
                " DO UPDATE SET removal = coalesce(removal, excluded.removal)",
                [(at, source, key) for key in keys],
            )

    def article_work(self, source: str, now: str, limit: int) -> dict[str, list[ArticleRow]]:
        """What the article round may do for a source, each kind oldest-due first, at most
        `limit` of each: `removal` (waiting for confirmation), `new` (listed, never read,
        newest first: the baseline's items come after the new ones), `recheck` (due)."""
        columns = ", ".join(f"a.{c}" for c in _ARTICLE_COLUMNS)
        item = _ITEM_COLUMNS
        queries = {
            "removal": f"SELECT {columns}, {item} FROM articles a JOIN items i USING (source, key)"
            " WHERE a.source = ? AND a.removal IS NOT NULL ORDER BY a.removal LIMIT ?",
            "new": f"SELECT {', '.join('NULL' for _ in _ARTICLE_COLUMNS)}, {item} FROM items i"
            " LEFT JOIN articles a USING (source, key) WHERE i.source = ? AND a.key IS NULL"
            " AND i.position IS NOT NULL ORDER BY i.first_seen DESC, i.position LIMIT ?",
            "recheck": f"SELECT {columns}, {item} FROM articles a JOIN items i USING (source, key)"
            " WHERE a.source = ? AND a.removal IS NULL AND a.next_check <= ?"
            " ORDER BY a.next_check LIMIT ?",
        }
        found: dict[str, list[ArticleRow]] = {}
        with self.reading() as conn:
            for kind, sql in queries.items():
                params = (source, now, limit) if kind == "recheck" else (source, limit)
                rows = conn.execute(sql, params).fetchall()
                found[kind] = [_article_row(source, row) for row in rows]
        return found

    def record_article(
        self,
        source: str,
        key: str,
        fields: dict[str, Any],
        events: Sequence[Event] = (),
        outbox: Sequence[OutboxRow] = (),
        now: str = "",
    ) -> list[int]:
        """One article fetch: the reading's columns in `fields` (names of `articles`), and
        the events it raised with their outbox rows, in one transaction."""
        unknown = set(fields) - set(_ARTICLE_COLUMNS) - {"url"}
        if unknown:
            raise ValueError(f"not article columns: {sorted(unknown)}")
        names = ["source", "key", *fields]
        updates = ", ".join(f"{n} = excluded.{n}" for n in fields)
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO articles ({', '.join(names)}) VALUES"
                f" ({', '.join('?' for _ in names)}) ON CONFLICT (source, key) DO UPDATE SET"
                f" {updates}",
                (source, key, *fields.values()),
            )
            return self._insert_events(events, outbox, now) if events else []

    def record_fetch(self, source: str, at: str, what: str, status: int | None, size: int) -> None:
        """One request made for a source (`what`: listing or article) and its body's bytes."""
        self.record_fetches([(source, at, what, status, size)])

    def record_fetches(self, rows: Sequence[tuple[str, str, str, int | None, int]]) -> None:
        """Requests made (source, at, what, status, bytes), in one transaction."""
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO fetches (source, at, what, status, bytes) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def article_readings(self, source: str | None = None) -> dict[tuple[str, str], ArticleRow]:
        """The last reading of every article read, by (source, key)."""
        columns = ", ".join(f"a.{c}" for c in _ARTICLE_COLUMNS)
        sql = (
            f"SELECT a.source, {columns}, {_ITEM_COLUMNS} FROM articles a"
            " JOIN items i USING (source, key)" + (" WHERE a.source = ?" if source else "")
        )
        with self.reading() as conn:
            rows = conn.execute(sql, (source,) if source else ()).fetchall()
        return {(r.source, r.item.key): r for r in (_article_row(s, row) for s, *row in rows)}


# The columns of `articles` an ArticleRow carries, in order.
_ARTICLE_COLUMNS = (
    "paywalled",
    "paywall_signal",
    "content_tier",
    "published",
    "modified",
    "author",
    "canonical",
    "title",
    "teaser_paywalled",
    "etag",
    "last_modified",
    "first_read",
    "last_read",
    "last_status",
    "last_error",
    "failures",
    "next_check",
    "recheck_wait",
    "removal",
)
_ITEM_COLUMNS = "i.key, i.url, i.title, i.section, i.published, i.paywalled, i.position"


@dataclass(frozen=True)
class ArticleRow:
    """An item (as listed) with what its article page said when last read (`reading`:
    the `articles` columns, empty when never read)."""

    source: str
    item: Item
    position: int | None
    reading: dict[str, Any]

    @property
    def read(self) -> bool:
        return bool(self.reading.get("last_read"))


def _host_of(url: str | None) -> str:
    return (urlsplit(url or "").hostname or "").lower()


def _article_row(source: str, row: Sequence[Any]) -> ArticleRow:
    count = len(_ARTICLE_COLUMNS)
    key, url, title, section, published, paywalled, position = row[count:]
    reading = {
        name: value
        for name, value in zip(_ARTICLE_COLUMNS, row[:count], strict=True)
        if value is not None
    }
    item = Item(
        key=key,
        url=url,
        title=title,
        section=section,
        published=published,
        paywalled=bool(paywalled),
    )
    return ArticleRow(source, item, position, reading)


def event_from_row(row: Sequence[Any]) -> Event:
    """An `events` row (id, at, source, kind, key, url, title, ...) back into an Event."""
    _id, at, source, kind, key, url, title, section, published, paywalled, changes, detail = row
    item = (
        Item(
            key=key,
            url=url,
            title=title or "",
            section=section,
            published=published,
            paywalled=bool(paywalled),
        )
        if key is not None
        else None
    )
    parsed = tuple(Change(c["field"], c["before"], c["after"]) for c in json.loads(changes or "[]"))
    return Event(kind=kind, source=source, at=at, item=item, changes=parsed, detail=detail)


def _changes_json(changes: Sequence[Change]) -> str | None:
    if not changes:
        return None
    return json.dumps(
        [{"field": c.field, "before": c.before, "after": c.after} for c in changes],
        ensure_ascii=False,
    )


def _filters(
    *, source: str | None, since: str | None, since_column: str
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if source:
        where.append("source = ?")
        params.append(source)
    if since:
        where.append(f"{since_column} >= ?")
        params.append(since)
    return where, params


def _search_filter(
    conn: sqlite3.Connection, table: str, row_id: str, text: str, params: list[Any]
) -> str:
    """WHERE clause of rows whose words start with the words of `text`, any case and
    accents (see monitor.pipeline.search); text without a word matches nothing."""
    from monitor.pipeline.search import match_query

    query = match_query(conn, table, text)
    if query is None:
        return "0"
    params.append(query)
    return f"{row_id} IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)"


def _with_bools(row: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        row[name] = bool(row[name])
    return row


def _refuse_non_sqlite(path: str) -> None:
    """A file that exists but is no SQLite database is reported, never overwritten."""
    file = Path(path)
    if not file.exists() or file.stat().st_size == 0:
        return
    with file.open("rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise CorruptDatabaseError(
            f"{path}: not an SQLite database (bad header); it was left untouched"
        )


def _looks_corrupt(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text
