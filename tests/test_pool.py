"""Parsing in worker processes gives exactly what parsing in the main process gives."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.models import Source
from monitor.pipeline.pool import parse_workers
from tests.conftest import Site, run_monitor

MARKER = "The material is available only to POZIRK+"


def listing(titles: list[tuple[int, str, bool]]) -> str:
    rows = "".join(
        f'<div class="row"><span class="rubric">Politics</span>'
        f'<h3><a href="/en/{n}-story/">{title}</a></h3>{MARKER if paid else ""}</div>'
        for n, title, paid in titles
    )
    return f"<html><body><nav><a href='/en/'>Home</a></nav>{rows}</body></html>"


def feed(titles: list[tuple[int, str]]) -> str:
    items = "".join(
        f"<item><title>{t}</title><link>http://example.org/{n}/</link></item>" for n, t in titles
    )
    channel = f"<channel><title>F</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def config(tmp_path: Path, site: Site, workers: int) -> Path:
    tables = "".join(
        f'[[sources]]\nname = "page-{p}"\nurl = "{site.url(f"/p{p}/")}"\n'
        f'[sources.rule]\nitem = ".row"\nsection = ".rubric"\npaywall_text = "{MARKER}"\n'
        for p in range(3)
    )
    tables += f'[[sources]]\nname = "feed"\nurl = "{site.url("/feed.xml")}"\nkind = "feed"\n'
    path = tmp_path / f"w{workers}" / "monitor.toml"
    path.parent.mkdir()
    path.write_text(f'database = "state.db"\nparse_workers = {workers}\n{tables}', "utf-8")
    return path


def events(path: Path) -> list[dict]:
    result = run_monitor("check", "--json", "--no-notify", config=path)
    assert result.returncode == 0, result.stderr
    return [{k: v for k, v in e.items() if k != "at"} for e in json.loads(result.stdout)]


def test_worker_processes_find_the_same_events(site: Site, tmp_path: Path) -> None:
    first = [(n, f"Story number {n} about the news of the day", n % 3 == 0) for n in range(12)]
    for p in range(3):
        site.set(f"/p{p}/", listing(first))
    site.set("/feed.xml", feed([(n, f"Feed story {n}") for n in range(5)]))
    pooled, inline = config(tmp_path, site, 1), config(tmp_path, site, 0)
    assert events(pooled) == events(inline) == []

    second = [(99, "A new story on top of the page", True), *first[:-1]]
    second[3] = (second[3][0], second[3][1] + " (updated)", second[3][2])
    site.set("/p1/", listing(second))
    site.set("/feed.xml", feed([(7, "Feed story 7"), *((n, f"Feed story {n}") for n in range(5))]))
    found = events(pooled)
    assert found == events(inline)
    assert sorted((e["source"], e["kind"], e["title"]) for e in found) == [
        ("feed", "new", "Feed story 7"),
        ("page-1", "changed", first[2][1] + " (updated)"),
        ("page-1", "new", "A new story on top of the page"),
    ]


def test_parse_workers_from_the_setting_or_automatic() -> None:
    pages = [Source(name=f"s{i}", url=f"http://127.0.0.1/{i}") for i in range(30)]
    feeds = [Source(name=f"f{i}", url=f"http://127.0.0.1/f{i}", kind="feed") for i in range(30)]
    assert parse_workers(0, pages, 8) == 0
    assert parse_workers(3, pages, 8) == 3
    assert parse_workers(None, pages[:5], 8) == 0  # a few sources: not worth a process
    assert parse_workers(None, pages, 1) == 0  # one CPU: nothing to gain
    assert parse_workers(None, pages, 2) == 1  # one worker keeps up with the main process
    assert parse_workers(None, pages, 16) == 1
    assert parse_workers(None, feeds, 2) == 2  # feeds are slow to parse: one per CPU
    assert parse_workers(None, feeds, 16) == 5
    assert parse_workers(None, pages + feeds, 16) == 3


def test_a_dead_worker_fails_only_its_job_and_is_replaced() -> None:
    import asyncio
    import os

    import pytest

    from monitor.models import ExtractError
    from monitor.pipeline.pool import ParsePool

    async def go() -> tuple[int, int]:
        pool = await ParsePool.start(1, ("html",))
        loop = asyncio.get_running_loop()
        try:
            with pytest.raises(ExtractError, match="parser process died"):
                await loop.run_in_executor(pool, os._exit, 3)
            for _ in range(100):  # the replacement starts as soon as the death is seen
                if pool.workers:
                    break
                await asyncio.sleep(0.01)
            return await loop.run_in_executor(pool, len, b"abc"), pool.restarts
        finally:
            await pool.aclose()

    assert asyncio.run(go()) == (3, 1)


def test_errors_raised_in_a_worker_come_back_as_they_are() -> None:
    import asyncio

    import pytest

    from monitor.extract import extract_items
    from monitor.models import ExtractError
    from monitor.pipeline.pool import ParsePool

    async def go() -> None:
        pool = await ParsePool.start(1, ("html",))
        loop = asyncio.get_running_loop()
        source = Source(name="s", url="http://127.0.0.1/")
        try:
            with pytest.raises(ExtractError, match="empty response body"):
                await loop.run_in_executor(pool, extract_items, source, b"  ", source.url, None)
        finally:
            await pool.aclose()

    asyncio.run(go())
