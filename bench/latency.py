"""How fast a story reaches the phone: a local news site that publishes on a schedule, the
monitor polling it (listing and article pages) and alerting a local webhook, then
`monitor stats` on what happened.

    .venv/bin/python bench/latency.py                          # 12 stories, one every 3 s
    .venv/bin/python bench/latency.py --stories 30 --publish-every 5 --poll-every 10

The site publishes story N at a fixed pace: it goes on top of the listing (a teaser with
a `<time datetime>`) and gets an article page whose JSON-LD says when it was published;
every third story is paywalled. The monitor runs `Monitor.check` rounds every
`--poll-every` seconds (as `monitor check` from cron would; the daemon polls the same
way), with `articles = true`. What it prints is `monitor stats --json` over the run: the
expected published→seen is about half the poll interval (a story waits for the next
poll), seen→delivered the time the round takes to reach the webhook. Everything runs on
127.0.0.1; the database and config go to a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.app import Monitor


class NewsSite:
    """A listing at /news/ and an article page per story, changed as stories appear."""

    def __init__(self) -> None:
        self.stories: list[tuple[int, str, bool]] = []  # (n, published ISO, paywalled)
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = site.page(self.path)
                status = 200 if body is not None else 404
                data = (body or "not found").encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def publish(self, n: int) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self.lock:
            self.stories.insert(0, (n, stamp, n % 3 == 0))

    def page(self, path: str) -> str | None:
        with self.lock:
            stories = list(self.stories)
        if path == "/news/":
            teasers = "".join(
                f'<article class="teaser"><h2><a href="/news/{n}-story/">Story number {n} of'
                f' the day</a></h2><time datetime="{when}">now</time>'
                f"{'<p>Subscribers only</p>' if paid else ''}</article>"
                for n, when, paid in stories[:20]
            )
            return f"<html><body><main>{teasers}</main></body></html>"
        for n, when, paid in stories:
            if path == f"/news/{n}-story/":
                data = {
                    "@context": "https://schema.org",
                    "@type": "NewsArticle",
                    "headline": f"Story number {n} of the day",
                    "datePublished": when,
                    "isAccessibleForFree": not paid,
                }
                return (
                    "<html><head><meta property='og:type' content='article'>"
                    f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
                    f"<body><h1>Story number {n} of the day</h1></body></html>"
                )
        return None


class Phone:
    """The webhook the alerts go to."""

    def __init__(self) -> None:
        self.count = 0

        phone = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                phone.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"


def run(stories: int, publish_every: float, poll_every: float) -> dict[str, object]:
    site, phone = NewsSite(), Phone()
    site.publish(0)  # the baseline's story
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "monitor.toml"
        config.write_text(
            'database = "state.db"\narticles = true\n'
            f'[[sources]]\nname = "site"\nurl = "{site.base}/news/"\n'
            '[sources.rule]\nitem = "article.teaser"\npaywall_text = "Subscribers only"\n'
            f'[channels.phone]\nurls = ["{phone.url}"]\n',
            encoding="utf-8",
        )
        started = time.monotonic()
        published = 0
        next_publish = started + publish_every
        next_poll = started
        with Monitor.open(config) as monitor:
            while True:
                now = time.monotonic()
                if published < stories and now >= next_publish:
                    published += 1
                    site.publish(published)
                    next_publish += publish_every
                if now >= next_poll:
                    monitor.check()
                    next_poll += poll_every
                    if published >= stories and now >= next_publish - publish_every + poll_every:
                        break
                time.sleep(0.05)
            figures = monitor.stats(None).to_json()
    figures["run"] = {
        "stories": stories,
        "publish_every": publish_every,
        "poll_every": poll_every,
        "alerts_received": phone.count,
        "seconds": round(time.monotonic() - started, 1),
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=12)
    parser.add_argument("--publish-every", type=float, default=3.0)
    parser.add_argument("--poll-every", type=float, default=2.0)
    args = parser.parse_args()
    print(json.dumps(run(args.stories, args.publish_every, args.poll_every), indent=2))


if __name__ == "__main__":
    main()
