"""Commands that set the monitor up: `init`, `sources list/add/remove/fix`, `discover`,
`schema`, and `demo`."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from monitor.cli.main import EXIT_CONFIG, EXIT_SOURCE_FAILED, Context, cli, fail, url_guess
from monitor.cli.output import print_events, print_items, print_table, rule_toml


@cli.command()
def demo() -> None:
    """See it work in a minute, offline: a sample Pozirk-like page, two polls, the alerts.

    Serves a bundled page on 127.0.0.1, polls it into a temporary database with the
    built-in `pozirk` profile, changes the page, polls again, and prints the events and
    each alert as a channel receives it. Needs no config file.

    Example: monitor demo
    """
    # The demo is its own face on the Monitor; it gets the printers and prints with them.
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
    from monitor.models import ConfigError

    target = Path(path or obj.resolved_config_path())
    if target.exists() and not force:
        fail(f"{target} exists; not overwritten (use --force to replace it)", EXIT_CONFIG)
    _check_profile(profile)
    try:
        text = starter_config(profile)
        settings = check_text(text, str(target))
    except ConfigError as exc:
        fail(f"config error: {exc}", EXIT_CONFIG)
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


def _check_profile(profile: str | None) -> None:
    """Exit status 2 naming --profile when no built-in profile has that name."""
    from monitor.config.profiles import load_profile
    from monitor.models import MonitorError

    if profile is None:
        return
    try:
        load_profile(profile)
    except MonitorError as exc:
        fail(f"--profile: {exc}", EXIT_CONFIG)


def _check_url(url: str, option: str = "") -> None:
    """Exit status 2 unless URL is an http(s) URL (one typed without its scheme is named
    as the URL it likely is); `option`: the option that gave it."""
    import re

    if re.match(r"^https?://[^/\s]+", url, re.I):
        return
    guess = url_guess(url)
    hint = f": did you mean {guess}?" if guess else ""
    fail(f"{option + ': ' if option else ''}{url!r} is not an http(s) URL{hint}", EXIT_CONFIG)


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
@click.option(
    "--articles/--no-articles",
    default=True,
    help="Check the proposed paywall mark against a few article pages.",
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
    articles: bool,
    yes: bool,
) -> None:
    """Add a page or feed: fetch it, find its items (and paywall mark), append it to the file.

    A feed is added as a feed. A page that advertises feeds offers them (--feed takes the
    first, --page the page). For a listing page a rule is proposed (see `monitor
    discover`) and its first items shown, its paywall mark checked against up to 6
    article pages (--no-articles: none). The file keeps its comments and layout; the
    result is validated before it is written, atomically. A running `monitor run` picks
    the change up within seconds.

    Example: monitor sources add https://pozirk.online/en/economy/ --profile pozirk --yes
    """
    import asyncio
    from pathlib import Path

    from monitor.app import fetch_settings
    from monitor.config.file import (
        add_source,
        channel_sources,
        check_edit,
        lenient_settings,
        write_atomically,
    )
    from monitor.config.settings import parse_interval, source_name_from_url
    from monitor.models import ConfigError, FetchError, MonitorError
    from monitor.pipeline.look import feed_comment, look_at, source_table

    _check_url(url)
    _check_profile(profile)
    if interval is not None:
        try:
            parse_interval(interval)
        except ValueError as exc:
            fail(f"--interval: {exc}", EXIT_CONFIG)
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
    if channel and all(c.name != channel for c in settings.channels):
        _no_channel(channel, settings, path)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    looking_at = url
    try:
        found = asyncio.run(look_at(url, fetch_settings(settings)))
        if found.kind == "html" and found.feeds and prefer_feed is not False and not profile:
            feed = _choose_feed(found.feeds, prefer_feed, interactive and not yes)
            if feed is not None:
                looking_at = feed
                found = asyncio.run(look_at(feed, fetch_settings(settings)))
                url = feed
    except FetchError as exc:
        where = "" if looking_at == url else f" (the feed advertised by {url})"
        fail(f"{looking_at}{where}: {exc}", EXIT_SOURCE_FAILED)
    try:
        if found.kind == "feed":
            from monitor.pipeline.look import feed_items

            items = feed_items(found)
            click.echo(f"{url} is a feed with {len(items)} entries:")
            print_items(items[:10])
            table = source_table(name, url, kind="feed", interval=interval)
            comment = feed_comment(len(items))
        else:
            check_with = fetch_settings(settings) if articles else None
            table, comment = _page_source(found, name, url, interval, profile, check_with)
    except MonitorError as exc:
        fail(str(exc), EXIT_SOURCE_FAILED)
    after = add_source(before, table, comment)
    if channel:
        try:
            after = channel_sources(after, channel, add=name)
        except KeyError:
            _no_channel(channel, settings, path)
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


def _no_channel(channel: str, settings: Any, path: str) -> None:
    known = ", ".join(c.name for c in settings.channels) or "none"
    fail(
        f"--channel: no channel named {channel!r} in {path} (configured: {known}); add a"
        f" [channels.{channel}] table with its `urls` first (the example config has them"
        " commented out), or leave --channel out",
        EXIT_CONFIG,
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
    found: Any,
    name: str,
    url: str,
    interval: str | None,
    profile: str | None,
    check_with: Any = None,
) -> tuple[dict[str, Any], str]:
    """The table and comment for an HTML page: a profile's rule, or a discovered one whose
    paywall mark is checked against a few article pages when `check_with` (the fetch
    settings) is given."""
    import asyncio

    from monitor.config.profiles import load_profile
    from monitor.extract.discover import discover, rule_table
    from monitor.extract.html import extract_html
    from monitor.models import ExtractError
    from monitor.pipeline.look import page_comment, paywall_summary, source_table

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
        click.echo(f"Paywall: {paywall_summary(best)}.")
    check = None
    if check_with is not None:
        from monitor.pipeline.confirm import check_listing_at

        check = asyncio.run(check_listing_at(found, best, check_with))
        if check is not None:
            click.echo(check.sentence())
    click.echo(rule_toml(rule_table(best.rule)))
    print_items(best.sample)
    if len(proposals) > 1:
        click.echo("(other readings of the page: `monitor discover URL`)")
    table = source_table(name, url, interval=interval, rule=rule_table(best.rule))
    return table, page_comment(best, articles=check)


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


@sources.command("fix")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Write the proposed rule without asking.")
@click.pass_obj
def sources_fix(obj: Context, name: str, yes: bool) -> None:
    """Give a source whose rule stopped matching the rule discovery proposes for its page.

    Fetches the source's page, shows what its rule finds there, the rule keys the
    proposal changes and the items it finds, then writes it into the source's
    [sources.rule]: every other line of the file is kept, the result is validated before
    it is written, atomically. Without --yes it asks; with no terminal to ask on, it only
    shows the proposal. The next poll reads the page with the new rule and re-baselines
    silently (no alerts for what the old rule missed).

    Example: monitor sources fix spiegel-politik --yes
    """
    import asyncio
    from pathlib import Path

    from monitor.app import fetch_settings
    from monitor.config.file import lenient_settings, write_source_rule
    from monitor.models import ConfigError, FetchError, MonitorError
    from monitor.pipeline.heal import change_text, fetch_fix, rule_text

    path = obj.resolved_config_path()
    try:
        settings = lenient_settings(Path(path).read_text(encoding="utf-8"), path)
    except FileNotFoundError:
        fail(f"no config at {path}", EXIT_CONFIG)
    except ConfigError as exc:
        fail(f"config error (fix it first): {exc}", EXIT_CONFIG)
    source = settings.source(name)
    if source is None:
        names = ", ".join(s.name for s in settings.sources) or "none"
        fail(f"no source named {name!r} (configured: {names})", EXIT_CONFIG)
    if source.kind != "html":
        fail(f"{name!r} is a feed: it has no rule to fix", EXIT_CONFIG)
    try:
        fix = asyncio.run(fetch_fix(source, fetch_settings(settings)))
    except FetchError as exc:
        fail(f"{source.url}: {exc}", EXIT_SOURCE_FAILED)
    except MonitorError as exc:
        fail(f"{source.url}: {exc}", EXIT_SOURCE_FAILED)
    if fix is None:
        click.echo(
            f"{name}: nothing to fix: no rule discovery proposes finds more items on"
            f" {source.url} than {rule_text(source.rule)}."
        )
        return
    click.echo(f"{name}: {rule_text(source.rule)} finds {fix.items_before} items on {source.url}.")
    click.echo(f"Proposed: {change_text(fix)}")
    click.echo(f"With it: {fix.items} items, {fix.paywalled} paywalled.")
    for note in fix.notes:
        click.echo(f"Note: {note}")
    print_items(fix.sample)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if not yes:
        if not interactive:
            click.echo(f"Nothing written; run `monitor sources fix {name} --yes` to apply it.")
            return
        if not click.confirm(f"\nWrite it to {path}?", default=True):
            click.echo(f"Nothing written; {path} unchanged.")
            return
    try:
        _, unchecked = write_source_rule(path, name, fix.table, fix.drop, expect=fix.rule)
    except ConfigError as exc:
        fail(f"not fixed, the config would be invalid: {exc} ({path} unchanged)", EXIT_CONFIG)
    if unchecked:
        click.echo(f"warning: {unchecked}", err=True)
    click.echo(
        f"Fixed source {name!r} in {path}. A running `monitor run` picks it up within"
        " seconds; the next poll re-reads the listing without alerting."
    )


@cli.command()
@click.argument("target", metavar="URL_OR_FILE")
@click.option("--json", "as_json", is_flag=True, help="Print the proposals as one JSON list.")
@click.option("--base-url", help="For a file: the URL it was saved from (links resolve to it).")
@click.option(
    "--limit", default=3, show_default=True, type=click.IntRange(min=1), help="How many proposals."
)
@click.option(
    "--articles/--no-articles",
    default=True,
    help="For a URL: check the best proposal's paywall mark against a few article pages.",
)
@click.pass_obj
def discover(
    obj: Context, target: str, as_json: bool, base_url: str | None, limit: int, articles: bool
) -> None:
    """Propose rules for a listing page: item, title, section, date and paywall selectors.

    Ranked best first, each with the number of items and paywalled items the extractor
    finds with it. TARGET may be a URL or a saved HTML file. For a URL, up to 6 article
    pages of the best proposal (half marked paywalled, half not) are fetched one after
    another and their own isAccessibleForFree / content tier is held against the mark
    (--no-articles: none); a file is never followed.

    Example: monitor discover https://www.spiegel.de/politik/ --json
    """
    import asyncio
    from pathlib import Path

    from monitor.app import Monitor, discover_url, propose_rules
    from monitor.extract.discover import rule_table
    from monitor.models import ConfigError, FetchError
    from monitor.pipeline.look import paywall_summary

    if base_url is not None and "://" in target:
        fail("--base-url is for a saved file; a URL's links resolve to the URL", EXIT_CONFIG)
    if base_url is not None:
        _check_url(base_url, "--base-url")
    if "://" in target:
        try:
            settings = Monitor.open(obj.resolved_config_path()).settings
        except ConfigError:
            settings = None  # the fetcher's defaults
        try:
            found = asyncio.run(discover_url(target, settings, limit=limit, articles=articles))
        except FetchError as exc:
            fail(f"{target}: {exc}", EXIT_SOURCE_FAILED)
    else:
        try:
            body = Path(target).read_bytes()
        except OSError as exc:
            guess = url_guess(target) if isinstance(exc, FileNotFoundError) else None
            hint = f"; did you mean {guess}?" if guess else ""
            fail(f"cannot read {target}: {exc.strerror}{hint}", EXIT_CONFIG)
        found = propose_rules(body, base_url or saved_page_url(body), limit=limit)
    base, proposals = found.base_url, found.proposals
    check = found.articles
    if as_json:
        listed = [
            {**p.to_json(), "articles": check.to_json() if check and rank == 0 else None}
            for rank, p in enumerate(proposals)
        ]
        click.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    if not proposals:
        fail(f"{target}: found no list of articles", EXIT_SOURCE_FAILED)
    for rank, proposal in enumerate(proposals, start=1):
        click.echo(f"#{rank}: {proposal.items} items, {proposal.paywalled} paywalled")
        # A rule on generated class names breaks on the site's next deploy: say so.
        for note in proposal.notes:
            click.echo(f"    note:    {note}")
        if proposal.paywall is not None:
            click.echo(f"    paywall: {paywall_summary(proposal)}")
        for other in proposal.paywall_alternatives[:3]:
            click.echo(f"    or:      {other.evidence} (marks {other.marked})")
        if rank == 1 and check is not None:
            click.echo(f"    {check.text()}")
        click.echo(rule_toml(rule_table(proposal.rule)))
    click.echo(f"First items of #1 ({base}):")
    print_items(proposals[0].sample)


def saved_page_url(body: bytes) -> str:
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
