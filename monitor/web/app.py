"""The web view as an ASGI application (Starlette): pages, feeds, /metrics, /healthz.

Read-only: only GET and HEAD are answered, and every database read goes through its own
read-only connection in a worker thread (monitor.web.queries), so a page never holds up
the event loop that polls, nor a write lock. Pages are rendered from Jinja2 templates with
autoescaping on; every response carries a Content-Security-Policy that allows no script at
all and styles only from this server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.models import MonitorError, Settings
from monitor.web import feeds, queries
from monitor.web.feeds import web_url
from monitor.web.listen import authorized

if TYPE_CHECKING:
    from monitor.app import Monitor
    from monitor.web.metrics import PollStats

log = logging.getLogger("monitor.web")

HERE = Path(__file__).parent
PAGE_SIZE = 100
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
    " base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
KINDS = ("new", "changed", "removed", "health")
HTML = "text/html; charset=utf-8"

# (alive, why): is the scheduler that polls this database running?
Liveness = Callable[[], Awaitable[tuple[bool, str]]]


@dataclass
class WebContext:
    """What the handlers need: the monitor (settings, status), how to tell whether the
    polling runs, and the daemon's poll figures when it serves this view itself."""

    monitor: Monitor
    liveness: Liveness
    stats: PollStats | None = None
    version: str = field(default_factory=lambda: _version())

    @property
    def settings(self) -> Settings:
        return self.monitor.settings

    @property
    def database(self) -> str:
        return self.settings.database

    @property
    def token(self) -> str | None:
        # Read on every request: a reload of the daemon's config takes effect at once.
        web = self.settings.web
        return web.token if web is not None else None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("news-monitor")
    except PackageNotFoundError:
        return "unknown"


# -- templates ----------------------------------------------------------------------------


def _when(value: str | None) -> str:
    """'2026-11-01 14:05' (UTC) for a stored ISO time."""
    if not value:
        return "-"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M")


def _change(event: Any) -> str:
    from monitor.alerts.render import change_text

    return change_text(event)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["web_url"] = web_url
    env.filters["change"] = _change
    env.globals["KINDS"] = KINDS
    return env


def render(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values)


# -- middleware ---------------------------------------------------------------------------


class Guard:
    """Token check, read-only methods and security headers, around every request."""

    def __init__(self, app: ASGIApp, context: WebContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        headers = dict(scope.get("headers") or [])
        header = headers.get(b"authorization")
        if not authorized(header.decode("latin-1") if header else None, self.context.token):
            response: Response = PlainTextResponse(
                "401 Unauthorized: send Authorization: Bearer TOKEN\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="news-monitor"'},
            )
            await response(scope, receive, secured)
            return
        if scope["method"] not in ("GET", "HEAD"):
            response = PlainTextResponse(
                "405 Method Not Allowed: this view is read-only\n",
                status_code=405,
                headers={"Allow": "GET, HEAD"},
            )
            await response(scope, receive, secured)
            return
        await self.app(scope, receive, secured)


# -- handlers -----------------------------------------------------------------------------


def _flag(value: str | None) -> bool | None:
    return {"paywalled": True, "free": False}.get(value or "")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _page_number(value: str | None) -> int:
    number = _int(value) or 1
    return max(1, min(number, 1000))


def build(context: WebContext) -> ASGIApp:
    """The application for one monitor."""

    async def off_loop(fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    def page(html: str, status: int = 200) -> Response:
        return Response(html, status_code=status, media_type=HTML)

    def not_found(what: str) -> Response:
        return page(render("error.html", title="Not found", message=what, q=""), 404)

    def source_names() -> list[str]:
        return [s.name for s in context.settings.sources]

    async def overview(request: Request) -> Response:
        status = await context.monitor.status_async()

        def read() -> str:
            with queries.reading(context.database) as conn:
                recent = queries.events(conn, limit=20) if conn else []
            return render("overview.html", title="Overview", status=status, events=recent, q="")

        return page(await off_loop(read))

    async def sources(request: Request) -> Response:
        status = await context.monitor.status_async()
        return page(render("sources.html", title="Sources", status=status, q=""))

    async def items(request: Request) -> Response:
        params = request.query_params
        number = _page_number(params.get("page"))
        chosen = {
            "source": params.get("source") or "",
            "section": params.get("section") or "",
            "paywall": params.get("paywall") or "",
            "kind": params.get("kind") if params.get("kind") in KINDS else "",
            "q": params.get("q") or "",
        }

        def read() -> str:
            with queries.reading(context.database) as conn:
                found = (
                    queries.items(
                        conn,
                        source=chosen["source"] or None,
                        section=chosen["section"] or None,
                        paywalled=_flag(chosen["paywall"]),
                        kind=chosen["kind"] or None,
                        text=chosen["q"] or None,
                        limit=PAGE_SIZE + 1,
                        offset=(number - 1) * PAGE_SIZE,
                    )
                    if conn
                    else []
                )
            return render(
                "items.html",
                title="Items",
                items=found[:PAGE_SIZE],
                more=len(found) > PAGE_SIZE,
                page=number,
                chosen=chosen,
                sources=source_names(),
                q=chosen["q"],
            )

        return page(await off_loop(read))

    async def one_item(request: Request) -> Response:
        item_id = request.path_params["item_id"]

        def read() -> str | None:
            with queries.reading(context.database) as conn:
                found = queries.item(conn, item_id) if conn else None
                if conn is None or found is None:
                    return None
                past = queries.history(conn, found)
                sent = queries.deliveries(conn, [row.id for row in past])
            by_event: dict[int, list[queries.Delivery]] = {}
            for delivery in sent:
                by_event.setdefault(delivery.event_id, []).append(delivery)
            return render(
                "item.html",
                title=found.title,
                item=found,
                history=past,
                deliveries=by_event,
                q="",
            )

        html = await off_loop(read)
        return page(html) if html is not None else not_found(f"no item {item_id}")

    async def events(request: Request) -> Response:
        params = request.query_params
        source = params.get("source") or ""
        kind = params.get("kind") if params.get("kind") in KINDS else ""
        text = params.get("q") or ""
        before = _int(params.get("before"))

        def read() -> str:
            with queries.reading(context.database) as conn:
                found = (
                    queries.events(
                        conn,
                        sources=[source] if source else [],
                        kinds=[kind] if kind else [],
                        text=text or None,
                        before=before,
                        limit=PAGE_SIZE + 1,
                    )
                    if conn
                    else []
                )
            days: dict[str, list[queries.EventRow]] = {}
            for row in found[:PAGE_SIZE]:
                days.setdefault(_when(row.event.at)[:10], []).append(row)
            return render(
                "events.html",
                title="Events",
                days=days,
                older=found[PAGE_SIZE - 1].id if len(found) > PAGE_SIZE else None,
                chosen={"source": source, "kind": kind, "q": text},
                sources=source_names(),
                q=text,
            )

        return page(await off_loop(read))

    async def search(request: Request) -> Response:
        text = (request.query_params.get("q") or "").strip()

        def read() -> str:
            found: list[queries.ItemRow] = []
            if text:
                with queries.reading(context.database) as conn:
                    if conn:
                        found = queries.items(conn, text=text, limit=PAGE_SIZE + 1)
            return render(
                "search.html",
                title=f"Search: {text}" if text else "Search",
                items=found[:PAGE_SIZE],
                more=len(found) > PAGE_SIZE,
                q=text,
            )

        return page(await off_loop(read))

    async def feed(request: Request) -> Response:
        name, dot, suffix = request.path_params["file"].rpartition(".")
        if not dot or suffix not in ("atom", "json") or not name:
            return not_found("feeds end in .atom or .json")
        params = {key: request.query_params.getlist(key) for key in request.query_params}
        if name == "events":
            try:
                channel = feeds.channel_from_query(params)
            except feeds.FilterError as exc:
                return PlainTextResponse(f"400 Bad Request: {exc}\n", status_code=400)
            title = "news-monitor: events"
        else:
            named = next((c for c in context.settings.channels if c.name == name), None)
            if named is None:
                return not_found(f"no channel named {name!r}")
            channel = named
            title = f"news-monitor: {name}"
        base = str(request.base_url).rstrip("/")
        info = feeds.FeedInfo(
            title=title,
            feed_url=str(request.url),
            site_url=base + "/events",
            id=f"{base}/feeds/{name}",
        )
        body = await off_loop(_feed_body, context.database, channel, info, suffix)
        etag = feeds.etag_of(body)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if feeds.etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        media = "application/atom+xml" if suffix == "atom" else "application/feed+json"
        return Response(body, media_type=media, headers=headers)

    async def metrics(request: Request) -> Response:
        from monitor.web.metrics import render as render_metrics

        status = await context.monitor.status_async()

        def read() -> queries.Figures:
            with queries.reading(context.database) as conn:
                return queries.figures(conn) if conn else queries.Figures((), ())

        figures = await off_loop(read)
        text = render_metrics(
            status,
            figures,
            context.stats,
            context.version,
            [c.name for c in context.settings.channels],
        )
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def healthz(request: Request) -> Response:
        alive, why = await context.liveness()
        problem = await off_loop(queries.database_writable, context.database)
        body = {
            "status": "ok" if alive and problem is None else "failing",
            "scheduler": why,
            "database": problem or "writable",
        }
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    async def stylesheet(request: Request) -> Response:
        return Response(
            _stylesheet(),
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "max-age=3600"},
        )

    async def failed(request: Request, exc: Exception) -> Response:
        log.warning("%s: %s", request.url.path, exc)
        return page(render("error.html", title="Error", message=str(exc), q=""), status=503)

    get = ["GET", "HEAD"]
    app = Starlette(
        routes=[
            Route("/", overview, methods=get),
            Route("/sources", sources, methods=get),
            Route("/items", items, methods=get),
            Route("/items/{item_id:int}", one_item, methods=get),
            Route("/events", events, methods=get),
            Route("/search", search, methods=get),
            Route("/feeds/{file}", feed, methods=get),
            Route("/metrics", metrics, methods=get),
            Route("/healthz", healthz, methods=get),
            Route("/static/style.css", stylesheet, methods=get),
        ],
        exception_handlers={MonitorError: failed},
    )
    return Guard(app, context)


@lru_cache(maxsize=1)
def _stylesheet() -> str:
    return (HERE / "static" / "style.css").read_text(encoding="utf-8")


# A feed looks at this many of the newest events (matching its sources and kinds) to find
# FEED_SIZE that pass its other filters.
FEED_SCAN = 5000


def _feed_body(database: str, channel: Any, info: feeds.FeedInfo, suffix: str) -> bytes:
    from monitor.alerts.route import ChannelFilter

    accepts = ChannelFilter.of(channel).accepts
    chosen: list[feeds.FeedEntry] = []
    with queries.reading(database) as conn:
        before: int | None = None
        scanned = 0
        while conn is not None and len(chosen) < feeds.FEED_SIZE and scanned < FEED_SCAN:
            batch = queries.events(
                conn,
                sources=channel.sources,
                kinds=channel.events,
                before=before,
                limit=500,
            )
            if not batch:
                break
            scanned += len(batch)
            before = batch[-1].id
            chosen += [feeds.entry_of(r.id, r.event) for r in batch if accepts(r.event)]
    chosen = chosen[: feeds.FEED_SIZE]
    if suffix == "json":
        return feeds.json_feed(info, chosen)
    generated = "1970-01-01T00:00:00+00:00"
    return feeds.atom(info, chosen, generated)
