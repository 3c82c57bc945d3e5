"""The application object on its own (no command line): the README's example as written,
outcomes, the same filters and JSON as the CLI, finding the config, closing on error."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import multiprocessing
import re
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import CheckOutcome, ConfigError, Event, ListedItem, Monitor, UnknownSourceError
from monitor.cli import cli
from tests.conftest import ROOT, Site


def page(*stories: tuple[int, str]) -> str:
    """A section page; each story's link is its number, so an edited headline keeps it."""
    articles = "".join(
        f'<article><a href="/news/{n}">{title}</a></article>' for n, title in stories
    )
    return f"<!doctype html><html><body><main>{articles}</main></body></html>"


def write_config(folder: Path, sources: dict[str, str], extra: str = "") -> Path:
    lines = ['database = "monitor.db"', extra]
    for name, url in sources.items():
        lines += ["[[sources]]", f'name = "{name}"', f'url = "{url}"']
        lines += ["[sources.rule]", 'item = "article"']
    path = folder / "config" / "monitor.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def readme_python_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use from Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "README: no python block under 'Use from Python'"
    return match.group(1)


def test_the_readme_example_polls_lists_the_new_items_and_reads_a_change(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    url = site.set("/politics", page((1, "Budget passed"), (2, "Talks stall"), (3, "Snow")))
    write_config(tmp_path, {"politics": url})
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    with Monitor.open() as m:
        assert [(o.source, o.status) for o in m.check(notify=False)] == [("politics", "baseline")]
    time.sleep(1.1)  # first_seen has a resolution of one second
    site.set(
        "/politics",
        page((4, "Strike called"), (1, "Budget passed"), (2, "Talks resume"), (3, "Snow")),
    )

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(readme_python_example(), {"__name__": "readme_example"})

    base = site.base
    assert out.getvalue().splitlines() == [
        "politics ok 2 ",
        f"item: Strike called {base}/news/4",
        f"item: Budget passed {base}/news/1",
        f"item: Talks resume {base}/news/2",
        f"item: Snow {base}/news/3",
        "changed: Talks resume title Talks stall -> Talks resume",
    ]


def test_check_gives_one_outcome_per_source_in_the_order_asked(site: Site, tmp_path: Path):
    good = site.set("/good", page((1, "One"), (2, "Two")))
    config = write_config(tmp_path, {"good": good, "gone": site.url("/gone")})
    with Monitor.open(config) as m:
        outcomes = m.check(["gone", "good"], notify=False)
        with pytest.raises(UnknownSourceError, match=r"no source named 'nope' \(configured: good"):
            m.check(["nope"])
    assert all(isinstance(o, CheckOutcome) for o in outcomes)
    assert [(o.source, o.status, o.events, o.error) for o in outcomes] == [
        ("gone", "error", (), "HTTP 404 Not Found"),
        ("good", "baseline", (), None),
    ]


def test_items_and_events_give_what_the_cli_prints_as_json(site: Site, tmp_path: Path):
    url = site.set("/p", page((1, "Alpha"), (2, "Beta")))
    config = write_config(tmp_path, {"p": url})
    with Monitor.open(config) as m:
        m.check(notify=False)
        site.set("/p", page((3, "Gamma"), (1, "Alpha"), (2, "Beta edited")))
        m.check(notify=False)
        filters = [
            ("items", {}, []),
            ("items", {"grep": "Gam", "limit": 1}, ["--grep", "Gam", "--limit", "1"]),
            ("items", {"paywalled": False, "since": "1h"}, ["--free", "--since", "1h"]),
            ("events", {}, []),
            ("events", {"kind": "changed", "source": "p"}, ["--kind", "changed", "--source", "p"]),
            ("events", {"grep": "Gamma", "limit": 5}, ["--grep", "Gamma", "--limit", "5"]),
        ]
        for what, kwargs, options in filters:
            found = getattr(m, what)(**kwargs)
            printed = CliRunner().invoke(cli, ["--config", str(config), what, "--json", *options])
            assert printed.exit_code == 0, printed.output
            assert [x.to_json() for x in found] == json.loads(printed.stdout), (what, kwargs)
        items = m.items()
        events = m.events()
    assert all(isinstance(i, ListedItem) for i in items)
    assert [i.title for i in items] == ["Gamma", "Alpha", "Beta edited"]
    assert all(isinstance(e, Event) for e in events)
    assert [(e.kind, e.item.title if e.item else None) for e in events] == [
        ("new", "Gamma"),
        ("changed", "Beta edited"),
    ]


def test_open_finds_the_config_as_the_command_line_does(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    url = site.set("/p", page((1, "Alpha")))
    here = write_config(tmp_path / "here", {"here": url})
    elsewhere = write_config(tmp_path / "elsewhere", {"elsewhere": url})
    monkeypatch.chdir(here.parent.parent)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    with Monitor.open() as m:
        assert [s.name for s in m.settings.sources] == ["here"]
    monkeypatch.setenv("MONITOR_CONFIG", str(elsewhere))
    with Monitor.open() as m:
        assert [s.name for s in m.settings.sources] == ["elsewhere"]
    with Monitor.open(here) as m:
        assert [s.name for s in m.settings.sources] == ["here"]
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        Monitor.open(tmp_path / "missing.toml")


def test_leaving_the_with_block_on_an_error_closes_the_database(site: Site, tmp_path: Path):
    config = write_config(tmp_path, {"p": site.set("/p", page((1, "Alpha")))})
    with pytest.raises(RuntimeError, match="the caller's own bug"), Monitor.open(config) as m:
        m.check(notify=False)
        store = m.store
        raise RuntimeError("the caller's own bug")
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        store.conn.execute("SELECT 1")
    with pytest.raises(Exception, match="closed"):
        m.items()


def test_a_round_cancelled_half_way_leaves_no_parse_worker_and_closes_everything(
    site: Site, tmp_path: Path
):
    def slow(handler: object) -> None:
        time.sleep(3)

    fast = site.set("/fast", page((1, "Alpha")))
    site.set("/slow", handler=slow)
    config = write_config(tmp_path, {"fast": fast, "slow": site.url("/slow")}, "parse_workers = 1")

    async def scenario() -> None:
        async with Monitor.open(config) as m:
            store = m.store
            await asyncio.wait_for(m.check_async(notify=False), timeout=1.0)
        raise AssertionError(f"not cancelled ({store})")

    with pytest.raises(TimeoutError):
        asyncio.run(scenario())
    assert multiprocessing.active_children() == []
    with Monitor.open(config) as m:
        # The fast source's poll was recorded before the round was cut short.
        assert [i.title for i in m.items()] == ["Alpha"]


def test_the_sync_form_inside_an_event_loop_names_the_async_one(tmp_path: Path, site: Site):
    config = write_config(tmp_path, {"p": site.set("/p", page((1, "Alpha")))})

    async def scenario() -> str:
        async with Monitor.open(config) as m:
            with pytest.raises(RuntimeError) as caught:
                m.items()
            items = await m.items_async()
            assert items == []
            return str(caught.value)

    assert asyncio.run(scenario()) == (
        "Monitor.items() inside an event loop: use `await items_async()`"
    )
