"""The notification outbox in SQLite: what is owed to whom, and each URL's delivery state.

A row is `pending` until every URL of its channel took it (`delivered` lists the targets
that did), then `sent`; a row no URL could take before its deadline ends `failed`.
Rows are only ever updated after the channel answered, so a crash repeats at most the one
message that was in flight.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.models import Event
from monitor.pipeline.store import Store, event_from_row


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row with the event it carries."""

    id: int
    channel: str
    status: str
    attempts: int
    created: str
    next_attempt: str
    last_error: str | None
    sent_at: str | None
    delivered: frozenset[str]
    first_attempt: str | None
    event: Event

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
    " o.sent_at, o.delivered, o.first_attempt,"
    " e.id, e.at, e.source, e.kind, e.key, e.url, e.title, e.section, e.published,"
    " e.paywalled, e.changes, e.detail"
    " FROM outbox o JOIN events e ON e.id = o.event_id"
)


def _entry(row: Sequence[object]) -> OutboxEntry:
    delivered = str(row[8] or "")
    return OutboxEntry(
        id=int(row[0]),  # type: ignore[call-overload]
        channel=str(row[1]),
        status=str(row[2]),
        attempts=int(row[3]),  # type: ignore[call-overload]
        created=str(row[4]),
        next_attempt=str(row[5]),
        last_error=row[6],  # type: ignore[arg-type]
        sent_at=row[7],  # type: ignore[arg-type]
        delivered=frozenset(delivered.split()),
        first_attempt=row[9],  # type: ignore[arg-type]
        event=event_from_row(row[10:]),
    )


def pending(store: Store) -> list[OutboxEntry]:
    """Every pending row, oldest first."""
    rows = store.conn.execute(f"{_SELECT} WHERE o.status = 'pending' ORDER BY o.id").fetchall()
    return [_entry(row) for row in rows]


def unsent(store: Store) -> list[OutboxEntry]:
    """Pending and failed rows, oldest first (what `monitor outbox` lists)."""
    rows = store.conn.execute(
        f"{_SELECT} WHERE o.status IN ('pending', 'failed') ORDER BY o.id"
    ).fetchall()
    return [_entry(row) for row in rows]


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
    """Record that `target` took these rows; a row all `targets` took is sent. Returns how
    many rows are now sent."""
    sent = 0
    with store.transaction() as conn:
        for row_id in ids:
            row = conn.execute("SELECT delivered FROM outbox WHERE id = ?", (row_id,)).fetchone()
            done = set(str(row[0] or "").split()) | {target} if row else {target}
            complete = targets <= done
            conn.execute(
                "UPDATE outbox SET delivered = ?, status = CASE WHEN ? THEN 'sent' ELSE status END,"
                " sent_at = CASE WHEN ? THEN ? ELSE sent_at END WHERE id = ?",
                (" ".join(sorted(done)), complete, complete, iso(now), row_id),
            )
            sent += complete
    return sent


def mark_attempt_failed(
    store: Store,
    entries: Iterable[OutboxEntry],
    *,
    error: str,
    now: datetime,
    next_attempt: datetime,
    give_up: Iterable[int] = (),
    counted: Iterable[int] = (),
) -> None:
    """One failed attempt on these rows: retry at `next_attempt`, or end `failed`.

    Rows in `counted` already had this round's attempt counted (by another URL)."""
    failed = set(give_up)
    skip = set(counted)
    with store.transaction() as conn:
        for entry in entries:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + ?, last_error = ?, next_attempt = ?,"
                " first_attempt = coalesce(first_attempt, ?),"
                " status = CASE WHEN ? THEN 'failed' ELSE status END WHERE id = ?",
                (
                    int(entry.id not in skip),
                    error,
                    iso(next_attempt),
                    iso(now),
                    entry.id in failed,
                    entry.id,
                ),
            )


def retry(store: Store, now: datetime) -> int:
    """Make every pending and failed row due now, failed ones with a fresh deadline."""
    with store.transaction() as conn:
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
