"""A changed config file is reloaded by a running daemon, as SIGHUP would."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from monitor.daemon.watch import changed, file_state, watch_config
from tests.conftest import run_monitor
from tests.daemon_helpers import DaemonProcess, config_text, listing, write_config

FAST = {"interval": 0.02, "settle": 0.01}


async def _watch_while(path: Path, steps: list[object]) -> list[str]:
    """Run the watcher while `steps` (texts to write, or "touch") are applied one by one,
    waiting after each for the watcher to have had time to react; returns the reloads."""
    calls: list[str] = []
    seen = asyncio.Event()

    def on_change() -> None:
        calls.append(path.read_text(encoding="utf-8"))
        seen.set()

    task = asyncio.create_task(watch_config(path, on_change, **FAST))
    try:
        await asyncio.sleep(0.05)
        for step in steps:
            seen.clear()
            if step == "touch":
                os.utime(path)
            else:
                path.write_text(str(step), encoding="utf-8")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(seen.wait(), timeout=0.5)
    finally:
        task.cancel()
    return calls


def test_each_change_of_content_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text("a = 1\n", encoding="utf-8")
    calls = asyncio.run(_watch_while(path, ["a = 2\n", "touch", "a = 2\n", "a = 3\n"]))
    assert calls == ["a = 2\n", "a = 3\n"]


def test_a_file_replaced_by_rename_is_followed(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text("a = 1\n", encoding="utf-8")
    before = file_state(path)
    other = tmp_path / ".monitor.toml.tmp"
    other.write_text("a = 2\n", encoding="utf-8")
    other.replace(path)
    assert changed(before, file_state(path))
    path.unlink()
    assert not changed(before, file_state(path))  # gone for a moment: wait for it


def test_a_source_added_to_the_file_is_polled_without_a_restart(site, tmp_path: Path) -> None:
    site.set("/a", listing(["Alpha one", "Alpha two"]))
    titles = [f"Story number {n} about the weather" for n in range(4)]
    site.set("/b", listing(titles))
    config = write_config(tmp_path, [("a", site.url("/a"), "1s")])
    with DaemonProcess(config) as daemon:
        daemon.wait(lambda: site.requests_for("/a"), "the first poll of a")
        added = run_monitor(
            "sources", "add", site.url("/b"), "--name", "b", "--interval", "1s", "--yes",
            config=config,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "Added source 'b'" in added.stdout
        looked = len(site.requests_for("/b"))  # `sources add` fetched it once
        daemon.wait(lambda: len(site.requests_for("/b")) > looked, "a poll of b, added to the file")
        assert f"{config} changed on disk: reloading it" in daemon.log()
        assert f"config reloaded from {config}: added b" in daemon.log()

        broken = config_text([("a", site.url("/a"), "1s")]).replace('"1s"', '"soon"')
        config.write_text(broken, encoding="utf-8")
        daemon.wait_log("config reload rejected, keeping the running config")
        polls = len(site.requests_for("/b"))
        daemon.wait(lambda: len(site.requests_for("/b")) > polls + 1, "b polled after it")
        assert daemon.stop() == 0
    line = broken.splitlines().index('interval = "soon"') + 1
    assert f"{config}:{line}: sources[0].interval: 'soon' is not a duration" in daemon.log()
