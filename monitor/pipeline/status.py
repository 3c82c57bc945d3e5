"""`monitor status`: what each source did last and does next, and the outbox backlog.

Reads the database through a read-only connection with a short busy timeout, so it never
takes a write lock from the running daemon (the database is in WAL mode).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from monitor.models import Settings, Source, StoreError
from monitor.pipeline.store import PollBudget, SourceState, Store

READ_TIMEOUT = 2.0


@dataclass(frozen=True)
class SourceStatus:
    name: str
    url: str
    schedule: str
    health: str
    last_poll: str | None
    last_success: str | None
    consecutive_errors: int
    last_error: str | None
    items_known: int
    items_listed: int
    next_run: str | None
    # The host asked not to be polled before this time (Retry-After, capped); ISO, UTC.
    held_until: str | None = None
    # Seconds to the next poll as last planned, and why: "fixed", "cron", or for an
    # adaptive source "cold start", "busy hour", "steady", "quiet", "burst", "budget spent".
    interval: float | None = None
    interval_reason: str | None = None
    # Requests the daemon made today (local date) and the day's budget (None: a crontab).
    requests_today: int = 0
    budget_today: float | None = None
    # While the listing looks broken: the health alert's text (what the rule finds, and
    # the rule discovery proposes with how to apply it).
    health_detail: str | None = None


@dataclass(frozen=True)
class ChannelProblem:
    """A channel URL (or, target "*", a whole channel) that fails since `failing_since`."""

    channel: str
    target: str
    label: str | None
    failing_since: str
    last_error: str | None


@dataclass(frozen=True)
class Status:
    database: str
    daemon_pid: int | None
    sources: tuple[SourceStatus, ...]
    # Outbox rows by status ("pending", "sent", "failed", ...).
    outbox: dict[str, int]
    # Channels that cannot deliver right now (one entry per outage, not per alert).
    channels: tuple[ChannelProblem, ...] = ()

    @property
    def pending(self) -> int:
        return self.outbox.get("pending", 0)

    @property
    def failed(self) -> int:
        return self.outbox.get("failed", 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "daemon_pid": self.daemon_pid,
            "sources": [asdict(s) for s in self.sources],
            "outbox": {"pending": self.pending, "failed": self.failed, "by_status": self.outbox},
            "failing_channels": [asdict(c) for c in self.channels],
        }


def schedule_text(source: Source) -> str:
    text = f"cron {source.cron}" if source.cron else f"every {duration_text(source.interval)}"
    if source.schedule == "adaptive" and not source.cron:
        text = f"adaptive ({duration_text(source.interval)} at cold start)"
    return text + (f" (+{duration_text(source.jitter)} jitter)" if source.jitter else "")


def duration_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def health_text(state: SourceState, held_until: str | None = None) -> str:
    if held_until:
        return f"held by Retry-After until {clock_text(held_until)}"
    if state.last_poll is None:
        return "never polled"
    # "held" outlives the hold itself until a poll succeeds; the errors tell the rest.
    if state.health and state.health != "held":
        return state.health
    if state.consecutive_errors:
        return "erroring"
    return "ok"


def clock_text(value: str, now: datetime | None = None) -> str:
    """'14:05' in local time, with the date when it is not today."""
    when = _aware(datetime.fromisoformat(value)).astimezone()
    today = (now or datetime.now(UTC)).astimezone().date()
    return when.strftime("%H:%M" if when.date() == today else "%Y-%m-%d %H:%M")


def host_holds(
    sources: Iterable[Source], states: dict[str, SourceState], now: datetime
) -> dict[str, str]:
    """Host -> the latest hold still running that any of its sources recorded: a
    Retry-After holds every source on the host."""
    holds: dict[str, tuple[datetime, str]] = {}
    for source in sources:
        state = states.get(source.name)
        if state is None or not state.held_until:
            continue
        try:
            until = _aware(datetime.fromisoformat(state.held_until))
        except ValueError:
            continue
        host = host_of(source.url)
        if until > now and (host not in holds or until > holds[host][0]):
            holds[host] = (until, state.held_until)
    return {host: text for host, (_, text) in holds.items()}


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def pacing(
    source: Source, plan: PollBudget | None, today: str
) -> tuple[float | None, str, int, float | None]:
    """(interval, reason, requests today, budget today) of a source, from what the daemon
    recorded (`plan`) and its config."""
    spent = plan.spent if plan is not None and plan.day == today else 0
    if source.cron:
        return None, "cron", spent, None
    if source.schedule != "adaptive":
        return source.interval, "fixed", spent, 86400.0 / source.interval
    budget = source.budget or 86400.0 / source.interval
    if plan is None or plan.reason is None:
        return source.interval, "cold start", spent, budget
    return plan.interval, plan.reason, spent, plan.budget or budget


def pacing_text(status: SourceStatus) -> tuple[str, str]:
    """The interval and requests columns of `monitor status`: '4m busy hour', '37/144'."""
    interval = "-" if status.interval is None else _short_duration(status.interval)
    requests = str(status.requests_today)
    if status.budget_today is not None:
        requests += f"/{status.budget_today:.0f}"
    return f"{interval} {status.interval_reason or ''}".strip(), requests


def source_status(
    source: Source,
    state: SourceState,
    items_known: int,
    held_until: str | None = None,
    plan: PollBudget | None = None,
    today: str = "",
) -> SourceStatus:
    interval, reason, spent, budget = pacing(source, plan, today)
    return SourceStatus(
        name=source.name,
        url=source.url,
        schedule=schedule_text(source),
        health=health_text(state, held_until),
        last_poll=state.last_poll,
        last_success=state.last_success,
        consecutive_errors=state.consecutive_errors,
        last_error=state.last_error,
        items_known=items_known,
        items_listed=state.item_count,
        next_run=state.next_run,
        held_until=held_until,
        interval=interval,
        interval_reason=reason,
        requests_today=spent,
        budget_today=budget,
    )


def open_read_only(path: str) -> sqlite3.Connection | None:
    """A read-only connection to the database, or None when there is no database yet."""
    if not Path(path).exists():
        return None
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(Path(path).resolve()))}?mode=ro",
            uri=True,
            timeout=READ_TIMEOUT,
            isolation_level=None,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(READ_TIMEOUT * 1000)}")
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {exc}") from exc
    return conn


def read_status(settings: Settings, daemon_pid: int | None, now: datetime | None = None) -> Status:
    """The status of every configured source, from the database (read-only)."""
    conn = open_read_only(settings.database)
    states: dict[str, SourceState] = {}
    known: dict[str, int] = {}
    outbox: dict[str, int] = {}
    problems: list[ChannelProblem] = []
    plans: dict[str, PollBudget] = {}
    details: dict[str, str] = {}
    if conn is not None:
        try:
            if _has_table(conn, "sources"):
                store = Store(conn, settings.database)
                states = {s.name: s for s in store.source_states()}
                known = dict(conn.execute("SELECT source, count(*) FROM items GROUP BY source"))
                outbox = dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
                broken = [n for n, s in states.items() if s.health == "empty"]
                details = _health_details(conn, broken)
            if _has_table(conn, "poll_budget"):
                plans = Store(conn, settings.database).poll_budgets()
            if _has_table(conn, "delivery_targets"):
                problems = [
                    ChannelProblem(*row)
                    for row in conn.execute(
                        "SELECT channel, target, label, failing_since, last_error"
                        " FROM delivery_targets WHERE failing_since IS NOT NULL"
                        " ORDER BY channel, target"
                    )
                ]
        except sqlite3.Error as exc:
            raise StoreError(f"{settings.database}: {exc}") from exc
        finally:
            conn.close()
    now = now or datetime.now(UTC)
    holds = host_holds(settings.sources, states, now)
    # The daemon counts requests per local day.
    today = now.astimezone().date().isoformat()
    sources = tuple(
        source_status(
            s,
            states.get(s.name) or SourceState(name=s.name),
            known.get(s.name, 0),
            holds.get(host_of(s.url)),
            plans.get(s.name),
            today,
        )
        for s in settings.sources
    )
    sources = tuple(replace(s, health_detail=details.get(s.name)) for s in sources)
    return Status(
        database=settings.database,
        daemon_pid=daemon_pid,
        sources=sources,
        outbox=outbox,
        channels=tuple(problems),
    )


def _health_details(conn: sqlite3.Connection, names: list[str]) -> dict[str, str]:
    """Source -> the text of its last health event, for the sources named."""
    found: dict[str, str] = {}
    for name in names:
        row = conn.execute(
            "SELECT detail FROM events WHERE source = ? AND kind = 'health'"
            " ORDER BY id DESC LIMIT 1",
            (name,),
        ).fetchone()
        if row and row[0]:
            found[name] = row[0]
    return found


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return row.fetchone() is not None


def relative_time(value: str | None, now: datetime) -> str:
    """'12s ago', 'in 5m', or '-' for a stored ISO time."""
    if not value:
        return "-"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if when.tzinfo is None:
        when = when.replace(tzinfo=now.tzinfo)
    seconds = (when - now).total_seconds()
    text = _short_duration(abs(seconds))
    return f"in {text}" if seconds > 0 else f"{text} ago"


def _short_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f}m"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"
