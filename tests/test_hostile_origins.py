"""Hostile origins, each polled next to a healthy source that must keep working.

A real HTTP server on 127.0.0.1 misbehaves (tests/hostile.py); the monitor must answer
with a clear error or usable items, hold a worker no longer than its timeouts, and never
let a local file's contents reach items, events, the database or its output.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from monitor.models import Rule, Source
from monitor.pipeline.check import CheckOutcome, check_source
from monitor.pipeline.fetch import Fetcher, FetchSettings
from monitor.pipeline.store import Store
from tests.conftest import Site, run_monitor
from tests.hostile import HEALTHY_TITLES, SECRET, Attack, attacks
from tests.reliability import html_source, listing, write_config

CAP = 10 * 1024 * 1024
# The trickling servers are cut off by the total timeout; short here, 60 s by default.
TOTAL_TIMEOUT = 3.0


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def all_attacks(site: Site, secret: Path) -> list[Attack]:
    return attacks(str(secret), site.base)


def source_for(site: Site, attack: Attack) -> Source:
    url = site.set(f"/{attack.name}", b"", handler=attack.handler)
    return Source(name=attack.name, url=url, kind=attack.kind, rule=Rule(item="li.item"))  # type: ignore[arg-type]


def poll_next_to_healthy(
    site: Site, store: Store, attack: Attack
) -> tuple[CheckOutcome, CheckOutcome]:
    healthy = Source(
        name="healthy", url=site.set("/healthy", listing(range(1, 4))), rule=Rule(item="li.item")
    )
    hostile = source_for(site, attack)
    settings = FetchSettings(
        total_timeout=TOTAL_TIMEOUT, max_bytes=int(dict(attack.settings).get("max_bytes", CAP))
    )

    async def go() -> tuple[CheckOutcome, CheckOutcome]:
        async with Fetcher(settings) as fetcher:
            bad, good = await asyncio.gather(
                check_source(hostile, fetcher=fetcher, store=store),
                check_source(healthy, fetcher=fetcher, store=store),
            )
            return bad, good

    return asyncio.run(go())


def listed_titles(store: Store, source: str) -> list[str]:
    items = sorted(store.load_items(source).values(), key=lambda s: s.position or 0)
    return [s.item.title for s in items]


@pytest.mark.parametrize(
    "name",
    [a.name for a in attacks("/nonexistent", "http://127.0.0.1:1")],
)
def test_hostile_origin_next_to_a_healthy_one(site: Site, tmp_path: Path, secret: Path, name):
    attack = next(a for a in all_attacks(site, secret) if a.name == name)
    store = Store.open(tmp_path / "state.db")

    bad, good = poll_next_to_healthy(site, store, attack)

    assert (good.status, good.error) == ("baseline", None)
    assert listed_titles(store, "healthy") == HEALTHY_TITLES
    if attack.error is not None:
        assert bad.status == "error"
        assert bad.error is not None and bad.error.startswith(attack.error), bad.error
        state = store.source_state(attack.name)
        assert (state.consecutive_errors, state.last_error) == (1, bad.error)
        assert store.count_items(attack.name) == 0
    else:
        assert (bad.status, bad.error) == ("baseline", None)
        assert listed_titles(store, attack.name) == list(attack.titles)
    store.close()


def test_entities_stay_inert_and_no_external_dtd_is_fetched(
    site: Site, tmp_path: Path, secret: Path
):
    store = Store.open(tmp_path / "state.db")
    for name in ("external-entity", "billion-laughs"):
        attack = next(a for a in all_attacks(site, secret) if a.name == name)
        poll_next_to_healthy(site, store, attack)
    store.close()
    assert site.requests_for("/evil.dtd") == []
    for path in tmp_path.glob("state.db*"):
        assert SECRET.encode() not in path.read_bytes()
        assert b"lollollol" not in path.read_bytes()


def test_monitor_check_with_every_hostile_origin_at_once(site: Site, tmp_path: Path, secret: Path):
    """The real CLI, all attacks in one run: each source's line says what happened, the
    healthy source works, nothing crashes, and the local file never shows."""
    cap = 32 * 1024 * 1024  # the long-line attack needs the raised cap
    found = all_attacks(site, secret)
    tables = [html_source("healthy", site.set("/healthy", listing(range(1, 4))))]
    for attack in found:
        url = source_for(site, attack).url
        kind = f'kind = "{attack.kind}"\n' if attack.kind == "feed" else ""
        tables.append(html_source(attack.name, url, extra=kind))
    config = write_config(
        tmp_path, f'max_bytes = {cap}\ntotal_timeout = "{TOTAL_TIMEOUT:g}s"\n' + "".join(tables)
    )

    result = run_monitor("check", "--json", "--no-notify", config=config, timeout=120)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = dict(line.split(": ", 1) for line in result.stderr.splitlines() if ": " in line)
    assert lines["healthy"] == "baseline, 3 items, no events"
    for attack in found:
        if attack.error is None:
            assert lines[attack.name].startswith("baseline,"), lines[attack.name]
            continue
        expected = attack.error.replace(str(CAP), str(cap))
        assert lines[attack.name].startswith(f"FAILED: {expected}"), lines[attack.name]
    assert json.loads(result.stdout) == []
    assert SECRET not in result.stdout + result.stderr
    for command in ("items", "events"):
        shown = run_monitor(command, "--json", config=config)
        assert shown.returncode == 0 and SECRET not in shown.stdout
    for path in tmp_path.glob("state.db*"):
        assert SECRET.encode() not in path.read_bytes()
