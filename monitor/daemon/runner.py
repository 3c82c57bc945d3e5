"""`monitor run`: poll every source on its schedule until SIGTERM, and send the alerts.

One asyncio loop holds an APScheduler AsyncIOScheduler (one job per source, one run at a
time, missed runs coalesced) and the outbox sender; the polls, the deliveries and the
database go through the application's `Monitor` (its fetcher and parse threads while it
runs). SIGHUP re-reads the config (`Daemon.apply_settings`); SIGTERM/SIGINT finish the
polls in flight within a bound, flush the outbox once, and exit 0. systemd hears READY=1,
RELOADING=1, STOPPING=1 and WATCHDOG=1 over $NOTIFY_SOCKET.

The loop never waits on SQLite: every database call goes through `await store.run(...)`,
so a write lock held by another process delays that call, not the other polls, the sender
or the watchdog.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from monitor.daemon import sdnotify
from monitor.daemon.pacer import Pacer
from monitor.daemon.schedule import (
    SourcePlan,
    first_run,
    make_trigger,
    misfire_grace,
    next_run_after,
    period,
    plan_sources,
    spread_offset,
)
from monitor.daemon.watch import watch_config
from monitor.models import ConfigError, Settings, Source, StoreError

if TYPE_CHECKING:
    import uvicorn
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from monitor.app import Monitor
    from monitor.pipeline.check import CheckOutcome

log = logging.getLogger("monitor.daemon")

# In-flight polls get this long to finish on SIGTERM before they are cancelled.
SHUTDOWN_GRACE = 10.0
# The last outbox flush on SIGTERM gets this long.
FLUSH_TIMEOUT = 10.0
# The outbox sender looks for due alerts this often (and at once after a poll with events).
SEND_EVERY = 5.0
# Old events are dropped (keep_events) a minute after start, then every keep_events / 10,
# at least every minute and at most every hour.
PRUNE_JOB = "monitor:prune-events"


@dataclass(frozen=True)
class ReloadReport:
    """What `apply_settings` changed."""

    plan: SourcePlan
    fetcher_replaced: bool = False
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [self.plan.describe()]
        if self.fetcher_replaced:
            parts.append("new HTTP settings")
        parts.extend(self.notes)
        return "; ".join(parts)


class DaemonError(Exception):
    """The daemon cannot start (another one runs on the same database, ...)."""


class Daemon:
    """The long-running monitor. Build it on a `Monitor` (whose store is open), then
    `await run()`. `deliver=False` records alerts without sending them."""

    def __init__(
        self, monitor: Monitor, *, deliver: bool = True, pid_file: Path | None = None
    ) -> None:
        self.monitor = monitor
        self.deliver = deliver
        self.pid_file = pid_file
        self.scheduler: AsyncIOScheduler | None = None
        self.inflight: set[asyncio.Task[Any]] = set()
        self.stopping = False
        self._limit = asyncio.Semaphore(monitor.settings.concurrency)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._reloading: asyncio.Task[None] | None = None
        from monitor.web.metrics import PollStats

        # What the polls did, for the web view's /metrics.
        self.poll_stats = PollStats()
        # Requests per day, and adaptive sources' next polls (monitor.daemon.adaptive).
        self.pacer = Pacer(monitor)

    @property
    def settings(self) -> Settings:
        return self.monitor.settings

    # -- life cycle -------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until SIGTERM/SIGINT (or `stop()`); returns the exit status."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        lock: TextIO | None = None
        try:
            lock = acquire_pid_file(self.pid_file) if self.pid_file else None
            await self.monitor.start_polling()
            self.scheduler = AsyncIOScheduler(job_defaults={"max_instances": 1, "coalesce": True})
            self.scheduler.start()
            await self._schedule(self.settings.sources)
            self._schedule_pruning()
            sender = asyncio.create_task(self._sender_loop(), name="outbox-sender")
            watchdog = self._start_watchdog()
            # An edit of the config file is picked up as SIGHUP would.
            watcher = asyncio.create_task(
                watch_config(self.settings.config_path, self.request_reload), name="config-watch"
            )
            web = self._start_web()
            sdnotify.ready(self._status_line())
            log.info(
                "running: %d sources, %d channels, database %s",
                len(self.settings.sources),
                len(self.settings.channels),
                self.settings.database,
            )
            await self._stop.wait()
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            await self._shutdown(sender, watchdog)
            await self._stop_web(web)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            await self.monitor.stop_polling()
            if lock is not None and self.pid_file is not None:
                release_pid_file(self.pid_file, lock)
        log.info("stopped")
        return 0

    def stop(self, why: str = "stop") -> None:
        if not self._stop.is_set():
            log.info("%s received: shutting down", why)
        self._stop.set()

    def request_reload(self) -> None:
        """SIGHUP: re-read the config file (one reload at a time)."""
        if self.stopping or (self._reloading is not None and not self._reloading.done()):
            return
        self._reloading = asyncio.get_running_loop().create_task(self.reload())

    async def reload(self) -> None:
        """Re-read the config; apply it if valid, else log why and keep the running one."""
        sdnotify.reloading()
        path = self.settings.config_path
        try:
            new = self.monitor.reload_settings()
        except ConfigError as exc:
            log.error("config reload rejected, keeping the running config: %s", exc)
        except Exception:
            log.exception("config reload failed, keeping the running config")
        else:
            report = await self.apply_settings(self.settings, new)
            log.info("config reloaded from %s: %s", path, report.describe())
        finally:
            sdnotify.ready(self._status_line())

    async def apply_settings(self, old: Settings, new: Settings) -> ReloadReport:
        """Move the running daemon from `old` to `new`: added sources start, removed ones
        stop, changed schedules are replanned; state in the database is kept."""
        notes: list[str] = []
        if new.database != old.database:
            notes.append(f"database change ignored until restart (still {old.database})")
            new = replace(new, database=old.database)
        plan = plan_sources(old, new)
        fetcher_replaced = self.monitor.use_settings(new)
        if new.concurrency != old.concurrency:
            self._limit = asyncio.Semaphore(new.concurrency)
        if self.scheduler is not None:
            for name in plan.removed:
                await self._unschedule(name)
            await self._schedule(
                [s for s in new.sources if s.name in plan.rescheduled], spread=False
            )
            await self._schedule([s for s in new.sources if s.name in plan.added])
        return ReloadReport(plan=plan, fetcher_replaced=fetcher_replaced, notes=tuple(notes))

    async def _shutdown(self, sender: asyncio.Task[None], watchdog: asyncio.Task[None] | None):
        self.stopping = True
        sdnotify.stopping()
        if self.scheduler is not None:
            self.scheduler.pause()
        if self._reloading is not None:
            await asyncio.gather(self._reloading, return_exceptions=True)
        if self.inflight:
            log.info(
                "waiting up to %g s for %d polls in flight", SHUTDOWN_GRACE, len(self.inflight)
            )
            _done, late = await asyncio.wait(set(self.inflight), timeout=SHUTDOWN_GRACE)
            for task in late:
                task.cancel()
            if late:
                log.warning("%d polls cancelled at shutdown (they will run again)", len(late))
                await asyncio.gather(*late, return_exceptions=True)
        self._wake.set()
        _done, late = await asyncio.wait({sender}, timeout=FLUSH_TIMEOUT)
        for task in late:
            task.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        try:
            async with asyncio.timeout(FLUSH_TIMEOUT):
                await self._deliver_once()
        except TimeoutError:
            log.warning(
                "outbox flush timed out after %g s; the rest is sent next start", FLUSH_TIMEOUT
            )
        if watchdog is not None:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)

    # -- scheduling -------------------------------------------------------------------------

    async def _schedule(self, sources: Sequence[Source], spread: bool = True) -> None:
        assert self.scheduler is not None
        store = self.monitor.store
        tz = self.scheduler.timezone
        now = datetime.now(tz)
        for index, source in enumerate(sources):
            state = await store.run(store.source_state, source.name)
            every = period(source, now)
            offset = spread_offset(index, len(sources)) if spread else 0.0
            first = first_run(now, offset, state.last_poll, state.consecutive_errors, every)
            self.scheduler.add_job(
                self._poll,
                make_trigger(source, tz, start=first),
                args=[source.name],
                id=source.name,
                name=source.name,
                next_run_time=first,
                misfire_grace_time=misfire_grace(every),
                max_instances=1,
                coalesce=True,
                replace_existing=True,
            )
            await self._note_next_run(source.name, first)
            log.debug("%s: first poll at %s", source.name, first.isoformat(timespec="seconds"))

    def _schedule_pruning(self) -> None:
        assert self.scheduler is not None
        keep = self.settings.keep_events or 36000.0
        self.scheduler.add_job(
            self.prune_events,
            "interval",
            seconds=min(3600.0, max(60.0, keep / 10)),
            id=PRUNE_JOB,
            next_run_time=datetime.now(self.scheduler.timezone) + timedelta(seconds=60),
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )

    async def prune_events(self) -> int:
        """Drop events older than `keep_events` that owe no pending alert."""
        keep = self.settings.keep_events
        if keep is None or self.stopping:
            return 0
        before = (datetime.now(UTC) - timedelta(seconds=keep)).isoformat(timespec="seconds")
        store = self.monitor.store
        try:
            dropped = await store.run(store.prune_events, before)
        except StoreError as exc:
            log.warning("dropping old events failed (tried again later): %s", exc)
            return 0
        if dropped:
            log.info("dropped %d events recorded before %s (keep_events)", dropped, before)
        return dropped

    async def _unschedule(self, name: str) -> None:
        assert self.scheduler is not None
        if self.scheduler.get_job(name) is not None:
            self.scheduler.remove_job(name)
        await self._note_next_run(name, None)

    async def _poll(self, name: str) -> None:
        """One scheduled run of one source."""
        source = self.settings.source(name)
        if source is None or self.stopping or self.monitor.fetcher is None:
            return
        started = datetime.now(UTC)
        if self._host_free_at(source.url) is not None:
            # The host answered 429/503 with Retry-After (maybe to another source): wait
            # without counting a failure.
            await self._plan_next(source, started)
            return
        task = asyncio.current_task()
        if task is not None:
            self.inflight.add(task)
        outcome: CheckOutcome | None = None
        try:
            async with self._limit:
                if self.stopping:
                    return
                source = self.settings.source(name) or source
                began = asyncio.get_running_loop().time()
                outcome = await self.monitor.poll_async(source)
                self.poll_stats.record(outcome, asyncio.get_running_loop().time() - began)
        except Exception:
            log.exception("%s: poll crashed", name)
        finally:
            if task is not None:
                self.inflight.discard(task)
        if outcome is not None:
            _log_outcome(outcome)
            if outcome.events:
                self._wake.set()
            try:  # article pages and the latency line, after the listing's alerts
                await self.monitor.after_poll_async(source, outcome, self._wake.set)
            except Exception:
                log.exception("%s: reading article pages failed", name)
        adaptive = await self.pacer.after_poll(source, outcome)
        await self._plan_next(source, started, adaptive.at if adaptive else None)

    async def _plan_next(
        self, source: Source, started: datetime, adaptive_at: datetime | None = None
    ) -> None:
        """Postpone the next run of a failing source (backoff) or of a host that asked to
        wait (Retry-After), and record when it runs. `adaptive_at`: an adaptive source's
        next poll, in place of its trigger's."""
        if self.scheduler is None or self.stopping:
            return
        job = self.scheduler.get_job(source.name)
        if job is None:
            return
        store = self.monitor.store
        try:
            state = await store.run(store.source_state, source.name)
        except StoreError as exc:
            # The poll itself said so already; the trigger's next run stands.
            log.debug("%s: next run not planned: %s", source.name, exc)
            return
        job = self.scheduler.get_job(source.name) if self.scheduler is not None else None
        if job is None:
            return
        scheduled = job.next_run_time
        planned = adaptive_at if adaptive_at is not None and scheduled is not None else scheduled
        upcoming = next_run_after(
            started,
            planned,
            state.consecutive_errors,
            period(source, started),
            self._host_free_at(source.url),
        )
        if upcoming is not None and scheduled is not None and upcoming != scheduled:
            job.modify(next_run_time=upcoming)
        if upcoming is not None and planned is not None and upcoming > planned:
            wait = _seconds((upcoming - datetime.now(upcoming.tzinfo)).total_seconds())
            if state.consecutive_errors > 1:
                log.info(
                    "%s: %d failures in a row, next poll in %s",
                    source.name,
                    state.consecutive_errors,
                    wait,
                )
            else:
                log.info("%s: host asked to wait (Retry-After), next poll in %s", source.name, wait)
        await self._note_next_run(source.name, upcoming)

    def _host_free_at(self, url: str) -> datetime | None:
        wait = self.monitor.host_wait(url)
        return datetime.now(UTC) + timedelta(seconds=wait) if wait > 0 else None

    async def _note_next_run(self, name: str, when: datetime | None) -> None:
        text = when.astimezone(UTC).isoformat(timespec="seconds") if when else None
        store = self.monitor.store
        try:
            await store.run(store.set_next_run, name, text)
        except Exception:
            log.exception("%s: cannot record the next run time", name)

    # -- outbox and watchdog ----------------------------------------------------------------

    async def _sender_loop(self) -> None:
        while not self.stopping:
            await self._deliver_once()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SEND_EVERY):
                    await self._wake.wait()
            self._wake.clear()

    async def _deliver_once(self) -> None:
        if not self.deliver:
            return
        try:
            report = await self.monitor.deliver_async()
        except StoreError as exc:  # disk full, locked: no traceback every round
            log.warning("sending alerts paused, the outbox keeps them: %s", exc)
            return
        except Exception:
            log.exception("sending alerts failed; the outbox keeps them for the next try")
            return
        busy = report.messages or report.retrying or report.failed
        log.log(logging.INFO if busy else logging.DEBUG, "outbox: %s", report.describe())

    def _start_watchdog(self) -> asyncio.Task[None] | None:
        every = sdnotify.watchdog_interval()
        if every is None:
            return None

        async def ping() -> None:
            while True:
                sdnotify.notify("WATCHDOG=1")
                await asyncio.sleep(every)

        return asyncio.create_task(ping(), name="watchdog")

    # -- web view ---------------------------------------------------------------------------

    def _start_web(self) -> tuple[uvicorn.Server, asyncio.Task[None]] | None:
        """The web view in this loop when the config has [web]. A port it cannot listen
        on is logged, and the daemon polls on without it."""
        web = self.settings.web
        if web is None:
            return None
        from monitor.web.server import ListenError, bind, make_server, serve

        try:
            sock = bind(web.listen)
        except ListenError as exc:
            log.error("web view not started: %s", exc)
            return None
        server = make_server(
            self.monitor, liveness=self._liveness, stats=self.poll_stats, own_signals=False
        )
        log.info("web view on http://%s/", web.listen)
        return server, asyncio.create_task(serve(server, sock), name="web")

    async def _liveness(self) -> tuple[bool, str]:
        scheduler = self.scheduler
        if scheduler is None or not scheduler.running or self.stopping:
            return False, "the scheduler is not running"
        return True, f"scheduler running in this daemon (pid {os.getpid()})"

    async def _stop_web(self, web: tuple[uvicorn.Server, asyncio.Task[None]] | None) -> None:
        if web is None:
            return
        server, task = web
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)

    def _status_line(self) -> str:
        return f"polling {len(self.settings.sources)} sources"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def _log_outcome(outcome: CheckOutcome) -> None:
    if outcome.failed:
        log.warning("%s: poll failed: %s", outcome.source, outcome.error)
        return
    counts: dict[str, int] = {}
    for event in outcome.events:
        counts[event.kind] = counts.get(event.kind, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    level = logging.INFO if counts or outcome.status == "baseline" else logging.DEBUG
    log.log(
        level,
        "%s: %s, %d items%s",
        outcome.source,
        outcome.status,
        outcome.items,
        f", {summary}" if summary else "",
    )


# -- pid file ---------------------------------------------------------------------------------


def pid_path(database: str) -> Path:
    """The daemon's pid file sits next to its database: <database>.pid."""
    return Path(f"{database}.pid")


def acquire_pid_file(path: Path) -> TextIO:
    """Write our pid and hold a lock on the file while we run. Raises DaemonError when
    another daemon holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="ascii")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        other = handle.read().strip()
        handle.close()
        raise DaemonError(
            f"another monitor daemon (pid {other or '?'}) runs on this database ({path})"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def release_pid_file(path: Path, handle: TextIO) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
    handle.close()


def running_pid(path: Path) -> int | None:
    """The pid of the daemon that holds the pid file, or None when none runs.
    Raises PermissionError when the file cannot be read (another user's daemon)."""
    try:
        handle = path.open(encoding="ascii")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else None
        # Nobody holds the lock: a stale file left by a crash.
        return None
