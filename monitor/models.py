"""The data that flows through the monitor, and its exception tree.

Nothing here does I/O or imports a heavy library.

Exceptions::

    MonitorError                 any error the monitor reports to the user
    ├── ConfigError              a config file is unreadable or invalid (file, key, reason)
    ├── FetchError               a source could not be fetched (status, timeout, size cap, ...)
    │   └── HostHeld             its host asked not to be polled yet (Retry-After): not asked
    ├── ExtractError             a fetched body could not be turned into items
    └── StoreError               the SQLite state could not be read or written
        └── CorruptDatabaseError the database file is not a usable SQLite database
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SourceKind = Literal["html", "feed"]
# "dropped": left its listing while its article page is still there (sources with
# `articles`); only channels that list it hear of it.
EventKind = Literal["new", "changed", "removed", "health", "dropped"]
ChannelFormat = Literal["telegram-html", "html", "markdown", "text"]


class MonitorError(Exception):
    """Base of every error the monitor reports with a clear message."""


class ConfigError(MonitorError):
    """A config file is invalid; names the file, the key path and what is wrong."""

    def __init__(self, file: str, key: str, reason: str, line: int | None = None) -> None:
        self.file = file
        self.key = key
        self.reason = reason
        self.line = line
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {reason}" if key else f"{where}: {reason}")


class FetchError(MonitorError):
    """A source could not be fetched; `status` is the HTTP status when there was one.

    `held_until` (ISO time, UTC): the host asked not to be polled before then (Retry-After,
    capped). `health_notice`: what a `health` event should say once (a wait past the cap).
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        held_until: str | None = None,
        health_notice: str | None = None,
    ) -> None:
        self.status = status
        self.held_until = held_until
        self.health_notice = health_notice
        super().__init__(message)


class HostHeld(FetchError):
    """Nothing was requested: the source's host asked not to be polled before `held_until`
    (a Retry-After it sent, to this source or another). Not a failure of the source."""


class ExtractError(MonitorError):
    """A body could not be turned into items (not HTML, not a feed, ...)."""


class StoreError(MonitorError):
    """The SQLite state could not be read or written."""


class CorruptDatabaseError(StoreError):
    """The database file exists but is not a usable SQLite database."""


@dataclass(frozen=True)
class Rule:
    """How to find items on an HTML listing page. Selectors are CSS, relative to the item."""

    item: str | None = None
    title: str | None = None
    link: str | None = None
    section: str | None = None
    date: str | None = None
    # Texts searched (case-insensitively) in the item block's text.
    paywall_text: tuple[str, ...] = ()
    # A CSS selector matched on the item element itself or inside it.
    paywall_selector: str | None = None
    # A regex applied to the absolute link; group 1 (or the whole match) is the item's id.
    id_pattern: str | None = None
    # Where `item` matches nothing, derive the item selector from the blocks that carry
    # a paywall text (see extract.html.derive_item_selector).
    derive_from_marker: bool = True


@dataclass(frozen=True)
class Source:
    """One page or feed to poll."""

    name: str
    url: str
    kind: SourceKind = "html"
    rule: Rule = field(default_factory=Rule)
    profile: str | None = None
    interval: float = 600.0
    cron: str | None = None
    jitter: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    # The first successful poll records a baseline without "new" events.
    baseline: bool = True
    # Feed categories that mark an entry as paywalled (case-insensitive).
    paywall_categories: tuple[str, ...] = ()
    # "fixed": every `interval` (or on `cron`); "adaptive": polls where new items are
    # likely, within `budget` requests per day (None: as many as `interval` makes) and
    # between `min_interval` and `max_interval` seconds (see monitor.daemon.adaptive).
    schedule: Literal["fixed", "adaptive"] = "fixed"
    budget: float | None = None
    min_interval: float | None = None
    max_interval: float | None = None
    # Read each item's article page (paywall, dates, whether it is still there) and
    # recheck paywalled ones for an unlock (see monitor.pipeline.articles).
    articles: bool = False
    # How the site marks a paywalled article beyond its JSON-LD and meta tags.
    article_paywall_selector: str | None = None
    article_paywall_text: tuple[str, ...] = ()
    # When the rule stops matching, apply the rule discovery proposes to the config file
    # by itself (one alert says what changed); otherwise the alert only proposes it.
    heal: bool = False


@dataclass(frozen=True)
class FetchResult:
    """What one HTTP request for a source produced."""

    url: str
    status: int
    body: bytes | None
    headers: tuple[tuple[str, str], ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


@dataclass(frozen=True)
class Item:
    """One article teaser found on a page or in a feed.

    `key` is the stable identity (canonical URL or an extracted article id), so a
    headline edit is a change of the same item, not a new one.
    """

    key: str
    url: str
    title: str
    section: str | None = None
    published: str | None = None
    paywalled: bool = False
    summary: str | None = None
    # Which run of teasers on the page (0: the first) the item was found in, so that a
    # vanished item is judged within its own list (see monitor.extract.listings); not part
    # of what the item is.
    listing: int = field(default=0, compare=False)


@dataclass(frozen=True)
class StoredItem:
    """An item as the database remembers it for one source."""

    item: Item
    first_seen: str
    last_seen: str
    # Index in the source's listing at the last poll that listed it; None once gone.
    position: int | None


@dataclass(frozen=True)
class Change:
    """One field of an item that changed between two polls."""

    field: str
    before: object
    after: object


@dataclass(frozen=True)
class Event:
    """Something the user may want to hear about.

    kind: `new`, `changed` (with `changes`), `removed`, or `health` (with `detail`;
    `item` is None).
    """

    kind: EventKind
    source: str
    at: str
    item: Item | None = None
    changes: tuple[Change, ...] = ()
    detail: str | None = None

    def to_json(self) -> dict[str, object]:
        item = self.item
        return {
            "source": self.source,
            "kind": self.kind,
            "at": self.at,
            "key": item.key if item else None,
            "url": item.url if item else None,
            "title": item.title if item else None,
            "section": item.section if item else None,
            "published": item.published if item else None,
            "paywalled": item.paywalled if item else None,
            "before": {c.field: c.before for c in self.changes} if self.changes else None,
            "after": {c.field: c.after for c in self.changes} if self.changes else None,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Message:
    """A rendered notification, ready for one channel."""

    title: str
    body: str
    format: Literal["text", "html", "markdown"] = "text"
    # How many of the rendered events (in order) this message carries.
    count: int = 1


@dataclass(frozen=True)
class Channel:
    """A named notification target: Apprise URLs plus the filters every event must pass."""

    name: str
    # Secrets expanded: never printed (logs show Apprise's privacy form).
    urls: tuple[str, ...] = field(repr=False)
    sources: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    events: tuple[EventKind, ...] = ()
    paywalled: bool | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # An Apprise config file (YAML or text) whose URLs are added to `urls`.
    config: str | None = None
    # telegram-html, html, markdown or text; None: picked per URL scheme.
    format: ChannelFormat | None = None
    # A Jinja2 template (sandboxed) for one event; None: the built-in layout.
    template: str | None = None
    # "HH:MM": hold everything and send it once a day at that time.
    digest: str | None = None
    # "HH:MM-HH:MM": hold delivery during these hours.
    quiet_hours: str | None = None
    # IANA zone for `digest` and `quiet_hours`; None: the machine's local time.
    timezone: str | None = None
    # Messages per minute to one URL; None: the service's default (Telegram 60, groups 20).
    rate_limit: float | None = None
    # Give a notification up (status 'failed') after this many attempts or seconds.
    max_attempts: int | None = None
    give_up_after: float = 86400.0
    # Strings hidden by Apprise's privacy form of the URLs (tokens, passwords): redacted
    # from every log line.
    secrets: frozenset[str] = field(default=frozenset(), repr=False)


@dataclass(frozen=True)
class WebSettings:
    """The read-only web view (`monitor serve`, and `monitor run` when configured)."""

    # HOST:PORT to listen on; any address but loopback needs a token.
    listen: str = "127.0.0.1:8080"
    # Every request must carry `Authorization: Bearer TOKEN` when set. Never printed.
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Settings:
    """The whole validated configuration."""

    config_path: str
    database: str
    sources: tuple[Source, ...]
    channels: tuple[Channel, ...] = ()
    user_agent: str = "news-monitor/0.1"
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    concurrency: int = 16
    per_host_concurrency: int = 4
    per_host_delay: float = 0.0
    proxy: str | None = None
    failure_threshold: int = 3
    # Worker processes that parse pages during a round of polls; None: automatic.
    parse_workers: int | None = None
    # Events older than this many seconds (and their delivered or given-up alerts) are
    # dropped by the daemon; None keeps them for ever.
    keep_events: float | None = 90 * 86400.0
    # The longest Retry-After honoured, in seconds; a host asking more is polled after this.
    max_retry_after: float = 3600.0
    # Requests per day to one host, shared by its adaptive sources; None: no cap.
    host_budget: float | None = None
    # The web view; None when the config has no [web] table.
    web: WebSettings | None = None
    # Article pages (sources with `articles`): fetches per host and round, and how
    # paywalled articles are rechecked: first after `article_recheck` seconds, each wait
    # `article_recheck_backoff` times the last, for `article_recheck_for` seconds.
    article_budget: int = 4
    article_recheck: float = 6 * 3600.0
    article_recheck_for: float = 7 * 86400.0
    article_recheck_backoff: float = 1.5

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)
