"""The daemon's side of adaptive scheduling: after each poll, count the request against the
source's daily budget and, for an adaptive source, ask the policy (monitor.daemon.adaptive)
when to poll next from the history the database holds; record the choice for `monitor
status`.

The clock is injectable, so that the same code runs under a simulated clock (the
benchmark replays days of publications in seconds).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.daemon.adaptive import LOOKBACK, Decision, History, arrival_times, day_of, next_poll
from monitor.daemon.schedule import adaptive_budget, daily_budget, is_adaptive, source_budgets
from monitor.models import Settings, Source, StoreError

if TYPE_CHECKING:
    from monitor.app import Monitor
    from monitor.pipeline.check import CheckOutcome

log = logging.getLogger("monitor.daemon")

Clock = Callable[[], datetime]


def local_now() -> datetime:
    """Now, in the machine's time zone (hours of the day are local hours)."""
    return datetime.now().astimezone()


class Pacer:
    """Counts each source's requests per day and plans adaptive sources' next polls."""

    def __init__(self, monitor: Monitor, clock: Clock = local_now) -> None:
        self.monitor = monitor
        self.clock = clock
        self._budgets: dict[str, float] = {}
        self._budgets_for: Settings | None = None

    def budget(self, source: Source, now: datetime) -> float:
        """The source's requests per day (a host's cap shared out; see source_budgets)."""
        settings = self.monitor.settings
        if self._budgets_for is not settings:
            self._budgets = source_budgets(settings, now)
            self._budgets_for = settings
        return self._budgets.get(source.name) or daily_budget(source, now)

    async def after_poll(self, source: Source, outcome: CheckOutcome | None) -> Decision | None:
        """Count the request the poll made (none when the host held it) and, for an
        adaptive source, decide when it runs next. None: the trigger's time stands (a
        fixed or cron source, or a database that cannot answer now)."""
        now = self.clock()
        store = self.monitor.store
        previous: datetime | None = None
        spent: int | None = None
        try:
            if outcome is None or outcome.status != "held":
                spent, before = await store.run(
                    store.count_request, source.name, day_of(now), _iso(now)
                )
                previous = _parse(before)
            if not is_adaptive(source):
                return None
            if spent is None:
                spent = await self._spent_today(source.name, now)
            history = await self.history(source.name, now)
        except StoreError as exc:
            log.debug("%s: request not counted / next poll not planned: %s", source.name, exc)
            return None
        per_day = self.budget(source, now)
        found = sum(1 for e in outcome.events if e.kind == "new") if outcome is not None else 0
        decision = next_poll(
            now,
            history,
            adaptive_budget(source, per_day),
            found=found,
            previous=previous,
            spent_today=spent,
        )
        if source.jitter:
            decision = Decision(
                decision.at + timedelta(seconds=random.uniform(0, source.jitter)),
                decision.interval,
                decision.reason,
            )
        try:
            await store.run(
                store.save_poll_plan, source.name, decision.interval, decision.reason, per_day
            )
        except StoreError as exc:
            log.debug("%s: plan not recorded: %s", source.name, exc)
        log.debug(
            "%s: next poll in %.0f s (%s; %d of %g requests today)",
            source.name,
            decision.interval,
            decision.reason,
            spent,
            per_day,
        )
        return decision

    async def history(self, name: str, now: datetime) -> History:
        """What the database saw of the source over the last LOOKBACK."""
        store = self.monitor.store
        baseline, rows = await store.run(store.sightings, name, _iso(now - LOOKBACK))
        items: list[tuple[datetime, datetime | None]] = []
        for seen_text, published_text in rows:
            seen = _parse(seen_text)
            if seen is not None:
                items.append((seen, _parse(published_text)))
        return arrival_times(items, _parse(baseline))

    async def _spent_today(self, name: str, now: datetime) -> int:
        store = self.monitor.store
        row = (await store.run(store.poll_budgets)).get(name)
        return row.spent if row is not None and row.day == day_of(now) else 0


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
