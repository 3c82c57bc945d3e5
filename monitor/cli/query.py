"""Commands that read the database: `items`, `events` and `status`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from monitor.cli.main import EXIT_CONFIG, EXIT_STORE, Context, cli, fail, open_store
from monitor.cli.output import lock, print_events, print_table

if TYPE_CHECKING:
    from monitor.app import Monitor


@cli.command()
@click.option("--source", help="Only this source.")
@click.option("--paywalled/--free", default=None, help="Only paywalled (or only free) items.")
@click.option("--since", metavar="TIME", help="First seen at or after (ISO date/time or '2h').")
@click.option(
    "--grep", metavar="WORDS", help="Title or section has words starting with WORDS (any case)."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most N items (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
@click.pass_obj
def items(
    obj: Context,
    source: str | None,
    paywalled: bool | None,
    since: str | None,
    grep: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List the items the database knows, newest first.

    Example: monitor items --paywalled --since 1d
    """
    with obj.monitor() as monitor:
        open_store(monitor)
        found = monitor.items(
            source=source, paywalled=paywalled, since=cli_since(since), grep=grep, limit=limit
        )
        known_source(monitor, source, bool(found))
    if as_json:
        click.echo(json.dumps([i.to_json() for i in found], ensure_ascii=False, indent=2))
        return
    print_table(
        ["first seen", "source", "paywall", "section", "title", "url"],
        [[i.first_seen, i.source, lock(i.paywalled), i.section, i.title, i.url] for i in found],
    )


@cli.command()
@click.option("--source", help="Only this source.")
@click.option("--kind", type=click.Choice(["new", "changed", "removed", "health", "dropped"]))
@click.option("--since", metavar="TIME", help="At or after (ISO date/time or '2h').")
@click.option(
    "--grep",
    metavar="WORDS",
    help="Title, section or detail has words starting with WORDS (any case).",
)
@click.option("--limit", type=click.IntRange(min=1), help="The last N events (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
@click.pass_obj
def events(
    obj: Context,
    source: str | None,
    kind: str | None,
    since: str | None,
    grep: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List recorded events, oldest first.

    Example: monitor events --kind changed --since 2026-11-01
    """
    with obj.monitor() as monitor:
        open_store(monitor)
        found = monitor.events(
            source=source, kind=kind, since=cli_since(since), grep=grep, limit=limit
        )
        known_source(monitor, source, bool(found))
    if as_json:
        click.echo(json.dumps([e.to_json() for e in found], ensure_ascii=False, indent=2))
    else:
        print_events(found)


def known_source(monitor: Monitor, source: str | None, found: bool) -> None:
    """Exit status 2 for a --source that neither the config nor the database knows; a
    source removed from the config keeps its items and events, and its name."""
    if source is None or found or monitor.settings.source(source) is not None:
        return
    if monitor.items(source=source, limit=1) or monitor.events(source=source, limit=1):
        return
    known = ", ".join(s.name for s in monitor.settings.sources) or "none"
    fail(
        f"--source: no source named {source!r} in the config or the database (configured: {known})",
        EXIT_CONFIG,
    )


def cli_since(value: str | None) -> str | None:
    """--since as the database stores times; exit status 2 when it is neither."""
    from monitor.app import parse_since

    try:
        return parse_since(value)
    except ValueError:
        fail(f"--since {value!r}: use an ISO date/time or a duration like '2h'", EXIT_CONFIG)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Show each source's last poll, errors, items and next run, and the alert backlog.

    Safe while the daemon runs: the database is opened read-only.

    Example: monitor status --json
    """
    from datetime import UTC, datetime

    from monitor.models import StoreError
    from monitor.pipeline.status import pacing_text, relative_time

    with obj.monitor() as monitor:
        try:
            report = monitor.status()
        except StoreError as exc:
            fail(f"database error: {exc}", EXIT_STORE)
    pid = report.daemon_pid
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    now = datetime.now(UTC)
    daemon = f"running (pid {pid})" if pid else "not running"
    click.echo(f"daemon: {daemon}; database {report.database}")
    headers = ["source", "health", "schedule", "interval", "requests today", "last poll"]
    print_table(
        [*headers, "last success", "errors", "items", "next run", "last error"],
        [
            [
                s.name,
                s.health,
                s.schedule,
                *pacing_text(s),
                relative_time(s.last_poll, now),
                relative_time(s.last_success, now),
                s.consecutive_errors,
                s.items_known,
                relative_time(s.next_run, now) if pid else "-",
                s.last_error or "",
            ]
            for s in report.sources
        ],
    )
    for s in report.sources:
        if s.health_detail:
            click.echo(f"{s.name}: {s.health_detail}")
    click.echo(f"outbox: {report.pending} pending, {report.failed} failed")
    for problem in report.channels:
        where = "" if problem.target == "*" else f" ({problem.label or problem.target})"
        click.echo(
            f"channel {problem.channel!r}{where}: failing since"
            f" {relative_time(problem.failing_since, now)}: {problem.last_error or '?'}"
        )
