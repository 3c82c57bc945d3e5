"""How the commands print: aligned tables, items, events and poll outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from monitor.models import Event
    from monitor.pipeline.check import CheckOutcome


def describe_outcome(outcome: CheckOutcome) -> str:
    if outcome.failed:
        return f"{outcome.source}: FAILED: {outcome.error}"
    counts: dict[str, int] = {}
    for event in outcome.events:
        counts[event.kind] = counts.get(event.kind, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no events"
    return f"{outcome.source}: {outcome.status}, {outcome.items} items, {summary}"


def print_events(events: Sequence[Event]) -> None:
    if not events:
        click.echo("No events.")
        return
    rows = []
    for event in events:
        item = event.item
        if event.kind == "changed":
            what = "; ".join(f"{c.field}: {c.before!r} -> {c.after!r}" for c in event.changes)
        elif event.kind == "health":
            what = event.detail or ""
        else:
            what = item.title if item else ""
        rows.append(
            [
                event.source,
                event.kind,
                lock(item.paywalled) if item else "",
                (item.section or "") if item else "",
                what,
                item.url if item else "",
            ]
        )
    print_table(["source", "event", "paywall", "section", "title / change", "url"], rows)


def lock(paywalled: bool | None) -> str:
    return "PAID" if paywalled else "free"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], width: int = 60) -> None:
    """A plain aligned table; long cells are shortened for the terminal only."""
    cells = [[_cell(v, width) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any, width: int) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def item_json(item: Any) -> dict[str, Any]:
    return {
        "key": item.key,
        "url": item.url,
        "title": item.title,
        "section": item.section,
        "paywalled": item.paywalled,
        "published": item.published,
    }


def print_items(items: Sequence[Any]) -> None:
    rows = [
        [n + 1, lock(i.paywalled), i.section or "", i.title, i.published or "", i.url]
        for n, i in enumerate(items)
    ]
    print_table(["#", "paywall", "section", "title", "date", "url"], rows)


def rule_toml(rule: dict[str, Any]) -> str:
    import tomlkit

    return "\n[sources.rule]\n" + tomlkit.dumps(rule)
