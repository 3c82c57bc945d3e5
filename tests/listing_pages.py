"""Listing pages and `monitor check` runs shared by the tests of a source's life: rule
changes, baselines, bot checks, shrinking listings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import run_monitor


def teaser(n: int, title: str | None = None, paid: bool = False) -> str:
    badge = '<span class="plus">Plus</span>' if paid else ""
    return f'<li class="item"><a href="/story/{n}">{title or f"Story number {n}"}</a>{badge}</li>'


def page(
    numbers: Iterable[int],
    *,
    paid: Iterable[int] = (),
    titles: dict[int, str] | None = None,
    box: Iterable[int] = (),
    banner: str = "",
) -> str:
    """A section page: `numbers` in the main list (in the order given), then, when `box`
    is given, a "Most read" box whose teasers the same `li.item` selector matches."""
    paid_set = set(paid)
    titles = titles or {}
    main = "".join(teaser(n, titles.get(n), n in paid_set) for n in numbers)
    aside = ""
    box = list(box)
    if box:
        rows = "".join(teaser(n, titles.get(n)) for n in box)
        aside = f"<aside><h2>Most read</h2><ul class='top'>{rows}</ul></aside>"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>News</title></head><body>"
        f"{banner}<main><h1>Politics</h1><ul class='list'>{main}</ul></main>{aside}"
        "</body></html>"
    )


def source_table(url: str, *, name: str = "news", rule: str = "", extra: str = "") -> str:
    return (
        f'[[sources]]\nname = "{name}"\nurl = "{url}"\n{extra}'
        f'[sources.rule]\nitem = "li.item"\n{rule}'
    )


def write_config(directory: Path, sources: str, top: str = "", channel: str = "") -> Path:
    path = directory / "monitor.toml"
    hook = f'[channels.hook]\nurls = ["{channel}"]\n' if channel else ""
    path.write_text(f'database = "state.db"\n{top}{sources}{hook}', encoding="utf-8")
    return path


@dataclass(frozen=True)
class Run:
    code: int
    events: list[dict]
    stderr: str

    def kinds(self) -> list[tuple[str, str | None]]:
        """(kind, title or health detail) of every event, in order."""
        return [(e["kind"], e["title"] or e["detail"]) for e in self.events]

    def line(self, source: str = "news") -> str:
        """What `monitor check` said of the source on stderr."""
        prefix = f"{source}: "
        lines = [
            line.removeprefix(prefix)
            for line in self.stderr.splitlines()
            if line.startswith(prefix)
        ]
        assert lines, self.stderr
        return lines[-1]


def check(config: Path, *args: str) -> Run:
    result = run_monitor("check", "--json", *args, config=config)
    return Run(result.returncode, json.loads(result.stdout or "[]"), result.stderr)


def items(config: Path) -> list[dict]:
    return json.loads(run_monitor("items", "--json", config=config).stdout)
