"""/metrics in the Prometheus text format, read with prometheus_client's own parser: the
figures of a known run; and the daemon serving the web view itself, whose /healthz and
poll figures follow what its scheduler does."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Site, free_port
from tests.web_helpers import Server, known_run, serving

PATIENCE = 30.0


def samples(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = server.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_metrics_match_a_known_run(tmp_path):
    site = Site()
    try:
        path = known_run(tmp_path, site)
        with serving(path) as server:
            found = samples(server)
    finally:
        site.close()
    news = (("source", "news"),)
    assert found[("monitor_items", news)] == 5
    assert found[("monitor_items_listed", news)] == 5
    assert found[("monitor_source_up", news)] == 1
    assert found[("monitor_source_consecutive_errors", news)] == 0
    events = {
        dict(labels)["kind"]: value
        for (name, labels), value in found.items()
        if name == "monitor_events"
    }
    assert events == {"new": 1, "changed": 3}
    # --no-notify: the channel for paywalled items owes three alerts.
    assert found[("monitor_outbox", (("channel", "paid"), ("status", "pending")))] == 3
    assert found[("monitor_outbox", (("channel", "paid"), ("status", "failed")))] == 0
    last = found[("monitor_source_last_success_timestamp_seconds", news)]
    assert abs(last - time.time()) < 120
    build = [labels for (name, labels), _v in found.items() if name == "monitor_build_info"]
    assert dict(build[0])["version"] == "0.1.0"
    # Poll figures belong to the process that polls: a separate server has none.
    assert not [name for name, _l in found if name.startswith("monitor_polls")]


def listing(*articles: tuple[str, str, datetime]) -> str:
    rows = "".join(
        f'<article><a href="{path}">{title}</a><time datetime="{when.isoformat()}">'
        f"{when:%H:%M}</time></article>"
        for path, title, when in articles
    )
    return f"<!doctype html><html><body><main>{rows}</main></body></html>"


def wait_for(check, what: str):
    deadline = time.monotonic() + PATIENCE
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_the_daemon_serves_the_view_and_counts_its_polls(tmp_path: Path):
    site = Site()
    port = free_port()
    now = datetime.now(UTC).replace(microsecond=0)
    site.set("/news", listing(("/a", "First", now - timedelta(hours=1))))
    path = tmp_path / "monitor.toml"
    path.write_text(
        f"""database = "monitor.db"
[[sources]]
name = "news"
url = "{site.url("/news")}"
interval = "1s"
[sources.rule]
item = "article"
title = "a"
link = "a"
date = "time"
[web]
listen = "127.0.0.1:{port}"
""",
        encoding="utf-8",
    )
    news = (("source", "news"),)
    try:
        with serving(path, command=("run",), port=port) as server:
            health = wait_for(
                lambda: server.get("/healthz").status_code == 200 and server.get("/healthz"),
                "healthz 200",
            )
            assert health.json() == {
                "status": "ok",
                "scheduler": f"scheduler running in this daemon (pid {server.process.pid})",
                "database": "writable",
            }
            site.set(
                "/news",
                listing(
                    ("/b", "Second", now - timedelta(minutes=2)),
                    ("/a", "First", now - timedelta(hours=1)),
                ),
            )
            wait_for(
                lambda: samples(server).get(("monitor_detection_latency_seconds_count", ())),
                "a new item",
            )

            def settled() -> dict | None:
                # A poll between the two counts would make them disagree: ask again.
                before = len(site.requests_for("/news"))
                found = samples(server)
                return found if len(site.requests_for("/news")) == before else None

            found = wait_for(settled, "a quiet moment")
            assert found[("monitor_polls_total", news)] == len(site.requests_for("/news"))
            assert found[("monitor_poll_failures_total", news)] == 0
            assert found[("monitor_detection_latency_seconds_bucket", (("le", "60.0"),))] == 0
            assert found[("monitor_detection_latency_seconds_bucket", (("le", "300.0"),))] == 1
            assert found[("monitor_detection_latency_seconds_count", ())] == 1
            assert (
                found[("monitor_poll_duration_seconds_count", ())]
                == found[("monitor_polls_total", news)]
            )
            site.set("/news", "down", status=500)
            found = wait_for(
                lambda: (f := samples(server)).get(("monitor_poll_failures_total", news)) and f,
                "a failed poll",
            )
            assert found[("monitor_source_up", news)] == 0
        assert server.process.returncode == 0
    finally:
        site.close()
