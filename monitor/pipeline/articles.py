"""The article round: what each item's article page says, read politely after the listing
round's alerts are out (sources with `articles`).

One round, for every source polled:

1. **removals waiting** (an item left its listing the way a removal does): the article
   page confirms it. A 404 or 410, or a redirect to a page that is not an article, is a
   `removed` event whose detail says so; a page still there is a `dropped` event
   (recorded, told only to channels that ask for it). An article page that cannot be
   fetched `REMOVAL_TRIES` times leaves the removal as the listing saw it;
2. **new items** (never read; the baseline's come after the new ones, spread over rounds):
   the first reading is recorded, never alerted;
3. **rechecks due** (paywalled articles, see `next_wait`): a reading whose paywall flipped
   is a `changed` event ("now free", "now paywalled"), whether or not the teaser changed.

Every fetch goes through the shared `Fetcher` (the per-host limits and Retry-After of
the listing polls), conditionally (ETag, Last-Modified), one at a time per host and at
most `article_budget` per host and round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from monitor.extract.article import ArticleReading, ArticleRule, read_article
from monitor.extract.urls import canonical_url
from monitor.models import Change, Event, FetchError, Item, Settings, Source
from monitor.pipeline.fetch import Fetcher
from monitor.pipeline.store import ArticleRow, OutboxRow, Store

log = logging.getLogger(__name__)

Router = Callable[[Sequence[Event]], list[OutboxRow]]

# What counts as gone: the article's URL answers this.
GONE_STATUSES = frozenset({404, 410})
# A removal whose article page could not be fetched this many times is told as the
# listing saw it.
REMOVAL_TRIES = 3
# The order in which a round spends each host's budget.
WORK_ORDER = ("removal", "new", "recheck")


@dataclass(frozen=True)
class ArticleTask:
    """One article page to fetch: why (`kind`: removal, new or recheck) and for whom."""

    kind: str
    source: Source
    row: ArticleRow

    @property
    def host(self) -> str:
        return (urlsplit(self.row.item.url).hostname or "").lower()


@dataclass(frozen=True)
class ArticleRoundReport:
    """What an article round did: fetches per host, and the events it recorded."""

    fetches: dict[str, int]
    events: tuple[Event, ...]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def article_rule(source: Source) -> ArticleRule:
    return ArticleRule(source.article_paywall_selector, source.article_paywall_text)


def hold_removals(events: Sequence[Event]) -> tuple[list[Event], list[str]]:
    """A listing poll's events without its removals, and the removed items' keys: for a
    source with `articles`, the article page decides what a removal was."""
    kept = [e for e in events if e.kind != "removed" or e.item is None]
    removed = [e.item.key for e in events if e.kind == "removed" and e.item is not None]
    return kept, removed


def plan_round(
    work: Sequence[tuple[Source, dict[str, list[ArticleRow]]]], budget: int
) -> list[ArticleTask]:
    """The fetches of a round: removals first, then new items, then rechecks, and no
    more than `budget` to one host."""
    spent: dict[str, int] = {}
    tasks: list[ArticleTask] = []
    for kind in WORK_ORDER:
        for source, found in work:
            for row in found.get(kind, ()):
                task = ArticleTask(kind, source, row)
                if not row.item.url.startswith(("http://", "https://")):
                    continue
                if spent.get(task.host, 0) >= budget:
                    continue
                spent[task.host] = spent.get(task.host, 0) + 1
                tasks.append(task)
    return tasks


async def article_round(
    settings: Settings,
    sources: Sequence[Source],
    store: Store,
    fetcher: Fetcher,
    route: Router,
    *,
    now: Callable[[], datetime] = utc_now,
) -> ArticleRoundReport:
    """Read the article pages due for `sources` (those with `articles`), at most
    `settings.article_budget` per host; each host's fetches one after another."""
    chosen = [s for s in sources if s.articles]
    if not chosen:
        return ArticleRoundReport({}, ())
    budget = settings.article_budget
    stamp = iso(now())
    work = [
        (source, await store.run(store.article_work, source.name, stamp, budget))
        for source in chosen
    ]
    tasks = plan_round(work, budget)
    by_host: dict[str, list[ArticleTask]] = {}
    for task in tasks:
        by_host.setdefault(task.host, []).append(task)

    async def host_worker(queue: list[ArticleTask]) -> list[Event]:
        events: list[Event] = []
        for task in queue:
            try:
                events += await _read_one(task, settings, store, fetcher, route, now)
            except Exception:  # one article's fault is never the round's end
                log.warning("%s: reading %s failed", task.source.name, task.row.item.url)
                log.debug("article read raised", exc_info=True)
        return events

    found = await asyncio.gather(*(host_worker(q) for q in by_host.values()))
    events = tuple(e for group in found for e in group)
    return ArticleRoundReport({h: len(q) for h, q in by_host.items()}, events)


async def _read_one(
    task: ArticleTask,
    settings: Settings,
    store: Store,
    fetcher: Fetcher,
    route: Router,
    now: Callable[[], datetime],
) -> list[Event]:
    row, source = task.row, task.source
    if task.kind == "removal" and row.position is not None:
        # Listed again before the article was checked: nothing was removed.
        await store.run(store.record_article, source.name, row.item.key, {"removal": None})
        return []
    reading = row.reading
    conditional = row.read and task.kind != "removal"
    try:
        result = await fetcher.fetch(
            row.item.url,
            etag=reading.get("etag") if conditional else None,
            last_modified=reading.get("last_modified") if conditional else None,
            headers=source.headers,
            cookies=source.cookies,
        )
    except FetchError as exc:
        at = now()
        await store.run(store.record_fetch, source.name, iso(at), "article", exc.status, 0)
        return await _fetch_failed(task, settings, store, route, at, exc)
    at = now()
    size = len(result.body or b"")
    await store.run(store.record_fetch, source.name, iso(at), "article", result.status, size)
    fields: dict[str, Any] = {
        "url": row.item.url,
        "last_status": result.status,
        "last_error": None,
        "failures": 0,
        "etag": result.etag,
        "last_modified": result.last_modified,
    }
    if result.not_modified:
        fresh = None
    else:
        content_type = result.header("content-type")
        rule = article_rule(source)
        fresh = await asyncio.to_thread(
            read_article, result.body or b"", result.url, content_type, rule
        )
    moved = _moved(row.item.url, result.url)
    if task.kind == "removal":
        return await _settle_removal(task, store, route, at, fields, fresh, moved, result.status)
    events: list[Event] = []
    if fresh is not None:
        fields.update(_reading_fields(fresh))
        events = _flip(source.name, row, fresh, iso(at))
    paywalled = fields.get("paywalled", reading.get("paywalled"))
    fields["teaser_paywalled"] = int(row.item.paywalled)
    fields["first_read"] = reading.get("first_read") or iso(at)
    fields["last_read"] = iso(at)
    fields.update(_next_check(settings, row, paywalled, at, failed=False))
    await store.run(
        store.record_article, source.name, row.item.key, fields, events, route(events), iso(at)
    )
    return events


async def _fetch_failed(
    task: ArticleTask,
    settings: Settings,
    store: Store,
    route: Router,
    at: datetime,
    exc: FetchError,
) -> list[Event]:
    row, source = task.row, task.source
    fields: dict[str, Any] = {
        "url": row.item.url,
        "last_status": exc.status,
        "last_error": str(exc),
        "failures": int(row.reading.get("failures", 0)) + 1,
    }
    events: list[Event] = []
    if task.kind == "removal":
        if exc.status in GONE_STATUSES:
            detail = f"the article page answers HTTP {exc.status}" + (
                " (gone)" if exc.status == 410 else " (not found)"
            )
            events = [_event("removed", source.name, row.item, at, detail)]
        elif fields["failures"] >= REMOVAL_TRIES:
            detail = f"gone from the listing; the article page could not be checked: {exc}"
            events = [_event("removed", source.name, row.item, at, detail)]
        if events:
            fields.update(removal=None, next_check=None, failures=0)
    else:
        if exc.status in GONE_STATUSES:
            fields["next_check"] = None  # nothing left to recheck
        else:
            paywalled = row.reading.get("paywalled")
            fields.update(_next_check(settings, row, paywalled, at, failed=True))
        fields["first_read"] = row.reading.get("first_read") or iso(at)
        fields["last_read"] = row.reading.get("last_read")
    await store.run(
        store.record_article, source.name, row.item.key, fields, events, route(events), iso(at)
    )
    return events


async def _settle_removal(
    task: ArticleTask,
    store: Store,
    route: Router,
    at: datetime,
    fields: dict[str, Any],
    fresh: ArticleReading | None,
    moved: str | None,
    status: int,
) -> list[Event]:
    row, source = task.row, task.source
    if moved and fresh is not None and not fresh.is_article:
        detail = f"the article page redirects to {moved}, which is not an article"
        kind = "removed"
    else:
        where = f" (redirected to {moved})" if moved else ""
        detail = f"the article page is still there{where}, HTTP {status}"
        kind = "dropped"
    events = [_event(kind, source.name, row.item, at, detail)]
    if fresh is not None and fresh.is_article:
        fields.update(_reading_fields(fresh))
    fields.update(removal=None, next_check=None, last_read=iso(at))
    fields["first_read"] = row.reading.get("first_read") or iso(at)
    await store.run(
        store.record_article, source.name, row.item.key, fields, events, route(events), iso(at)
    )
    return events


def _event(kind: str, source: str, item: Item, at: datetime, detail: str) -> Event:
    return Event(kind=kind, source=source, at=iso(at), item=item, detail=detail)  # type: ignore[arg-type]


def _moved(asked: str, final: str) -> str | None:
    """The URL a request ended at, when redirects took it elsewhere."""
    if canonical_url(final, final) == canonical_url(asked, asked):
        return None
    return final


def _reading_fields(reading: ArticleReading) -> dict[str, Any]:
    return {
        "paywalled": None if reading.paywalled is None else int(reading.paywalled),
        "paywall_signal": reading.paywall_signal,
        "content_tier": reading.content_tier,
        "published": reading.published,
        "modified": reading.modified,
        "author": reading.author,
        "canonical": reading.canonical,
        "title": reading.title,
    }


def _flip(source: str, row: ArticleRow, fresh: ArticleReading, at: str) -> list[Event]:
    """A `changed` event when the article's paywall flipped since its last reading, unless
    the teaser flipped the same way meanwhile (the listing's poll told that already)."""
    before = row.reading.get("paywalled")
    after = fresh.paywalled
    if before is None or after is None or bool(before) == after:
        return []
    teaser_then = row.reading.get("teaser_paywalled")
    if teaser_then is not None and bool(teaser_then) != after and row.item.paywalled == after:
        return []
    item = Item(
        key=row.item.key,
        url=row.item.url,
        title=row.item.title,
        section=row.item.section,
        published=row.item.published,
        paywalled=after,
    )
    detail = f"the article page says so: {fresh.paywall_signal}"
    change = Change("paywalled", bool(before), after)
    return [
        Event(kind="changed", source=source, at=at, item=item, changes=(change,), detail=detail)
    ]


def next_wait(settings: Settings, last_wait: float | None, failed: bool) -> float:
    """Seconds to the next recheck: `article_recheck` first, then each wait
    `article_recheck_backoff` times the last; a failed fetch waits twice as long."""
    if last_wait is None:
        return settings.article_recheck
    factor = 2.0 if failed else settings.article_recheck_backoff
    return last_wait * factor


def _next_check(
    settings: Settings, row: ArticleRow, paywalled: object, at: datetime, *, failed: bool
) -> dict[str, Any]:
    """When a paywalled article is looked at again, within `article_recheck_for` of its
    first reading; free and unknown ones are not rechecked (a teaser's mark counts when
    the page says nothing)."""
    locked = bool(paywalled) if paywalled is not None else row.item.paywalled
    first = row.reading.get("first_read")
    started = datetime.fromisoformat(first) if first else at
    if not locked:
        return {"next_check": None, "recheck_wait": None}
    wait = next_wait(settings, row.reading.get("recheck_wait"), failed)
    due = at + timedelta(seconds=wait)
    if due > started + timedelta(seconds=settings.article_recheck_for):
        return {"next_check": None, "recheck_wait": wait}
    return {"next_check": iso(due), "recheck_wait": wait}


async def read_article_at(
    url: str, fetcher: Fetcher, rule: ArticleRule | None = None
) -> ArticleReading:
    """One article page fetched and read, no state touched (`monitor article`). Raises
    FetchError."""
    result = await fetcher.fetch(url)
    return await asyncio.to_thread(
        read_article, result.body or b"", result.url, result.header("content-type"), rule
    )
