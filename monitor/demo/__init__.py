"""`monitor demo`: the whole pipeline on a bundled sample page, offline, in seconds.

A sample section page in the manner of pozirk.online (``politics.html``, with POZIRK+
teasers) is served on 127.0.0.1 by a stdlib HTTP server in a thread. One source reads it
with the built-in ``pozirk`` profile into a database in a temporary directory: the first
poll is the silent baseline. Then the page changes (``politics-later.html``: two new
stories, one of them POZIRK+, an edited headline, a paywall lifted), the second poll
records the events, and the alerts go the way they always go — routed into the outbox,
rendered for the channel, handed to Apprise — to a ``json://`` channel whose endpoint is the
same local server, which prints each message as the channel received it.

No config file and no network beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.models import Channel, Event, Settings, Source

if TYPE_CHECKING:
    from monitor.app import Monitor

PAGE_PATH = "/en/politics/"
ALERTS_PATH = "/alerts"
FIRST_PAGE = "politics.html"
LATER_PAGE = "politics-later.html"
SOURCE_NAME = "pozirk-politics"
CHANNEL_NAME = "console"


def page(name: str) -> bytes:
    """A bundled sample page."""
    return resources.files(__package__).joinpath(name).read_bytes()


@dataclass
class DemoSite:
    """The sample page on 127.0.0.1, and an endpoint that records the alerts POSTed to it."""

    body: bytes = b""
    alerts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> DemoSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path != PAGE_PATH:
                    self._reply(404, b"not found", "text/plain")
                    return
                with site.lock:
                    body = site.body
                self._reply(200, body, "text/html; charset=utf-8")

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(size)
                with site.lock:
                    site.alerts.append(json.loads(data or b"{}"))
                self._reply(200, b"", "text/plain")

            def _reply(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def show(self, body: bytes) -> None:
        with self.lock:
            self.body = body

    def take_alerts(self) -> list[dict[str, Any]]:
        with self.lock:
            taken, self.alerts = self.alerts, []
        return taken

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def demo_settings(folder: Path, site: DemoSite) -> Settings:
    """One Pozirk source and one channel, as a config file would give them."""
    from monitor.config.profiles import load_profile

    kind, rule = load_profile("pozirk")
    source = Source(
        name=SOURCE_NAME, url=site.base + PAGE_PATH, kind=kind, rule=rule, profile="pozirk"
    )
    # Apprise's json:// posts each message to the demo server, which prints it.
    alerts = "json://" + site.base.removeprefix("http://") + ALERTS_PATH
    channel = Channel(name=CHANNEL_NAME, urls=(alerts,), format="text")
    return Settings(
        config_path="(demo: no config file)",
        database=str(folder / "monitor.db"),
        sources=(source,),
        channels=(channel,),
        user_agent="news-monitor demo",
    )


Echo = Callable[[str], None]
Table = Callable[[Sequence[Any]], None]


def run_demo(echo: Echo, print_items: Table, print_events: Table) -> int:
    """The demo, written with `echo` (tables with the two printers); returns the exit
    status."""
    from monitor.app import Monitor

    logging.getLogger("apprise").setLevel(logging.WARNING)
    site = DemoSite(body=page(FIRST_PAGE)).start()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="monitor-demo-") as folder,
            Monitor(demo_settings(Path(folder), site)) as monitor,
        ):
            return _story(monitor, site, echo, print_items, print_events)
    finally:
        site.stop()


def _story(
    monitor: Monitor,
    site: DemoSite,
    echo: Echo,
    print_items: Table,
    print_events: Table,
) -> int:
    source = monitor.settings.sources[0]
    echo("news-monitor demo: offline, on a sample page served from this machine.\n")
    echo(f"1. A Pozirk-like section page is served at {source.url}")
    echo(f"   The source {source.name!r} reads it with the built-in profile 'pozirk',")
    echo(f"   which flags teasers that say {source.rule.paywall_text[0]!r}.")
    echo("   The database is a temporary file; nothing is kept.\n")

    # Each poll routes its events into the outbox, then the outbox is delivered.
    (first,) = monitor.check()
    if first.failed:
        echo(f"   the first poll failed: {first.error}")
        return 1
    known = monitor.items(source=source.name)
    paid = sum(1 for item in known if item.paywalled)
    echo(f"2. First poll: {first.items} items, {paid} of them POZIRK+. A first poll is a")
    echo("   baseline: recorded silently, no alerts.\n")
    print_items(known)

    site.show(page(LATER_PAGE))
    echo("\n3. The page changes: two new stories (one POZIRK+), a headline is edited,")
    echo("   and one story's paywall is lifted. Second poll:\n")
    (second,) = monitor.check()
    if second.failed:
        echo(f"   the second poll failed: {second.error}")
        return 1
    events: list[Event] = list(second.events)
    print_events(events)

    alerts = site.take_alerts()
    echo(f"\n4. The alerts, as the channel {CHANNEL_NAME!r} received them ({len(alerts)}):\n")
    for alert in alerts:
        title = str(alert.get("title") or "")
        if title:
            echo(f"   ┌ {title}")
        for line in str(alert.get("message") or "").splitlines():
            echo(f"   │ {line}" if line else "   │")
        echo("   └")
    echo("\nNext: `monitor init` writes a commented config file to start from")
    echo("(then `monitor validate`, `monitor check`, and `monitor run` to keep watching).")
    return 0 if events and alerts else 1
