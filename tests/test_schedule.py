"""Scheduling rules: backoff, first-run spread, next run after a failure, reload plans."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.daemon.schedule import (
    backoff_delay,
    first_run,
    make_trigger,
    misfire_grace,
    next_run_after,
    period,
    plan_sources,
    spread_offset,
)
from monitor.models import Rule, Settings, Source

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


def src(name: str = "a", **kw: object) -> Source:
    return Source(name=name, url=f"https://{name}.test/", rule=Rule(item="article"), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("interval", "errors", "delay"),
    [
        (600, 0, 600),
        (600, 1, 600),
        (600, 2, 1200),
        (600, 3, 2400),
        (600, 4, 3600),  # capped at 1 h
        (600, 50, 3600),
        (60, 4, 480),
        (60, 5, 480),  # capped at 8 intervals
        (7200, 3, 7200),  # never less than one interval
        (1, 10_000, 8),
    ],
)
def test_backoff_doubles_then_caps(interval, errors, delay):
    assert backoff_delay(interval, errors) == delay


def test_spread_keeps_first_polls_apart_and_within_a_minute():
    offsets = [spread_offset(i, 500) for i in range(500)]
    assert offsets[0] == 0
    assert offsets == sorted(offsets)
    assert max(offsets) < 60
    # No more than ten sources start in any one second.
    assert max(sum(1 for o in offsets if s <= o < s + 1) for s in range(60)) <= 10
    assert spread_offset(0, 1) == 0


def test_first_run_is_soon_for_a_new_source():
    assert first_run(NOW, 0.5, None, 0, 600) == NOW + timedelta(seconds=0.5)


def test_first_run_after_a_quick_restart_waits_for_the_interval():
    polled = (NOW - timedelta(seconds=100)).isoformat()
    assert first_run(NOW, 0, polled, 0, 600) == NOW + timedelta(seconds=500)


def test_first_run_of_a_failing_source_keeps_its_backoff():
    polled = (NOW - timedelta(seconds=100)).isoformat()
    assert first_run(NOW, 0, polled, 3, 600) == NOW + timedelta(seconds=2300)


def test_first_run_ignores_a_last_poll_in_the_future():
    polled = (NOW + timedelta(days=3)).isoformat()
    assert first_run(NOW, 0, polled, 0, 600) == NOW + timedelta(seconds=600)


def test_next_run_is_the_triggers_while_healthy():
    scheduled = NOW + timedelta(seconds=600)
    assert next_run_after(NOW, scheduled, 0, 600) == scheduled
    assert next_run_after(NOW, scheduled, 1, 600) == scheduled


def test_next_run_backs_off_after_failures():
    scheduled = NOW + timedelta(seconds=600)
    assert next_run_after(NOW, scheduled, 3, 600) == NOW + timedelta(seconds=2400)


def test_next_run_waits_for_retry_after():
    scheduled = NOW + timedelta(seconds=1)
    free = NOW + timedelta(seconds=30)
    assert next_run_after(NOW, scheduled, 1, 1, host_free_at=free) == free


def test_next_run_none_when_the_trigger_is_done():
    assert next_run_after(NOW, None, 3, 600) is None


def test_cron_period_and_trigger():
    source = src(cron="*/5 * * * *")
    assert period(source, NOW) == 300
    trigger = make_trigger(source, UTC)
    assert trigger.get_next_fire_time(None, NOW + timedelta(seconds=1)) == NOW + timedelta(
        minutes=5
    )


def test_interval_trigger_starts_at_the_first_run():
    first = NOW + timedelta(seconds=3)
    trigger = make_trigger(src(interval=45), UTC, start=first)
    assert trigger.get_next_fire_time(None, NOW) == first
    assert trigger.get_next_fire_time(first, first) == first + timedelta(seconds=45)


def test_missed_runs_within_one_period_still_run_once():
    assert misfire_grace(600) == 600
    assert misfire_grace(1) == 30


def test_reload_plan_names_what_changed():
    a, b, c, d = src("a"), src("b"), src("c"), src("d")
    old = Settings(config_path="x", database="db", sources=(a, b, c))
    new = Settings(
        config_path="x",
        database="db",
        sources=(replace(a, interval=30), replace(b, url="https://b.test/new"), d),
    )
    plan = plan_sources(old, new)
    assert plan.added == ("d",)
    assert plan.removed == ("c",)
    assert plan.rescheduled == ("a",)
    assert plan.updated == ("b",)
    assert plan.describe() == "added d; removed c; rescheduled a; updated b"
    assert plan_sources(old, old).empty


def test_interval_units_cron_and_the_global_default(tmp_path):
    from monitor.config.settings import load_settings

    config = tmp_path / "monitor.toml"
    config.write_text(
        'interval = "5m"\n'
        + "".join(
            f'[[sources]]\nname = "{name}"\nurl = "https://x.test/{name}"\n{extra}\n'
            '[sources.rule]\nitem = "article"\n'
            for name, extra in [
                ("default", ""),
                ("seconds", "interval = 45"),
                ("minutes", 'interval = "10m"'),
                ("hours", 'interval = "1h"'),
                ("cron", 'cron = "*/5 * * * *"\njitter = "30s"'),
            ]
        )
    )
    sources = {s.name: s for s in load_settings(config, environ={}).sources}
    assert {n: s.interval for n, s in sources.items() if n != "cron"} == {
        "default": 300,
        "seconds": 45,
        "minutes": 600,
        "hours": 3600,
    }
    assert (sources["cron"].cron, sources["cron"].jitter) == ("*/5 * * * *", 30)
    assert period(sources["cron"], NOW) == 300
