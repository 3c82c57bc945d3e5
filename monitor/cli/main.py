"""The `monitor` group, what every command shares (the config, the Monitor, exit codes,
failing with a message), and logging, which is set up here only.

Heavy libraries (httpx, feedparser, apprise, pydantic) are imported inside the commands so
that `monitor --help` starts at once.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from monitor.app import Monitor
    from monitor.models import Settings

EXIT_SOURCE_FAILED = 1
EXIT_CONFIG = 2
EXIT_STORE = 3
EXIT_NO_DAEMON = 4

log = logging.getLogger("monitor")


class Context:
    """What every command may need; loaded on first use."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    def resolved_config_path(self) -> str:
        from monitor.app import config_path

        return config_path(self.config_path)

    def monitor(self) -> Monitor:
        """The Monitor of the config file; exit status 2 with the reason when it is wrong.
        Every settings it reads (also on reload) has its secrets hidden from the log."""
        from monitor.app import Monitor
        from monitor.models import ConfigError

        try:
            return Monitor.open(self.resolved_config_path(), on_load=protect_logs)
        except ConfigError as exc:
            fail(f"config error: {exc}", EXIT_CONFIG)

    def settings(self) -> Settings:
        return self.monitor().settings


def open_store(monitor: Monitor) -> None:
    """Open the monitor's database now; exit status 3 with the reason when it cannot."""
    from monitor.models import StoreError

    try:
        monitor.store  # noqa: B018 - opened on first use
    except StoreError as exc:
        fail(f"database error: {exc}", EXIT_STORE)


def protect_logs(settings: Settings) -> None:
    """Hide the tokens and passwords of the channels' URLs in every log line, including the
    request paths Apprise, requests and urllib3 log with -v.

    Each handler has one filter however often the config is read: a reload adds the new
    secrets to it (secrets of a channel that a reload removed stay hidden)."""
    from monitor.alerts.targets import SecretFilter, settings_secrets

    secrets = settings_secrets(settings.channels)
    if not secrets:
        return
    for handler in logging.getLogger().handlers:
        present = [f for f in handler.filters if isinstance(f, SecretFilter)]
        if not present:
            handler.addFilter(SecretFilter(secrets))
            continue
        present[0].secrets = present[0].secrets | SecretFilter(secrets).secrets
        for extra in present[1:]:
            handler.removeFilter(extra)


def fail(message: str, status: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


# What a file's name ends with, never a top-level domain a URL was meant to have.
_FILE_SUFFIXES = frozenset({"html", "htm", "xhtml", "xml", "rss", "atom", "json", "txt", "toml"})


def url_guess(text: str) -> str | None:
    """'https://TEXT' when TEXT reads as a host (and path) typed without its scheme
    ('www.spiegel.de/politik/'), else None."""
    import re

    match = re.fullmatch(
        r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+([a-z]{2,63})(?::\d+)?(?:[/?#]\S*)?",
        text.strip(),
        re.I,
    )
    if match is None or match.group(1).lower() in _FILE_SUFFIXES:
        return None
    return f"https://{text.strip()}"


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
