"""Publication→alert delay with fixed and adaptive scheduling at the same number of requests.

    python bench/adaptive.py                      # every usable corpus feed, 7 days (~minutes)
    python bench/adaptive.py --feeds 3 --days 2   # a short run

Each corpus feed with enough dated entries (../shared/corpus/feed/) gives one source. Its
entries keep their real time of day (`--spread day`) or weekday and time (`--spread week`)
and are replayed day after day (week after week) on a feed served from 127.0.0.1: each
repetition shifts the whole timeline by a random offset (σ `--shift`), moves each entry by
up to ±`--wobble` and drops a share of them (`--drop`), so that no day repeats the one
before. The feed lists the newest 30 entries published so far, with their dates, and
answers If-None-Match with 304.

The monitor polls it through the daemon's own pieces under a simulated clock: a
`Monitor` (`poll_async`, stamping what it records with the simulated time) and the
daemon's `Pacer` (counting requests per day and asking the adaptive policy when to poll
next); a fixed source runs every `--interval`, as its trigger would. Days pass in seconds.
Three runs, each on a new database: fixed; adaptive with the same daily budget (86400 /
interval requests); adaptive with half of it.

An item's delay is the simulated time of the poll that recorded its `new` event (the alert
in the outbox) minus its publication time. Items published during the first `--warmup`
days are not measured (both schedules learn nothing during them; adaptive uses them to
learn), nor are the requests of those days counted.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import email.utils
import hashlib
import heapq
import json
import random
import statistics
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus" / "feed"
# A replay starts on a Monday at midnight, UTC.
EPOCH = datetime(2026, 3, 2, tzinfo=UTC)
FEED_SIZE = 30
MIN_ENTRIES = 10


# -- timelines --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One publication: when (simulated), its link and title."""

    at: datetime
    link: str
    title: str


@dataclass(frozen=True)
class Timeline:
    """A source's publications over the whole replay, oldest first."""

    name: str
    entries: tuple[Entry, ...]

    def listing(self, now: datetime) -> list[Entry]:
        """The feed at `now`: the newest FEED_SIZE entries published so far."""
        published = [e for e in self.entries if e.at <= now]
        return list(reversed(published[-FEED_SIZE:]))


def corpus_rhythms(
    folder: Path, min_entries: int = MIN_ENTRIES, only: Sequence[str] = ()
) -> dict[str, list[datetime]]:
    """Feed name -> its entries' publication times, for feeds with enough distinct ones
    (`only`: just these file stems)."""
    import feedparser

    found: dict[str, list[datetime]] = {}
    for path in sorted(folder.iterdir()):
        if only and path.stem not in only:
            continue
        parsed = feedparser.parse(path.read_bytes())
        times = set()
        for entry in parsed.entries:
            stamp = entry.get("published_parsed") or entry.get("updated_parsed")
            if stamp:
                times.add(datetime.fromtimestamp(calendar.timegm(stamp), UTC))
        if len(times) >= min_entries:
            found[path.stem] = sorted(times)
    return found


def replay(
    name: str,
    times: Sequence[datetime],
    *,
    spread: str,
    periods: int,
    shift: float,
    wobble: float,
    drop: float,
    seed: int,
) -> Timeline:
    """`times` folded into one day (or week) and repeated `periods` times from EPOCH, with
    one period before it (what the feed lists at the first poll)."""
    rng = random.Random(f"{seed}:{name}")
    length = timedelta(days=7 if spread == "week" else 1)
    offsets = sorted(_offset_in(t, spread) for t in times)
    entries: list[Entry] = []
    for period in range(-1, periods):
        start = EPOCH + period * length
        moved = rng.gauss(0.0, shift)
        for index, offset in enumerate(offsets):
            if rng.random() < drop:
                continue
            at = start + offset + timedelta(seconds=moved + rng.uniform(-wobble, wobble))
            link = f"https://{name}.example/{period + 1}/{index}"
            entries.append(Entry(at.replace(microsecond=0), link, f"{name} {period + 1}.{index}"))
    entries.sort(key=lambda e: e.at)
    return Timeline(name, tuple(entries))


def _offset_in(moment: datetime, spread: str) -> timedelta:
    of_day = timedelta(hours=moment.hour, minutes=moment.minute, seconds=moment.second)
    return of_day + timedelta(days=moment.weekday()) if spread == "week" else of_day


# -- the site ---------------------------------------------------------------------------------


class Site:
    """The feeds as of the simulated clock, served on 127.0.0.1."""

    def __init__(self, timelines: Sequence[Timeline]) -> None:
        self.timelines = {t.name: t for t in timelines}
        self.now = EPOCH
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None

    def feed(self, name: str) -> bytes:
        items = "".join(
            f"<item><title>{escape(e.title)}</title><link>{escape(e.link)}</link>"
            f"<guid>{escape(e.link)}</guid>"
            f"<pubDate>{email.utils.format_datetime(e.at, usegmt=True)}</pubDate></item>"
            for e in self.timelines[name].listing(self.now)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(name)}</title><link>https://{escape(name)}.example/</link>"
            f"{items}</channel></rss>"
        ).encode()

    def start(self) -> str:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                name = self.path.strip("/").removesuffix(".xml")
                if name not in site.timelines:
                    self.send_error(404)
                    return
                site.requests += 1
                body = site.feed(name)
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# -- one run ----------------------------------------------------------------------------------


@dataclass
class RunResult:
    label: str
    requests: int = 0
    requests_all: int = 0
    delays: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    def median(self) -> float:
        return statistics.median(self.delays) if self.delays else float("nan")

    def p95(self) -> float:
        return percentile(self.delays, 0.95)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


async def run_schedule(
    label: str,
    site: Site,
    base_url: str,
    *,
    schedule: str,
    interval: float,
    budget: float | None,
    start: datetime,
    measure_from: datetime,
    end: datetime,
    folder: Path,
) -> RunResult:
    """Poll every feed of the site from `start` to `end` (simulated) with one schedule."""
    from monitor.app import Monitor
    from monitor.daemon.pacer import Pacer
    from monitor.models import Settings, Source

    sources = tuple(
        Source(
            name=name,
            url=f"{base_url}/{name}.xml",
            kind="feed",
            interval=interval,
            schedule=schedule,  # type: ignore[arg-type]
            budget=budget,
        )
        for name in site.timelines
    )
    settings = Settings(
        config_path=str(folder / "monitor.toml"),
        database=str(folder / f"{label.replace(' ', '-')}.db"),
        sources=sources,
        user_agent="news-monitor-bench",
        per_host_concurrency=64,
        keep_events=None,
    )
    result = RunResult(label)
    clock = SimulatedClock(start)
    async with Monitor(settings) as monitor:
        await monitor.start_polling(parse_threads=1)
        pacer = Pacer(monitor, clock=clock.now)
        queue: list[tuple[datetime, int, str]] = [
            (start + timedelta(seconds=index), index, s.name) for index, s in enumerate(sources)
        ]
        heapq.heapify(queue)
        by_name = {s.name: s for s in sources}
        while queue:
            when, index, name = heapq.heappop(queue)
            if when > end:
                continue
            clock.set(when)
            site.now = when
            source = by_name[name]
            outcome = await monitor.poll_async(source, now=clock.iso)
            result.requests_all += 1
            if when >= measure_from:
                result.requests += 1
            decision = await pacer.after_poll(source, outcome)
            if decision is not None:
                upcoming = decision.at
                result.reasons[decision.reason] = result.reasons.get(decision.reason, 0) + 1
            else:
                upcoming = when + timedelta(seconds=interval)
            heapq.heappush(queue, (upcoming, index, name))
        alerted = {
            e.item.url: datetime.fromisoformat(e.at)
            for e in await monitor.events_async(kind="new")
            if e.item is not None
        }
    for timeline in site.timelines.values():
        for entry in timeline.entries:
            if not measure_from <= entry.at <= end:
                continue
            seen = alerted.get(entry.link)
            if seen is None:
                result.missed.append(entry.link)
            else:
                result.delays.append((seen - entry.at).total_seconds())
    return result


class SimulatedClock:
    """The time the replay is at (UTC)."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def set(self, when: datetime) -> None:
        self.at = when

    def now(self) -> datetime:
        return self.at

    def iso(self) -> str:
        return self.at.isoformat(timespec="seconds")


# -- the benchmark ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    feeds: int | None = None
    days: int = 7
    warmup: int = 2
    interval: float = 600.0
    spread: str = "day"
    shift: float = 1800.0
    wobble: float = 600.0
    drop: float = 0.2
    seed: int = 1
    corpus: Path = CORPUS
    only: tuple[str, ...] = ()


async def benchmark(options: Options, folder: Path) -> dict[str, Any]:
    rhythms = corpus_rhythms(options.corpus, only=options.only)
    names = list(options.only) or sorted(rhythms)
    if options.feeds is not None:
        names = names[: options.feeds]
    length_days = 7 if options.spread == "week" else 1
    periods = -(-options.days // length_days)
    timelines = [
        replay(
            name,
            rhythms[name],
            spread=options.spread,
            periods=periods,
            shift=options.shift,
            wobble=options.wobble,
            drop=options.drop,
            seed=options.seed,
        )
        for name in names
    ]
    site = Site(timelines)
    base_url = site.start()
    start = EPOCH
    measure_from = EPOCH + timedelta(days=options.warmup)
    end = EPOCH + timedelta(days=options.days)
    per_day = 86400.0 / options.interval
    runs = [
        ("fixed", "fixed", None),
        ("adaptive", "adaptive", per_day),
        ("adaptive, half budget", "adaptive", per_day / 2),
    ]
    results: list[RunResult] = []
    try:
        for label, schedule, budget in runs:
            results.append(
                await run_schedule(
                    label,
                    site,
                    base_url,
                    schedule=schedule,
                    interval=options.interval,
                    budget=budget,
                    start=start,
                    measure_from=measure_from,
                    end=end,
                    folder=folder,
                )
            )
    finally:
        site.stop()
    published = sum(1 for t in timelines for e in t.entries if measure_from <= e.at <= end)
    return {
        "options": {k: str(v) for k, v in options.__dict__.items()},
        "feeds": names,
        "published": published,
        "runs": [
            {
                "label": r.label,
                "requests": r.requests,
                "requests_all": r.requests_all,
                "alerted": len(r.delays),
                "missed": len(r.missed),
                "median_s": r.median(),
                "p95_s": r.p95(),
                "mean_s": statistics.fmean(r.delays) if r.delays else float("nan"),
                "reasons": r.reasons,
            }
            for r in results
        ],
    }


def table(report: dict[str, Any]) -> str:
    """The README's table."""
    lines = [
        "| schedule | requests | items alerted | median delay | p95 delay | mean delay |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in report["runs"]:
        lines.append(
            f"| {run['label']} | {run['requests']} | {run['alerted']} of {report['published']}"
            f" | {_minutes(run['median_s'])} | {_minutes(run['p95_s'])}"
            f" | {_minutes(run['mean_s'])} |"
        )
    return "\n".join(lines)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def parse_args(argv: Sequence[str] | None = None) -> tuple[Options, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, help="only the first N usable corpus feeds")
    parser.add_argument("--only", default="", help="comma-separated feed names (file stems)")
    parser.add_argument("--days", type=int, default=7, help="simulated days (default 7)")
    parser.add_argument("--warmup", type=int, default=2, help="days not measured (default 2)")
    parser.add_argument("--interval", type=float, default=600.0, help="fixed interval, s")
    parser.add_argument("--spread", choices=["day", "week"], default="day")
    parser.add_argument("--shift", type=float, default=1800.0, help="σ of a day's shift, s")
    parser.add_argument("--wobble", type=float, default=600.0, help="± per entry, s")
    parser.add_argument("--drop", type=float, default=0.2, help="share of entries dropped")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    options = Options(
        feeds=args.feeds,
        days=args.days,
        warmup=args.warmup,
        interval=args.interval,
        spread=args.spread,
        shift=args.shift,
        wobble=args.wobble,
        drop=args.drop,
        seed=args.seed,
        corpus=args.corpus,
        only=tuple(n for n in args.only.split(",") if n),
    )
    return options, args.json


def main(argv: Sequence[str] | None = None) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING)
    options, json_out = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-adaptive-") as tmp:
        report = asyncio.run(benchmark(options, Path(tmp)))
    print(
        f"{len(report['feeds'])} feeds, {options.days} days ({options.warmup} not measured),"
        f" spread over a {options.spread}, fixed interval {options.interval:g} s"
    )
    print(table(report))
    for run in report["runs"]:
        print(f"{run['label']}: reasons {json.dumps(run['reasons'], sort_keys=True)}")
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
