"""Adaptive polling: when to poll a source next, from when its new items appeared.

Pure: history, budget and the time in, the next poll time and the reason out. No I/O, no
scheduler; `monitor.daemon.pacer` reads the history from the database and records the
decision.

The policy, in short:

- A source's rhythm is learned from the items it listed: when each new item was first
  seen, or its own published time where that is trustworthy (see `arrival_times`). Rates
  are counted per hour of the day and per day of the week over the last `LOOKBACK`, in
  the time zone of `now`, smoothed across neighbouring hours and pulled towards the
  source's overall rate where there is little data.
- The day's requests (`Budget.per_day`) are spread over the next 24 hours in proportion to
  the expected rate raised to `SPEND_EXPONENT` (1: the same number of new items expected
  per poll), with every interval between `Budget.floor` and `Budget.ceiling`; an hour in
  which the source publishes (`ACTIVE_SHARE` of its overall rate or more) is polled at
  least as often as an even spread of the budget would, so only quiet hours pay for the
  busy ones.
- A day that runs hotter than the rhythm (more arrivals in the last `RECENT_WINDOW` than
  expected) polls more densely, and a poll that found more new items than the rhythm
  made likely (a burst) brings the next one closer (`BURST_FACTOR`).
- The requests already spent today are paced: when what is planned for the rest of the
  day would overspend, every interval stretches; once the day's budget is spent, the next
  poll waits for the next day.
- Until the history covers `MIN_HISTORY` with at least `MIN_ARRIVALS` new items, the
  source is polled at its fixed interval ("cold start"); a source with no new item in
  `DEAD_AFTER` or more is polled at the ceiling ("quiet").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

HOUR = 3600.0
DAY = 86400.0
# History older than this is not looked at.
LOOKBACK = timedelta(days=28)
# Cold start until the history covers this long...
MIN_HISTORY = timedelta(hours=24)
# ...and holds this many new items.
MIN_ARRIVALS = 6
# No new item in this long (and at least this long observed): poll at the ceiling.
DEAD_AFTER = timedelta(days=3)
# Pseudo-hours of the overall rate mixed into each hour of the day's rate (smoothing).
HOUR_PRIOR = 1.0
# Pseudo-hours of the overall rate mixed into each day of the week's rate.
WEEKDAY_PRIOR = 48.0
# Weight of the neighbouring hours when counting an hour of the day.
NEIGHBOUR_WEIGHT = 0.25
# Every hour keeps at least this share of the overall rate: nothing is ever "impossible".
RATE_FLOOR = 0.05
# An hour whose rate is at least this share of the overall rate counts as active.
ACTIVE_SHARE = 0.5
# Poll density ∝ rate ** SPEND_EXPONENT.
SPEND_EXPONENT = 1.0
# After a burst, the next poll comes after this share of the planned interval.
BURST_FACTOR = 0.3
# More arrivals in the last RECENT_WINDOW than the rhythm expected (with RECENT_PRIOR
# pseudo-items on each side) raise the density by ratio ** RECENT_WEIGHT, at most
# MOMENTUM_LIMIT times; fewer never lower it (the day may just start late).
RECENT_WINDOW = timedelta(hours=2)
RECENT_PRIOR = 1.0
RECENT_WEIGHT = 0.5
MOMENTUM_LIMIT = 3.0
# A poll found a burst when that many new items (or more) had at most this chance.
BURST_SURPRISE = 0.05
# Interval shares of the day's mean interval that name an hour busy / quiet.
BUSY_BELOW = 0.8
QUIET_ABOVE = 1.25
# A published time is trusted for a new item when it lies this close before its first
# sighting (and not after it by more than the skew).
PUBLISHED_WINDOW = timedelta(days=1)
CLOCK_SKEW = timedelta(minutes=10)

COLD_START = "cold start"
BUSY = "busy hour"
STEADY = "steady"
QUIET = "quiet"
BURST = "burst"
BUDGET_SPENT = "budget spent"


@dataclass(frozen=True)
class Budget:
    """What a source may spend: requests per day, the interval bounds, and the fixed
    interval that the cold start uses (seconds)."""

    per_day: float
    floor: float
    ceiling: float
    fixed: float

    @property
    def mean_interval(self) -> float:
        """The interval that spends the budget evenly over a day."""
        return DAY / max(self.per_day, 1e-9)


@dataclass(frozen=True)
class History:
    """When a source's new items appeared (trusted times) and since when it was watched."""

    arrivals: tuple[datetime, ...] = ()
    observed_since: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """When to poll next, the interval that means, and why."""

    at: datetime
    interval: float
    reason: str


@dataclass(frozen=True)
class Rhythm:
    """Expected new items per hour, by hour of the day and day of the week."""

    by_hour: tuple[float, ...]
    weekday_factor: tuple[float, ...]
    overall: float
    observed_hours: float
    arrivals: int

    def rate(self, when: datetime) -> float:
        return self.by_hour[when.hour] * self.weekday_factor[when.weekday()]


# -- history ----------------------------------------------------------------------------------


def arrival_times(
    items: Iterable[tuple[datetime, datetime | None]], baseline: datetime | None
) -> History:
    """A source's history from its items: (first seen, published) pairs, and when its
    first listing was recorded (`baseline`, the earliest first-seen time).

    An item first seen after the baseline arrived at its published time when that lies
    within `PUBLISHED_WINDOW` before its first sighting (the site's own clock is more
    precise than the poll that found it), else at its first sighting. The baseline's
    items were published before the monitor looked: they count only with a trusted
    published time (not in the future, not a bare date at midnight), and then the
    history reaches back to the oldest of them."""
    arrivals: list[datetime] = []
    since = baseline
    for seen, published in items:
        trusted = published if _trusted(published, seen, baseline) else None
        if baseline is not None and seen <= baseline:
            if trusted is None:
                continue
            since = trusted if since is None else min(since, trusted)
            arrivals.append(trusted)
        else:
            arrivals.append(trusted or seen)
    return History(tuple(sorted(arrivals)), since)


def _trusted(published: datetime | None, seen: datetime, baseline: datetime | None) -> bool:
    if published is None or published > seen + CLOCK_SKEW:
        return False
    if published.timetz().replace(tzinfo=None) == time(0):
        return False  # a date without a time of day
    if baseline is not None and seen <= baseline:
        return seen - published <= LOOKBACK
    return seen - published <= PUBLISHED_WINDOW


# -- learning ---------------------------------------------------------------------------------


def learn(history: History, now: datetime) -> Rhythm | None:
    """The rhythm of the last `LOOKBACK` before `now` (hours and weekdays in now's time
    zone), or None while the history is too short (cold start)."""
    if history.observed_since is None:
        return None
    start = max(history.observed_since, now - LOOKBACK)
    if start >= now:
        return None
    tz = now.tzinfo
    seen = [a.astimezone(tz) for a in history.arrivals if start <= a <= now]
    hour_counts = [0.0] * 24
    day_counts = [0.0] * 7
    for moment in seen:
        hour_counts[moment.hour] += 1
        day_counts[moment.weekday()] += 1
    hour_exposure, day_exposure = _exposure(start.astimezone(tz), now)
    observed = sum(hour_exposure)
    if observed <= 0:
        return None
    overall = len(seen) / observed
    by_hour = [
        max(rate, RATE_FLOOR * overall)
        for rate in _shrunk(_smooth(hour_counts), _smooth(hour_exposure), overall)
    ]
    weekday = [
        (c + WEEKDAY_PRIOR * overall) / (e + WEEKDAY_PRIOR) / overall if overall > 0 else 1.0
        for c, e in zip(day_counts, day_exposure, strict=True)
    ]
    return Rhythm(tuple(by_hour), tuple(weekday), overall, observed, len(seen))


def _exposure(start: datetime, end: datetime) -> tuple[list[float], list[float]]:
    """Seconds observed in each hour of the day and each day of the week."""
    hours = [0.0] * 24
    days = [0.0] * 7
    cursor = start
    while cursor < end:
        boundary = min(_next_hour(cursor), end)
        seconds = (boundary - cursor).total_seconds()
        hours[cursor.hour] += seconds
        days[cursor.weekday()] += seconds
        cursor = boundary
    return [h / HOUR for h in hours], [d / HOUR for d in days]


def _shrunk(counts: Sequence[float], exposure: Sequence[float], overall: float) -> list[float]:
    """Each hour's rate pulled towards the overall rate as far as its count is noise
    (empirical Bayes): a source that publishes evenly gets an even rhythm, however its
    few items happened to fall, and one with a marked rhythm keeps it."""
    rates = [
        (c + HOUR_PRIOR * overall) / (e + HOUR_PRIOR) for c, e in zip(counts, exposure, strict=True)
    ]
    # A Poisson count's variance is its mean; smoothing leaves this share of it.
    kept = (1 - 2 * NEIGHBOUR_WEIGHT) ** 2 + 2 * NEIGHBOUR_WEIGHT**2
    noise = [kept * overall / (e + HOUR_PRIOR) for e in exposure]
    spread = sum((r - overall) ** 2 for r in rates) / len(rates)
    signal = max(0.0, spread - sum(noise) / len(noise))
    return [
        overall + signal / (signal + n) * (r - overall) if signal + n > 0 else overall
        for r, n in zip(rates, noise, strict=True)
    ]


def _smooth(values: Sequence[float]) -> list[float]:
    """Each hour with a share of its neighbours (the day wraps around)."""
    n = len(values)
    side = NEIGHBOUR_WEIGHT
    return [
        (1 - 2 * side) * values[i] + side * (values[i - 1] + values[(i + 1) % n]) for i in range(n)
    ]


def _next_hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


# -- planning ---------------------------------------------------------------------------------


def next_poll(
    now: datetime,
    history: History,
    budget: Budget,
    *,
    found: int = 0,
    previous: datetime | None = None,
    spent_today: int = 0,
) -> Decision:
    """When to poll a source next.

    `found`: new items the poll just made found; `previous`: when the poll before it
    ran; `spent_today`: requests made since local midnight (this poll included)."""
    floor, ceiling = _bounds(budget)
    rhythm = learn(history, now)
    midnight = _next_midnight(now)
    remaining = budget.per_day - spent_today
    if remaining <= 0:
        wait = max((midnight - now).total_seconds(), floor)
        return Decision(now + timedelta(seconds=wait), wait, BUDGET_SPENT)
    if rhythm is None or not _enough(rhythm):
        if _is_dead(rhythm):
            return _decide(now, ceiling, QUIET)
        interval = max(budget.fixed, budget.mean_interval)
        return _paced(now, interval, COLD_START, interval, remaining, midnight, floor)
    plan = _spread(rhythm, now, budget.per_day, floor, ceiling)
    density = plan[0][2]
    interval = HOUR / density
    mean = budget.mean_interval
    reason = (
        BUSY if interval < BUSY_BELOW * mean else QUIET if interval > QUIET_ABOVE * mean else STEADY
    )
    interval /= _momentum(rhythm, history, now)
    if found > 0 and _surprised(rhythm, now, previous, found):
        interval = max(floor, interval * BURST_FACTOR)
        reason = BURST
    planned_rest = sum(
        density * (min(end, midnight) - start).total_seconds() / HOUR
        for start, end, density in plan
        if start < midnight
    )
    if planned_rest > remaining:
        interval *= planned_rest / remaining
    return _decide(now, max(interval, floor), reason)


def _bounds(budget: Budget) -> tuple[float, float]:
    """Floor and ceiling (seconds); a budget too small for the ceiling stretches it."""
    mean = budget.mean_interval
    floor = min(max(budget.floor, 1.0), mean)
    ceiling = max(budget.ceiling, mean, floor)
    return floor, ceiling


def _enough(rhythm: Rhythm) -> bool:
    """Whether the history is long and full enough to follow (else: cold start)."""
    long_enough = rhythm.observed_hours * HOUR >= MIN_HISTORY.total_seconds()
    return long_enough and rhythm.arrivals >= MIN_ARRIVALS


def _is_dead(rhythm: Rhythm | None) -> bool:
    """Watched for DEAD_AFTER or longer and nothing new."""
    if rhythm is None or rhythm.arrivals:
        return False
    return rhythm.observed_hours * HOUR >= DEAD_AFTER.total_seconds()


def _paced(
    now: datetime,
    interval: float,
    reason: str,
    planned: float,
    remaining: float,
    midnight: datetime,
    floor: float,
) -> Decision:
    """`interval`, stretched when polling every `planned` seconds until midnight would
    spend more than `remaining` requests."""
    rest = (midnight - now).total_seconds() / planned
    if rest > remaining:
        interval *= rest / remaining
    return _decide(now, max(interval, floor), reason)


def _decide(now: datetime, interval: float, reason: str) -> Decision:
    return Decision(now + timedelta(seconds=interval), interval, reason)


def _spread(
    rhythm: Rhythm, now: datetime, per_day: float, floor: float, ceiling: float
) -> list[tuple[datetime, datetime, float]]:
    """The next 24 hours as (start, end, polls per hour), the budget spread by the
    expected rate: density ∝ rate ** SPEND_EXPONENT, within the floor and the ceiling,
    summing to `per_day`."""
    segments: list[tuple[datetime, datetime]] = []
    cursor, end = now, now + timedelta(days=1)
    while cursor < end:
        boundary = min(_next_hour(cursor), end)
        segments.append((cursor, boundary))
        cursor = boundary
    hours = [(b - a).total_seconds() / HOUR for a, b in segments]
    weights = [rhythm.rate(a) ** SPEND_EXPONENT for a, _ in segments]
    mean = DAY / per_day
    # Hours in which the source publishes are polled at least as often as an even spread
    # of the budget would; only quiet hours go up to the ceiling.
    lows = [
        HOUR / min(ceiling, mean)
        if rhythm.rate(a) >= ACTIVE_SHARE * rhythm.overall
        else HOUR / ceiling
        for a, _ in segments
    ]
    densities = _water_fill(weights, hours, per_day, lows, HOUR / floor)
    return [(a, b, d) for (a, b), d in zip(segments, densities, strict=True)]


def _water_fill(
    weights: Sequence[float],
    hours: Sequence[float],
    total: float,
    lows: Sequence[float],
    high: float,
) -> list[float]:
    """Densities ∝ weights with Σ density × hours = total, each within [low, high]
    (those that hit a bound are fixed there and the rest share what is left)."""
    fixed: dict[int, float] = {}
    for _ in range(len(weights) + 1):
        free = [i for i in range(len(weights)) if i not in fixed]
        left = total - sum(fixed[i] * hours[i] for i in fixed)
        mass = sum(weights[i] * hours[i] for i in free)
        if not free or mass <= 0:
            break
        scale = left / mass
        changed = False
        for i in free:
            density = weights[i] * scale
            if density < lows[i]:
                fixed[i] = lows[i]
                changed = True
            elif density > high:
                fixed[i] = high
                changed = True
        if not changed:
            return [fixed.get(i, weights[i] * scale) for i in range(len(weights))]
    return [fixed.get(i, lows[i]) for i in range(len(weights))]


def _surprised(rhythm: Rhythm, now: datetime, previous: datetime | None, found: int) -> bool:
    """Whether `found` new items since `previous` are more than the rhythm makes likely
    (Poisson tail at most BURST_SURPRISE)."""
    if previous is None or previous >= now:
        return False  # no gap to judge the count by (the first poll, a clock jump)
    gap = (now - previous).total_seconds()
    expected = rhythm.rate(now) * gap / HOUR
    return poisson_tail(expected, found) <= BURST_SURPRISE


def _momentum(rhythm: Rhythm, history: History, now: datetime) -> float:
    """How much busier the last RECENT_WINDOW was than the rhythm expected (a day that
    starts late or runs hot), as a factor on the poll density."""
    start = now - RECENT_WINDOW
    seen = sum(1 for a in history.arrivals if start < a <= now)
    steps = 6
    step = RECENT_WINDOW / steps
    expected = sum(
        rhythm.rate(start + step * (i + 0.5)) * step.total_seconds() / HOUR for i in range(steps)
    )
    ratio = (seen + RECENT_PRIOR) / (expected + RECENT_PRIOR)
    return min(max(ratio**RECENT_WEIGHT, 1.0), MOMENTUM_LIMIT)


def poisson_tail(mean: float, k: int) -> float:
    """P(N >= k) for N ~ Poisson(mean)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    term = math.exp(-mean)
    below = term
    for n in range(1, k):
        term *= mean / n
        below += term
    return max(0.0, 1.0 - below)


def _next_midnight(now: datetime) -> datetime:
    tomorrow = now.date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=now.tzinfo)


def day_of(now: datetime) -> str:
    """The budget's day: the local date of `now`, as the database keeps it."""
    return now.date().isoformat()
