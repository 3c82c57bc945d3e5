"""Alerts: route events to channels, and deliver the outbox through Apprise.

`route_events(settings)` gives `check_source` the router that turns a poll's events into
outbox rows (written in the poll's own transaction). `deliver_due(settings, store)` sends
what is due, channel by channel and URL by URL, concurrently. Every URL has its own state
of each row: it is marked only after that URL's service accepted the message, and a URL
that fails is retried on its own schedule (exponential backoff and jitter) until
`max_attempts` or `give_up_after`, then gives up on the row; a dead URL never delays or
blocks another, and a URL that took a row never gets it again. Quiet hours and digests
hold rows; rate limits space messages out. An outage is logged once when it starts and
once when it ends, whatever the number of messages. Every database call runs on the
store's own thread (`Store.run`), so a locked database never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.alerts.clock import next_digest, quiet_until, zone
from monitor.alerts.outbox import (
    OutboxEntry,
    TargetState,
    UrlDelivery,
    claim,
    iso,
    mark_attempt_failed,
    mark_delivered,
    parse_iso,
    pending,
    process_id,
    release,
    save_target_state,
    settle,
    target_state,
)
from monitor.alerts.render import TemplateError, render
from monitor.alerts.route import ChannelFilter, route
from monitor.alerts.targets import Target, load_plugins, redact, targets
from monitor.models import Channel, Event, Item, Message, Settings
from monitor.pipeline.store import OutboxRow, Store

log = logging.getLogger("monitor.notify")

# Seconds one send may take before it counts as failed (Apprise's own socket timeouts are
# shorter, so this only catches a service that hangs).
SEND_TIMEOUT = 30.0
# Backoff after the n-th failure: BACKOFF_BASE * 2**(n-1), at most BACKOFF_MAX, +-25 %.
BACKOFF_BASE = 30.0
BACKOFF_MAX = 3600.0
# Longest pause for a rate limit inside one delivery round; longer waits end the round
# and the row stays due (see DeliveryReport.next_due).
RATE_WAIT = 5.0
# How long a round may hold the rows it sends against other processes (a killed process's
# claim ends with it; this bounds one that hangs).
CLAIM = 600.0

Router = Callable[[Sequence[Event]], list[OutboxRow]]
# Called after a service accepted a message and before the rows are marked (tests use it to
# stand for a crash at the worst moment).
AfterSend = Callable[[Target, Message], None]


def route_events(settings: Settings) -> Router:
    """The router for `check_source`: an outbox row per (event, channel that wants it)."""
    filters = [ChannelFilter.of(channel) for channel in settings.channels]

    def router(events: Sequence[Event]) -> list[OutboxRow]:
        return [OutboxRow(i, name, told=told) for i, name, told in route(filters, events)]

    return router


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery round did. Counts are outbox rows unless named otherwise."""

    # Rows every URL of their channel has now taken.
    sent: int = 0
    # Messages the services accepted.
    messages: int = 0
    # Rows whose send failed this round and wait for a retry.
    retrying: int = 0
    # Rows given up this round (status 'failed').
    failed: int = 0
    # Rows not sent this round: quiet hours, digest, backoff, rate limit, or a channel that
    # is no longer configured.
    held: int = 0
    # When the next held row becomes due (ISO UTC); None when nothing is waiting.
    next_due: str | None = None
    # One line per URL that failed this round, in privacy form.
    errors: tuple[str, ...] = ()

    def merge(self, other: DeliveryReport) -> DeliveryReport:
        dues = [d for d in (self.next_due, other.next_due) if d]
        return DeliveryReport(
            sent=self.sent + other.sent,
            messages=self.messages + other.messages,
            retrying=self.retrying + other.retrying,
            failed=self.failed + other.failed,
            held=self.held + other.held,
            next_due=min(dues, key=parse_iso) if dues else None,
            errors=self.errors + other.errors,
        )

    def describe(self) -> str:
        parts = [f"{self.messages} messages sent ({self.sent} alerts)"]
        if self.retrying:
            parts.append(f"{self.retrying} to retry")
        if self.failed:
            parts.append(f"{self.failed} given up")
        if self.held:
            parts.append(f"{self.held} held" + (f" until {self.next_due}" if self.next_due else ""))
        return ", ".join(parts)


@dataclass
class _Round:
    """One call of deliver_due: its clock and what it shares between channels."""

    store: Store
    start: datetime
    force: bool
    send_timeout: float
    rate_wait: float
    after_send: AfterSend | None
    t0: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


async def deliver_due(
    settings: Settings,
    store: Store,
    now: datetime | None = None,
    *,
    force: bool = False,
    send_timeout: float = SEND_TIMEOUT,
    rate_wait: float = RATE_WAIT,
    after_send: AfterSend | None = None,
) -> DeliveryReport:
    """Send every pending outbox row that is due, batched per channel URL.

    `now` (UTC) stands for the current time, so a caller can look ahead; `force` ignores
    the retry backoff (not quiet hours, digests or rate limits). Safe to call in a loop:
    the report's `next_due` says when something held becomes due.
    """
    run = _Round(
        store=store,
        start=(now or datetime.now(UTC)).astimezone(UTC),
        force=force,
        send_timeout=send_timeout,
        rate_wait=rate_wait,
        after_send=after_send,
    )
    by_channel: dict[str, list[OutboxEntry]] = {}
    for entry in await store.run(pending, store):
        by_channel.setdefault(entry.channel, []).append(entry)
    channels = {channel.name: channel for channel in settings.channels}
    report = DeliveryReport()
    jobs = []
    for name, entries in by_channel.items():
        channel = channels.get(name)
        if channel is None:
            problem = f"{len(entries)} alerts wait for it, but it is no longer configured"
            await _channel_problem(store, name, problem, run.now())
            report = report.merge(DeliveryReport(held=len(entries)))
            continue
        jobs.append(_deliver_channel(run, channel, entries))
    for result in await asyncio.gather(*jobs):
        report = report.merge(result)
    return report


async def _deliver_channel(
    run: _Round, channel: Channel, entries: list[OutboxEntry]
) -> DeliveryReport:
    store = run.store
    try:
        tgts = targets(channel, load_plugins(channel))
    except ValueError as exc:
        await _channel_problem(store, channel.name, f"cannot load its URLs: {exc}", run.now())
        return DeliveryReport(held=len(entries), errors=(f"{channel.name}: {exc}",))
    await _channel_problem(store, channel.name, None, run.now())
    ids = frozenset(t.id for t in tgts)
    # Rows every URL configured now has taken (the others were removed from the config).
    done = [e.id for e in entries if ids <= e.delivered]
    sent = await store.run(settle, store, done, ids, run.now()) if done else 0
    entries = [e for e in entries if e.id not in done]
    if not entries:
        return DeliveryReport(sent=sent)
    hold = _hold_until(channel, entries, run.now())
    if hold is not None:
        log.debug("channel %r: holding %d alerts until %s", channel.name, len(entries), iso(hold))
        return DeliveryReport(sent=sent, held=len(entries), next_due=iso(hold))
    owner = process_id()
    until = datetime.now(UTC) + timedelta(seconds=CLAIM)
    entries = await store.run(claim, store, entries, owner, until)
    try:
        results = await asyncio.gather(
            *(_deliver_target(run, channel, t, entries, ids) for t in tgts)
        )
    finally:
        await store.run(release, store, entries, owner)
    report = DeliveryReport(sent=sent)
    for result in results:
        report = report.merge(result)
    # A row counts once, however many URLs held or retried it.
    return replace(
        report,
        held=min(report.held, len(entries)),
        retrying=min(report.retrying, len(entries)),
    )


# The delivery_targets row that stands for a channel as a whole.
_CHANNEL = "*"


async def _channel_problem(store: Store, name: str, problem: str | None, now: datetime) -> None:
    """Log a channel-wide problem when it appears and when it is gone, not every round."""
    state = await store.run(target_state, store, name, _CHANNEL)
    if problem and not state.failing_since:
        log.warning("channel %r: %s", name, problem)
    elif problem:
        log.debug("channel %r: still: %s", name, problem)
    elif state.failing_since:
        log.info("channel %r: its problem is gone (%s)", name, state.last_error)
    else:
        return
    failing = (state.failing_since or iso(now)) if problem else None
    await store.run(
        save_target_state, store, replace(state, failing_since=failing, last_error=problem)
    )


def _hold_until(channel: Channel, entries: list[OutboxEntry], now: datetime) -> datetime | None:
    """The end of the quiet hours, or the next digest time, when delivery must wait."""
    tz = zone(channel.timezone)
    until = quiet_until(channel.quiet_hours, tz, now)
    if until is not None:
        return until
    if channel.digest:
        oldest = min(parse_iso(e.created) for e in entries)
        due = next_digest(channel.digest, tz, oldest)
        if due > now:
            return due
    return None


async def _deliver_target(
    run: _Round, channel: Channel, target: Target, entries: list[OutboxEntry], ids: frozenset[str]
) -> DeliveryReport:
    store = run.store
    # What this URL still owes, on its own schedule; rows it gave up on wait for a retry.
    todo = [e for e in entries if e.url(target.id).status == "pending"]
    if not todo:
        return DeliveryReport()
    due = todo[0].url(target.id).next_attempt
    if not run.force and due and parse_iso(due) > run.now():
        # Retrying later; later rows wait behind it so that alerts arrive in order.
        return DeliveryReport(held=len(todo), next_due=due)
    state = await store.run(target_state, store, channel.name, target.id)
    try:
        messages = render([e.event for e in todo], target.format, channel.template, target.limit)
    except TemplateError as exc:
        return await _failed(run, channel, target, ids, state, todo, str(exc))
    report = DeliveryReport()
    offset = 0
    for message in messages:
        batch = todo[offset : offset + message.count]
        wait = _rate_wait(state, run.now())
        if wait > run.rate_wait:
            rest = len(todo) - offset
            due = iso(run.now() + timedelta(seconds=wait))
            return report.merge(DeliveryReport(held=rest, next_due=due))
        if wait > 0:
            await asyncio.sleep(wait)
        error = await _send(target, message, run.send_timeout, channel.secrets)
        if error is not None:
            failed = await _failed(run, channel, target, ids, state, todo[offset:], error, batch)
            return report.merge(failed)
        if run.after_send is not None:
            run.after_send(target, message)
        now = run.now()
        sent = await store.run(mark_delivered, store, [e.id for e in batch], target.id, ids, now)
        if state.failing_since:
            log.info(
                "channel %r (%s) delivers again (failing since %s)",
                channel.name,
                target.label,
                state.failing_since,
            )
        spacing = 60.0 / target.rate if target.rate else 0.0
        state = TargetState(
            channel=channel.name,
            target=target.id,
            label=target.label,
            next_send=iso(now + timedelta(seconds=spacing)) if spacing else None,
        )
        await store.run(save_target_state, store, state)
        report = report.merge(DeliveryReport(sent=sent, messages=1))
        offset += message.count
    return report


def _rate_wait(state: TargetState, now: datetime) -> float:
    if not state.next_send:
        return 0.0
    return max(0.0, (parse_iso(state.next_send) - now).total_seconds())


async def _failed(
    run: _Round,
    channel: Channel,
    target: Target,
    ids: frozenset[str],
    state: TargetState,
    todo: list[OutboxEntry],
    error: str,
    batch: list[OutboxEntry] | None = None,
) -> DeliveryReport:
    """Record a failed attempt of this URL on `batch` (default: all of `todo`) and log it
    once per outage."""
    batch = todo if batch is None else batch
    now = run.now()
    attempts = max(e.url(target.id).attempts for e in batch) + 1
    delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempts - 1)) * random.uniform(0.75, 1.25)
    delay = max(delay, retry_after_hint(error) or 0.0)
    give_up = [e.id for e in batch if _gives_up(channel, e.url(target.id), now)]
    line = f"{target.label}: {error}"
    await run.store.run(
        mark_attempt_failed,
        run.store,
        [e.id for e in batch],
        target.id,
        ids,
        error=line,
        now=now,
        next_attempt=now + timedelta(seconds=delay),
        give_up=give_up,
    )
    if not state.failing_since:
        log.warning(
            "channel %r (%s): delivery failed: %s; %d alerts kept, retrying with backoff",
            channel.name,
            target.label,
            error,
            len(todo),
        )
    else:
        log.debug("channel %r (%s): still failing: %s", channel.name, target.label, error)
    if give_up:
        log.error(
            "channel %r (%s): gave up on %d alerts (after %d attempts or %s): %s",
            channel.name,
            target.label,
            len(give_up),
            attempts,
            timedelta(seconds=int(channel.give_up_after)),
            error,
        )
    await run.store.run(
        save_target_state,
        run.store,
        replace(
            state,
            label=target.label,
            failing_since=state.failing_since or iso(now),
            last_error=error,
        ),
    )
    retrying = len(batch) - len(give_up)
    return DeliveryReport(
        retrying=retrying,
        failed=len(give_up),
        held=len(todo) - len(batch),
        next_due=iso(now + timedelta(seconds=delay))
        if retrying or len(todo) > len(batch)
        else None,
        errors=(f"{channel.name}: {line}",),
    )


# Telegram's 429 says "Too Many Requests: retry after 35"; Apprise logs that text.
_RETRY_AFTER = re.compile(r"retry[ _-]?after\W{0,3}(\d{1,7})", re.IGNORECASE)
# A service asking for more than a day is not taken literally.
MAX_RETRY_AFTER = 86400.0


def retry_after_hint(error: str) -> float | None:
    """Seconds the service asked us to wait before trying again, when its answer says so."""
    match = _RETRY_AFTER.search(error)
    return min(float(match.group(1)), MAX_RETRY_AFTER) if match else None


def _gives_up(channel: Channel, url: UrlDelivery, now: datetime) -> bool:
    """Whether this URL's failed attempt on a row is its last one."""
    if channel.max_attempts and url.attempts + 1 >= channel.max_attempts:
        return True
    first = parse_iso(url.first_attempt) if url.first_attempt else now
    return (now - first).total_seconds() >= channel.give_up_after


async def _send(
    target: Target, message: Message, timeout: float, secrets: frozenset[str]
) -> str | None:
    """Hand one message to Apprise; None when the service accepted it, else why not."""
    import apprise

    apobj = apprise.Apprise()
    apobj.add(target.plugin)
    try:
        result = await asyncio.wait_for(
            apobj.async_notify(
                body=message.body,
                title=message.title,
                body_format=message.format,
                timeout=timeout,
            ),
            timeout + 5,
        )
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # a plugin bug must not stop the other channels
        return redact(f"{type(exc).__name__}: {exc}", secrets)
    if result:
        return None
    return redact(_reason(result), secrets)


def _reason(result: Any) -> str:
    """The last warning Apprise logged for this call, else its status."""
    messages = [
        entry.message
        for entry in result.logs()
        if entry.level in ("WARNING", "ERROR", "CRITICAL") and entry.message
    ]
    if messages:
        return " ".join(messages[-1].split())
    status = getattr(result, "status", None)
    name = getattr(status, "name", None) or str(status)
    return f"not accepted ({name.lower()})"


# -- a test message ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeResult:
    channel: str
    label: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def sample_events(now: str) -> list[Event]:
    item = Item(
        key="https://example.org/news-monitor-test",
        url="https://example.org/news-monitor-test",
        title="news-monitor test: this channel works",
        section="Test",
        paywalled=True,
    )
    return [Event(kind="new", source="news-monitor", at=now, item=item)]


async def send_test(settings: Settings, channel: str | None = None) -> list[ProbeResult]:
    """Send a sample alert to every URL of one channel (or of all); touches no state."""
    chosen = [c for c in settings.channels if channel in (None, c.name)]
    now = datetime.now(UTC)
    jobs = []
    results: list[ProbeResult] = []
    for chan in chosen:
        try:
            tgts = targets(chan, load_plugins(chan))
        except ValueError as exc:
            results.append(ProbeResult(chan.name, "", str(exc)))
            continue
        for target in tgts:
            jobs.append(_test_one(chan, target, sample_events(iso(now))))
    results.extend(await asyncio.gather(*jobs))
    return results


async def _test_one(channel: Channel, target: Target, events: list[Event]) -> ProbeResult:
    try:
        messages = render(events, target.format, channel.template, target.limit)
    except TemplateError as exc:
        return ProbeResult(channel.name, target.label, str(exc))
    for message in messages:
        error = await _send(target, message, SEND_TIMEOUT, channel.secrets)
        if error is not None:
            return ProbeResult(channel.name, target.label, error)
    return ProbeResult(channel.name, target.label, None)
