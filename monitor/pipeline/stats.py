"""How fast and at what cost: `monitor stats`.

Per source, over a window: how long stories took from publication to being seen
(published→seen: the item's date from its feed entry, teaser or article page, to the poll
that found it), how many polls and article fetches that took and how many bytes they
read; per source and channel, how long an alert took from the poll that saw the story
to its delivery (seen→delivered: the first URL of the channel that took it). Only items
alerted as `new` count: a baseline's items were published long before anyone looked.

Times are stored to the second, so figures are too. Requests are counted by `metered`
(each listing poll) and by the article round.
"""

from __future__ import annotations

import contextlib
import math
import statistics
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from monitor.models import FetchError, FetchResult, HostHeld, Source

if TYPE_CHECKING:
    from monitor.pipeline.fetch import Fetcher
    from monitor.pipeline.store import Store


@dataclass(frozen=True)
class Figures:
    """Durations in seconds: how many, their median and 95th percentile (None if none)."""

    count: int
    median: float | None
    p95: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Figures:
        if not values:
            return cls(0, None, None)
        ordered = sorted(values)
        # Nearest rank: the smallest value at or above 95 % of them.
        rank = max(1, math.ceil(0.95 * len(ordered)))
        return cls(len(ordered), float(statistics.median(ordered)), float(ordered[rank - 1]))

    def to_json(self) -> dict[str, object]:
        return {"count": self.count, "median": self.median, "p95": self.p95}


@dataclass(frozen=True)
class SourceStats:
    source: str
    published_to_seen: Figures
    polls: int = 0
    poll_bytes: int = 0
    article_fetches: int = 0
    article_bytes: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "published_to_seen": self.published_to_seen.to_json(),
            "polls": self.polls,
            "poll_bytes": self.poll_bytes,
            "article_fetches": self.article_fetches,
            "article_bytes": self.article_bytes,
        }


@dataclass(frozen=True)
class ChannelStats:
    source: str
    channel: str
    seen_to_delivered: Figures

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "channel": self.channel,
            "seen_to_delivered": self.seen_to_delivered.to_json(),
        }


@dataclass(frozen=True)
class Stats:
    """What `monitor stats` prints; `since`: the window's start (None: all time)."""

    since: str | None
    sources: tuple[SourceStats, ...]
    channels: tuple[ChannelStats, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "since": self.since,
            "sources": [s.to_json() for s in self.sources],
            "channels": [c.to_json() for c in self.channels],
        }

    def summary(self) -> str:
        """One line over every source and channel (the daemon logs it)."""
        seen = Figures.of([])
        lags: list[float] = []
        for source in self.sources:
            seen = _merge(seen, source.published_to_seen)
        for channel in self.channels:
            if channel.seen_to_delivered.median is not None:
                lags.append(channel.seen_to_delivered.median)
        polls = sum(s.polls + s.article_fetches for s in self.sources)
        size = sum(s.poll_bytes + s.article_bytes for s in self.sources)
        delivered = f"{seconds(max(lags))} (slowest channel's median)" if lags else "-"
        return (
            f"published→seen median {seconds(seen.median)}, p95 {seconds(seen.p95)};"
            f" seen→delivered {delivered}; {polls} requests, {size} bytes"
        )


def _merge(a: Figures, b: Figures) -> Figures:
    # Only for the summary line: the larger of the two sides' figures.
    if b.count == 0:
        return a
    if a.count == 0:
        return b
    return Figures(
        a.count + b.count, max(a.median or 0, b.median or 0), max(a.p95 or 0, b.p95 or 0)
    )


def seconds(value: float | None) -> str:
    """12.0 -> '12s', 95 -> '1m35s', None -> '-'."""
    if value is None:
        return "-"
    total = round(value)
    if total < 60:
        return f"{total}s"
    minutes, rest = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def parse_time(text: str | None) -> datetime | None:
    """An ISO date/time as aware UTC; None for anything else (a teaser's '2 hours ago')."""
    if not text:
        return None
    candidate = text.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _lag(start: str | None, end: str | None) -> float | None:
    begin, finish = parse_time(start), parse_time(end)
    if begin is None or finish is None:
        return None
    return max(0.0, (finish - begin).total_seconds())


def read_stats(store: Store, since: str | None) -> Stats:
    """The figures of the window that starts at `since` (ISO UTC; None: all time)."""
    window = since or ""
    with store.reading() as conn:
        seen_rows = conn.execute(
            "SELECT e.source, e.at, coalesce(a.published, i.published, e.published)"
            " FROM events e LEFT JOIN items i ON i.source = e.source AND i.key = e.key"
            " LEFT JOIN articles a ON a.source = e.source AND a.key = e.key"
            " WHERE e.kind = 'new' AND e.at >= ?",
            (window,),
        ).fetchall()
        delivered_rows = conn.execute(
            "SELECT e.source, o.channel, e.at, coalesce((SELECT min(d.sent_at) FROM deliveries d"
            " WHERE d.outbox_id = o.id AND d.status = 'sent'), o.sent_at)"
            " FROM outbox o JOIN events e ON e.id = o.event_id"
            " WHERE e.kind = 'new' AND e.at >= ?",
            (window,),
        ).fetchall()
        fetch_rows = conn.execute(
            "SELECT source, what, count(*), coalesce(sum(bytes), 0) FROM fetches"
            " WHERE at >= ? GROUP BY source, what",
            (window,),
        ).fetchall()
    published: dict[str, list[float]] = {}
    for source, at, date in seen_rows:
        published.setdefault(source, [])
        lag = _lag(date, at)
        if lag is not None:
            published[source].append(lag)
    fetched: dict[str, dict[str, tuple[int, int]]] = {}
    for source, what, count, size in fetch_rows:
        fetched.setdefault(source, {})[what] = (int(count), int(size))
    names = sorted(set(published) | set(fetched))
    sources = tuple(
        SourceStats(
            source=name,
            published_to_seen=Figures.of(published.get(name, [])),
            polls=fetched.get(name, {}).get("listing", (0, 0))[0],
            poll_bytes=fetched.get(name, {}).get("listing", (0, 0))[1],
            article_fetches=fetched.get(name, {}).get("article", (0, 0))[0],
            article_bytes=fetched.get(name, {}).get("article", (0, 0))[1],
        )
        for name in names
    )
    lags: dict[tuple[str, str], list[float]] = {}
    for source, channel, at, sent in delivered_rows:
        lags.setdefault((source, channel), [])
        lag = _lag(at, sent)
        if lag is not None:
            lags[(source, channel)].append(lag)
    channels = tuple(
        ChannelStats(source, channel, Figures.of(values))
        for (source, channel), values in sorted(lags.items())
    )
    return Stats(since, sources, channels)


class _Metered:
    """A fetcher that notes the status and bytes of what it fetched for one source."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self.fetched: list[tuple[str, int | None, int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fetcher, name)

    async def fetch(self, url: str, **options: Any) -> FetchResult:
        try:
            result = await self._fetcher.fetch(url, **options)
        except FetchError as exc:
            if not isinstance(exc, HostHeld):  # a held host was not asked
                self.fetched.append((_now(), exc.status, 0))
            raise
        self.fetched.append((_now(), result.status, len(result.body or b"")))
        return result


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


FetchRow = tuple[str, str, str, int | None, int]  # source, at, what, status, bytes


@asynccontextmanager
async def metered(
    fetcher: Fetcher, source: Source, store: Store, log: list[FetchRow] | None = None
) -> AsyncIterator[Fetcher]:
    """`fetcher` for one listing poll of `source`; its requests and bytes are recorded
    (for `monitor stats`) once the poll is done, or added to `log` for the caller to record
    with the others of its round (one transaction instead of one per poll). Recording never
    fails the poll."""
    counting = _Metered(fetcher)
    try:
        yield cast("Fetcher", counting)
    finally:
        rows = [(source.name, at, "listing", status, size) for at, status, size in counting.fetched]
        if log is not None:
            log.extend(rows)
        elif rows:
            await record_fetches(store, rows)


async def record_fetches(store: Store, rows: list[FetchRow]) -> None:
    """Record requests for `monitor stats`; a database error here is not worth a failed
    poll, so it is dropped."""
    if not rows:
        return
    with contextlib.suppress(Exception):  # a statistic is not worth a failed poll
        await store.run(store.record_fetches, rows)
