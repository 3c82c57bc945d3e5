"""`monitor run` as a real subprocess against a real local site: schedule, conditional
requests, Retry-After, backoff and health, reload by SIGHUP, alerts, and a clean SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import time
from http.server import BaseHTTPRequestHandler

import pytest

from tests.conftest import run_monitor
from tests.daemon_helpers import (
    DaemonProcess,
    Receiver,
    config_text,
    db_events,
    listing,
    outbox_counts,
    write_config,
)

LAST_MODIFIED = "Mon, 23 Nov 2026 10:00:00 GMT"


def test_polls_on_schedule_with_conditional_requests(site, tmp_path):
    site.set("/news", listing(["One", "Two"]))
    config = write_config(tmp_path, [("news", site.url("/news"), "1s")])
    with DaemonProcess(config) as daemon:
        daemon.wait(lambda: len(site.requests_for("/news")) >= 4, "four polls")
        status = json.loads(run_monitor("status", "--json", config=config).stdout)
        assert daemon.stop() == 0
    first, second, third, fourth = site.requests_for("/news")[:4]
    assert "If-None-Match" not in first.headers
    etag = first_etag(site)
    for later in (second, third):
        assert later.headers["If-None-Match"] == etag
        assert later.headers["If-Modified-Since"] == LAST_MODIFIED
        assert later.headers["User-Agent"] == "news-monitor-test"
    # One poll a second: the n-th poll is due n seconds after the first was due (a poll
    # that started late shortens the gap to the next one, but never moves the grid).
    assert fourth.at - first.at >= 2.5
    assert min(b.at - a.at for a, b in [(first, second), (second, third), (third, fourth)]) >= 0.5
    (news,) = status["sources"]
    assert news["name"] == "news"
    assert news["schedule"] == "every 1s"
    assert news["health"] == "ok"
    assert news["consecutive_errors"] == 0
    assert news["items_known"] == 2
    assert news["last_success"] and news["next_run"]
    assert status["daemon_pid"] is not None
    assert status["outbox"] == {"pending": 0, "failed": 0, "by_status": {}}


def first_etag(site) -> str:
    import hashlib

    return '"' + hashlib.md5(site.pages["/news"].body).hexdigest() + '"'


def test_retry_after_delays_the_next_request_to_that_host(site, tmp_path):
    served = []

    def busy_then_fine(handler: BaseHTTPRequestHandler) -> None:
        served.append(1)
        if len(served) == 1:
            status, body, headers = 429, b"slow down", {"Retry-After": "3"}
        else:
            status, body, headers = 200, listing(["One"]).encode(), {}
        handler.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    site.set("/news", "", handler=busy_then_fine)
    site.set("/other", listing(["Other"]))
    sources = [("news", site.url("/news"), "1s"), ("other", site.url("/other"), "1s")]
    config = write_config(tmp_path, sources)
    with DaemonProcess(config) as daemon:
        daemon.wait_log("news: baseline, 1 items")
        # On a loaded machine the other source's deferred poll may be logged a moment later.
        daemon.wait_log("other: host asked to wait (Retry-After), next poll in")
        status = json.loads(run_monitor("status", "--json", config=config).stdout)
        assert daemon.stop() == 0
    first, second = site.requests_for("/news")[:2]
    assert second.at - first.at >= 2.9
    # The other source on that host waited too, and that is no failure of its own.
    assert not [r for r in site.requests if first.at + 0.5 < r.at < first.at + 2.9]
    assert "news: host asked to wait (Retry-After), next poll in" in daemon.log()
    assert "other: host asked to wait (Retry-After), next poll in" in daemon.log()
    errors = {s["name"]: s["consecutive_errors"] for s in status["sources"]}
    assert errors == {"news": 0, "other": 0}


def test_failing_source_backs_off_raises_health_and_recovers(site, tmp_path):
    site.set("/news", "down", status=500)
    config = write_config(
        tmp_path, [("news", site.url("/news"), "0.4s")], extra="failure_threshold = 2"
    )
    db = tmp_path / "monitor.db"
    with DaemonProcess(config) as daemon:
        daemon.wait(lambda: len(site.requests_for("/news")) >= 3, "three failed polls")
        site.set("/news", listing(["One", "Two"]))
        daemon.wait(lambda: len(health(db)) >= 2, "a recovery event")
        site.set("/news", "<html><body><p>New design</p></body></html>")
        daemon.wait(lambda: len(health(db)) >= 3, "an empty-listing event")
        assert daemon.stop() == 0
    times = [r.at for r in site.requests_for("/news")]
    # 0.4 s after one failure, 0.8 s after two.
    assert times[2] - times[1] >= 0.6
    assert "news: 2 failures in a row, next poll in" in daemon.log()
    failing, recovered, empty = health(db)[:3]
    assert failing.startswith("failing: 2 polls in a row failed; last error: HTTP 500")
    assert recovered == "recovered: polling works again"
    assert re.fullmatch(
        r"`article` matches nothing since \d\d:\d\d \(the last poll listed 2\);"
        r" discovery found no other list of articles on the page",
        empty,
    ), empty


def health(db) -> list[str]:
    return [e["detail"] for e in db_events(db) if e["kind"] == "health"]


def test_reload_adds_a_source_and_a_broken_config_keeps_the_old_one(site, tmp_path):
    site.set("/a", listing(["A1"]))
    site.set("/b", listing(["B1"]))
    config = write_config(tmp_path, [("a", site.url("/a"), "1s")])
    with DaemonProcess(config) as daemon:
        daemon.wait(lambda: site.requests_for("/a"), "the first poll of a")
        write_config(tmp_path, [("a", site.url("/a"), "1s"), ("b", site.url("/b"), "1s")])
        result = run_monitor("reload", config=config)
        assert result.returncode == 0, result.stderr
        assert f"reload signalled to pid {daemon.pid}" in result.stdout
        daemon.wait_log("config reloaded from")
        daemon.wait(lambda: site.requests_for("/b"), "the first poll of the added source b")
        assert f"config reloaded from {config}: added b" in daemon.log()

        broken = config_text([("a", site.url("/a"), "1s"), ("b", site.url("/b"), "soon")])
        config.write_text(broken)
        daemon.reload()
        daemon.wait_log("config reload rejected, keeping the running config")
        a_before, b_before = len(site.requests_for("/a")), len(site.requests_for("/b"))
        daemon.wait(
            lambda: (
                len(site.requests_for("/a")) > a_before + 1
                and len(site.requests_for("/b")) > b_before + 1
            ),
            "both sources polled after the rejected reload",
        )
        assert daemon.alive
        assert daemon.stop() == 0
    line = broken.splitlines().index('interval = "soon"') + 1
    assert f"{config}:{line}: sources[1].interval: 'soon' is not a duration" in daemon.log()


def test_reload_without_a_daemon_says_so(tmp_path):
    config = write_config(tmp_path, [("a", "http://127.0.0.1:9/a", "1m")])
    result = run_monitor("reload", config=config)
    assert result.returncode == 4
    assert "no monitor daemon runs on" in result.stderr


def test_sigterm_lets_the_poll_in_flight_finish(site, tmp_path):
    page = listing(["Slow"]).encode()

    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(1.5)
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(page)))
        handler.end_headers()
        handler.wfile.write(page)

    site.set("/slow", "", handler=slow)
    config = write_config(tmp_path, [("slow", site.url("/slow"), "1m")])
    with DaemonProcess(config) as daemon:
        daemon.wait(lambda: site.requests_for("/slow"), "the poll to start")
        assert daemon.stop() == 0
    assert "waiting up to 10 s for 1 polls in flight" in daemon.log()
    status = json.loads(run_monitor("status", "--json", config=config).stdout)
    assert status["sources"][0]["items_known"] == 1
    assert status["daemon_pid"] is None
    assert not (tmp_path / "monitor.db.pid").exists()


def test_second_daemon_on_the_same_database_refuses_to_start(site, tmp_path):
    site.set("/a", listing(["A1"]))
    config = write_config(tmp_path, [("a", site.url("/a"), "1m")])
    with DaemonProcess(config) as daemon:
        daemon.wait_log("running: 1 sources")
        second = run_monitor("run", config=config, timeout=30)
        assert second.returncode == 4
        assert f"another monitor daemon (pid {daemon.pid}) runs on this database" in second.stderr
        assert daemon.stop(signal.SIGINT) == 0


def test_status_before_any_poll(tmp_path):
    config = write_config(tmp_path, [("a", "http://127.0.0.1:9/a", "10m")])
    result = run_monitor("status", config=config)
    assert result.returncode == 0, result.stderr
    assert "daemon: not running" in result.stdout
    assert "never polled" in result.stdout
    assert "every 10m" in result.stdout
    assert "outbox: 0 pending, 0 failed" in result.stdout


def test_a_new_item_reaches_the_channel_and_sigterm_loses_nothing(site, tmp_path):
    pytest.importorskip("monitor.alerts.notify")
    receiver = Receiver()
    try:
        site.set("/news", listing(["Old one", "Old two"]))
        config = write_config(tmp_path, [("news", site.url("/news"), "1s")], channel=receiver.url)
        db = tmp_path / "monitor.db"
        with DaemonProcess(config) as daemon:
            daemon.wait_log("news: baseline, 2 items")
            site.set("/news", listing(["Fresh news", "Old one", "Old two"]))
            daemon.wait(receiver.received, "an alert at the local channel")
            assert daemon.stop() == 0
        (alert,) = receiver.received()
        assert "Fresh news" in alert["title"] + alert["message"]
        assert [(e["kind"], e["title"]) for e in db_events(db)] == [("new", "Fresh news")]
        assert outbox_counts(db) == {"sent": 1}
    finally:
        receiver.close()


def test_apply_settings_starts_stops_and_reschedules_keeping_state(site, tmp_path):
    """In process: the function a config watcher calls, on a running daemon."""
    import asyncio
    import dataclasses

    from monitor.app import Monitor
    from monitor.config.settings import load_settings
    from monitor.daemon.runner import PRUNE_JOB, Daemon
    from monitor.pipeline.store import Store

    for path in ("/a", "/b", "/c"):
        site.set(path, listing([path[1:].upper() + "1"]))
    config = write_config(tmp_path, [("a", site.url("/a"), "1h"), ("b", site.url("/b"), "1h")])
    old = load_settings(config)
    store = Store.open(old.database)

    async def scenario() -> None:
        daemon = Daemon(Monitor(old, store), deliver=False)
        running = asyncio.create_task(daemon.run())
        while not (store.source_state("a").last_success and store.source_state("b").last_success):
            await asyncio.sleep(0.05)
        a = old.source("a")
        assert a is not None
        new = dataclasses.replace(
            old,
            sources=(
                dataclasses.replace(a, interval=1800.0),
                dataclasses.replace(a, name="c", url=site.url("/c")),
            ),
            user_agent="changed-agent",
        )
        report = await daemon.apply_settings(old, new)
        assert report.describe() == "added c; removed b; rescheduled a; new HTTP settings"
        assert daemon.scheduler is not None
        jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
        assert sorted(jobs) == ["a", "c", PRUNE_JOB]
        assert jobs["a"].trigger.interval.total_seconds() == 1800
        while not store.source_state("c").last_success:
            await asyncio.sleep(0.05)
        daemon.stop()
        assert await running == 0

    try:
        asyncio.run(scenario())
        assert store.source_state("b").next_run is None
        assert store.count_items("b") == 1  # a removed source keeps what it knew
        assert store.source_state("a").next_run is not None
    finally:
        store.close()
    assert site.requests_for("/c")[0].headers["User-Agent"] == "changed-agent"
