"""When each source runs: triggers, backoff after failures, first-run spread, reload plans,
and the daily request budgets of adaptive sources (the policy is monitor.daemon.adaptive).

Data in, data out; the daemon owns the scheduler and does the I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from monitor.daemon.adaptive import DAY, Budget
from monitor.models import Settings, Source

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

# A failing source waits interval * 2^(errors-1) between polls, at most this long...
MAX_BACKOFF = 3600.0
# ...and at most this many intervals (never less than one interval).
MAX_BACKOFF_FACTOR = 8.0
# The first polls after start are spread over at most this many seconds...
MAX_SPREAD = 60.0
# ...about this far apart.
SPREAD_STEP = 0.1
# An adaptive source's interval stays at or above this share of its mean interval (the
# day's budget spent evenly), and never under MIN_FLOOR seconds...
FLOOR_SHARE = 0.25
MIN_FLOOR = 150.0
# ...and at or below this many mean intervals, unless min_interval / max_interval say.
CEILING_FACTOR = 3.0


def backoff_delay(period: float, errors: int) -> float:
    """Seconds from one poll to the next after `errors` failures in a row."""
    if errors <= 1:
        return period
    cap = max(period, min(MAX_BACKOFF, MAX_BACKOFF_FACTOR * period))
    return min(period * 2.0 ** min(errors - 1, 32), cap)


def make_trigger(source: Source, tz: tzinfo, start: datetime | None = None) -> BaseTrigger:
    """The APScheduler trigger for a source: its crontab, else its interval; with jitter."""
    if source.cron:
        from apscheduler.triggers.cron import CronTrigger

        trigger = CronTrigger.from_crontab(source.cron, timezone=tz)
        trigger.jitter = source.jitter or None
        return trigger
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(
        seconds=source.interval, start_date=start, timezone=tz, jitter=source.jitter or None
    )


def period(source: Source, now: datetime) -> float:
    """Seconds between two regular runs (for a crontab: the gap between its next two)."""
    if not source.cron:
        return source.interval
    trigger = make_trigger(source, now.tzinfo or _utc())
    trigger.jitter = None
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first) if first else None
    if first is None or second is None:
        return source.interval
    return max(1.0, (second - first).total_seconds())


def misfire_grace(period_seconds: float) -> int:
    """A run missed by up to one period (the machine slept) still runs once, coalesced."""
    return max(30, math.ceil(period_seconds))


def spread_offset(index: int, count: int) -> float:
    """Delay of the index-th source's first poll, so many sources don't start in one second."""
    if count <= 1:
        return 0.0
    window = min(MAX_SPREAD, SPREAD_STEP * count)
    return window * index / count


def first_run(
    now: datetime,
    offset: float,
    last_poll: str | None,
    errors: int,
    period_seconds: float,
) -> datetime:
    """Soon after start, but not before the source is due again (after a quick restart, or
    while it is backing off)."""
    soon = now + timedelta(seconds=offset)
    if not last_poll:
        return soon
    try:
        polled = datetime.fromisoformat(last_poll)
    except ValueError:
        return soon
    if polled.tzinfo is None:
        polled = polled.replace(tzinfo=now.tzinfo)
    due = polled + timedelta(seconds=backoff_delay(period_seconds, errors))
    # A clock that jumped back must not park a source for long.
    due = min(due, now + timedelta(seconds=backoff_delay(period_seconds, errors)))
    return max(soon, due)


def next_run_after(
    started: datetime,
    scheduled: datetime | None,
    errors: int,
    period_seconds: float,
    host_free_at: datetime | None = None,
) -> datetime | None:
    """When a source runs next, given the trigger's choice, its failures and the host's
    Retry-After. None when the trigger has no further run."""
    if scheduled is None:
        return None
    candidates = [scheduled]
    if errors > 1:
        candidates.append(started + timedelta(seconds=backoff_delay(period_seconds, errors)))
    if host_free_at is not None:
        candidates.append(host_free_at)
    return max(candidates)


@dataclass(frozen=True)
class SourcePlan:
    """What a reload does to the running sources (names)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # Interval, crontab or jitter changed: the job gets a new trigger.
    rescheduled: tuple[str, ...] = ()
    # Anything else changed (URL, rule, headers, ...): used from the next poll on.
    updated: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.rescheduled or self.updated)

    def describe(self) -> str:
        parts = [
            f"{label} {', '.join(names)}"
            for label, names in (
                ("added", self.added),
                ("removed", self.removed),
                ("rescheduled", self.rescheduled),
                ("updated", self.updated),
            )
            if names
        ]
        return "; ".join(parts) or "no source changes"


def plan_sources(old: Settings, new: Settings) -> SourcePlan:
    """Compare two configurations source by source (by name)."""
    before = {s.name: s for s in old.sources}
    after = {s.name: s for s in new.sources}
    rescheduled: list[str] = []
    updated: list[str] = []
    for name, source in after.items():
        previous = before.get(name)
        if previous is None or previous == source:
            continue
        if _timing(previous) != _timing(source):
            rescheduled.append(name)
        else:
            updated.append(name)
    return SourcePlan(
        added=tuple(n for n in after if n not in before),
        removed=tuple(n for n in before if n not in after),
        rescheduled=tuple(rescheduled),
        updated=tuple(updated),
    )


def _timing(source: Source) -> tuple[object, ...]:
    return (
        source.interval,
        source.cron,
        source.jitter,
        source.schedule,
        source.budget,
        source.min_interval,
        source.max_interval,
    )


def is_adaptive(source: Source) -> bool:
    """Adaptive scheduling applies to sources without a crontab."""
    return source.schedule == "adaptive" and not source.cron


def daily_budget(source: Source, now: datetime) -> float:
    """Requests per day the source may make: an adaptive source's `budget`, else as many
    as its interval (or crontab) makes."""
    if is_adaptive(source) and source.budget is not None:
        return source.budget
    return DAY / period(source, now) if source.cron else DAY / source.interval


def source_budgets(settings: Settings, now: datetime) -> dict[str, float]:
    """Each source's daily budget, adaptive sources' scaled down so that no host gets
    more than `host_budget` requests a day (fixed and cron sources count at their rate;
    an adaptive source keeps at least one request a day)."""
    budgets = {s.name: daily_budget(s, now) for s in settings.sources}
    cap = settings.host_budget
    if cap is None:
        return budgets
    hosts: dict[str, list[Source]] = {}
    for source in settings.sources:
        hosts.setdefault(_host(source.url), []).append(source)
    for sources in hosts.values():
        adaptive = [s for s in sources if is_adaptive(s)]
        fixed = sum(budgets[s.name] for s in sources if not is_adaptive(s))
        wanted = sum(budgets[s.name] for s in adaptive)
        if not adaptive or fixed + wanted <= cap:
            continue
        share = max(cap - fixed, 0.0) / wanted
        for s in adaptive:
            budgets[s.name] = max(1.0, budgets[s.name] * share)
    return budgets


def adaptive_budget(source: Source, per_day: float) -> Budget:
    """The policy's budget for an adaptive source that may make `per_day` requests."""
    mean = DAY / per_day
    floor = source.min_interval or min(mean, max(MIN_FLOOR, FLOOR_SHARE * mean))
    ceiling = source.max_interval or CEILING_FACTOR * mean
    return Budget(per_day=per_day, floor=floor, ceiling=ceiling, fixed=source.interval)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").lower()


def _utc() -> tzinfo:
    from datetime import UTC

    return UTC
