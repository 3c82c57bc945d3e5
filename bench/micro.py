"""Micro figures, each run in a fresh process by bench/run.py; each prints one JSON line.

python bench/micro.py store DB_PATH ITEMS [SAMPLES]
    diff + commit of one 50-item page (2 new, 1 headline edited, 1 paywall lifted,
    2 scrolled off) against a database holding ITEMS items (built once with executemany).
python bench/micro.py latency CONFIG SEED PAGES GENERATION FRACTION [SAMPLES]
    from a page fetched (the body in hand) to its events and outbox rows committed,
    through check_source against the live server, inline and via a worker process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import sitegen

ITEMS_PER_SOURCE = 50
NOW = "2026-01-07T10:00:00+00:00"


def _route(settings: Any) -> tuple[Any, str]:
    """The application's router (with one channel taking every event when the settings have none);
    when it queues nothing, one outbox row per event (said so)."""
    import dataclasses

    from monitor.app import make_router
    from monitor.models import Channel, Event, Item
    from monitor.pipeline.check import no_routes
    from monitor.pipeline.store import OutboxRow

    if not settings.channels:
        channel = Channel(name="bench", urls=("json://127.0.0.1:9/",))
        settings = dataclasses.replace(settings, channels=(channel,))
    router = make_router(settings)
    probe = [Event(kind="new", source="p", at=NOW, item=Item(key="k", url="u", title="t"))]
    if router is not no_routes and router(probe):
        return router, "app.make_router"

    def every_event(events: Any) -> list[OutboxRow]:
        return [OutboxRow(i, "bench", f"{e.source}:{i}") for i, e in enumerate(events)]

    return every_event, "one row per event (app.make_router queued none)"


def build_db(path: Path, items: int) -> None:
    """`items` items over items/50 sources, in one transaction with executemany."""
    from monitor.pipeline.store import Store

    if path.exists():
        conn = sqlite3.connect(path)
        try:
            have = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        except sqlite3.DatabaseError:
            have = -1
        conn.close()
        if have == items:
            return
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store.open(path)
    sources = items // ITEMS_PER_SOURCE
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO sources (name, url, kind, first_poll, last_poll, last_success,"
            " last_status, consecutive_errors, item_count)"
            " VALUES (?, ?, 'html', ?, ?, ?, 200, 0, ?)",
            (
                (f"s{s:06d}", f"https://pozirk.example/en/s{s:06d}/", NOW, NOW, NOW, 50)
                for s in range(sources)
            ),
        )
        conn.executemany(
            "INSERT INTO items (source, key, url, title, section, published, paywalled, summary,"
            " first_seen, last_seen, position) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            (
                (
                    f"s{s:06d}",
                    f"https://pozirk.example/en/politics/{s * 100 + k}-headline/",
                    f"https://pozirk.example/en/politics/{s * 100 + k}-headline/",
                    f"Headline number {k} of source {s} about the news of the day",
                    "Politics",
                    NOW,
                    int(k % 3 == 0),
                    NOW,
                    NOW,
                    k,
                )
                for s in range(sources)
                for k in range(ITEMS_PER_SOURCE)
            ),
        )
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def store_figure(base: Path, items: int, samples: int) -> dict[str, Any]:
    import random
    import shutil

    from monitor.models import Item, Settings
    from monitor.pipeline.diff import diff_items
    from monitor.pipeline.store import Store

    started = time.perf_counter()
    build_db(base, items)
    built = time.perf_counter() - started
    db = base.with_name(base.stem + "-run.db")  # each run starts from the same state
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(base, db)
    store = Store.open(db)
    route, how = _route(Settings(config_path="", database=str(db), sources=()))
    total = store.conn.execute("SELECT count(*) FROM items").fetchone()[0]
    picked = random.Random(1).sample(range(items // ITEMS_PER_SOURCE), samples)
    names = [f"s{s:06d}" for s in picked]
    timings: dict[str, list[float]] = {"load": [], "diff": [], "commit": [], "total": []}
    events_made = 0
    for n, name in enumerate(names):
        t0 = time.perf_counter()
        known = store.load_items(name)
        t1 = time.perf_counter()
        listed = [s.item for s in sorted(known.values(), key=lambda s: s.position or 0)]
        fresh = [
            Item(key=f"{name}-new-{n}-{j}", url=f"https://pozirk.example/new/{n}-{j}/", title="New")
            for j in range(2)
        ] + listed[:-2]
        fresh[5] = replace(fresh[5], title=fresh[5].title + " (updated)")
        paid = next(i for i, it in enumerate(fresh) if it.paywalled)
        fresh[paid] = replace(fresh[paid], paywalled=False)
        t2 = time.perf_counter()
        diff = diff_items(name, known, fresh, NOW, baseline=False, last_count=len(known))
        t3 = time.perf_counter()
        events = list(diff.events)
        store.commit_check(
            name=name,
            url=f"https://pozirk.example/en/{name}/",
            kind="html",
            now=NOW,
            status=200,
            etag=None,
            last_modified=None,
            body_hash=None,
            listed=diff.listed,
            gone=diff.gone,
            events=events,
            outbox=route(events),
            item_count=len(diff.listed),
            health=None,
        )
        t4 = time.perf_counter()
        events_made += len(events)
        timings["load"].append(t1 - t0)
        timings["diff"].append(t3 - t2)
        timings["commit"].append(t4 - t3)
        timings["total"].append((t1 - t0) + (t4 - t2))
    store.close()
    return {
        "items_in_db": total,
        "db_build_s": built,
        "samples": samples,
        "events_per_commit": events_made / samples,
        "router": how,
        **{f"{k}_ms": statistics.median(v) * 1000 for k, v in timings.items()},
        "total_p95_ms": sorted(timings["total"])[int(0.95 * samples) - 1] * 1000,
    }


async def _latency_run(
    config: Path, seed: int, pages: int, generation: int, fraction: float, samples: int, pool: bool
) -> tuple[list[float], str, int]:
    from monitor.app import fetch_settings
    from monitor.config.settings import load_settings
    from monitor.extract import extract_items
    from monitor.pipeline.check import check_source
    from monitor.pipeline.diff import diff_items
    from monitor.pipeline.fetch import Fetcher
    from monitor.pipeline.store import Store

    settings = load_settings(config)
    route, how = _route(settings)
    before = sitegen.site_at(seed, pages, 0, generation - 1, fraction)
    chosen = sitegen.mutated_indexes(seed, generation, pages, fraction)[:samples]
    db = Path(settings.database).with_name(f"latency-{os.getpid()}-{int(pool)}.db")
    store = Store.open(db)
    fetched: dict[str, float] = {}
    committed: dict[str, float] = {}

    class TimedFetcher(Fetcher):
        async def fetch(self, url: str, **kwargs: Any) -> Any:
            result = await super().fetch(url, **kwargs)
            fetched[url] = time.perf_counter()
            return result

    real_commit = store.commit_check

    def timed_commit(**kwargs: Any) -> list[int]:
        ids = real_commit(**kwargs)
        committed[kwargs["name"]] = time.perf_counter()
        return ids

    store.commit_check = timed_commit  # type: ignore[method-assign]
    outbox_rows = 0
    executor = ProcessPoolExecutor(1) if pool else None
    try:
        for index in chosen:
            source = settings.sources[index]
            # The state the previous generation left: as if the last poll saw it.
            old = sitegen.render_page(before.pages[index], seed)
            items = extract_items(source, old, source.url, "text/html; charset=utf-8")
            diff = diff_items(source.name, {}, items, NOW, baseline=True, last_count=0)
            real_commit(
                name=source.name,
                url=source.url,
                kind=source.kind,
                now=NOW,
                status=200,
                etag=None,
                last_modified=None,
                body_hash=None,
                listed=diff.listed,
                gone=(),
                events=[],
                outbox=[],
                item_count=len(items),
                health=None,
            )
        if executor is not None:  # start the worker before timing
            executor.submit(len, b"").result()
        async with TimedFetcher(fetch_settings(settings)) as fetcher:
            latencies = []
            for index in chosen:
                source = settings.sources[index]
                outcome = await check_source(
                    source, fetcher=fetcher, store=store, route=route, executor=executor
                )
                if outcome.status != "ok" or not outcome.events:
                    raise SystemExit(f"{source.name}: expected events, got {outcome}")
                latencies.append(committed[source.name] - fetched[source.url])
        outbox_rows = store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        if executor is not None:
            executor.shutdown()
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    return latencies, how, outbox_rows


def latency_figure(
    config: Path, seed: int, pages: int, generation: int, fraction: float, samples: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pool in (False, True):
        latencies, how, rows = asyncio.run(
            _latency_run(config, seed, pages, generation, fraction, samples, pool)
        )
        key = "pool" if pool else "inline"
        out[f"{key}_median_ms"] = statistics.median(latencies) * 1000
        out[f"{key}_max_ms"] = max(latencies) * 1000
        out[f"{key}_samples"] = len(latencies)
        out[f"{key}_outbox_rows"] = rows
        out["router"] = how
    return out


def main(argv: list[str]) -> None:
    if argv[0] == "store":
        samples = int(argv[3]) if len(argv) > 3 else 200
        result = store_figure(Path(argv[1]), int(argv[2]), samples)
    else:
        config, seed, pages, generation, fraction = argv[1:6]
        samples = int(argv[6]) if len(argv) > 6 else 30
        result = latency_figure(
            Path(config), int(seed), int(pages), int(generation), float(fraction), samples
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
