"""The `monitor` command: one module per command group, each parsing options, calling the
`Monitor` (monitor.app) and printing.

    main.py     the group, the shared context, exit codes, logging
    output.py   tables, items, events
    poll.py     check, preview, validate
    query.py    items, events, status
    alerts.py   notify test, outbox, outbox retry
    daemon.py   run, reload
    setup.py    init, sources list/add/remove, discover, schema, demo
    articles.py article, stats
    web.py      serve

Heavy libraries are imported inside the commands, so `monitor --help` starts at once.
"""

from __future__ import annotations

from typing import Any

# Importing a command module registers its commands on the group.
from monitor.cli import alerts, articles, daemon, poll, query, setup, web
from monitor.cli.main import cli

__all__ = ["cli", "main"]

_COMMAND_MODULES = (alerts, articles, daemon, poll, query, setup, web)

# Names that lived here before the application core had its own module (monitor.app).
_MOVED = {"run_checks", "fetch_settings", "make_router", "select_sources"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import monitor.app

        return getattr(monitor.app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    cli(prog_name="monitor")
