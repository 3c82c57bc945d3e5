"""Does a huge page stall the daemon? The longest gap between polls of a small source while
`monitor run` also parses a feed near the 10 MB cap.

    .venv/bin/python bench/loop_stall.py                 # 40 s, a 60,000-entry feed (9 MB)
    .venv/bin/python bench/loop_stall.py --seconds 60 --entries 50000

The small source is due every second; the big feed every 10 s and different each time (so it
is parsed each time). With parsing on the event loop, every parse of the big feed would
hold up everything else for its whole duration; the printed gap shows what happens.

Everything runs on 127.0.0.1; the work directory is bench/out/loop_stall/.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import Site  # noqa: E402
from tests.reliability import html_source, listing  # noqa: E402


def big_feed(entries: int, version: int) -> bytes:
    items = "".join(
        f"<item><title>Story {version}-{i}</title><link>http://127.0.0.1/{version}/{i}</link>"
        f"<description>{'words ' * 8}</description></item>"
        for i in range(entries)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>{items}'
        "</channel></rss>"
    ).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--entries", type=int, default=60_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "loop_stall")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    site = Site()
    versions = itertools.count()
    bodies = [big_feed(args.entries, v) for v in range(2)]
    print(f"big feed: {len(bodies[0]) / 1e6:.1f} MB, {args.entries} entries")

    def serve_big(handler: BaseHTTPRequestHandler) -> None:
        body = bodies[next(versions) % 2]
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    small = site.set("/small", listing(range(1, 4)))
    big = site.set("/big", b"", handler=serve_big, validators=False)
    config = args.out / "monitor.toml"
    config.write_text(
        'database = "state.db"\n'
        + html_source("small", small, "1s")
        + f'[[sources]]\nname = "big"\nurl = "{big}"\nkind = "feed"\ninterval = "10s"\n',
        encoding="utf-8",
    )
    log = (args.out / "daemon.log").open("wb")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=log,
        stderr=log,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    time.sleep(args.seconds)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(60)
    log.close()
    site.close()
    times = [r.at for r in site.requests_for("/small")]
    gaps = [b - a for a, b in itertools.pairwise(times[2:])]
    big_polls = len(site.requests_for("/big"))
    print(f"small source polled {len(times)} times in {args.seconds:g} s; big feed {big_polls}")
    print(f"longest gap between two polls of the small source: {max(gaps):.2f} s (due every 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
