"""The notification outbox in SQLite: what is owed to whom, and each URL's delivery state.

A row is what one event owes one channel. Every URL of the channel has its own state of
the row (table `deliveries`): pending with its own retry schedule, sent, or failed (that
URL gave up). A URL that took a row never gets it again, and a dead URL never delays or
blocks another. The row sums its URLs up: `sent` once every URL of the channel took it,
`failed` when every URL still owed it gave up, else `pending`; its `attempts`,
`next_attempt` and `last_error` speak of the URLs still owed it (what `monitor outbox`
shows). States are only written after the service answered, so a crash repeats at most
the one message that was in flight.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.models import Event
from monitor.pipeline.store import Store, event_from_row


@dataclass(frozen=True)
class UrlDelivery:
    """One URL's state of one outbox row. A URL with no state yet owes the row, due now."""

    target: str
    status: str = "pending"
    attempts: int = 0
    first_attempt: str | None = None
    next_attempt: str | None = None
    last_error: str | None = None
    sent_at: str | None = None
    # The URL in Apprise's privacy form, when a send to it was recorded.
    label: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "url": self.label or f"url {self.target}",
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt": self.next_attempt,
            "last_error": self.last_error,
            "sent_at": self.sent_at,
        }


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row with the event it carries and its URLs' states."""

    id: int
    channel: str
    status: str
    attempts: int
    created: str
    next_attempt: str
    last_error: str | None
    sent_at: str | None
    first_attempt: str | None
    event: Event
    urls: tuple[UrlDelivery, ...] = ()

    def url(self, target: str) -> UrlDelivery:
        """The state of one URL (pending and due when it has none yet)."""
        for state in self.urls:
            if state.target == target:
                return state
        return UrlDelivery(target)

    @property
    def delivered(self) -> frozenset[str]:
        """The URLs that took this row."""
        return frozenset(u.target for u in self.urls if u.status == "sent")

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "channel": self.channel,
            "status": self.status,
            "attempts": self.attempts,
            "created": self.created,
            "next_attempt": self.next_attempt,
            "last_error": self.last_error,
            "event": self.event.to_json(),
            "urls": [u.to_json() for u in self.urls],
        }


@dataclass(frozen=True)
class TargetState:
    """What the database remembers of one URL of a channel."""

    channel: str
    target: str
    label: str | None = None
    failing_since: str | None = None
    last_error: str | None = None
    next_send: str | None = None


_SELECT = (
    "SELECT o.id, o.channel, o.status, o.attempts, o.created, o.next_attempt, o.last_error,"
    " o.sent_at, o.first_attempt,"
    " e.id, e.at, e.source, e.kind, e.key, e.url, e.title, e.section, e.published,"
    " e.paywalled, e.changes, e.detail"
    " FROM outbox o JOIN events e ON e.id = o.event_id"
)


def _entries(store: Store, statuses: tuple[str, ...]) -> list[OutboxEntry]:
    marks = ",".join("?" * len(statuses))
    with store.reading() as conn:
        rows = conn.execute(
            f"{_SELECT} WHERE o.status IN ({marks}) ORDER BY o.id", statuses
        ).fetchall()
        urls: dict[int, list[UrlDelivery]] = {}
        for row in conn.execute(
            "SELECT d.outbox_id, d.target, d.status, d.attempts, d.first_attempt,"
            " d.next_attempt, d.last_error, d.sent_at, t.label"
            " FROM deliveries d JOIN outbox o ON o.id = d.outbox_id"
            " LEFT JOIN delivery_targets t ON t.channel = o.channel AND t.target = d.target"
            f" WHERE o.status IN ({marks}) ORDER BY d.outbox_id, t.label, d.target",
            statuses,
        ):
            urls.setdefault(int(row[0]), []).append(UrlDelivery(*row[1:]))
    return [
        OutboxEntry(
            id=int(row[0]),
            channel=str(row[1]),
            status=str(row[2]),
            attempts=int(row[3]),
            created=str(row[4]),
            next_attempt=str(row[5]),
            last_error=row[6],
            sent_at=row[7],
            first_attempt=row[8],
            event=event_from_row(row[9:]),
            urls=tuple(urls.get(int(row[0]), ())),
        )
        for row in rows
    ]


def pending(store: Store) -> list[OutboxEntry]:
    """Every pending row, oldest first."""
    return _entries(store, ("pending",))


def unsent(store: Store) -> list[OutboxEntry]:
    """Pending and failed rows, oldest first (what `monitor outbox` lists)."""
    return _entries(store, ("pending", "failed"))


def process_id() -> str:
    """This process, as written in `outbox.claimed_by`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(
    store: Store, entries: Sequence[OutboxEntry], owner: str, until: datetime
) -> list[OutboxEntry]:
    """Claim rows for `owner` until `until`, so that another process delivering from the
    same database (`monitor check` while `monitor run` works) leaves them alone. A claim
    that expired, or whose process on this host is gone (killed), is taken over. Returns
    the rows won."""
    stale = _dead_owners(store)
    marks = ",".join("?" * len(stale))
    won = []
    with store.transaction() as conn:
        for entry in entries:
            cursor = conn.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ?"
                " WHERE id = ? AND status = 'pending' AND (claimed_by IS NULL"
                f" OR claimed_until < ? OR claimed_by IN ({marks}))",
                (owner, iso(until), entry.id, iso(datetime.now(UTC)), *stale),
            )
            if cursor.rowcount:
                won.append(entry)
    return won


def release(store: Store, entries: Sequence[OutboxEntry], owner: str) -> None:
    """End `owner`'s claim on these rows."""
    with store.transaction() as conn:
        conn.executemany(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL"
            " WHERE id = ? AND claimed_by = ?",
            [(entry.id, owner) for entry in entries],
        )


def _dead_owners(store: Store) -> list[str]:
    """Claimants on this host whose process no longer runs."""
    host = socket.gethostname()
    rows = store.conn.execute(
        "SELECT DISTINCT claimed_by FROM outbox WHERE status = 'pending' AND claimed_by IS NOT NULL"
    ).fetchall()
    dead = []
    for (owner,) in rows:
        owner_host, _, pid = str(owner).rpartition(":")
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            dead.append(str(owner))
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def mark_delivered(
    store: Store, ids: Iterable[int], target: str, targets: frozenset[str], now: datetime
) -> int:
    """Record that `target` took these rows; a row every one of `targets` (the channel's
    URLs) took is sent. Returns how many rows are now sent."""
    sent = 0
    with store.transaction() as conn:
        for row_id in ids:
            conn.execute(
                "INSERT INTO deliveries (outbox_id, target, status, sent_at)"
                " VALUES (?, ?, 'sent', ?) ON CONFLICT (outbox_id, target) DO UPDATE SET"
                " status = 'sent', sent_at = excluded.sent_at, last_error = NULL",
                (row_id, target, iso(now)),
            )
            sent += _sum_up(conn, row_id, targets, now)
    return sent


def mark_attempt_failed(
    store: Store,
    ids: Iterable[int],
    target: str,
    targets: frozenset[str],
    *,
    error: str,
    now: datetime,
    next_attempt: datetime,
    give_up: Iterable[int] = (),
) -> None:
    """One failed attempt of `target` on these rows: it retries them at `next_attempt`, or
    gives up on those in `give_up`. The channel's other URLs are not touched."""
    failed = set(give_up)
    with store.transaction() as conn:
        for row_id in ids:
            conn.execute(
                "INSERT INTO deliveries (outbox_id, target, status, attempts, first_attempt,"
                " next_attempt, last_error) VALUES (?, ?, ?, 1, ?, ?, ?)"
                " ON CONFLICT (outbox_id, target) DO UPDATE SET attempts = attempts + 1,"
                " first_attempt = coalesce(first_attempt, excluded.first_attempt),"
                " next_attempt = excluded.next_attempt, last_error = excluded.last_error,"
                " status = excluded.status",
                (
                    row_id,
                    target,
                    "failed" if row_id in failed else "pending",
                    iso(now),
                    iso(next_attempt),
                    error,
                ),
            )
            _sum_up(conn, row_id, targets, now)


def settle(store: Store, ids: Iterable[int], targets: frozenset[str], now: datetime) -> int:
    """Sum these rows up again for the channel's URLs as configured now (a URL removed
    from the config owes nothing more). Returns how many rows are now sent."""
    with store.transaction() as conn:
        return sum(_sum_up(conn, row_id, targets, now) for row_id in ids)


def _sum_up(conn: sqlite3.Connection, row_id: int, targets: frozenset[str], now: datetime) -> bool:
    """Write a row's status, attempts, schedule and error from its URLs' states; True when
    the row became sent by it."""
    row = conn.execute("SELECT status, created FROM outbox WHERE id = ?", (row_id,)).fetchone()
    if row is None or row[0] == "sent":
        return False
    states = {
        str(r[0]): UrlDelivery(*r)
        for r in conn.execute(
            "SELECT target, status, attempts, first_attempt, next_attempt, last_error, sent_at"
            " FROM deliveries WHERE outbox_id = ?",
            (row_id,),
        )
    }
    owed = [states.get(t, UrlDelivery(t)) for t in sorted(targets)]
    owed = [u for u in owed if u.status != "sent"]
    if not owed:
        conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
            (iso(now), row_id),
        )
        return True
    waiting = [u for u in owed if u.status == "pending"]
    # A URL never tried is due since the row was made.
    dues = [u.next_attempt or str(row[1]) for u in waiting]
    firsts = [u.first_attempt for u in owed if u.first_attempt]
    errors = [u.last_error for u in owed if u.last_error]
    conn.execute(
        "UPDATE outbox SET status = ?, attempts = ?, next_attempt = coalesce(?, next_attempt),"
        " first_attempt = ?, last_error = ? WHERE id = ?",
        (
            "pending" if waiting else "failed",
            max(u.attempts for u in owed),
            min(dues, key=parse_iso) if dues else None,
            min(firsts, key=parse_iso) if firsts else None,
            "; ".join(errors) or None,
            row_id,
        ),
    )
    return False


def retry(store: Store, now: datetime) -> int:
    """Make every pending and failed row due now for every URL that owes it, failed ones
    with a fresh deadline. Returns how many rows."""
    with store.transaction() as conn:
        conn.execute(
            "UPDATE deliveries SET next_attempt = ?,"
            " attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END,"
            " first_attempt = CASE WHEN status = 'failed' THEN NULL ELSE first_attempt END,"
            " status = 'pending' WHERE status IN ('pending', 'failed') AND outbox_id IN"
            " (SELECT id FROM outbox WHERE status IN ('pending', 'failed'))",
            (iso(now),),
        )
        cursor = conn.execute(
            "UPDATE outbox SET next_attempt = ?,"
            " attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END,"
            " first_attempt = CASE WHEN status = 'failed' THEN NULL ELSE first_attempt END,"
            " status = 'pending' WHERE status IN ('pending', 'failed')",
            (iso(now),),
        )
        return int(cursor.rowcount)


def target_state(store: Store, channel: str, target: str) -> TargetState:
    row = store.conn.execute(
        "SELECT channel, target, label, failing_since, last_error, next_send"
        " FROM delivery_targets WHERE channel = ? AND target = ?",
        (channel, target),
    ).fetchone()
    return TargetState(*row) if row else TargetState(channel, target)


def save_target_state(store: Store, state: TargetState) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO delivery_targets (channel, target, label, failing_since, last_error,"
            " next_send) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, target) DO UPDATE SET"
            " label = excluded.label, failing_since = excluded.failing_since,"
            " last_error = excluded.last_error, next_send = excluded.next_send",
            (
                state.channel,
                state.target,
                state.label,
                state.failing_since,
                state.last_error,
                state.next_send,
            ),
        )


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)
