"""The floors the monitor is measured against, each run in a fresh process by bench/run.py.

    python bench/floors.py fetch URLS_FILE CONCURRENCY [--conditional]
        async httpx client, keep-alive, CONCURRENCY requests in flight; every body read.
        --conditional sends the ETag of a first pass back (If-None-Match): the 304 floor.
    python bench/floors.py parse FILES_FILE
        selectolax (lexbor) parse plus the item selectors: the least work that finds items.
    python bench/floors.py extract FILES_FILE
        the monitor's own extractor (monitor.extract.extract_items) on the same bytes.
    python bench/floors.py feed FILES_FILE
        the monitor's feed extractor on RSS bodies.

Each prints one JSON line: {"count": N, "seconds": S} for the timed part only (imports,
start-up and reading files excluded).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

ITEM = ".news-item"
TITLE_LINK = ".news-item__title a"
SECTION = ".news-item__rubric"
MARKER = "The material is available only to POZIRK+"


async def fetch_all(urls: list[str], concurrency: int, conditional: bool) -> tuple[int, float]:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        etags: dict[str, str] = {}
        if conditional:
            for url in urls:
                response = await client.get(url)
                etags[url] = response.headers.get("etag", "")
        queue = list(reversed(urls))
        statuses: dict[int, int] = {}

        async def worker() -> None:
            while queue:
                url = queue.pop()
                headers = {"If-None-Match": etags[url]} if conditional else {}
                async with client.stream("GET", url, headers=headers) as response:
                    async for _ in response.aiter_raw():
                        pass
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    expected = 304 if conditional else 200
    if statuses.get(expected, 0) != len(urls):
        raise SystemExit(f"unexpected statuses: {statuses}")
    return len(urls), seconds


def parse_all(bodies: list[bytes]) -> tuple[int, float]:
    from selectolax.lexbor import LexborHTMLParser

    started = time.perf_counter()
    found = 0
    for body in bodies:
        tree = LexborHTMLParser(body.decode("utf-8"))
        for node in tree.css(ITEM):
            link = node.css_first(TITLE_LINK)
            section = node.css_first(SECTION)
            if link is None:
                continue
            _ = (
                link.attributes.get("href"),
                link.text(strip=True),
                section.text(strip=True) if section else None,
                MARKER in node.text(),
            )
            found += 1
    seconds = time.perf_counter() - started
    if found < 40 * len(bodies):
        raise SystemExit(f"parse floor found only {found} items in {len(bodies)} pages")
    return len(bodies), seconds


def extract_all(bodies: list[bytes], kind: str) -> tuple[int, float]:
    from monitor.extract import extract_items
    from monitor.models import Rule, Source

    rule = Rule(
        item=ITEM,
        title=".news-item__title",
        link=TITLE_LINK,
        section=SECTION,
        date="time",
        paywall_text=(MARKER,),
    )
    source = Source(
        name="floor",
        url="http://127.0.0.1/en/floor/",
        kind="feed" if kind == "feed" else "html",
        rule=rule,
        paywall_categories=("POZIRK+",),
    )
    ctype = "application/rss+xml; charset=utf-8" if kind == "feed" else "text/html; charset=utf-8"
    extract_items(source, bodies[0], source.url, ctype)  # warm: lazy imports, regex caches
    started = time.perf_counter()
    found = sum(len(extract_items(source, body, source.url, ctype)) for body in bodies)
    seconds = time.perf_counter() - started
    if found < 25 * len(bodies):
        raise SystemExit(f"extractor found only {found} items in {len(bodies)} bodies")
    return len(bodies), seconds


def main(argv: list[str]) -> None:
    what, listing = argv[0], Path(argv[1])
    lines = [line for line in listing.read_text().splitlines() if line]
    if what == "fetch":
        count, seconds = asyncio.run(fetch_all(lines, int(argv[2]), "--conditional" in argv))
    else:
        bodies = [Path(p).read_bytes() for p in lines]
        if what == "parse":
            count, seconds = parse_all(bodies)
        else:
            count, seconds = extract_all(bodies, what)
    print(json.dumps({"count": count, "seconds": seconds}))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main(sys.argv[1:])
