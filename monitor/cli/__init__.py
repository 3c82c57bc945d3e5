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
    from monitor.models import Event, Settings, Source
    from monitor.pipeline.check import CheckOutcome
    from monitor.pipeline.store import Store

EXIT_SOURCE_FAILED = 1
EXIT_CONFIG = 2
EXIT_STORE = 3

log = logging.getLogger("monitor")


class Context:
    """What every command may need; loaded on first use."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    def resolved_config_path(self) -> str:
        from monitor.config.settings import default_config_path

        return self.config_path or str(default_config_path())

    def settings(self) -> Settings:
        from monitor.config.settings import load_settings
        from monitor.models import ConfigError

        try:
            settings = load_settings(self.resolved_config_path())
        except ConfigError as exc:
            fail(f"config error: {exc}", EXIT_CONFIG)
        protect_logs(settings)
        return settings

    def store(self, settings: Settings) -> Store:
        from monitor.models import StoreError
        from monitor.pipeline.store import Store

        try:
            return Store.open(settings.database)
        except StoreError as exc:
            fail(f"database error: {exc}", EXIT_STORE)


def protect_logs(settings: Settings) -> None:
    """Hide the tokens and passwords of the channels' URLs in every log line, including the
    request paths Apprise, requests and urllib3 log with -v."""
    from monitor.alerts.targets import SecretFilter, settings_secrets

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
        from monitor.daemon.sdnotify import JournalFormatter

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
    """Poll the sources concurrently, at most `settings.concurrency` at once; with many
    sources, bodies are parsed in worker processes (see monitor.pipeline.pool)."""
    import asyncio
    import os

    from monitor.pipeline.check import check_source
    from monitor.pipeline.fetch import Fetcher
    from monitor.pipeline.pool import parse_workers, start_pool

    router = make_router(settings)
    outcomes: list[Any] = [None] * len(sources)
    # `concurrency` long-lived workers take the next source in turn: cheaper than a task
    # per source queued on a semaphore (a tenth of the CPU time of a round of 304s).
    todo = iter(enumerate(sources))
    pool = await start_pool(parse_workers(settings.parse_workers, sources, os.cpu_count()), sources)
    try:
        async with Fetcher(fetch_settings(settings)) as fetcher:

            async def worker() -> None:
                for index, source in todo:
                    outcomes[index] = await check_source(
                        source,
                        fetcher=fetcher,
                        store=store,
                        route=router,
                        failure_threshold=settings.failure_threshold,
                        executor=pool,
                    )

            workers = min(settings.concurrency, len(sources))
            await asyncio.gather(*(worker() for _ in range(workers)))
            return outcomes
    finally:
        if pool is not None:
            await pool.aclose()


def fetch_settings(settings: Settings) -> Any:
    from monitor.pipeline.fetch import FetchSettings

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
    """Routes events to the channels whose filters they pass (see monitor.alerts.route)."""
    from monitor.alerts.notify import route_events

    return route_events(settings)


def deliver_pending(settings: Settings, store: Store) -> None:
    """Send what the outbox holds now; alerts a channel does not take wait for a retry."""
    import asyncio

    from monitor.alerts.notify import deliver_due

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
@click.option("--id-pattern", help="Regex: the article id in the link (group 1).")
@click.option("--paywall-category", multiple=True, help="Feed category marking a paywalled entry.")
@click.option("--json", "as_json", is_flag=True, help="Print the items as one JSON list.")
@click.pass_obj
def preview(obj: Context, target: str, as_json: bool, **options: Any) -> None:
    """Show what a rule extracts from a page, touching no state.

    TARGET is a URL or the name of a configured source; the options override its rule.

    Example: monitor preview https://pozirk.online/en/politics/ --profile pozirk
    """
    import asyncio

    from monitor.models import ConfigError, ExtractError, FetchError
    from monitor.pipeline.preview import preview_source

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

    from monitor.config.profiles import load_profile
    from monitor.config.settings import RuleModel, load_settings, merge_rule, source_name_from_url
    from monitor.models import ConfigError, Rule, Settings, Source

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
    categories = tuple(options.pop("paywall_category", None) or ())
    rule_options = {k: v for k, v in options.items() if v is not None}
    if paywall_text:
        rule_options["paywall_text"] = list(paywall_text)
    if rule_options:
        rule = merge_rule(rule, RuleModel.model_validate(rule_options))
    if base is not None:
        categories = categories or base.paywall_categories
        return (
            dataclasses.replace(
                base, rule=rule, kind=kind or base.kind, paywall_categories=categories
            ),
            settings,
        )
    # kind "auto" lets preview guess from the response.
    guessed = Source(
        name=source_name_from_url(target),
        url=target,
        kind=kind or "auto",  # type: ignore[arg-type]
        rule=rule,
        paywall_categories=categories,
    )
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

    from monitor.config.settings import parse_interval

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

    from monitor.alerts.notify import deliver_due
    from monitor.config.settings import load_settings
    from monitor.daemon.runner import Daemon, DaemonError, pid_path

    def load_protected(path: str) -> Settings:
        # Secrets of channels added by a reload are hidden from the log too.
        new = load_settings(path)
        protect_logs(new)
        return new

    settings = obj.settings()
    store = obj.store(settings)
    daemon = Daemon(
        settings,
        store,
        load_settings=load_protected,
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

    from monitor.daemon.runner import pid_path, running_pid

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

    from monitor.daemon.runner import pid_path, running_pid
    from monitor.models import StoreError
    from monitor.pipeline.status import read_status, relative_time

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
    for problem in report.channels:
        where = "" if problem.target == "*" else f" ({problem.label or problem.target})"
        click.echo(
            f"channel {problem.channel!r}{where}: failing since"
            f" {relative_time(problem.failing_since, now)}: {problem.last_error or '?'}"
        )


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

    from monitor.alerts.notify import send_test

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
    from monitor.alerts.outbox import unsent

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

    from monitor.alerts.notify import deliver_due
    from monitor.alerts.outbox import retry

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


# -- demo / init / sources / discover / schema ------------------------------------------------


@cli.command()
def demo() -> None:
    """See it work in a minute, offline: a sample Pozirk-like page, two polls, the alerts.

    Serves a bundled page on 127.0.0.1, polls it into a temporary database with the
    built-in `pozirk` profile, changes the page, polls again, and prints the events and
    each alert as a channel receives it. Needs no config file.

    Example: monitor demo
    """
    from monitor.demo import run_demo

    sys.exit(run_demo(click.echo, print_items, print_events))


@cli.command()
@click.argument("path", required=False)
@click.option(
    "--profile", default="pozirk", show_default=True, help="Built-in profile of the example."
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_obj
def init(obj: Context, path: str | None, profile: str, force: bool) -> None:
    """Write a starter config, commented line by line, that validates and runs as it is.

    PATH defaults to --config, $MONITOR_CONFIG, then config/monitor.toml. An existing
    file is left alone unless --force.

    Example: monitor init config/monitor.toml
    """
    from pathlib import Path

    from monitor.config.file import check_text, starter_config, write_atomically
    from monitor.models import ConfigError, MonitorError

    target = Path(path or obj.resolved_config_path())
    if target.exists() and not force:
        fail(f"{target} exists; not overwritten (use --force to replace it)", EXIT_CONFIG)
    try:
        text = starter_config(profile)
        settings = check_text(text, str(target))
    except ConfigError as exc:
        fail(f"config error: {exc}", EXIT_CONFIG)
    except MonitorError as exc:
        fail(str(exc), EXIT_CONFIG)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, text)
    names = ", ".join(s.name for s in settings.sources)
    click.echo(f"Wrote {target}: sources {names}; database {settings.database}.")
    where = "" if path is None and obj.config_path is None else f" --config {target}"
    click.echo("Next:")
    click.echo(f"  monitor{where} validate         # check the file")
    click.echo(f"  monitor{where} sources add URL  # add a page or feed; selectors are found")
    click.echo(f"  monitor{where} check            # poll once (the first poll: silent baseline)")
    click.echo(f"  monitor{where} run              # keep watching; file edits are picked up")


@cli.group()
def sources() -> None:
    """Add, list and remove the sources of the config file, keeping its comments.

    Example: monitor sources add https://www.heise.de/security/ --interval 10m
    """


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
@click.pass_obj
def sources_list(obj: Context, as_json: bool) -> None:
    """List the configured sources: name, kind, schedule, URL and how items are found.

    Example: monitor sources list --json
    """
    settings = obj.settings()
    rows = []
    for source in settings.sources:
        channels = [c.name for c in settings.channels if not c.sources or source.name in c.sources]
        if source.profile:
            how = f"profile {source.profile}"
        elif source.kind == "html":
            how = source.rule.item or "the paywall text"
        else:
            how = "feed entries"
        schedule = f"cron {source.cron}" if source.cron else f"every {_duration(source.interval)}"
        rows.append(
            {
                "name": source.name,
                "kind": source.kind,
                "schedule": schedule,
                "url": source.url,
                "rule": how,
                "channels": channels,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    print_table(
        ["name", "kind", "schedule", "url", "items found by", "channels"],
        [[*list(r.values())[:5], ", ".join(r["channels"])] for r in rows],
    )


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@sources.command("add")
@click.argument("url")
@click.option("--name", help="Source name (default: host and path of the URL).")
@click.option("--interval", help="Poll interval, e.g. 10m (default: the config's).")
@click.option("--channel", help="Also add the source to channels.CHANNEL.sources.")
@click.option("--profile", help="Use a built-in profile instead of discovering a rule.")
@click.option(
    "--feed/--page",
    "prefer_feed",
    default=None,
    help="When the page advertises a feed: take the feed, or the page itself.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask; add what was found.")
@click.pass_obj
def sources_add(
    obj: Context,
    url: str,
    name: str | None,
    interval: str | None,
    channel: str | None,
    profile: str | None,
    prefer_feed: bool | None,
    yes: bool,
) -> None:
    """Add a page or feed: fetch it, find its items (and paywall mark), append it to the file.

    A feed is added as a feed. A page that advertises feeds offers them (--feed takes the
    first, --page the page). For a listing page a rule is proposed (see `monitor
    discover`) and its first items shown. The file keeps its comments and layout; the
    result is validated before it is written, atomically. A running `monitor run` picks
    the change up within seconds.

    Example: monitor sources add https://pozirk.online/en/economy/ --profile pozirk --yes
    """
    import asyncio
    from pathlib import Path

    from monitor.config.file import (
        add_source,
        channel_sources,
        check_edit,
        lenient_settings,
        write_atomically,
    )
    from monitor.config.settings import source_name_from_url
    from monitor.models import ConfigError, FetchError, MonitorError
    from monitor.pipeline.look import feed_comment, look_at, source_table

    path = obj.resolved_config_path()
    try:
        before = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"no config at {path} (create one with `monitor init`)", EXIT_CONFIG)
    try:
        settings = lenient_settings(before, path)
    except ConfigError as exc:
        fail(f"config error (fix it first): {exc}", EXIT_CONFIG)
    name = name or source_name_from_url(url)
    if settings.source(name) is not None:
        fail(f"a source named {name!r} exists already (choose another with --name)", EXIT_CONFIG)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    try:
        found = asyncio.run(look_at(url, fetch_settings(settings)))
        if found.kind == "html" and found.feeds and prefer_feed is not False and not profile:
            feed = _choose_feed(found.feeds, prefer_feed, interactive and not yes)
            if feed is not None:
                found = asyncio.run(look_at(feed, fetch_settings(settings)))
                url = feed
    except FetchError as exc:
        fail(f"{url}: {exc}", EXIT_SOURCE_FAILED)
    try:
        if found.kind == "feed":
            from monitor.pipeline.look import feed_items

            items = feed_items(found)
            click.echo(f"{url} is a feed with {len(items)} entries:")
            print_items(items[:10])
            table = source_table(name, url, kind="feed", interval=interval)
            comment = feed_comment(len(items))
        else:
            table, comment = _page_source(found, name, url, interval, profile)
    except MonitorError as exc:
        fail(str(exc), EXIT_SOURCE_FAILED)
    after = add_source(before, table, comment)
    if channel:
        try:
            after = channel_sources(after, channel, add=name)
        except KeyError:
            known = ", ".join(c.name for c in settings.channels) or "none"
            fail(f"no channel named {channel!r} (configured: {known})", EXIT_CONFIG)
    try:
        new, note = check_edit(before, after, path)
    except ConfigError as exc:
        fail(f"not added, the config would be invalid: {exc} ({path} unchanged)", EXIT_CONFIG)
    if note:
        click.echo(f"warning: {note}", err=True)
    if interactive and not yes and not click.confirm(f"\nAdd {name!r} to {path}?", default=True):
        click.echo(f"Nothing written; {path} unchanged.")
        return
    write_atomically(path, after)
    click.echo(
        f"Added source {name!r} to {path} ({len(new.sources)} sources)."
        " A running `monitor run` picks it up within seconds."
    )


def _choose_feed(
    feeds: Sequence[dict[str, str]], prefer_feed: bool | None, ask: bool
) -> str | None:
    """The feed to add instead of the page, or None for the page itself."""
    click.echo("The page advertises feeds:")
    for n, feed in enumerate(feeds, start=1):
        click.echo(f"  {n}. {feed['url']} ({feed.get('type')}) {feed.get('title') or ''}".rstrip())
    if prefer_feed:
        return feeds[0]["url"]
    if ask:
        choice = click.prompt(
            "Add which? (0: the page itself)", type=click.IntRange(0, len(feeds)), default=1
        )
        return feeds[choice - 1]["url"] if choice else None
    click.echo("Adding the page itself (no terminal to ask; use --feed to take the feed).")
    return None


def _page_source(
    found: Any, name: str, url: str, interval: str | None, profile: str | None
) -> tuple[dict[str, Any], str]:
    """The table and comment for an HTML page: a profile's rule, or a discovered one."""
    from monitor.config.profiles import load_profile
    from monitor.extract.discover import discover, rule_table
    from monitor.extract.html import extract_html
    from monitor.models import ExtractError
    from monitor.pipeline.look import page_comment, source_table

    if profile:
        _, rule = load_profile(profile)
        items = extract_html(found.body, found.url, rule, found.content_type)
        paid = sum(1 for i in items if i.paywalled)
        click.echo(f"With profile {profile!r}: {len(items)} items, {paid} paywalled.")
        print_items(items[:10])
        table = source_table(name, url, profile=profile, interval=interval)
        return table, f"Added by `monitor sources add`: profile {profile}, {len(items)} items."
    proposals = discover(found.body, found.url, found.content_type)
    if not proposals:
        raise ExtractError(
            f"{url}: found no list of articles on this page; write a rule by hand"
            " (try selectors with `monitor preview URL --item ...`)"
        )
    best = proposals[0]
    click.echo(f"Proposed rule: {best.items} items, {best.paywalled} paywalled.")
    if best.paywall is not None:
        click.echo(f"Paywall: {best.paywall.describe()}.")
    click.echo(_rule_toml(rule_table(best.rule)))
    print_items(best.sample)
    if len(proposals) > 1:
        click.echo("(other readings of the page: `monitor discover URL`)")
    table = source_table(name, url, interval=interval, rule=rule_table(best.rule))
    return table, page_comment(best)


def _rule_toml(rule: dict[str, Any]) -> str:
    import tomlkit

    return "\n[sources.rule]\n" + tomlkit.dumps(rule)


@sources.command("remove")
@click.argument("name")
@click.pass_obj
def sources_remove(obj: Context, name: str) -> None:
    """Remove a source (and its name from channels' `sources` lists) from the file.

    Its items and events stay in the database.

    Example: monitor sources remove pozirk-politics
    """
    from pathlib import Path

    from monitor.config.file import (
        channel_sources,
        check_edit,
        lenient_settings,
        remove_source,
        write_atomically,
    )
    from monitor.models import ConfigError

    path = obj.resolved_config_path()
    try:
        before = Path(path).read_text(encoding="utf-8")
        settings = lenient_settings(before, path)
    except FileNotFoundError:
        fail(f"no config at {path}", EXIT_CONFIG)
    except ConfigError as exc:
        fail(f"config error (fix it first): {exc}", EXIT_CONFIG)
    names = [s.name for s in settings.sources]
    if name not in names:
        fail(f"no source named {name!r} (configured: {', '.join(names) or 'none'})", EXIT_CONFIG)
    after = remove_source(before, names.index(name))
    for chan in settings.channels:
        if name in chan.sources:
            if len(chan.sources) == 1:
                fail(
                    f"channel {chan.name!r} lists only {name!r}; without it the channel would"
                    f" take every source. Edit channels.{chan.name} first ({path} unchanged)",
                    EXIT_CONFIG,
                )
            after = channel_sources(after, chan.name, drop=name)
    try:
        new, note = check_edit(before, after, path)
    except ConfigError as exc:
        fail(f"not removed, the config would be invalid: {exc} ({path} unchanged)", EXIT_CONFIG)
    if note:
        click.echo(f"warning: {note}", err=True)
    write_atomically(path, after)
    click.echo(f"Removed source {name!r} from {path} ({len(new.sources)} sources left).")


@cli.command()
@click.argument("target", metavar="URL_OR_FILE")
@click.option("--json", "as_json", is_flag=True, help="Print the proposals as one JSON list.")
@click.option("--base-url", help="For a file: the URL it was saved from (links resolve to it).")
@click.option("--limit", default=3, show_default=True, help="How many proposals.")
@click.pass_obj
def discover(obj: Context, target: str, as_json: bool, base_url: str | None, limit: int) -> None:
    """Propose rules for a listing page: item, title, section, date and paywall selectors.

    Ranked best first, each with the number of items and paywalled items the extractor
    finds with it. TARGET may be a URL or a saved HTML file.

    Example: monitor discover https://www.spiegel.de/politik/ --json
    """
    import asyncio
    from pathlib import Path

    from monitor.config.settings import load_settings
    from monitor.extract.discover import discover as propose
    from monitor.extract.discover import rule_table
    from monitor.models import ConfigError, FetchError
    from monitor.pipeline.look import look_at

    content_type = None
    if "://" in target:
        try:
            fetch = fetch_settings(load_settings(obj.resolved_config_path()))
        except ConfigError:
            from monitor.pipeline.fetch import FetchSettings

            fetch = FetchSettings()
        try:
            found = asyncio.run(look_at(target, fetch))
        except FetchError as exc:
            fail(f"{target}: {exc}", EXIT_SOURCE_FAILED)
        body, base, content_type = found.body, found.url, found.content_type
    else:
        try:
            body = Path(target).read_bytes()
        except OSError as exc:
            fail(f"cannot read {target}: {exc.strerror}", EXIT_CONFIG)
        base = base_url or _saved_page_url(body)
    proposals = propose(body, base, content_type, limit=limit)
    if as_json:
        click.echo(json.dumps([p.to_json() for p in proposals], ensure_ascii=False, indent=2))
        return
    if not proposals:
        fail(f"{target}: found no list of articles", EXIT_SOURCE_FAILED)
    for rank, proposal in enumerate(proposals, start=1):
        click.echo(f"#{rank}: {proposal.items} items, {proposal.paywalled} paywalled")
        if proposal.paywall is not None:
            click.echo(f"    paywall: {proposal.paywall.describe()}")
        for other in proposal.paywall_alternatives[:3]:
            click.echo(f"    or:      {other.describe()}")
        click.echo(_rule_toml(rule_table(proposal.rule)))
    click.echo(f"First items of #1 ({base}):")
    print_items(proposals[0].sample)


def _saved_page_url(body: bytes) -> str:
    """Where a saved page came from: its canonical link or og:url, else localhost."""
    import re

    head = body[:200_000].decode("utf-8", errors="replace")
    for pattern in (
        r"<link[^>]+rel=[\"']?canonical[\"']?[^>]+href=[\"']([^\"']+)",
        r"<meta[^>]+property=[\"']og:url[\"'][^>]+content=[\"']([^\"']+)",
    ):
        match = re.search(pattern, head, re.I)
        if match and match.group(1).startswith(("http://", "https://")):
            return match.group(1)
    return "http://localhost/"


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the config file, for editors that check TOML as you type.

    Save it beside the config and start the config with `#:schema ./monitor.schema.json`
    (taplo, Even Better TOML).

    Example: monitor schema > config/monitor.schema.json
    """
    from monitor.config.settings import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def main() -> None:
    cli(prog_name="monitor")
