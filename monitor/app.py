"""The application: one `Monitor` object that every face (the CLI, the daemon, the demo, the
benchmark, a user's own script) drives.

A `Monitor` owns the settings, the database (`Store`), the fetcher, the parse pool and the
router, and offers what the commands do: poll some or all sources once (`check`), deliver
the outbox (`deliver`), list items and events (`items`, `events`), read the status
(`status`), preview a rule (`preview`) and propose rules (`discover`).

Each of these has a synchronous form for scripts and an `..._async` form for code that runs
inside an event loop. The async forms reach SQLite only through `await store.run(...)`, so
a write lock held by another process delays that call, never the loop.

This module imports no heavy library at import time (httpx, apprise, apscheduler, pydantic
and sqlite-utils are imported where they are used), so `from monitor import Monitor` is
cheap.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.models import Event, MonitorError, Settings, Source

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from monitor.alerts.notify import DeliveryReport, ProbeResult
    from monitor.alerts.outbox import OutboxEntry
    from monitor.extract.article import ArticleReading
    from monitor.extract.discover import Proposal
    from monitor.pipeline.check import CheckOutcome, Router
    from monitor.pipeline.confirm import ArticleCheck
    from monitor.pipeline.fetch import Fetcher, FetchSettings
    from monitor.pipeline.preview import PreviewResult
    from monitor.pipeline.stats import Stats
    from monitor.pipeline.status import Status
    from monitor.pipeline.store import Store

log = logging.getLogger("monitor")

T = TypeVar("T")
LoadSettings = Callable[[str], Settings]
OnLoad = Callable[[Settings], None]

# Threads that parse fetched pages while the monitor polls on a schedule (`start_polling`).
PARSE_THREADS = 2


class UnknownSourceError(MonitorError, LookupError):
    """A source name that the config does not define."""


class RuleOptionError(MonitorError, ValueError):
    """A rule option given for a preview (`option`: item, title, id_pattern, profile, ...)
    that cannot work; `reason` says why."""

    def __init__(self, option: str, reason: str) -> None:
        self.option = option
        self.reason = reason
        super().__init__(f"{option}: {reason}")


@dataclass(frozen=True)
class ListedItem:
    """An item as the database knows it, as `monitor items` lists it."""

    source: str
    key: str
    url: str
    title: str
    section: str | None
    published: str | None
    paywalled: bool
    first_seen: str
    last_seen: str
    # Whether the source's last successful poll still listed it.
    listed: bool

    def to_json(self) -> dict[str, object]:
        """Exactly what `monitor items --json` prints for this item."""
        return {
            "source": self.source,
            "key": self.key,
            "url": self.url,
            "title": self.title,
            "section": self.section,
            "published": self.published,
            "paywalled": self.paywalled,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "listed": self.listed,
        }


@dataclass(frozen=True)
class Discovery:
    """Rules proposed for a listing page, best first, and the URL its links resolve to."""

    base_url: str
    proposals: tuple[Proposal, ...]
    # The best proposal's paywall mark held against a few of its article pages (a URL
    # only, and only when asked); None when not checked.
    articles: ArticleCheck | None = None


# -- wiring -----------------------------------------------------------------------------------


def config_path(config: str | os.PathLike[str] | None = None) -> str:
    """The config file: `config` when given, else $MONITOR_CONFIG, else
    ./config/monitor.toml."""
    if config:
        return os.fspath(config)
    from monitor.config.settings import default_config_path

    return str(default_config_path())


def fetch_settings(settings: Settings) -> FetchSettings:
    """The HTTP side of the settings."""
    from monitor.pipeline.fetch import FetchSettings

    return FetchSettings(
        user_agent=settings.user_agent,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        total_timeout=settings.total_timeout,
        max_bytes=settings.max_bytes,
        per_host_concurrency=settings.per_host_concurrency,
        per_host_delay=settings.per_host_delay,
        proxy=settings.proxy,
        max_retry_after=settings.max_retry_after,
    )


def make_router(settings: Settings) -> Router:
    """Routes events to the channels whose filters they pass (see monitor.alerts.route)."""
    from monitor.alerts.notify import route_events

    return route_events(settings)


def parse_since(value: str | None) -> str | None:
    """'2h', '1d' (ago) or an ISO date/time, as the ISO UTC text the database stores.
    Raises ValueError for anything else."""
    if not value:
        return None
    from datetime import UTC, datetime, timedelta

    from monitor.config.settings import parse_interval

    try:
        seconds = parse_interval(value) if value[-1] in "smhd" else None
    except ValueError:
        seconds = None
    if seconds is not None:
        return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="seconds")
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds")


def select_sources(settings: Settings, names: Sequence[str] | None) -> list[Source]:
    """The sources named (all when none is). Raises UnknownSourceError."""
    if not names:
        return list(settings.sources)
    chosen: list[Source] = []
    for name in names:
        source = settings.source(name)
        if source is None:
            known = ", ".join(s.name for s in settings.sources) or "none"
            raise UnknownSourceError(f"no source named {name!r} (configured: {known})")
        chosen.append(source)
    return chosen


async def run_checks(
    settings: Settings,
    sources: Sequence[Source],
    store: Store,
    *,
    router: Router | None = None,
    fetcher: Fetcher | None = None,
) -> list[CheckOutcome]:
    """One round: poll the sources concurrently, at most `settings.concurrency` at once;
    with many sources, bodies are parsed in worker processes (see monitor.pipeline.pool).
    One outcome per source, in the order given. `fetcher`: one the caller keeps open
    (for the article round after it); else the round's own."""
    from contextlib import nullcontext

    from monitor.pipeline.check import check_source
    from monitor.pipeline.fetch import Fetcher
    from monitor.pipeline.pool import parse_workers, start_pool
    from monitor.pipeline.stats import FetchRow, metered, record_fetches

    route = router if router is not None else make_router(settings)
    outcomes: list[Any] = [None] * len(sources)
    # `concurrency` long-lived workers take the next source in turn: cheaper than a task
    # per source queued on a semaphore (a tenth of the CPU time of a round of 304s).
    todo = iter(enumerate(sources))
    fetched: list[FetchRow] = []  # the round's requests, recorded at its end for `stats`
    # The pool forks its workers before this round starts any thread.
    pool = await start_pool(parse_workers(settings.parse_workers, sources, os.cpu_count()), sources)
    try:
        kept = nullcontext(fetcher) if fetcher is not None else None
        async with kept or Fetcher(fetch_settings(settings)) as shared:

            async def worker() -> None:
                for index, source in todo:
                    async with metered(shared, source, store, fetched) as counted:
                        outcomes[index] = await check_source(
                            source,
                            fetcher=counted,
                            store=store,
                            route=route,
                            failure_threshold=settings.failure_threshold,
                            executor=pool,
                            config_path=settings.config_path,
                        )

            workers = min(settings.concurrency, len(sources))
            try:
                await asyncio.gather(*(worker() for _ in range(workers)))
            finally:
                await record_fetches(store, fetched)
            return outcomes
    finally:
        if pool is not None:
            await pool.aclose()


def _run(make: Callable[[], Coroutine[Any, Any, T]], name: str) -> T:
    """Run a coroutine for a synchronous caller; inside an event loop, say which to await."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    raise RuntimeError(f"Monitor.{name}() inside an event loop: use `await {name}_async()`")


# -- the application --------------------------------------------------------------------------


class Monitor:
    """The monitor: settings, database, fetcher, parse pool and router, and what the
    commands do with them.

    Open one with `Monitor.open(config)` and use it as a context manager (``with`` or
    ``async with``): it closes what it opened, also on error::

        with Monitor.open("config/monitor.toml") as m:
            for outcome in m.check():
                print(outcome.source, outcome.status, len(outcome.events))

    `Monitor(settings, store)` wraps settings built in code and, optionally, a store that
    the caller keeps and closes.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        *,
        load_settings: LoadSettings | None = None,
        on_load: OnLoad | None = None,
    ) -> None:
        self.settings = settings
        self._store = store
        self._owns_store = store is None
        self._load_settings = load_settings
        self._on_load = on_load
        self._router: Router | None = None
        self._router_for: Settings | None = None
        # While polling on a schedule (start_polling): one fetcher, parse threads, and the
        # fetchers replaced by a reload that still serve polls in flight.
        self.fetcher: Fetcher | None = None
        self._parser: Executor | None = None
        self._users: dict[int, int] = {}
        self._retired: list[Fetcher] = []
        self.closed = False

    @classmethod
    def open(
        cls,
        config: str | os.PathLike[str] | None = None,
        *,
        on_load: OnLoad | None = None,
    ) -> Monitor:
        """The monitor of a config file: `config`, else $MONITOR_CONFIG, else
        ./config/monitor.toml (as the command line finds it). Raises ConfigError.

        `on_load` is called with the settings each time the file is read (at once, and on
        every `reload_settings`). The database is opened on first use."""
        from monitor.config.settings import load_settings

        path = config_path(config)
        settings = load_settings(path)
        if on_load is not None:
            on_load(settings)
        return cls(settings, load_settings=load_settings, on_load=on_load)

    # -- resources --------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The database, opened on first use. Raises StoreError."""
        if self.closed:
            raise MonitorError("this Monitor is closed")
        if self._store is None:
            from monitor.pipeline.store import Store

            self._store = Store.open(self.settings.database)
        return self._store

    @property
    def router(self) -> Router:
        """Routes events to the channels that want them (follows `settings`)."""
        if self._router is None or self._router_for is not self.settings:
            self._router = make_router(self.settings)
            self._router_for = self.settings
        return self._router

    def close(self) -> None:
        """Close the database if this monitor opened it. Idempotent."""
        self.closed = True
        store, self._store = self._store, None
        if store is not None and self._owns_store:
            store.close()

    async def aclose(self) -> None:
        """Stop polling (see `start_polling`) and close the database if this monitor opened
        it, without blocking the event loop."""
        try:
            await self.stop_polling()
        finally:
            self.closed = True
            store, self._store = self._store, None
            if store is not None and self._owns_store:
                await asyncio.to_thread(store.close)

    def __enter__(self) -> Monitor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Monitor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A store call from async code, on the database's own thread."""
        store = self.store
        return await store.run(fn, *args, **kwargs)

    # -- settings ---------------------------------------------------------------------------

    def reload_settings(self) -> Settings:
        """Read the config file again and return the new settings (not applied; see
        `use_settings`). Raises ConfigError."""
        if self._load_settings is None:
            from monitor.config.settings import load_settings

            self._load_settings = load_settings
        new = self._load_settings(self.settings.config_path)
        if self._on_load is not None:
            self._on_load(new)
        return new

    def use_settings(self, new: Settings) -> bool:
        """Move to `new` settings (the database stays). Returns whether the fetcher was
        replaced (HTTP settings changed); the old one closes once its polls are done."""
        old, self.settings = self.settings, new
        if self.fetcher is None or fetch_settings(new) == fetch_settings(old):
            return False
        from monitor.pipeline.fetch import Fetcher

        self._retired.append(self.fetcher)
        self.fetcher = Fetcher(fetch_settings(new))
        return True

    # -- polling ----------------------------------------------------------------------------

    async def check_async(
        self,
        sources: Sequence[str] | None = None,
        *,
        notify: bool = True,
        on_delivery: Callable[[DeliveryReport], None] | None = None,
    ) -> list[CheckOutcome]:
        """Poll the named sources (all when none) once, record what changed, and, when
        `notify`, deliver the alerts due (`on_delivery` sees each report). Then the
        article round of the sources with `articles` (see monitor.pipeline.articles),
        after the listing's alerts are out, and its own alerts. One outcome per source
        (`source`, `status`, `events`, `error`), then one per source whose article pages
        said something (status "articles"). Raises UnknownSourceError for a name the
        config lacks."""
        from monitor.pipeline.fetch import Fetcher

        chosen = select_sources(self.settings, sources)
        async with Fetcher(fetch_settings(self.settings)) as fetcher:
            outcomes = await run_checks(
                self.settings, chosen, self.store, router=self.router, fetcher=fetcher
            )
            if notify:
                report = await self.deliver_async()
                if on_delivery is not None:
                    on_delivery(report)
            read = await self._articles(chosen, fetcher)
        if notify and read:
            report = await self.deliver_async()
            if on_delivery is not None:
                on_delivery(report)
        return outcomes + read

    def check(
        self,
        sources: Sequence[str] | None = None,
        *,
        notify: bool = True,
        on_delivery: Callable[[DeliveryReport], None] | None = None,
    ) -> list[CheckOutcome]:
        """`check_async` for synchronous code. The event loop it makes serves this round
        alone, so the store is called on it directly (see Store.calls_inline)."""
        with self.store.calls_inline():
            return _run(
                lambda: self.check_async(sources, notify=notify, on_delivery=on_delivery),
                "check",
            )

    async def _articles(self, sources: Sequence[Source], fetcher: Fetcher) -> list[CheckOutcome]:
        """The article round of `sources`; an outcome per source it recorded events for."""
        from monitor.pipeline.articles import article_round
        from monitor.pipeline.check import CheckOutcome

        if not any(s.articles for s in sources):
            return []
        report = await article_round(self.settings, sources, self.store, fetcher, self.router)
        by_source: dict[str, list[Event]] = {}
        for event in report.events:
            by_source.setdefault(event.source, []).append(event)
        return [CheckOutcome(name, "articles", tuple(events)) for name, events in by_source.items()]

    async def article_async(self, url: str, source: str | None = None) -> ArticleReading:
        """What the article page at `url` says (paywall and its signal, content tier,
        dates, author, canonical URL, headline), touching no state; read with the
        article rule of the configured `source` when named. Raises FetchError,
        UnknownSourceError."""
        from monitor.pipeline.articles import article_rule, read_article_at
        from monitor.pipeline.fetch import Fetcher

        rule = article_rule(select_sources(self.settings, [source])[0]) if source else None
        async with Fetcher(fetch_settings(self.settings)) as fetcher:
            return await read_article_at(url, fetcher, rule)

    def article(self, url: str, source: str | None = None) -> ArticleReading:
        """`article_async` for synchronous code."""
        return _run(lambda: self.article_async(url, source), "article")

    def stats(self, since: str | None = "7d") -> Stats:
        """Per source and channel: median and 95th percentile of published→seen and
        seen→delivered, polls and bytes, over the window since `since` (as `items`)."""
        from monitor.pipeline.stats import read_stats

        return read_stats(self.store, parse_since(since))

    async def start_polling(self, parse_threads: int = PARSE_THREADS) -> None:
        """Keep a fetcher and parse threads for `poll_async` (the daemon polls this way)."""
        from concurrent.futures import ThreadPoolExecutor

        from monitor.pipeline.fetch import Fetcher

        if self.fetcher is None:
            self.fetcher = Fetcher(fetch_settings(self.settings))
        if self._parser is None:
            # Pages are parsed off the event loop, so a big one never stalls the other
            # polls, the sender or the watchdog (lexbor releases the GIL while it parses).
            self._parser = ThreadPoolExecutor(parse_threads, thread_name_prefix="parse")

    async def poll_async(
        self, source: Source, *, now: Callable[[], str] | None = None
    ) -> CheckOutcome:
        """One poll of one source with the fetcher of `start_polling`. `now`: the clock
        that stamps what the poll records (ISO UTC text; default: the real one)."""
        from monitor.pipeline.check import check_source

        if self.fetcher is None:
            await self.start_polling()
        fetcher = self.fetcher
        assert fetcher is not None
        self._users[id(fetcher)] = self._users.get(id(fetcher), 0) + 1
        try:
            return await check_source(
                source,
                fetcher=fetcher,
                store=self.store,
                route=self.router,
                failure_threshold=self.settings.failure_threshold,
                executor=self._parser,
                config_path=self.settings.config_path,
                **({"now": now} if now is not None else {}),
            )
        finally:
            self._users[id(fetcher)] -= 1
            if not self._users[id(fetcher)]:
                del self._users[id(fetcher)]
            await self._close_retired()

    async def after_poll_async(
        self, source: Source, outcome: CheckOutcome, wake: Callable[[], None] | None = None
    ) -> list[Event]:
        """What follows a scheduled poll of `source` (the daemon calls it once the sender
        was woken for the poll's alerts): the article round of a source with `articles`
        (`wake` is called when it recorded alerts), and, when the poll found new items,
        one log line with the latency figures of the last day (see `stats`)."""
        events: list[Event] = []
        if source.articles and self.fetcher is not None:
            from monitor.pipeline.articles import article_round

            await asyncio.sleep(0)  # the sender starts on the listing's alerts first
            report = await article_round(
                self.settings, [source], self.store, self.fetcher, self.router
            )
            events = list(report.events)
            if events and wake is not None:
                wake()
        if any(e.kind == "new" for e in outcome.events):
            figures = await self._db(self.stats, "1d")
            log.info("latency (1 day): %s", figures.summary())
        return events

    def host_wait(self, url: str) -> float:
        """Seconds until the URL's host may be asked again (Retry-After); 0 when it may."""
        if self.fetcher is None:
            return 0.0
        import time

        return max(0.0, self.fetcher.host_not_before(url) - time.monotonic())

    async def _close_retired(self, force: bool = False) -> None:
        for fetcher in list(self._retired):
            if force or id(fetcher) not in self._users:
                self._retired.remove(fetcher)
                await fetcher.aclose()

    async def stop_polling(self) -> None:
        """Close what `start_polling` opened, and the fetchers a reload replaced."""
        fetcher, self.fetcher = self.fetcher, None
        parser, self._parser = self._parser, None
        try:
            await self._close_retired(force=True)
            if fetcher is not None:
                await fetcher.aclose()
        finally:
            if parser is not None:
                parser.shutdown(wait=False, cancel_futures=True)

    # -- alerts -----------------------------------------------------------------------------

    async def deliver_async(self, *, force: bool = False) -> DeliveryReport:
        """Send what the outbox holds now; alerts a channel does not take wait for a retry.
        `force` ignores the retry backoff (not quiet hours, digests or rate limits)."""
        from monitor.alerts.notify import deliver_due

        return await deliver_due(self.settings, self.store, force=force)

    def deliver(self, *, force: bool = False) -> DeliveryReport:
        """`deliver_async` for synchronous code."""
        return _run(lambda: self.deliver_async(force=force), "deliver")

    async def outbox_async(self) -> list[OutboxEntry]:
        """Alerts not delivered yet: pending (waiting, held or retrying) and failed."""
        from monitor.alerts.outbox import unsent

        return await self._db(unsent, self.store)

    def outbox(self) -> list[OutboxEntry]:
        """`outbox_async` for synchronous code."""
        return _run(self.outbox_async, "outbox")

    async def retry_async(self) -> tuple[int, DeliveryReport]:
        """Send pending and failed alerts now (failed ones get a fresh deadline); returns
        how many were queued again and the delivery report."""
        from datetime import UTC, datetime

        from monitor.alerts.outbox import retry

        queued = await self._db(retry, self.store, datetime.now(UTC))
        return queued, await self.deliver_async(force=True)

    def retry(self) -> tuple[int, DeliveryReport]:
        """`retry_async` for synchronous code."""
        return _run(self.retry_async, "retry")

    async def test_channels_async(self, channel: str | None = None) -> list[ProbeResult]:
        """Send a sample alert to every URL of `channel` (all channels when None); the
        outbox is not touched."""
        from monitor.alerts.notify import send_test

        return await send_test(self.settings, channel)

    def test_channels(self, channel: str | None = None) -> list[ProbeResult]:
        """`test_channels_async` for synchronous code."""
        return _run(lambda: self.test_channels_async(channel), "test_channels")

    # -- queries ----------------------------------------------------------------------------

    async def items_async(
        self,
        *,
        source: str | None = None,
        paywalled: bool | None = None,
        since: str | None = None,
        grep: str | None = None,
        limit: int | None = None,
    ) -> list[ListedItem]:
        """Items the database knows, newest first; filters as `monitor items` (`since`:
        first seen at or after an ISO date/time or a duration ago such as '2h'; a bad one
        raises ValueError)."""
        store = self.store
        rows = await self._db(
            store.query_items,
            source=source,
            paywalled=paywalled,
            since=parse_since(since),
            grep=grep,
            limit=limit,
        )
        return [ListedItem(**row) for row in rows]

    def items(
        self,
        *,
        source: str | None = None,
        paywalled: bool | None = None,
        since: str | None = None,
        grep: str | None = None,
        limit: int | None = None,
    ) -> list[ListedItem]:
        """`items_async` for synchronous code."""
        return _run(
            lambda: self.items_async(
                source=source, paywalled=paywalled, since=since, grep=grep, limit=limit
            ),
            "items",
        )

    async def events_async(
        self,
        *,
        source: str | None = None,
        kind: str | None = None,
        since: str | None = None,
        grep: str | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Recorded events, oldest first (`limit`: the last N); filters as `monitor
        events` (`since` as for `items`)."""
        store = self.store
        return await self._db(
            store.query_events,
            source=source,
            kind=kind,
            since=parse_since(since),
            grep=grep,
            limit=limit,
        )

    def events(
        self,
        *,
        source: str | None = None,
        kind: str | None = None,
        since: str | None = None,
        grep: str | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """`events_async` for synchronous code."""
        return _run(
            lambda: self.events_async(
                source=source, kind=kind, since=since, grep=grep, limit=limit
            ),
            "events",
        )

    def daemon_pid(self) -> int | None:
        """The pid of the daemon running on this database, or None."""
        from monitor.daemon.runner import pid_path, running_pid

        try:
            return running_pid(pid_path(self.settings.database))
        except PermissionError:
            return None

    def status(self) -> Status:
        """Each source's last poll, errors, items and next run, and the alert backlog.
        Reads the database through its own read-only connection. Raises StoreError."""
        from monitor.pipeline.status import read_status

        return read_status(self.settings, self.daemon_pid())

    async def status_async(self) -> Status:
        """`status` off the event loop."""
        return await asyncio.to_thread(self.status)

    # -- rules ------------------------------------------------------------------------------

    async def preview_async(self, source: Source) -> PreviewResult:
        """What `source`'s rule extracts from its page now, touching no state (kind
        "auto" guesses feed or page). Raises FetchError, ExtractError."""
        from monitor.pipeline.preview import preview_source

        return await preview_source(source, fetch_settings(self.settings))

    def preview(self, source: Source | str) -> PreviewResult:
        """`preview_async` for synchronous code; a str names a configured source."""
        chosen = select_sources(self.settings, [source])[0] if isinstance(source, str) else source
        return _run(lambda: self.preview_async(chosen), "preview")

    async def discover_async(self, url: str, *, limit: int = 3, articles: bool = True) -> Discovery:
        """Rules proposed for the listing page at `url`, the best one's paywall mark
        checked against a few article pages unless `articles` is False. Raises
        FetchError."""
        return await discover_url(url, self.settings, limit=limit, articles=articles)

    def discover(self, url: str, *, limit: int = 3, articles: bool = True) -> Discovery:
        """`discover_async` for synchronous code."""
        return _run(lambda: self.discover_async(url, limit=limit, articles=articles), "discover")


def propose_rules(
    body: bytes, base_url: str, content_type: str | None = None, *, limit: int = 3
) -> Discovery:
    """Rules proposed for a page's bytes (a saved file, or one just fetched)."""
    from monitor.extract.discover import discover

    return Discovery(base_url, tuple(discover(body, base_url, content_type, limit=limit)))


def preview_target(
    target: str,
    settings: Settings | None,
    *,
    kind: str | None = None,
    profile: str | None = None,
    paywall_text: Sequence[str] = (),
    paywall_categories: Sequence[str] = (),
    **selectors: str | None,
) -> Source:
    """The source `monitor preview` looks at: a configured source (by name) or a URL, with
    a profile, a kind and rule options (item, title, link, section, date,
    paywall_selector, id_pattern) on top. Raises ConfigError for an unknown name,
    RuleOptionError for an option that cannot work (an unknown profile, a selector or
    pattern that does not compile)."""
    import dataclasses

    from pydantic import ValidationError

    from monitor.config.profiles import load_profile
    from monitor.config.settings import RuleModel, merge_rule, source_name_from_url
    from monitor.models import ConfigError, Rule

    base: Source | None = None
    if "://" not in target:
        base = settings.source(target) if settings is not None else None
        if base is None:
            file = settings.config_path if settings is not None else ""
            raise ConfigError(file, "sources", f"no source named {target!r}")
    rule = base.rule if base else Rule()
    chosen_kind: Any = kind or (base.kind if base else None)
    if profile:
        try:
            profile_kind, rule = load_profile(profile)
        except MonitorError as exc:
            raise RuleOptionError("profile", str(exc)) from None
        chosen_kind = chosen_kind or profile_kind
    categories = tuple(paywall_categories)
    rule_options: dict[str, Any] = {k: v for k, v in selectors.items() if v is not None}
    if paywall_text:
        rule_options["paywall_text"] = list(paywall_text)
    if rule_options:
        try:
            options = RuleModel.model_validate(rule_options)
        except ValidationError as exc:
            first = exc.errors()[0]
            option = str(first["loc"][0]) if first["loc"] else "rule"
            raise RuleOptionError(option, first["msg"].removeprefix("Value error, ")) from None
        rule = merge_rule(rule, options)
    if base is not None:
        categories = categories or base.paywall_categories
        return dataclasses.replace(
            base, rule=rule, kind=chosen_kind or base.kind, paywall_categories=categories
        )
    # kind "auto" lets preview guess from the response.
    return Source(
        name=source_name_from_url(target),
        url=target,
        kind=chosen_kind or "auto",  # type: ignore[arg-type]
        rule=rule,
        paywall_categories=categories,
    )


def preview_file(source: Source, body: bytes, base_url: str) -> PreviewResult:
    """What `source`'s rule extracts from a saved page or feed (`body`), its links resolved
    against `base_url`; nothing is fetched."""
    from monitor.pipeline.preview import preview_body

    return preview_body(source, body, base_url)


def settings_without_config() -> Settings:
    """The defaults, for commands that work without a config file (preview of a URL)."""
    return Settings(config_path="", database="", sources=())


async def discover_url(
    url: str, settings: Settings | None, *, limit: int = 3, articles: bool = True
) -> Discovery:
    """Rules proposed for the listing page at `url`, fetched with the HTTP settings of
    `settings` (the fetcher's own defaults when None). With `articles`, the best
    proposal's paywall mark is checked against a few of its article pages, through the
    same fetcher (its per-host limits count the listing's request too). Raises
    FetchError for the listing; an article page that fails is counted in the check."""
    import dataclasses

    from monitor.pipeline.confirm import check_listing
    from monitor.pipeline.fetch import Fetcher, FetchSettings
    from monitor.pipeline.look import look_at

    fetch = fetch_settings(settings) if settings is not None else FetchSettings()
    async with Fetcher(fetch) as fetcher:
        found = await look_at(url, fetch, fetcher)
        discovery = propose_rules(found.body, found.url, found.content_type, limit=limit)
        if not articles or found.kind != "html" or not discovery.proposals:
            return discovery
        check = await check_listing(found, discovery.proposals[0], fetcher)
    return dataclasses.replace(discovery, articles=check)


__all__ = [
    "Discovery",
    "ListedItem",
    "Monitor",
    "RuleOptionError",
    "UnknownSourceError",
    "config_path",
    "discover_url",
    "fetch_settings",
    "make_router",
    "parse_since",
    "preview_file",
    "preview_target",
    "propose_rules",
    "run_checks",
    "select_sources",
]
