"""Adaptive scheduling around the policy: config keys, budgets and the host cap, reload
plans, the request count and `monitor status`, and the real daemon running an adaptive
source."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from monitor.config.settings import parse_settings
from monitor.daemon.schedule import adaptive_budget, plan_sources, source_budgets
from monitor.models import ConfigError, Settings, Source
from monitor.pipeline.status import read_status
from monitor.pipeline.store import Store
from tests.conftest import run_monitor
from tests.daemon_helpers import DaemonProcess, listing, read_db, write_config

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def settings_of(text: str) -> Settings:
    return parse_settings(text, "monitor.toml", environ={})


def feed(name: str, url: str, extra: str = "") -> str:
    return f'[[sources]]\nname = "{name}"\nurl = "{url}"\nkind = "feed"\n{extra}\n'


def test_schedule_budget_and_bounds_are_read_per_source_and_as_a_default():
    settings = settings_of(
        'schedule = "adaptive"\ninterval = "5m"\nhost_budget = 500\n'
        + feed("news", "https://a.test/news", 'budget = 100\nmin_interval = "2m"')
        + feed("fixed", "https://a.test/fixed", 'schedule = "fixed"')
        + feed("nightly", "https://a.test/nightly", 'cron = "0 3 * * *"')
    )
    news, fixed, nightly = settings.sources
    assert (news.schedule, news.budget, news.min_interval, news.max_interval) == (
        "adaptive",
        100.0,
        120.0,
        None,
    )
    assert (fixed.schedule, fixed.interval) == ("fixed", 300.0)
    # A crontab keeps its cron, whatever the default says.
    assert nightly.schedule == "fixed"
    assert settings.host_budget == 500
    # The default stays the fixed interval.
    assert settings_of(feed("a", "https://a.test/")).sources[0].schedule == "fixed"


def test_a_source_with_cron_and_an_adaptive_schedule_is_refused():
    with pytest.raises(ConfigError) as caught:
        settings_of(feed("a", "https://a.test/", 'cron = "*/5 * * * *"\nschedule = "adaptive"'))
    assert (caught.value.key, caught.value.reason) == (
        "sources[0].schedule",
        "a source with `cron` runs on its crontab: drop one",
    )


def test_bounds_that_leave_no_room_are_refused():
    with pytest.raises(ConfigError) as caught:
        settings_of(
            feed(
                "a",
                "https://a.test/",
                'schedule = "adaptive"\nmin_interval = "1h"\nmax_interval = "10m"',
            )
        )
    assert caught.value.reason == "min_interval is longer than max_interval"


def test_the_default_budget_spends_what_the_fixed_interval_would_and_bounds_follow_it():
    source = Source(name="a", url="https://a.test/", interval=600, schedule="adaptive")
    budgets = source_budgets(Settings("x", "db", (source,)), NOW)
    assert budgets == {"a": 144.0}
    budget = adaptive_budget(source, budgets["a"])
    assert (budget.per_day, budget.floor, budget.ceiling, budget.fixed) == (144, 150, 1800, 600)
    bounded = replace(source, min_interval=60.0, max_interval=900.0)
    assert (adaptive_budget(bounded, 144).floor, adaptive_budget(bounded, 144).ceiling) == (
        60,
        900,
    )


def test_a_host_budget_is_shared_by_the_hosts_adaptive_sources():
    sources = (
        Source(name="a1", url="https://a.test/1", interval=600, schedule="adaptive"),
        Source(name="a2", url="https://a.test/2", schedule="adaptive", budget=48),
        Source(name="a3", url="https://a.test/3", interval=1800),
        Source(name="b", url="https://b.test/", interval=600, schedule="adaptive"),
    )
    settings = Settings("x", "db", sources, host_budget=144)
    # a.test: the fixed source takes its 48; the adaptive ones share the other 96 in
    # proportion to what they asked (144 and 48). b.test is under the cap.
    assert source_budgets(settings, NOW) == {"a1": 72.0, "a2": 24.0, "a3": 48.0, "b": 144.0}


def test_changing_a_schedule_or_budget_reschedules_the_source():
    source = Source(name="a", url="https://a.test/")
    old = Settings("x", "db", (source,))
    for change in (
        {"schedule": "adaptive"},
        {"budget": 50.0},
        {"min_interval": 60.0},
        {"max_interval": 3600.0},
    ):
        new = Settings("x", "db", (replace(source, **change),))  # type: ignore[arg-type]
        assert plan_sources(old, new).rescheduled == ("a",), change


def test_status_shows_the_interval_its_reason_and_requests_spent_against_the_budget(tmp_path):
    db = tmp_path / "monitor.db"
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'database = "{db}"\n'
        + feed("news", "https://a.test/news", 'schedule = "adaptive"')
        + feed("fixed", "https://a.test/fixed", 'interval = "30m"')
        + feed("nightly", "https://a.test/nightly", 'cron = "0 3 * * *"'),
        encoding="utf-8",
    )
    today = datetime.now().astimezone()
    store = Store.open(db)
    for _ in range(3):
        store.count_request("news", today.date().isoformat(), "2026-03-09T11:00:00+00:00")
    store.save_poll_plan("news", 240.0, "busy hour", 144.0)
    store.count_request("fixed", today.date().isoformat(), "2026-03-09T11:00:00+00:00")
    # Yesterday's requests are not today's.
    store.count_request("nightly", "2000-01-01", "2000-01-01T03:00:00+00:00")
    store.close()

    status = read_status(settings_of(config.read_text()), daemon_pid=None)
    fields = [
        (s.name, s.schedule, s.interval, s.interval_reason, s.requests_today, s.budget_today)
        for s in status.sources
    ]
    assert fields == [
        ("news", "adaptive (10m at cold start)", 240.0, "busy hour", 3, 144.0),
        ("fixed", "every 30m", 1800.0, "fixed", 1, 48.0),
        ("nightly", "cron 0 3 * * *", None, "cron", 0, None),
    ]
    shown = run_monitor("status", "--json", config=config)
    news = json.loads(shown.stdout)["sources"][0]
    assert {k: news[k] for k in ("interval", "interval_reason", "requests_today")} == {
        "interval": 240.0,
        "interval_reason": "busy hour",
        "requests_today": 3,
    }
    # The fields that were there before are still there.
    assert {"schedule", "health", "next_run", "items_known"} <= set(news)
    text = run_monitor("status", config=config).stdout
    rows = {line.split()[0]: line for line in text.splitlines()[1:]}
    assert "4m busy hour" in rows["news"] and " 3/144 " in rows["news"]
    assert "30m fixed" in rows["fixed"] and " 1/48 " in rows["fixed"]
    assert "- cron" in rows["nightly"]


def test_the_daemon_polls_an_adaptive_source_at_its_interval_until_it_has_history(site, tmp_path):
    site.set("/news", listing(["One", "Two"]))
    config = write_config(
        tmp_path, [("news", site.url("/news"), "1s")], extra='schedule = "adaptive"'
    )
    with DaemonProcess(config) as daemon:

        def spent() -> int:
            try:
                with read_db(tmp_path / "monitor.db") as conn:
                    row = conn.execute(
                        "SELECT spent, reason FROM poll_budget WHERE source = 'news'"
                    ).fetchone()
            except sqlite3.OperationalError:  # not created yet
                return 0
            return row[0] if row and row[1] else 0

        daemon.wait(lambda: spent() >= 3, "three counted polls")
        status = json.loads(run_monitor("status", "--json", config=config).stdout)
        assert daemon.stop() == 0
    news = status["sources"][0]
    assert (news["schedule"], news["interval"], news["interval_reason"]) == (
        "adaptive (1s at cold start)",
        1.0,
        "cold start",
    )
    assert news["requests_today"] >= 3
    assert news["budget_today"] == 86400.0
    assert "Traceback" not in daemon.log()
