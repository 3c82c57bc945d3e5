"""Screenshots of the web view for the README: a demo section page polled three times on
127.0.0.1 (headlines edited, paywalls flipped, stories added), then `monitor serve` and
headless Chromium. Writes docs/web-items.png and docs/web-item.png.

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import html
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

DOCS = Path(__file__).resolve().parent
# (path, section, headline, paywalled) per teaser, newest first; one list per poll.
FIRST = [
    ("/n/101", "Palityka", "Łukašenka signs the new budget law", False),
    ("/n/102", "Ekanomika", "Biełaruski rubiel falls to a two-year low", True),
    ("/n/103", "Hramadstva", "Minsk metro opens three new stations", False),
    ("/n/104", "Sport", "Dynamo Brest wins the cup final", True),
    ("/n/105", "Kultura", "Kupalaŭski teatr returns to its old stage", False),
    ("/n/106", "Palityka", "Opposition leaders meet in Vilnius", True),
]
SECOND = [
    ("/n/108", "Palityka", "Cichanoŭskaja: talks are the only way out", True),
    ("/n/107", "Ekanomika", "Potash exports rise despite sanctions", False),
    ("/n/101", "Palityka", "Łukašenka signs the 2027 budget into law", False),
    ("/n/102", "Ekanomika", "Biełaruski rubiel falls to a two-year low", False),
    *FIRST[2:],
]
THIRD = [
    SECOND[0],
    SECOND[1],
    ("/n/101", "Palityka", "Łukašenka signs the 2027 budget into law after a delay", False),
    ("/n/102", "Ekanomika", "Biełaruski rubiel falls to a two-year low", True),
    *FIRST[2:],
]


def page(teasers: list[tuple[str, str, str, bool]]) -> bytes:
    rows = "".join(
        f'<article><span class="rubric">{section}</span><a href="{path}">{html.escape(title)}</a>'
        + ('<span class="plus">POZIRK+</span>' if paid else "")
        + "</article>"
        for path, section, title, paid in teasers
    )
    return f"<!doctype html><html><body><main>{rows}</main></body></html>".encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("needs chromium (apt-get install chromium)")
    current = {"body": page(FIRST)}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = current["body"]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "monitor.toml"
        config.write_text(
            f"""database = "monitor.db"
[[sources]]
name = "pozirk-news"
url = "http://127.0.0.1:{site.server_address[1]}/news"
[sources.rule]
item = "article"
title = "a"
link = "a"
section = ".rubric"
paywall_text = "POZIRK+"
[channels.telegram]
urls = ["json://127.0.0.1:9/demo"]
paywalled = true
""",
            encoding="utf-8",
        )
        from monitor import Monitor

        for body in (FIRST, SECOND, THIRD):
            current["body"] = page(body)
            with Monitor.open(config) as monitor:
                monitor.check(notify=False)
            time.sleep(1.1)  # distinct "first seen" times
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
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(base + "/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            items = httpx.get(base + "/items?q=lukasenka").text
            item_path = items.split('<td><a href="', 1)[1].split('"', 1)[0]
            shots = [
                ("web-items.png", "/items", "1000,620"),
                ("web-item.png", item_path, "1000,560"),
            ]
            for name, path, size in shots:
                subprocess.run(
                    [
                        browser,
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--hide-scrollbars",
                        f"--user-data-dir={folder}/profile",
                        f"--window-size={size}",
                        f"--screenshot={DOCS / name}",
                        base + path,
                    ],
                    check=True,
                    capture_output=True,
                )
                print(f"wrote {DOCS / name}")
        finally:
            server.terminate()
            server.wait()
            site.shutdown()


if __name__ == "__main__":
    main()
