"""Hostile origins with the shipped defaults: what each does and how long it holds a worker.

    .venv/bin/python bench/hostile.py                    # defaults: 60 s total timeout, 10 MB cap
    .venv/bin/python bench/hostile.py --total-timeout 5 --compare

Each attack of tests/hostile.py is polled through check_source next to a healthy source
(both on the same local server, concurrently); the table gives the outcome and the seconds
the hostile poll held its worker. --compare adds the deep-nesting page with the depth guard
switched off, to show what the guard saves.

Everything runs on 127.0.0.1; the database is bench/out/hostile/state.db.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.models import Rule, Source  # noqa: E402
from monitor.pipeline.check import CheckOutcome, check_source  # noqa: E402
from monitor.pipeline.fetch import Fetcher, FetchSettings  # noqa: E402
from monitor.pipeline.store import Store  # noqa: E402
from tests.conftest import Site  # noqa: E402
from tests.hostile import SECRET, Attack, attacks  # noqa: E402
from tests.reliability import listing  # noqa: E402


async def poll(
    site: Site, store: Store, attack: Attack, settings: FetchSettings
) -> tuple[CheckOutcome, float, CheckOutcome]:
    hostile = Source(
        name=attack.name,
        url=site.set(f"/{attack.name}", b"", handler=attack.handler),
        kind=attack.kind,  # type: ignore[arg-type]
        rule=Rule(item="li.item"),
    )
    healthy = Source(
        name=f"healthy-{attack.name}",
        url=site.set("/healthy", listing(range(1, 4))),
        rule=Rule(item="li.item"),
    )
    async with Fetcher(settings) as fetcher:

        async def timed() -> tuple[CheckOutcome, float]:
            started = time.monotonic()
            outcome = await check_source(hostile, fetcher=fetcher, store=store)
            return outcome, time.monotonic() - started

        (bad, held), good = await asyncio.gather(
            timed(), check_source(healthy, fetcher=fetcher, store=store)
        )
    return bad, held, good


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--total-timeout", type=float, default=60.0)
    parser.add_argument("--compare", action="store_true", help="also run without the depth guard")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "hostile")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    secret = args.out / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    site = Site()
    store = Store.open(args.out / "state.db")
    chosen = attacks(str(secret), site.base)
    if args.compare:
        import monitor.extract.html as html

        deep = next(a for a in chosen if a.name == "deep-nesting")
        chosen.append(Attack("deep-nesting-unguarded", deep.what, deep.handler))
        original = html.check_nesting
    print("| attack | what the server does | outcome | held a worker | healthy neighbour |")
    print("| --- | --- | --- | --- | --- |")
    leaks = 0
    try:
        for attack in chosen:
            cap = int(dict(attack.settings).get("max_bytes", 10 * 1024 * 1024))
            settings = FetchSettings(total_timeout=args.total_timeout, max_bytes=cap)
            if attack.name == "deep-nesting-unguarded":
                html.check_nesting = lambda *a, **k: None  # type: ignore[assignment]
            try:
                bad, held, good = asyncio.run(poll(site, store, attack, settings))
            finally:
                if args.compare:
                    html.check_nesting = original
            if bad.failed:
                outcome = f"refused: {bad.error}"
            else:
                titles = [
                    s.item.title
                    for s in sorted(
                        store.load_items(attack.name).values(), key=lambda s: s.position or 0
                    )
                ]
                outcome = f"{bad.status}, {len(titles)} items: " + "; ".join(titles)
            leaks += SECRET in repr(bad) + outcome
            neighbour = f"{good.status}, {good.items} items" if not good.failed else good.error
            print(f"| {attack.name} | {attack.what} | {outcome} | {held:.2f} s | {neighbour} |")
    finally:
        store.close()
        site.close()
    database = b"".join(p.read_bytes() for p in args.out.glob("state.db*"))
    leaks += SECRET.encode() in database
    print()
    print(f"local file contents seen in outcomes or the database: {leaks} times")
    return 0 if leaks == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
