"""The `monitor` command. Builds the objects and passes them in; logging is set up here only.

Heavy libraries (httpx, feedparser, apprise, pydantic) are imported inside the commands so
that `monitor --help` starts at once.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from monitor.check import CheckOutcome
    from monitor.models import Event, Settings, Source
    from monitor.store import Store

EXIT_SOURCE_FAILED = 1
EXIT_CONFIG = 2
EXIT_STORE = 3

log = logging.getLogger("monitor")


class Context:
    """What every command may need; loaded on first use."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    def resolved_config_path(self) -> str:
        from monitor.config import default_config_path

        return self.config_path or str(default_config_path())

    def settings(self) -> Settings:
        from monitor.config import load_settings
        from monitor.models import ConfigError

        try:
            settings = load_settings(self.resolved_config_path())
        except ConfigError as exc:
            fail(f"config error: {exc}", EXIT_CONFIG)
        protect_logs(settings)
        return settings

    def store(self, settings: Settings) -> Store:
        from monitor.models import StoreError
        from monitor.store import Store

        try:
            return Store.open(settings.database)
        except StoreError as exc:
            fail(f"database error: {exc}", EXIT_STORE)


def protect_logs(settings: Settings) -> None:
    """Hide the tokens and passwords of the channels' URLs in every log line, including the
    request paths Apprise, requests and urllib3 log with -v."""
    from monitor.targets import SecretFilter, settings_secrets

    secrets = settings_secrets(settings.channels)
    if secrets:
        for handler in logging.getLogger().handlers:
            handler.addFilter(SecretFilter(secrets))


def fail(message: str, status: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


def setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        # journald adds its own timestamps, and reads <N> priority prefixes.
        from monitor.sdnotify import JournalFormatter

        formatter: logging.Formatter = JournalFormatter("%(levelname)s %(name)s: %(message)s")
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not verbose else logging.INFO)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Config file (default: $MONITOR_CONFIG, then ./config/monitor.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors in the log.")
@click.version_option(package_name="news-monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int, quiet: bool) -> None:
    """Watch news section pages and feeds; report new, edited, removed and paywalled items.

    Example: monitor check --json
    """
    setup_logging(verbose, quiet)
    ctx.obj = Context(config_path)


# -- check ------------------------------------------------------------------------------------


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
    import asyncio

    settings = obj.settings()
    chosen = select_sources(settings, sources)
    store = obj.store(settings)
    try:
        outcomes = asyncio.run(run_checks(settings, chosen, store))
        if not no_notify:
            deliver_pending(settings, store)
    finally:
        store.close()
    events = [event for outcome in outcomes for event in outcome.events]
    if as_json:
        click.echo(json.dumps([e.to_json() for e in events], ensure_ascii=False, indent=2))
    else:
        print_events(events)
    for outcome in outcomes:
        line = describe_outcome(outcome)
        click.echo(line, err=True)
    if any(outcome.failed for outcome in outcomes):
        sys.exit(EXIT_SOURCE_FAILED)


def select_sources(settings: Settings, names: Sequence[str]) -> list[Source]:
    if not names:
        return list(settings.sources)
    chosen: list[Source] = []
    for name in names:
        source = settings.source(name)
        if source is None:
            known = ", ".join(s.name for s in settings.sources) or "none"
            fail(f"no source named {name!r} (configured: {known})", EXIT_CONFIG)
        chosen.append(source)
    return chosen


async def run_checks(settings: Settings, sources: Sequence[Source], store: Store) -> list[Any]:
    """Poll the sources concurrently, at most `settings.concurrency` at once."""
    import asyncio

    from monitor.check import check_source
    from monitor.fetch import Fetcher

    router = make_router(settings)
    limit = asyncio.Semaphore(settings.concurrency)
    async with Fetcher(fetch_settings(settings)) as fetcher:

        async def one(source: Source) -> CheckOutcome:
            async with limit:
                return await check_source(
                    source,
                    fetcher=fetcher,
                    store=store,
                    route=router,
                    failure_threshold=settings.failure_threshold,
                )

        return list(await asyncio.gather(*(one(s) for s in sources)))


def fetch_settings(settings: Settings) -> Any:
    from monitor.fetch import FetchSettings

    return FetchSettings(
        user_agent=settings.user_agent,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        total_timeout=settings.total_timeout,
        max_bytes=settings.max_bytes,
        per_host_concurrency=settings.per_host_concurrency,
        per_host_delay=settings.per_host_delay,
        proxy=settings.proxy,
    )


def make_router(settings: Settings) -> Any:
    """Routes events to the channels whose filters they pass (see monitor.route)."""
    from monitor.notify import route_events

    return route_events(settings)


def deliver_pending(settings: Settings, store: Store) -> None:
    """Send what the outbox holds now; alerts a channel does not take wait for a retry."""
    import asyncio

    from monitor.notify import deliver_due

    report = asyncio.run(deliver_due(settings, store))
    if report.messages or report.retrying or report.failed or report.held:
        log.info("alerts: %s", report.describe())


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


# -- preview ----------------------------------------------------------------------------------


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
@click.option("--json", "as_json", is_flag=True, help="Print the items as one JSON list.")
@click.pass_obj
def preview(obj: Context, target: str, as_json: bool, **options: Any) -> None:
    """Show what a rule extracts from a page, touching no state.

    TARGET is a URL or the name of a configured source; the options override its rule.

    Example: monitor preview https://pozirk.online/en/politics/ --profile pozirk
    """
    import asyncio

    from monitor.models import ConfigError, ExtractError, FetchError
    from monitor.preview import preview_source

    try:
        source, settings = preview_target(obj, target, options)
        result = asyncio.run(preview_source(source, fetch_settings(settings)))
    except (ConfigError, FetchError, ExtractError) as exc:
        fail(str(exc), EXIT_SOURCE_FAILED if not isinstance(exc, ConfigError) else EXIT_CONFIG)
    if as_json:
        click.echo(json.dumps([item_json(i) for i in result.items], ensure_ascii=False, indent=2))
        return
    print_items(result.items)
    paid = sum(1 for i in result.items if i.paywalled)
    click.echo(f"\n{len(result.items)} items, {paid} paywalled ({result.kind}, {result.url})")
    for feed in result.feeds:
        click.echo(f"feed advertised: {feed['url']} ({feed.get('type')}) {feed.get('title') or ''}")


def preview_target(obj: Context, target: str, options: dict[str, Any]) -> tuple[Source, Settings]:
    """A Source for `preview`: a configured source or a URL, with the CLI options on top."""
    import dataclasses

    from monitor.config import RuleModel, load_settings, merge_rule, source_name_from_url
    from monitor.models import ConfigError, Rule, Settings, Source
    from monitor.profiles import load_profile

    settings: Settings | None = None
    base: Source | None = None
    if "://" not in target:
        settings = obj.settings()
        base = settings.source(target)
        if base is None:
            raise ConfigError(settings.config_path, "sources", f"no source named {target!r}")
    else:
        try:
            settings = load_settings(obj.resolved_config_path())
        except ConfigError:
            settings = None
    if settings is None:
        settings = Settings(config_path="", database="", sources=())
    rule = base.rule if base else Rule()
    kind = options.pop("kind") or (base.kind if base else None)
    profile = options.pop("profile")
    if profile:
        profile_kind, rule = load_profile(profile)
        kind = kind or profile_kind
    paywall_text = options.pop("paywall_text")
    rule_options = {k: v for k, v in options.items() if v is not None}
    if paywall_text:
        rule_options["paywall_text"] = list(paywall_text)
    if rule_options:
        rule = merge_rule(rule, RuleModel.model_validate(rule_options))
    if base is not None:
        return dataclasses.replace(base, rule=rule, kind=kind or base.kind), settings
    # kind "auto" lets preview guess from the response.
    guessed = Source(name=source_name_from_url(target), url=target, kind=kind or "auto", rule=rule)  # type: ignore[arg-type]
    return guessed, settings


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


# -- validate ---------------------------------------------------------------------------------


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


# -- items / events ---------------------------------------------------------------------------


@cli.command()
@click.option("--source", help="Only this source.")
@click.option("--paywalled/--free", default=None, help="Only paywalled (or only free) items.")
@click.option("--since", metavar="TIME", help="First seen at or after (ISO date/time or '2h').")
@click.option("--grep", metavar="WORD", help="Title or section contains WORD.")
@click.option("--limit", type=int, help="At most N items (default: all).")
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
    settings = obj.settings()
    store = obj.store(settings)
    try:
        rows = store.query_items(
            source=source, paywalled=paywalled, since=parse_since(since), grep=grep, limit=limit
        )
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    print_table(
        ["first seen", "source", "paywall", "section", "title", "url"],
        [
            [r["first_seen"], r["source"], lock(r["paywalled"]), r["section"], r["title"], r["url"]]
            for r in rows
        ],
    )


@cli.command()
@click.option("--source", help="Only this source.")
@click.option("--kind", type=click.Choice(["new", "changed", "removed", "health"]))
@click.option("--since", metavar="TIME", help="At or after (ISO date/time or '2h').")
@click.option("--grep", metavar="WORD", help="Title, section or detail contains WORD.")
@click.option("--limit", type=int, help="The last N events (default: all).")
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
    settings = obj.settings()
    store = obj.store(settings)
    try:
        found = store.query_events(
            source=source, kind=kind, since=parse_since(since), grep=grep, limit=limit
        )
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([e.to_json() for e in found], ensure_ascii=False, indent=2))
    else:
        print_events(found)


def parse_since(value: str | None) -> str | None:
    """'2h', '1d' (ago) or an ISO date/time, as the ISO UTC text the database stores."""
    if not value:
        return None
    from datetime import UTC, datetime, timedelta

    from monitor.config import parse_interval

    try:
        seconds = parse_interval(value) if value[-1] in "smhd" else None
    except ValueError:
        seconds = None
    if seconds is not None:
        return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="seconds")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--since {value!r}: use an ISO date/time or a duration like '2h'", EXIT_CONFIG)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds")


# -- run / reload / status --------------------------------------------------------------------

EXIT_NO_DAEMON = 4


@cli.command()
@click.pass_obj
def run(obj: Context) -> None:
    """Poll every source on its schedule and send alerts, until SIGTERM or Ctrl-C.

    SIGHUP (or `monitor reload`) re-reads the config. Under systemd use Type=notify.

    Example: monitor --config /etc/news-monitor/monitor.toml run
    """
    import asyncio

    from monitor.config import load_settings
    from monitor.daemon import Daemon, DaemonError, pid_path
    from monitor.notify import deliver_due

    settings = obj.settings()
    store = obj.store(settings)
    daemon = Daemon(
        settings,
        store,
        load_settings=load_settings,
        make_router=make_router,
        fetch_settings=fetch_settings,
        deliver=deliver_due,
        pid_file=pid_path(settings.database),
    )
    try:
        status = asyncio.run(daemon.run())
    except DaemonError as exc:
        fail(str(exc), EXIT_NO_DAEMON)
    finally:
        store.close()
    sys.exit(status)


@cli.command()
@click.pass_obj
def reload(obj: Context) -> None:
    """Make the running daemon re-read its config (sends it SIGHUP).

    A bad config is rejected by the daemon, which logs why and keeps the old one.

    Example: monitor --config /etc/news-monitor/monitor.toml reload
    """
    import signal

    from monitor.daemon import pid_path, running_pid

    settings = obj.settings()
    path = pid_path(settings.database)
    try:
        pid = running_pid(path)
        if pid is None:
            fail(f"no monitor daemon runs on {settings.database} (no live {path})", EXIT_NO_DAEMON)
        os.kill(pid, signal.SIGHUP)
    except PermissionError:
        fail(f"not allowed to signal the daemon ({path}); try sudo", EXIT_NO_DAEMON)
    except ProcessLookupError:
        fail(f"the daemon in {path} is gone", EXIT_NO_DAEMON)
    click.echo(f"reload signalled to pid {pid}; its log says whether the config was accepted")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Show each source's last poll, errors, items and next run, and the alert backlog.

    Safe while the daemon runs: the database is opened read-only.

    Example: monitor status --json
    """
    from datetime import UTC, datetime

    from monitor.daemon import pid_path, running_pid
    from monitor.models import StoreError
    from monitor.status import read_status, relative_time

    settings = obj.settings()
    try:
        pid = running_pid(pid_path(settings.database))
    except PermissionError:
        pid = None
    try:
        report = read_status(settings, pid)
    except StoreError as exc:
        fail(f"database error: {exc}", EXIT_STORE)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    now = datetime.now(UTC)
    daemon = f"running (pid {pid})" if pid else "not running"
    click.echo(f"daemon: {daemon}; database {report.database}")
    headers = ["source", "health", "schedule", "last poll", "last success", "errors", "items"]
    print_table(
        [*headers, "next run", "last error"],
        [
            [
                s.name,
                s.health,
                s.schedule,
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
    click.echo(f"outbox: {report.pending} pending, {report.failed} failed")


# -- notify / outbox ---------------------------------------------------------------------------


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
    import asyncio

    from monitor.notify import send_test

    settings = obj.settings()
    names = [c.name for c in settings.channels]
    if not names:
        fail("no channels configured (add a [channels.NAME] table)", EXIT_CONFIG)
    if channel is not None and channel not in names:
        fail(f"no channel named {channel!r} (configured: {', '.join(names)})", EXIT_CONFIG)
    results = asyncio.run(send_test(settings, channel))
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
    from monitor.outbox import unsent

    obj: Context = ctx.obj
    settings = obj.settings()
    store = obj.store(settings)
    try:
        entries = unsent(store)
    finally:
        store.close()
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
    import asyncio
    from datetime import UTC, datetime

    from monitor.notify import deliver_due
    from monitor.outbox import retry

    settings = obj.settings()
    store = obj.store(settings)
    try:
        queued = retry(store, datetime.now(UTC))
        report = asyncio.run(deliver_due(settings, store, force=True))
    finally:
        store.close()
    click.echo(f"{queued} alerts retried: {report.describe()}")
    for error in report.errors:
        click.echo(f"  failed: {error}")
    if report.retrying or report.failed:
        sys.exit(EXIT_SOURCE_FAILED)


def main() -> None:
    cli(prog_name="monitor")
