"""Commands of the long-running monitor: `run` (the daemon) and `reload` (SIGHUP to it)."""

from __future__ import annotations

import os
import sys

import click

from monitor.cli.main import EXIT_NO_DAEMON, Context, cli, fail, open_store


@cli.command()
@click.pass_obj
def run(obj: Context) -> None:
    """Poll every source on its schedule and send alerts, until SIGTERM or Ctrl-C.

    SIGHUP (or `monitor reload`) re-reads the config. Under systemd use Type=notify.

    Example: monitor --config /etc/news-monitor/monitor.toml run
    """
    import asyncio

    from monitor.daemon.runner import Daemon, DaemonError, pid_path

    # The config is read again on reload; each read hides its channels' secrets in the log.
    with obj.monitor() as monitor:
        open_store(monitor)
        daemon = Daemon(monitor, pid_file=pid_path(monitor.settings.database))
        try:
            status = asyncio.run(daemon.run())
        except DaemonError as exc:
            fail(str(exc), EXIT_NO_DAEMON)
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
