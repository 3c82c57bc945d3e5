"""The adaptive interval policy as a pure function: history and budget in, the next poll
time and its reason out (monitor.daemon.adaptive)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from monitor.daemon.adaptive import (
    BUDGET_SPENT,
    BURST,
    BUSY,
    COLD_START,
    QUIET,
    STEADY,
    Budget,
    Decision,
    History,
    arrival_times,
    day_of,
    next_poll,
)

# A Monday.
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
# 144 requests a day (every 10 minutes), between 2.5 minutes and 30 minutes.
BUDGET = Budget(per_day=144, floor=150, ceiling=1800, fixed=600)


def office_hours(days: int = 7, per_hour: int = 6) -> History:
    """A week of a site that publishes `per_hour` items an hour from 08:00 to 18:00."""
    arrivals = [
        MONDAY + timedelta(days=day, hours=hour, minutes=minute)
        for day in range(days)
        for hour in range(8, 18)
        for minute in range(0, 60, 60 // per_hour)
    ]
    return History(tuple(arrivals), MONDAY)


def simulate_day(
    history: History, start: datetime, budget: Budget, found_per_hour: float = 0
) -> list[Decision]:
    """Follow the policy's decisions from `start` until the next midnight, each poll
    finding what `found_per_hour` new items an hour make in the gap since the last."""
    decisions: list[Decision] = []
    now, previous, spent = start, None, 0
    end = datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    while now < end:
        spent += 1
        decision = next_poll(
            now,
            history,
            budget,
            found=round(found_per_hour * (now - previous).total_seconds() / 3600)
            if previous
            else 0,
            previous=previous,
            spent_today=spent,
        )
        decisions.append(decision)
        previous, now = now, decision.at
    return decisions


def test_a_quiet_night_is_polled_less_often_and_a_busy_hour_more_often():
    history = office_hours()
    night = next_poll(MONDAY + timedelta(days=7, hours=3), history, BUDGET)
    noon = next_poll(MONDAY + timedelta(days=7, hours=12), history, BUDGET)
    assert (night.reason, noon.reason) == (QUIET, BUSY)
    assert night.interval == BUDGET.ceiling
    # 60 items a day in 10 hours: the day's polls go where they are.
    assert BUDGET.floor <= noon.interval < 0.6 * BUDGET.mean_interval
    assert night.at == MONDAY + timedelta(days=7, hours=3, seconds=night.interval)


def test_a_busy_day_spends_at_most_the_budget_and_most_of_it_in_busy_hours():
    decisions = simulate_day(office_hours(), MONDAY + timedelta(days=7), BUDGET)
    assert len(decisions) <= BUDGET.per_day
    in_office = [d for d in decisions if 8 <= d.at.hour < 18]
    assert len(in_office) > len(decisions) / 2


def test_a_burst_brings_the_next_poll_closer():
    history = office_hours()
    now = MONDAY + timedelta(days=7, hours=20)
    calm = next_poll(now, history, BUDGET, found=0, previous=now - timedelta(minutes=30))
    burst = next_poll(now, history, BUDGET, found=3, previous=now - timedelta(minutes=30))
    assert calm.reason == QUIET
    assert burst.reason == BURST
    assert BUDGET.floor <= burst.interval < calm.interval / 2


def test_new_items_as_expected_in_a_busy_hour_are_no_burst():
    history = office_hours()
    now = MONDAY + timedelta(days=7, hours=12)
    decision = next_poll(now, history, BUDGET, found=1, previous=now - timedelta(minutes=5))
    assert decision.reason == BUSY


def test_a_source_that_never_publishes_is_polled_at_the_ceiling_after_a_cold_start():
    watched = History((), MONDAY)
    first_day = next_poll(MONDAY + timedelta(hours=12), watched, BUDGET)
    later = next_poll(MONDAY + timedelta(days=4), watched, BUDGET)
    assert (first_day.reason, first_day.interval) == (COLD_START, 600)
    assert (later.reason, later.interval) == (QUIET, BUDGET.ceiling)


def test_a_new_source_polls_at_its_fixed_interval():
    assert next_poll(MONDAY, History(), BUDGET) == Decision(
        MONDAY + timedelta(seconds=600), 600, COLD_START
    )
    # Six items in the first two hours are not yet a rhythm.
    young = History(tuple(MONDAY + timedelta(minutes=20 * i) for i in range(6)), MONDAY)
    assert next_poll(MONDAY + timedelta(hours=2), young, BUDGET).reason == COLD_START


def test_a_source_that_publishes_every_minute_is_polled_evenly_within_its_budget():
    arrivals = tuple(MONDAY + timedelta(minutes=m) for m in range(4 * 24 * 60))
    history = History(arrivals, MONDAY)
    decisions = simulate_day(history, MONDAY + timedelta(days=3), BUDGET, found_per_hour=60)
    assert len(decisions) <= BUDGET.per_day
    assert {d.reason for d in decisions} == {STEADY}
    # The budget's even spread (stretched a little: the first poll of the day counts).
    assert all(600 <= d.interval <= 610 for d in decisions)


def test_bursts_all_day_never_spend_more_than_the_budget():
    history = office_hours()
    start = MONDAY + timedelta(days=7)
    decisions = simulate_day(history, start, BUDGET, found_per_hour=200)
    assert len(decisions) <= BUDGET.per_day
    assert BURST in {d.reason for d in decisions}
    assert all(d.interval >= BUDGET.floor for d in decisions)


def test_once_the_budget_is_spent_the_next_poll_waits_for_the_next_day():
    now = MONDAY + timedelta(days=7, hours=22)
    decision = next_poll(now, office_hours(), BUDGET, found=5, spent_today=144)
    assert decision == Decision(MONDAY + timedelta(days=8), 7200, BUDGET_SPENT)


def test_a_clock_that_jumps_back_never_parks_the_source():
    history = office_hours()
    # The machine's clock went back two days: its history and last poll lie ahead.
    now = MONDAY + timedelta(days=5, hours=12)
    decision = next_poll(now, history, BUDGET, found=2, previous=now + timedelta(days=2))
    assert BUDGET.floor <= decision.interval <= BUDGET.ceiling
    assert now < decision.at <= now + timedelta(seconds=BUDGET.ceiling)
    # Back before anything was seen: a cold start.
    early = next_poll(MONDAY - timedelta(days=1), history, BUDGET, previous=MONDAY)
    assert (early.reason, early.interval) == (COLD_START, 600)


def test_a_clock_that_jumps_forward_polls_within_the_bounds():
    history = office_hours()
    for days in (8, 12, 60):
        now = MONDAY + timedelta(days=days, hours=10)
        decision = next_poll(now, history, BUDGET, previous=now - timedelta(days=days - 7))
        assert BUDGET.floor <= decision.interval <= BUDGET.ceiling, days
    # Nothing within the last four weeks: the source looks dead until it publishes again.
    assert next_poll(MONDAY + timedelta(days=60), history, BUDGET).reason == QUIET


def test_a_budget_below_the_ceilings_rate_stretches_the_ceiling():
    tiny = Budget(per_day=12, floor=150, ceiling=1800, fixed=600)
    decision = next_poll(MONDAY + timedelta(days=4), History((), MONDAY), tiny)
    assert decision.interval == 7200
    assert next_poll(MONDAY, History(), tiny).interval == 7200


def test_published_times_count_when_plausible_and_baseline_items_only_with_one():
    seen = MONDAY + timedelta(days=1, hours=9)
    baseline = MONDAY
    history = arrival_times(
        [
            # The first listing: a dated item counts at its date; an undated one not at all.
            (baseline, MONDAY - timedelta(days=2, hours=-10)),
            (baseline, None),
            # A date without a time of day says nothing about the hour.
            (baseline, MONDAY - timedelta(days=3)),
            # Later items: the date when it lies just before the sighting...
            (seen, seen - timedelta(minutes=7)),
            # ...the sighting when the date is in the future or long before it.
            (seen, seen + timedelta(hours=3)),
            (seen, seen - timedelta(days=30)),
            (seen, None),
        ],
        baseline,
    )
    assert history.observed_since == MONDAY - timedelta(days=2, hours=-10)
    assert history.arrivals == (
        MONDAY - timedelta(days=2, hours=-10),
        seen - timedelta(minutes=7),
        seen,
        seen,
        seen,
    )


def test_hours_of_the_day_are_the_hours_of_the_clocks_time_zone():
    from zoneinfo import ZoneInfo

    minsk = ZoneInfo("Europe/Minsk")  # UTC+3
    history = office_hours()  # 08:00-18:00 UTC = 11:00-21:00 in Minsk
    at_nine_utc = (MONDAY + timedelta(days=7, hours=9)).astimezone(minsk)
    at_four_utc = (MONDAY + timedelta(days=7, hours=4)).astimezone(minsk)
    assert next_poll(at_nine_utc, history, BUDGET).reason == BUSY
    assert next_poll(at_four_utc, history, BUDGET).reason == QUIET
    assert day_of(at_four_utc) == "2026-03-09"


def test_the_policy_imports_no_io_library():
    code = (
        "import json, sys\nimport monitor.daemon.adaptive\nprint(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert [m for m in ("httpx", "apprise", "sqlite_utils", "apscheduler") if m in loaded] == []
