"""The web view and full-text search at a million items.

    .venv/bin/python bench/web.py [--items 1000000] [--events 200000] [--keep DB]

Builds a database with plain SQL inserts through the real schema (the search triggers
index every row as it goes in), then times, median of several runs each:
- `--grep` searches (Store.query_items, as `monitor items --grep` runs them): a common
  word, a rare one, two words, a word with a typo, a diacritic-free spelling;
- pages, feeds and /metrics over HTTP from a real `monitor serve` on 127.0.0.1.
Prints one JSON object; the README's figures come from it.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VOCABULARY = (
    "Łukašenka Biełaruski rubiel budget Minsk metro Vilnius Cichanoŭskaja palityka ekanomika"
    " sport kultura hramadstva uładа vybary sankcyi ekspart kalij Hrodna Homiel Viciebsk Mahilou"
    " Brest zakon sud padatki bieżancy navuka škola universitet zdaroŭje bolnica ceny inflacyja"
    " nafta haz elektryka vyrab pracа zarplata pensija transpart čyhunka aeraport mytnia miaža"
    " Polšča Litva Ukraina Rasija Kitaj Eŭropa NATO paštovy internet cenzura žurnalist pratest"
    " vyzvalenie palitviazni amnistyja kanstytucyja deputat ministr premjer"
)
WORDS = VOCABULARY.split()
# In one title out of a thousand.
RARE = "referendum"
SECTIONS = (
    "Palityka",
    "Ekanomika",
    "Hramadstva",
    "Sport",
    "Kultura",
    "Śviet",
    "Technalohii",
    "Zdaroŭje",
    "Adukacyja",
    "Region",
)
SEARCHES = {
    "common word": "minsk",
    "rare word": "referendum",
    "two words": "rubiel budget",
    "typo": "belaruski",
    "without diacritics": "lukasenka",
}
PAGES = {
    "items page 1": "/items",
    "items, one source, paywalled": "/items?source=source-3&paywall=paywalled",
    "search page": "/search?q=lukasenka",
    "events timeline": "/events",
    "one item's history": "/items/{item}",
    "sources": "/sources",
    "Atom feed": "/feeds/events.atom",
    "Atom feed, filtered": "/feeds/events.atom?events=changed&include=rubiel",
    "metrics": "/metrics",
}
SOURCES = 10
NOW = "2026-01-07T10:00:00+00:00"
RUNS = 5


def title(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 10))]
    if rng.random() < 0.001:
        words.append(RARE)
    return " ".join(words)


def build(path: Path, items: int, events: int) -> float:
    """The database, built through the real schema; seconds it took."""
    from monitor.pipeline.store import Store

    Store.open(path).close()
    rng = random.Random(14)
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO sources (name, url, kind, last_poll, last_success, item_count)"
        " VALUES (?, ?, 'html', ?, ?, 50)",
        [(f"source-{n}", f"https://news{n}.test/", NOW, NOW) for n in range(SOURCES)],
    )
    conn.executemany(
        "INSERT INTO items (source, key, url, title, section, paywalled, first_seen,"
        " last_seen, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                f"source-{n % SOURCES}",
                f"k{n}",
                f"https://news{n % SOURCES}.test/a/{n}",
                title(rng),
                rng.choice(SECTIONS),
                int(rng.random() < 0.3),
                f"2026-01-{1 + n * 6 // items:02d}T{n % 24:02d}:{n % 60:02d}:00+00:00",
                "2026-01-07T10:00:00+00:00",
                n % 50 if n >= items - 500 else None,
            )
            for n in range(items)
        ),
    )
    conn.executemany(
        "INSERT INTO events (at, source, kind, key, url, title, section, paywalled, changes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                f"2026-01-{1 + n * 6 // events:02d}T{n % 24:02d}:{n % 60:02d}:00+00:00",
                f"source-{(items - 1 - n) % SOURCES}",
                "changed" if n % 3 else "new",
                f"k{items - 1 - n}",
                f"https://news{(items - 1 - n) % SOURCES}.test/a/{items - 1 - n}",
                title(rng),
                rng.choice(SECTIONS),
                int(rng.random() < 0.3),
                '[{"field": "paywalled", "before": true, "after": false}]' if n % 3 else None,
            )
            for n in range(events)
        ),
    )
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def median_ms(run, times: int = RUNS) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def searches(path: Path) -> dict[str, dict[str, float]]:
    from monitor.pipeline.store import Store

    store = Store.open(path)
    try:
        out = {}
        for name, text in SEARCHES.items():
            found = store.query_items(grep=text, limit=100)
            total = len(store.query_items(grep=text))
            out[name] = {
                "query": text,
                "ms (first 100)": median_ms(lambda t=text: store.query_items(grep=t, limit=100)),
                "matches": total,
                "shown": len(found),
            }
        return out
    finally:
        store.close()


def pages(path: Path) -> dict[str, float]:
    import httpx

    from tests.conftest import free_port

    config = path.parent / "bench-web.toml"
    config.write_text(
        f'database = "{path}"\n'
        + "".join(
            f'[[sources]]\nname = "source-{n}"\nurl = "https://news{n}.test/"\n'
            '[sources.rule]\nitem = "article"\n'
            for n in range(SOURCES)
        ),
        encoding="utf-8",
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
        ],
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    try:
        for _ in range(600):
            try:
                client.get("/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        item = sqlite3.connect(path).execute("SELECT max(rowid) FROM items").fetchone()[0]
        out = {}
        for name, route in PAGES.items():
            url = route.format(item=item)
            assert client.get(url).status_code == 200, url
            out[name] = median_ms(lambda u=url: client.get(u))
        return out
    finally:
        client.close()
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "web-bench.db"
        built = None
        if not path.exists():
            built = round(build(path, args.items, args.events), 1)
        result = {
            "items": args.items,
            "events": args.events,
            "build_s": built,
            "database_mb": round(path.stat().st_size / 1e6, 1),
            "search": searches(path),
            "http_ms": pages(path),
        }
        print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
