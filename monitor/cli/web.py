"""`monitor serve`: the read-only web view, feeds, metrics and health check."""

from __future__ import annotations

import click

from monitor.cli.main import EXIT_CONFIG, Context, cli, fail, open_store


@cli.command()
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Where to listen (default: [web] listen, else 127.0.0.1:8080).",
)
@click.pass_obj
def serve(obj: Context, listen: str | None) -> None:
    """Serve the read-only web view: sources, items, events, search, Atom and JSON feeds,
    /metrics and /healthz, until SIGTERM or Ctrl-C.

    Any address but loopback needs [web] token; requests then carry
    `Authorization: Bearer TOKEN`. `monitor run` serves the same view when the config has
    a [web] table.

    Example: monitor serve --listen 127.0.0.1:8080
    """
    import asyncio

    from monitor.models import WebSettings
    from monitor.web.listen import access_problem
    from monitor.web.server import ListenError, bind, daemon_liveness, make_server, serve

    with obj.monitor() as monitor:
        # Brings the schema (and the search index) up to date; pages read on their own
        # read-only connections.
        open_store(monitor)
        web = monitor.settings.web or WebSettings()
        address = listen or web.listen
        try:
            problem = access_problem(address, web.token)
        except ValueError as exc:
            fail(f"--listen: {exc}", EXIT_CONFIG)
        if problem:
            fail(problem, EXIT_CONFIG)
        try:
            sock = bind(address)
        except ListenError as exc:
            fail(str(exc), EXIT_CONFIG)
        server = make_server(monitor, liveness=daemon_liveness(monitor))
        click.echo(f"serving on http://{address}/ (Ctrl-C stops)", err=True)
        asyncio.run(serve(server, sock))
