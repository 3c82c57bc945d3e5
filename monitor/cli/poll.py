"""Commands that poll: `check` (once, recording), `preview` (a rule, touching no state) and
`validate` (the config)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from monitor.cli.main import (
    EXIT_CONFIG,
    EXIT_SOURCE_FAILED,
    Context,
    cli,
    fail,
    log,
    open_store,
    protect_logs,
    url_guess,
)
from monitor.cli.output import describe_outcome, item_json, print_events, print_items


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the events as one JSON list.")
@click.option("--no-notify", is_flag=True, help="Record events without delivering alerts.")
@click.pass_obj
def check(obj: Context, sources: tuple[str, ...], as_json: bool, no_notify: bool) -> None:
    """Poll each source once, store what changed, and print the events.

    Exit status 1 when any source failed.

    Example: monitor check pozirk-politics --json
    """
    from monitor.app import UnknownSourceError, select_sources

    with obj.monitor() as monitor:
        try:
            select_sources(monitor.settings, sources)
        except UnknownSourceError as exc:
            fail(str(exc), EXIT_CONFIG)
        open_store(monitor)
        # The listing's alerts go out before the article round starts (sources with
        # `articles`), then the article round's own.
        outcomes = monitor.check(sources, notify=not no_notify, on_delivery=_log_delivery)
    events = [event for outcome in outcomes for event in outcome.events]
    if as_json:
        click.echo(json.dumps([e.to_json() for e in events], ensure_ascii=False, indent=2))
    else:
        print_events(events)
    for outcome in outcomes:
        click.echo(describe_outcome(outcome), err=True)
    if any(outcome.failed for outcome in outcomes):
        sys.exit(EXIT_SOURCE_FAILED)


def _log_delivery(report: Any) -> None:
    if report.messages or report.retrying or report.failed or report.held:
        log.info("alerts: %s", report.describe())


@cli.command()
@click.argument("target", metavar="URL_OR_SOURCE")
@click.option("--profile", help="Use a built-in site profile (e.g. pozirk).")
@click.option("--kind", type=click.Choice(["html", "feed"]), help="Default: guessed.")
@click.option("--item", help="CSS selector of one item block.")
@click.option("--title", help="CSS selector of the headline, inside the item.")
@click.option("--link", help="CSS selector of the link, inside the item.")
@click.option("--section", help="CSS selector of the section, inside the item.")
@click.option("--date", help="CSS selector of the date, inside the item.")
@click.option("--paywall-text", multiple=True, help="Text marking a paywalled item.")
@click.option("--paywall-selector", help="CSS selector marking a paywalled item.")
@click.option("--id-pattern", help="Regex: the article id in the link (group 1).")
@click.option("--paywall-category", multiple=True, help="Feed category marking a paywalled entry.")
@click.option("--json", "as_json", is_flag=True, help="Print the items as one JSON list.")
@click.pass_obj
def preview(obj: Context, target: str, as_json: bool, **options: Any) -> None:
    """Show what a rule extracts from a page, touching no state.

    TARGET is a URL, the name of a configured source, or a saved page or feed (links
    resolve to its canonical URL); the options override its rule.

    Example: monitor preview https://pozirk.online/en/politics/ --profile pozirk
    """
    from pathlib import Path

    from monitor.app import (
        Monitor,
        RuleOptionError,
        preview_file,
        preview_target,
        settings_without_config,
    )
    from monitor.cli.setup import saved_page_url
    from monitor.models import ConfigError, ExtractError, FetchError

    saved: bytes | None = None
    try:
        # A URL or a file needs no config; when there is a valid one, its settings apply.
        monitor = Monitor.open(obj.resolved_config_path(), on_load=protect_logs)
    except ConfigError:
        monitor = None
    if "://" not in target and (monitor is None or monitor.settings.source(target) is None):
        if Path(target).is_file():
            saved = _read_saved(target)
            target = saved_page_url(saved)
        else:
            _not_a_target(obj, target, monitor)
    if monitor is None:
        monitor = Monitor(settings_without_config())
    try:
        with monitor:
            source = preview_target(
                target,
                monitor.settings,
                kind=options.pop("kind"),
                profile=options.pop("profile"),
                paywall_text=options.pop("paywall_text"),
                paywall_categories=options.pop("paywall_category", None) or (),
                **options,
            )
            if saved is not None:
                result = preview_file(source, saved, target)
            else:
                result = monitor.preview(source)
    except RuleOptionError as exc:
        fail(f"--{exc.option.replace('_', '-')}: {exc.reason}", EXIT_CONFIG)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except (FetchError, ExtractError) as exc:
        fail(f"{source.url if saved is None else target}: {exc}", EXIT_SOURCE_FAILED)
    if as_json:
        click.echo(json.dumps([item_json(i) for i in result.items], ensure_ascii=False, indent=2))
        return
    print_items(result.items)
    paid = sum(1 for i in result.items if i.paywalled)
    click.echo(f"\n{len(result.items)} items, {paid} paywalled ({result.kind}, {result.url})")
    for feed in result.feeds:
        click.echo(f"feed advertised: {feed['url']} ({feed.get('type')}) {feed.get('title') or ''}")


def _read_saved(path: str) -> bytes:
    from pathlib import Path

    try:
        return Path(path).read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", EXIT_CONFIG)


def _not_a_target(obj: Context, target: str, monitor: Any) -> None:
    """Exit status 2: TARGET is no URL, configured source or file (a URL typed without
    its scheme is named as the URL it likely is)."""
    guess = url_guess(target)
    if monitor is None and guess is None:
        obj.monitor()  # a source name needs the config: exits with its error
    names = [s.name for s in monitor.settings.sources] if monitor is not None else []
    known = ", ".join(names) or "none"
    if guess is not None:
        fail(
            f"{target!r} is not a URL: did you mean {guess}? (configured sources: {known})",
            EXIT_CONFIG,
        )
    fail(
        f"no source named {target!r} (configured: {known}), and no file of that name;"
        " give a URL, a source name or a saved page",
        EXIT_CONFIG,
    )


@cli.command()
@click.pass_obj
def validate(obj: Context) -> None:
    """Check the config file; exit status 2 and the file, key and reason when it is wrong.

    Example: monitor --config /etc/monitor/monitor.toml validate
    """
    settings = obj.settings()
    click.echo(
        f"{settings.config_path}: OK ({len(settings.sources)} sources,"
        f" {len(settings.channels)} channels, database {settings.database})"
    )
