"""Retry-After is honoured up to `max_retry_after`; the hold shows in `monitor status`, and a
host that asks for more raises one `health` event per outage."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from monitor.models import FetchError, HostHeld
from monitor.pipeline.fetch import Fetcher, FetchSettings, human_duration
from tests.conftest import Site, run_monitor

YEAR = "31536000"
PAGE = "<html><body><article><a href='/a'>A story</a></article></body></html>"
UTC_ENV = {"TZ": "UTC"}


def test_a_retry_after_past_the_cap_holds_the_host_for_the_cap_and_says_so(site: Site) -> None:
    url = site.set("/limited", "slow down", status=429, headers={"Retry-After": YEAR})

    async def go() -> tuple[FetchError, float, int]:
        async with Fetcher(FetchSettings(max_retry_after=1.0)) as fetcher:
            with pytest.raises(FetchError) as info:
                await fetcher.fetch(url)
            held_for = fetcher.host_not_before(url) - time.monotonic()
            site.set("/limited", PAGE)
            # Within the cap the next request waits for the hold, then goes.
            result = await fetcher.fetch(url)
            return info.value, held_for, result.status

    error, held_for, status = asyncio.run(go())
    assert str(error) == "HTTP 429 Too Many Requests"
    assert error.health_notice == (
        "127.0.0.1 asked to wait 365 days (Retry-After); polling again after the 1 s cap"
    )
    assert 0.5 < held_for <= 1.0
    assert status == 200
    first, second = site.requests_for("/limited")
    assert 0.9 <= second.at - first.at < 5


def test_a_retry_after_within_the_cap_is_honoured_in_full_without_a_notice(site: Site) -> None:
    url = site.set("/busy", "busy", status=503, headers={"Retry-After": "120"})

    async def go() -> tuple[FetchError, float, HostHeld]:
        async with Fetcher(FetchSettings()) as fetcher:
            with pytest.raises(FetchError) as first:
                await fetcher.fetch(url)
            held_for = fetcher.host_not_before(url) - time.monotonic()
            with pytest.raises(HostHeld) as second:
                await fetcher.fetch(site.url("/other"))
            return first.value, held_for, second.value

    error, held_for, refused = asyncio.run(go())
    assert error.health_notice is None and error.held_until is not None
    assert 118 < held_for <= 120
    assert str(refused) == "not polled: the host asked to wait (Retry-After), 2 min left"
    assert len(site.requests_for("/busy")) == 1 and site.requests_for("/other") == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(31536000, "365 days"), (3600, "1 h"), (5400, "1.5 h"), (1200, "20 min"), (45, "45 s")],
)
def test_waits_read_as_a_person_says_them(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def write_config(tmp_path: Path, site: Site, cap: str) -> Path:
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'database = "state.db"\nconcurrency = 1\nmax_retry_after = "{cap}"\n'
        f'[[sources]]\nname = "limited"\nurl = "{site.url("/limited")}"\n'
        '[sources.rule]\nitem = "article"\n'
        f'[[sources]]\nname = "other"\nurl = "{site.url("/other")}"\n'
        '[sources.rule]\nitem = "article"\n',
        encoding="utf-8",
    )
    return config


def check(config: Path) -> tuple[int, list[dict], str]:
    result = run_monitor("check", "--json", "--no-notify", config=config, env=UTC_ENV)
    return result.returncode, json.loads(result.stdout or "[]"), result.stderr


def status_json(config: Path) -> dict[str, dict]:
    result = run_monitor("status", "--json", config=config, env=UTC_ENV)
    assert result.returncode == 0, result.stderr
    return {s["name"]: s for s in json.loads(result.stdout)["sources"]}


def test_monitor_check_and_status_show_a_year_long_retry_after_held_to_the_cap(
    site: Site, tmp_path: Path
) -> None:
    site.set("/limited", "slow down", status=429, headers={"Retry-After": YEAR})
    site.set("/other", PAGE)
    config = write_config(tmp_path, site, "1h")

    code, events, stderr = check(config)
    assert code == 1, stderr
    assert "limited: FAILED: HTTP 429 Too Many Requests" in stderr
    # The other source is on the same host: not asked at all.
    assert "other: held, 0 items, no events" in stderr
    assert site.requests_for("/other") == []
    assert [(e["source"], e["kind"], e["detail"]) for e in events] == [
        (
            "limited",
            "health",
            "127.0.0.1 asked to wait 365 days (Retry-After); polling again after the 1 h cap",
        )
    ]

    sources = status_json(config)
    held_until = sources["limited"]["held_until"]
    until = datetime.fromisoformat(held_until)
    assert 3500 < (until - datetime.now(UTC)).total_seconds() <= 3600
    assert sources["other"]["held_until"] == held_until
    today = until.date() == datetime.now(UTC).date()
    clock = until.strftime("%H:%M" if today else "%Y-%m-%d %H:%M")
    assert sources["limited"]["health"] == f"held by Retry-After until {clock}"
    assert sources["other"]["health"] == f"held by Retry-After until {clock}"
    table = run_monitor("status", config=config, env=UTC_ENV)
    assert table.returncode == 0
    assert table.stdout.count(f"held by Retry-After until {clock}") == 2

    # A second run within the hold asks the host nothing and alerts nothing.
    code, events, stderr = check(config)
    assert (code, events) == (0, []), stderr
    assert "limited: held, 0 items, no events" in stderr
    assert len(site.requests_for("/limited")) == 1 and site.requests_for("/other") == []


def test_a_host_held_past_the_cap_again_and_again_is_reported_once_then_recovers(
    site: Site, tmp_path: Path
) -> None:
    site.set("/limited", "slow down", status=429, headers={"Retry-After": YEAR})
    site.set("/other", PAGE)
    config = write_config(tmp_path, site, "2s")
    notice = "127.0.0.1 asked to wait 365 days (Retry-After); polling again after the 2 s cap"

    code, events, _ = check(config)
    assert [e["detail"] for e in events] == [notice]
    time.sleep(2.1)
    code, events, stderr = check(config)
    assert code == 1 and events == [], stderr
    assert "limited: FAILED: HTTP 429 Too Many Requests" in stderr
    assert len(site.requests_for("/limited")) == 2

    site.set("/limited", PAGE)
    time.sleep(2.1)
    code, events, stderr = check(config)
    assert code == 0, stderr
    assert [(e["source"], e["kind"], e["detail"]) for e in events] == [
        ("limited", "health", "recovered: polling works again")
    ]
    sources = status_json(config)
    assert (sources["limited"]["health"], sources["limited"]["held_until"]) == ("ok", None)


def test_validate_rejects_a_max_retry_after_that_is_not_a_duration(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('max_retry_after = "soon"\n', encoding="utf-8")
    result = run_monitor("validate", config=config)
    assert result.returncode == 2
    assert (
        f"{config}:1: max_retry_after: 'soon' is not a duration: use seconds or '45s', '10m',"
        " '1h'" in result.stderr
    ), result.stderr


def slow_refusal(site: Site, path: str) -> str:
    """A 429 asking for a year, answered after a pause, so that requests made at once are
    all in flight before the first answer arrives."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        time.sleep(0.5)
        body = b"slow down"
        request.send_response(429)
        request.send_header("Retry-After", YEAR)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return site.set(path, handler=handler)


def test_sources_asked_at_once_to_wait_past_the_cap_tell_it_once_for_their_host(
    site: Site, tmp_path: Path
) -> None:
    slow_refusal(site, "/limited")
    slow_refusal(site, "/other")
    config = tmp_path / "monitor.toml"
    config.write_text(  # default concurrency: both sources are polled at once
        'database = "state.db"\nmax_retry_after = "2s"\n'
        f'[[sources]]\nname = "limited"\nurl = "{site.url("/limited")}"\n'
        '[sources.rule]\nitem = "article"\n'
        f'[[sources]]\nname = "other"\nurl = "{site.url("/other")}"\n'
        '[sources.rule]\nitem = "article"\n',
        encoding="utf-8",
    )
    notice = "127.0.0.1 asked to wait 365 days (Retry-After); polling again after the 2 s cap"

    code, events, stderr = check(config)
    # Both were asked; the first to get the answer tells it, the other is held.
    assert len(site.requests_for("/limited")) == len(site.requests_for("/other")) == 1
    assert code == 1, stderr
    assert [(e["kind"], e["detail"]) for e in events] == [("health", notice)]
    teller = events[0]["source"]
    quiet = "other" if teller == "limited" else "limited"
    assert f"{teller}: FAILED: HTTP 429 Too Many Requests" in stderr
    assert f"{quiet}: held, 0 items, no events" in stderr
    sources = status_json(config)
    assert sources[teller]["health"] == sources[quiet]["health"]
    assert sources[quiet]["health"].startswith("held by Retry-After until ")
    assert sources[quiet]["consecutive_errors"] == 0

    # The cap has passed and the host still asks for a year: the same outage, told already.
    time.sleep(2.1)
    code, events, stderr = check(config)
    assert events == [], stderr
    assert len(site.requests_for("/limited")) + len(site.requests_for("/other")) == 4

    # The host answers again: the source that told the outage says it is over, once.
    site.set("/limited", PAGE)
    site.set("/other", PAGE)
    time.sleep(2.1)
    code, events, stderr = check(config)
    assert code == 0, stderr
    assert [(e["source"], e["kind"], e["detail"]) for e in events] == [
        (teller, "health", "recovered: polling works again")
    ]
