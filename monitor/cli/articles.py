"""Commands about article pages and how fast alerts come: `article` (one page's reading,
touching no state) and `stats` (latency, polls and bytes)."""

from __future__ import annotations

import json

import click

from monitor.cli.main import (
    EXIT_CONFIG,
    EXIT_SOURCE_FAILED,
    EXIT_STORE,
    Context,
    cli,
    fail,
    url_guess,
)
from monitor.cli.output import print_table


@cli.command()
@click.argument("url")
@click.option("--source", metavar="NAME", help="Read with this source's article rule.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def article(obj: Context, url: str, source: str | None, as_json: bool) -> None:
    """Show what an article page says about itself: paywall (and which signal said
    so), content tier, dates, author, canonical URL and headline. No state is touched.

    paywalled is true when the publisher says the article is not free, false when it
    says free, null when nothing says either.

    Example: monitor article https://example.org/news/1-story/ --json
    """
    from monitor.app import Monitor, UnknownSourceError, settings_without_config
    from monitor.models import ConfigError, ExtractError, FetchError

    if not url.startswith(("http://", "https://")):
        guess = url_guess(url)
        hint = f": did you mean {guess}?" if guess else ""
        fail(f"{url!r} is not an http(s) URL{hint}", EXIT_CONFIG)
    try:
        monitor = Monitor.open(obj.resolved_config_path())
    except ConfigError:
        if source:
            obj.monitor()  # exits with the config error
        # A URL needs no config; when there is a valid one, its HTTP settings apply.
        monitor = Monitor(settings_without_config())
    try:
        with monitor:
            reading = monitor.article(url, source)
    except UnknownSourceError as exc:
        fail(str(exc), EXIT_CONFIG)
    except (FetchError, ExtractError) as exc:
        fail(f"{url}: {exc}", EXIT_SOURCE_FAILED)
    data = reading.to_json()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for name in ("paywalled", "paywall_signal", "content_tier", "published", "modified"):
        click.echo(f"{name + ':':16}{_shown(data[name])}")
    for name in ("author", "canonical", "title", "is_article"):
        click.echo(f"{name + ':':16}{_shown(data[name])}")
    for signal in reading.signals[1:]:
        click.echo(f"{'also:':16}{signal}")


def _shown(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@cli.command()
@click.option(
    "--since", metavar="TIME", default="7d", show_default=True, help="Window start ('2h', ISO)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def stats(obj: Context, since: str, as_json: bool) -> None:
    """Show how fast stories reach you: per source, the median and 95th percentile of
    published→seen with the polls, article fetches and bytes it took; per source and
    channel, seen→delivered. Only stories alerted as new count.

    Example: monitor stats --since 1d --json
    """
    from monitor.cli.query import cli_since
    from monitor.models import StoreError
    from monitor.pipeline.stats import seconds

    window = cli_since(since)
    with obj.monitor() as monitor:
        try:
            report = monitor.stats(window)
        except StoreError as exc:
            fail(f"database error: {exc}", EXIT_STORE)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    click.echo(f"since {report.since or 'the start'}")
    print_table(
        [
            "source",
            "stories",
            "published→seen median",
            "p95",
            "polls",
            "bytes",
            "articles",
            "bytes",
        ],
        [
            [
                s.source,
                s.published_to_seen.count,
                seconds(s.published_to_seen.median),
                seconds(s.published_to_seen.p95),
                s.polls,
                s.poll_bytes,
                s.article_fetches,
                s.article_bytes,
            ]
            for s in report.sources
        ],
    )
    if report.channels:
        click.echo("")
        print_table(
            ["source", "channel", "alerts", "seen→delivered median", "p95"],
            [
                [
                    c.source,
                    c.channel,
                    c.seen_to_delivered.count,
                    seconds(c.seen_to_delivered.median),
                    seconds(c.seen_to_delivered.p95),
                ]
                for c in report.channels
            ],
        )
