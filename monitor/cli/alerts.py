"""Commands about alerts: `notify test` (a sample to each channel) and `outbox` (what is not
delivered yet; `outbox retry`)."""

from __future__ import annotations

import json
import sys

import click

from monitor.cli.main import EXIT_CONFIG, EXIT_SOURCE_FAILED, Context, cli, fail, open_store
from monitor.cli.output import print_table


@cli.group()
def notify() -> None:
    """Alert channels (the [channels.NAME] tables of the config).

    Example: monitor notify test telegram
    """


@notify.command("test")
@click.argument("channel", required=False)
@click.pass_obj
def notify_test(obj: Context, channel: str | None) -> None:
    """Send a sample alert to every URL of CHANNEL (default: every channel).

    Prints OK or the error for each URL (tokens and passwords hidden); exit status 1 when
    any URL failed. The outbox is not touched.

    Example: monitor notify test telegram
    """
    with obj.monitor() as monitor:
        names = [c.name for c in monitor.settings.channels]
        if not names:
            fail("no channels configured (add a [channels.NAME] table)", EXIT_CONFIG)
        if channel is not None and channel not in names:
            fail(f"no channel named {channel!r} (configured: {', '.join(names)})", EXIT_CONFIG)
        results = monitor.test_channels(channel)
    for result in results:
        where = f"{result.channel} {result.label}".strip()
        click.echo(f"OK      {where}" if result.ok else f"FAILED  {where}: {result.error}")
    if any(not r.ok for r in results):
        sys.exit(EXIT_SOURCE_FAILED)


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
@click.pass_context
def outbox(ctx: click.Context, as_json: bool) -> None:
    """List alerts not delivered yet: pending (waiting, held or retrying) and failed.

    Prints nothing but a note when every alert was delivered.

    Example: monitor outbox --json
    """
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    with obj.monitor() as monitor:
        open_store(monitor)
        entries = monitor.outbox()
    if as_json:
        click.echo(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=2))
        return
    if not entries:
        click.echo("Outbox empty: every alert was delivered.")
        return
    rows = []
    for entry in entries:
        item = entry.event.item
        rows.append(
            [
                entry.id,
                entry.channel,
                entry.status,
                entry.attempts,
                entry.next_attempt if entry.status == "pending" else "",
                f"{entry.event.source} {entry.event.kind}",
                item.title if item else entry.event.detail,
                entry.last_error or "",
            ]
        )
    headers = ["id", "channel", "status", "attempts", "next attempt", "event", "title"]
    print_table([*headers, "last error"], rows)


@outbox.command("retry")
@click.pass_obj
def outbox_retry(obj: Context) -> None:
    """Send pending and failed alerts now, without waiting for the retry backoff.

    Failed alerts get a fresh deadline. Quiet hours and digests still hold theirs.
    Exit status 1 when a channel still fails.

    Example: monitor outbox retry
    """
    with obj.monitor() as monitor:
        open_store(monitor)
        queued, report = monitor.retry()
    click.echo(f"{queued} alerts retried: {report.describe()}")
    for error in report.errors:
        click.echo(f"  failed: {error}")
    if report.retrying or report.failed:
        sys.exit(EXIT_SOURCE_FAILED)
