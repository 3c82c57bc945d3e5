"""A known run for the web view's tests: a section page polled three times by the real
`monitor check`, then `monitor serve` (or `monitor run` with [web]) in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import Site, free_port, run_monitor

XSS = "<script>alert(1)</script>"
# (path, section, title, paywalled) per teaser, newest first; one list per poll.
POLLS: tuple[tuple[tuple[str, str, str, bool], ...], ...] = (
    (
        ("/news/1", "Palityka", "Łukašenka's speech", False),
        ("/news/2", "Ekanomika", "Biełaruski rubiel padaje", True),
        ("/news/3", "Hramadstva", XSS, False),
        ("/news/5", "Sport", "Old story", True),
    ),
    (
        ("/news/4", "Palityka", "New story", True),
        ("/news/1", "Palityka", "Łukašenka's long speech", False),
        ("/news/2", "Ekanomika", "Biełaruski rubiel padaje", False),
        ("/news/3", "Hramadstva", XSS, False),
        ("/news/5", "Sport", "Old story", True),
    ),
    (
        ("/news/4", "Palityka", "New story", True),
        ("/news/1", "Palityka", "Łukašenka's long speech", False),
        ("/news/2", "Ekanomika", "Biełaruski rubiel padaje", True),
        ("/news/3", "Hramadstva", XSS, False),
        ("/news/5", "Sport", "Old story", True),
    ),
)


def page(teasers: Sequence[tuple[str, str, str, bool]]) -> str:
    import html

    marker = '<span class="plus">POZIRK+</span>'
    rows = "\n".join(
        f'<article><span class="section">{section}</span><a href="{path}">{html.escape(title)}'
        f"</a>{marker if paid else ''}</article>"
        for path, section, title, paid in teasers
    )
    return f"<!doctype html><html><body><main>\n{rows}\n</main></body></html>"


def config(
    folder: Path, site: Site, *, web: str = "", channel: str = "json://127.0.0.1:9/none"
) -> Path:
    path = folder / "monitor.toml"
    path.write_text(
        f"""database = "monitor.db"
user_agent = "news-monitor-test"
interval = "1h"

[[sources]]
name = "news"
url = "{site.url("/news")}"
[sources.rule]
item = "article"
title = "a"
link = "a"
section = ".section"
paywall_text = "POZIRK+"

[channels.paid]
urls = ["{channel}"]
paywalled = true
{web}
""",
        encoding="utf-8",
    )
    return path


def known_run(
    folder: Path, site: Site, *, web: str = "", env: dict[str, str] | None = None
) -> Path:
    """Three polls of the page (POLLS) with the real command line; returns the config."""
    path = config(folder, site, web=web)
    for teasers in POLLS:
        site.set("/news", page(teasers))
        result = run_monitor("check", "--no-notify", config=path, env=env)
        assert result.returncode == 0, result.stderr
    return path


class Server:
    """`monitor serve` (or `monitor run`) in a subprocess, reached over HTTP."""

    def __init__(self, process: subprocess.Popen[str], base: str, token: str | None) -> None:
        self.process = process
        self.base = base
        self.token = token
        self.client = httpx.Client(base_url=base, timeout=20)

    def get(self, path: str, **headers: str) -> httpx.Response:
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.client.get(path, headers=headers)


@contextmanager
def serving(
    config_path: Path,
    *,
    command: Sequence[str] = ("serve",),
    port: int | None = None,
    token: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    port = port or free_port()
    args = [*command] if command[0] == "run" else [*command, "--listen", f"127.0.0.1:{port}"]
    log = config_path.parent / f"{command[0]}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config_path), *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
    server = Server(process, f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.client.get("/healthz")
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.1)
        yield server
    finally:
        server.client.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
