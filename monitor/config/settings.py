"""Read the TOML config, validate it, expand secrets, resolve profiles into `Settings`.

Every problem is a `ConfigError` naming the file, the key path (`sources[3].rule.item`),
the line where it can be found, and what is wrong.
"""

from __future__ import annotations

import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from monitor.models import Channel, ConfigError, MonitorError, Rule, Settings, Source, WebSettings

DEFAULT_INTERVAL = "10m"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# ${VAR}, ${VAR:-default}, ${file:PATH}; PATH may hold one nested ${VAR} or $VAR.
_ENV_REF = re.compile(r"\$\{((?:[^{}]|\$\{[^{}]*\})*)\}")
_PATH_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def default_config_path() -> Path:
    """--config falls back to $MONITOR_CONFIG, then ./config/monitor.toml."""
    return Path(os.environ.get("MONITOR_CONFIG") or "config/monitor.toml")


def default_database_path() -> Path:
    """Under systemd's StateDirectory if set, else the user's XDG state directory."""
    state_dir = os.environ.get("STATE_DIRECTORY")
    if state_dir:
        return Path(state_dir.split(":")[0]) / "monitor.db"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "news-monitor" / "monitor.db"


def parse_interval(value: float | int | str, *, allow_zero: bool = False) -> float:
    """Seconds from 600, "45s", "10m", "1h", "1d" (or "1h30m"); zero only when
    `allow_zero`."""
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds or a string like '10m'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower().replace(" ", "")
        parts = re.fullmatch(r"((\d+(?:\.\d+)?)([smhd]))+", text)
        if not parts:
            if re.fullmatch(r"\d+(\.\d+)?", text):
                return parse_interval(float(text), allow_zero=allow_zero)
            raise ValueError(f"{value!r} is not a duration: use seconds or '45s', '10m', '1h'")
        seconds = sum(float(n) * _UNITS[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([smhd])", text))
    if allow_zero and seconds < 0:
        raise ValueError("must be zero or more")
    if not allow_zero and seconds <= 0:
        raise ValueError("must be greater than zero")
    return seconds


Duration = Annotated[float | int | str, Field(description="seconds, or '45s', '10m', '1h'")]
Schedule = Literal["fixed", "adaptive"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_number(cls, value: Any, info: ValidationInfo) -> Any:
        """TOML's `true` is no number, though Python counts it as 1: `interval = true`
        would poll every second."""
        if isinstance(value, bool) and info.field_name is not None:
            wanted = _number_kind(cls.model_fields[info.field_name].annotation)
            if wanted is not None:
                raise ValueError(f"expected {wanted}, not the boolean {str(value).lower()}")
        return value


def _number_kind(annotation: Any) -> str | None:
    """What a numeric key takes ('a number', or seconds or a duration), None for a key
    that takes no number or takes booleans too."""
    from typing import get_args

    found: set[Any] = set()
    todo = [annotation]
    while todo:
        current = todo.pop()
        args = get_args(current)
        if args:
            todo.extend(args)
        else:
            found.add(current)
    if bool in found or not found & {int, float}:
        return None
    return "seconds or a duration like '10m'" if str in found else "a number"


class RuleModel(_Model):
    """How to find items on an HTML listing page (CSS selectors relative to the item)."""

    item: str | None = Field(None, description="CSS selector of one item (teaser) block")
    title: str | None = Field(None, description="CSS selector of the headline in the item")
    link: str | None = Field(None, description="CSS selector of the article link in the item")
    section: str | None = Field(None, description="CSS selector of the section/rubric")
    date: str | None = Field(None, description="CSS selector of the date (time[datetime])")
    paywall_text: str | list[str] | None = Field(
        None, description="text(s) that mark a paywalled item when found in its block"
    )
    paywall_selector: str | None = Field(
        None, description="CSS selector that marks a paywalled item (on or inside it)"
    )
    id_pattern: str | None = Field(None, description="regex: the article id in the link")
    derive_from_marker: bool | None = Field(
        None, description="find items by the paywall text when `item` matches nothing"
    )

    @field_validator("item", "title", "link", "section", "date", "paywall_selector")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        if value is not None:
            check_css(value)
        return value

    @field_validator("id_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            from monitor.extract.urls import compile_id_pattern

            compile_id_pattern(value)
        return value


class SourceModel(_Model):
    """One page or feed to poll."""

    name: str | None = Field(None, description="unique name; defaults to the URL's host+path")
    url: str = Field(description="http(s) URL of the section page or feed")
    kind: Literal["html", "feed"] | None = Field(None, description="'html' or 'feed'")
    profile: str | None = Field(None, description="built-in site profile, e.g. 'pozirk'")
    rule: RuleModel | None = Field(
        None, description="CSS selectors for an HTML page (find them with `monitor discover URL`)"
    )
    interval: Duration | None = Field(None, description="poll every N seconds or '10m'")
    cron: str | None = Field(None, description="crontab schedule, e.g. '*/5 * * * *'")
    schedule: Schedule | None = Field(
        None, description="'fixed' (every interval) or 'adaptive' (when new items are likely)"
    )
    budget: int | None = Field(
        None, gt=0, description="adaptive: requests per day (default: as many as interval makes)"
    )
    min_interval: Duration | None = Field(None, description="adaptive: shortest interval")
    max_interval: Duration | None = Field(None, description="adaptive: longest interval")
    jitter: Duration | None = Field(None, description="random delay added to each run")
    headers: dict[str, str] = Field(
        default_factory=dict, description="extra request headers; ${ENV} expanded"
    )
    cookies: dict[str, str] = Field(
        default_factory=dict, description="cookies sent with each request; ${ENV} expanded"
    )
    baseline: bool = Field(True, description="first poll records silently")
    paywall_categories: list[str] = Field(
        default_factory=list, description="feed categories that mark a paywalled entry"
    )
    articles: bool | None = Field(
        None,
        description="read each item's article page: paywall, dates, unlocks, pulled stories"
        " (default: the top-level `articles`)",
    )
    article_paywall_selector: str | None = Field(
        None, description="CSS selector found only on a paywalled article page"
    )
    article_paywall_text: str | list[str] | None = Field(
        None, description="text(s) shown only on a paywalled article page"
    )
    heal: bool = Field(
        False,
        description="when the rule stops matching, write the rule discovery proposes into"
        " this file by itself (default: only propose it; see `monitor sources fix`)",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value, re.I):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("interval", "jitter", "min_interval", "max_interval")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is not None:
            parse_interval(value)
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            check_cron(value)
        return value

    @field_validator("article_paywall_selector")
    @classmethod
    def _article_css(cls, value: str | None) -> str | None:
        if value is not None:
            check_css(value)
        return value


class ChannelModel(_Model):
    """A notification channel: Apprise URLs and filters that must all match."""

    urls: list[str] = Field(default_factory=list, description="Apprise URLs; ${ENV} expanded")
    config: str | None = Field(None, description="Apprise config file (YAML/text) with URLs")
    sources: list[str] = Field(
        default_factory=list, description="only these sources (default: every source)"
    )
    sections: list[str] = Field(
        default_factory=list, description="only items in one of these sections"
    )
    events: list[Literal["new", "changed", "removed", "health", "dropped"]] = Field(
        default_factory=list,
        description="only these event kinds (default: all but 'dropped', which is only sent"
        " where listed)",
    )
    paywalled: bool | None = Field(
        None, description="true: only paywalled items; false: only free ones"
    )
    include: list[str] = Field(default_factory=list, description="keywords or re:REGEX")
    exclude: list[str] = Field(default_factory=list, description="keywords or re:REGEX")
    format: Literal["telegram-html", "html", "markdown", "text"] | None = Field(
        None, description="message format (default: picked per URL scheme)"
    )
    template: str | None = Field(None, description="Jinja2 template of one event")
    digest: str | None = Field(None, description="HH:MM: send once a day")
    quiet_hours: str | None = Field(None, description="HH:MM-HH:MM: hold delivery")
    timezone: str | None = Field(None, description="IANA zone, e.g. Europe/Minsk")
    rate_limit: float | None = Field(None, gt=0, description="messages per minute")
    max_attempts: int | None = Field(
        None, gt=0, description="give an alert up after this many failed attempts"
    )
    give_up_after: Duration = Field("24h", description="mark failed after this long")

    @field_validator("digest")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        from monitor.alerts.clock import parse_clock

        if value is not None:
            parse_clock(value)
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        from monitor.alerts.clock import parse_window

        if value is not None:
            parse_window(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        from monitor.alerts.clock import zone

        if value is not None:
            zone(value)
        return value

    @field_validator("give_up_after")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        parse_interval(value)
        return value


class WebModel(_Model):
    """The read-only web view, its feeds and metrics (`monitor serve`; `monitor run` serves
    it too when this table is present)."""

    listen: str = Field(
        "127.0.0.1:8080", description="HOST:PORT; any address but loopback needs a token"
    )
    token: str | None = Field(
        None,
        description="access token: requests carry 'Authorization: Bearer TOKEN';"
        " ${ENV} and ${file:PATH} expanded",
    )

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        from monitor.web.listen import parse_listen

        parse_listen(value)
        return value


class ConfigModel(_Model):
    """The config file."""

    database: str | None = Field(None, description="SQLite file (relative to this file)")
    user_agent: str | None = Field(None, description="User-Agent header of every request")
    interval: Duration = Field(DEFAULT_INTERVAL, description="default poll interval")
    schedule: Schedule = Field(
        "fixed", description="default schedule of sources without cron: 'fixed' or 'adaptive'"
    )
    host_budget: int | None = Field(
        None, gt=0, description="requests per day to one host, shared by its adaptive sources"
    )
    connect_timeout: Duration = Field(10, description="seconds to wait for a connection")
    read_timeout: Duration = Field(20, description="seconds to wait between two reads")
    total_timeout: Duration = Field(60, description="seconds one request may take in all")
    max_bytes: int = Field(10 * 1024 * 1024, gt=0, description="response size cap in bytes")
    concurrency: int = Field(16, gt=0, description="sources polled at once")
    per_host_concurrency: int = Field(4, gt=0, description="requests at once to one host")
    per_host_delay: Duration | float = Field(
        0, description="least time between two requests to one host"
    )
    proxy: str | None = Field(
        None,
        description="proxy URL for every request (http://, https://, socks5://); ${ENV} expanded",
    )
    max_retry_after: Duration = Field(
        "1h",
        description="longest Retry-After honoured; a host asking more is polled after this"
        " (with a health event)",
    )
    failure_threshold: int = Field(3, gt=0, description="failures in a row before alerting")
    parse_workers: int | None = Field(
        None, ge=0, description="processes that parse pages (0: none; default: automatic)"
    )
    keep_events: Duration = Field(
        "90d",
        description="event history kept (older events and their sent or given-up alerts"
        " are dropped); 'forever' keeps all",
    )
    articles: bool = Field(False, description="default of the sources' `articles`")
    article_budget: int = Field(
        4, gt=0, description="article pages fetched per host and round (new, rechecks, removals)"
    )
    article_recheck: Duration = Field(
        "6h", description="paywalled articles are rechecked for an unlock after this"
    )
    article_recheck_for: Duration = Field(
        "7d", description="...for this long after the article was first read"
    )
    article_recheck_backoff: float = Field(
        1.5, ge=1, description="each recheck waits this many times longer than the last"
    )
    sources: list[SourceModel] = Field(
        default_factory=list, description="pages and feeds to poll: one [[sources]] table each"
    )
    channels: dict[str, ChannelModel] = Field(
        default_factory=dict, description="alert channels: one [channels.NAME] table each"
    )
    web: WebModel | None = Field(None, description="the read-only web view, feeds and metrics")

    @field_validator(
        "interval",
        "connect_timeout",
        "read_timeout",
        "total_timeout",
        "max_retry_after",
        "article_recheck",
        "article_recheck_for",
    )
    @classmethod
    def _duration(cls, value: Any) -> Any:
        parse_interval(value)
        return value

    @field_validator("per_host_delay")
    @classmethod
    def _delay(cls, value: Any) -> Any:
        parse_interval(value, allow_zero=True)
        return value

    @field_validator("keep_events")
    @classmethod
    def _keep(cls, value: Any) -> Any:
        if value != "forever":
            parse_interval(value)
        return value


@lru_cache(maxsize=512)
def check_css(selector: str) -> None:
    """Raise ValueError when selectolax cannot compile the selector (a valid one is
    remembered: a config with a thousand sources repeats a handful of selectors)."""
    from selectolax.lexbor import LexborHTMLParser

    try:
        LexborHTMLParser("<p></p>").css(selector)
    except Exception as exc:  # selectolax raises its own error types
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from None


def check_cron(expression: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression)
    except ValueError as exc:
        raise ValueError(f"invalid crontab expression {expression!r}: {exc}") from None


def load_settings(path: str | Path, *, environ: dict[str, str] | None = None) -> Settings:
    """Read and validate a config file. Raises ConfigError."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(file, "", "no such file (create one with `monitor init`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, "", f"cannot read: {exc}") from None
    return parse_settings(text, file, environ=os.environ.copy() if environ is None else environ)


def parse_settings(text: str, file: str, *, environ: dict[str, str]) -> Settings:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ConfigError(file, "", f"not valid TOML: {exc}", line=line) from None
    try:
        model = ConfigModel.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = key_path(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = _unknown_key(tuple(first["loc"]), text)
        message = _TABLE_HINTS.get((key, first["type"]), message)
        raise ConfigError(file, key, message, line=find_line(text, first["loc"])) from None
    return _to_settings(model, text, file, environ)


# A table written with the wrong number of brackets: what to write instead.
_TABLE_HINTS = {
    ("sources", "list_type"): "write [[sources]] (two brackets) above each source, not [sources]",
    ("channels", "dict_type"): "write [channels.NAME] above each channel, not [[channels]]",
    ("web", "model_type"): "write [web] (one bracket), not [[web]]",
}


def _unknown_key(loc: tuple[str | int, ...], text: str) -> str:
    """Why a key is unknown where it stands: a misspelling, or a key of an enclosing
    table written below a table header (TOML puts every key after a header into that
    table)."""
    import difflib

    key = str(loc[-1])
    where = loc[:-1]
    in_rule = len(where) == 3 and where[0] == "sources" and where[2] == "rule"
    if in_rule and key in SourceModel.model_fields:
        return f"`{key}` is a key of the source: move it above its [sources.rule] line"
    if where and key in ConfigModel.model_fields:
        header = next(
            (line.split("#")[0].strip() for line in text.splitlines() if line.startswith("[")),
            "",
        )
        first = f"the first table ({header})" if header else "the first table"
        return f"`{key}` is a top-level key: move it above {first}"
    model: type[BaseModel] = ConfigModel
    if where[:1] == ("sources",):
        model = RuleModel if len(where) == 3 else SourceModel
    elif where[:1] == ("channels",):
        model = ChannelModel
    elif where[:1] == ("web",):
        model = WebModel
    close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.75)
    hint = f"did you mean `{close[0]}`? " if close else "check the spelling; "
    return f"unknown key ({hint}see `monitor schema`)"


def _to_settings(model: ConfigModel, text: str, file: str, environ: dict[str, str]) -> Settings:
    def fail(loc: tuple[str | int, ...], reason: str) -> ConfigError:
        return ConfigError(file, key_path(loc), reason, line=find_line(text, loc))

    default_interval = parse_interval(model.interval)
    sources: list[Source] = []
    seen: set[str] = set()
    for index, src in enumerate(model.sources):
        source = _to_source(
            src, index, default_interval, environ, fail, default_schedule=model.schedule
        )
        source = _with_articles(source, src, model.articles)
        if source.name in seen:
            raise fail(("sources", index, "name"), f"duplicate source name {source.name!r}")
        seen.add(source.name)
        sources.append(source)
    channels = []
    for name, chan in model.channels.items():
        urls = tuple(
            expand_secrets(url, environ, lambda r, i=i, n=name: fail(("channels", n, "urls", i), r))
            for i, url in enumerate(chan.urls)
        )
        for i, wanted in enumerate(chan.sources):
            if wanted not in seen:
                raise fail(("channels", name, "sources", i), f"no source named {wanted!r}")
        channels.append(_to_channel(name, chan, urls, file, fail))
    database = Path(model.database) if model.database else default_database_path()
    if not database.is_absolute() and model.database:
        database = Path(file).resolve().parent / database
    return Settings(
        config_path=file,
        database=str(database),
        sources=tuple(sources),
        channels=tuple(channels),
        user_agent=model.user_agent or Settings.user_agent,
        connect_timeout=parse_interval(model.connect_timeout),
        read_timeout=parse_interval(model.read_timeout),
        total_timeout=parse_interval(model.total_timeout),
        max_bytes=model.max_bytes,
        concurrency=model.concurrency,
        per_host_concurrency=model.per_host_concurrency,
        per_host_delay=parse_interval(model.per_host_delay, allow_zero=True),
        proxy=_proxy(model.proxy, environ, fail) if model.proxy else None,
        max_retry_after=parse_interval(model.max_retry_after),
        failure_threshold=model.failure_threshold,
        parse_workers=model.parse_workers,
        keep_events=None if model.keep_events == "forever" else parse_interval(model.keep_events),
        article_budget=model.article_budget,
        article_recheck=parse_interval(model.article_recheck),
        article_recheck_for=parse_interval(model.article_recheck_for),
        article_recheck_backoff=model.article_recheck_backoff,
        host_budget=model.host_budget,
        web=_web(model.web, environ, fail) if model.web else None,
    )


def _web(web: WebModel, environ: dict[str, str], fail: Any) -> WebSettings:
    """[web], with its token expanded like a channel's secrets (an empty one is none)."""
    token = None
    if web.token is not None:
        token = expand_secrets(web.token, environ, lambda r: fail(("web", "token"), r)) or None
    from monitor.web.listen import access_problem

    problem = access_problem(web.listen, token)
    if problem:
        raise fail(("web", "token"), problem)
    return WebSettings(listen=web.listen, token=token)


def _to_source(
    src: SourceModel,
    index: int,
    default_interval: float,
    environ: dict[str, str],
    fail: Any,
    *,
    default_schedule: Schedule = "fixed",
) -> Source:
    from monitor.config.profiles import load_profile

    loc: tuple[str | int, ...] = ("sources", index)
    kind = src.kind
    rule = Rule()
    if src.profile:
        try:
            profile_kind, rule = load_profile(src.profile)
        except MonitorError as exc:
            raise fail((*loc, "profile"), str(exc)) from None
        kind = kind or profile_kind  # type: ignore[assignment]
    if src.rule is not None:
        rule = merge_rule(rule, src.rule)
    kind = kind or "html"
    if kind == "html" and not (rule.item or rule.paywall_text or src.profile):
        raise fail(
            (*loc, "rule", "item"),
            "an html source needs rule.item (a CSS selector), rule.paywall_text, or a profile"
            " (try `monitor discover URL`)",
        )
    headers = tuple(
        (k, expand_secrets(v, environ, lambda r, k=k: fail((*loc, "headers", k), r)))
        for k, v in src.headers.items()
    )
    cookies = tuple(
        (k, expand_secrets(v, environ, lambda r, k=k: fail((*loc, "cookies", k), r)))
        for k, v in src.cookies.items()
    )
    for key, pairs in (("headers", headers), ("cookies", cookies)):
        for name, value in pairs:
            problem = unsendable(name, value, cookie=key == "cookies")
            if problem:
                raise fail((*loc, key, name), problem)
    return Source(
        name=src.name or source_name_from_url(src.url),
        url=src.url,
        kind=kind,
        rule=rule,
        profile=src.profile,
        interval=parse_interval(src.interval) if src.interval is not None else default_interval,
        cron=src.cron,
        jitter=parse_interval(src.jitter) if src.jitter else 0.0,
        headers=headers,
        cookies=cookies,
        baseline=src.baseline,
        paywall_categories=tuple(src.paywall_categories),
        heal=src.heal,
        **_schedule(src, loc, default_schedule, fail),
    )


def _schedule(src: SourceModel, loc: tuple[str | int, ...], default: Schedule, fail: Any) -> Any:
    """The schedule keys of a source: a crontab keeps its cron (the top-level default
    does not apply to it); adaptive bounds must leave room between them."""
    if src.cron and src.schedule == "adaptive":
        raise fail((*loc, "schedule"), "a source with `cron` runs on its crontab: drop one")
    schedule = "fixed" if src.cron else src.schedule or default
    low = parse_interval(src.min_interval) if src.min_interval is not None else None
    high = parse_interval(src.max_interval) if src.max_interval is not None else None
    if low is not None and high is not None and low > high:
        raise fail((*loc, "min_interval"), "min_interval is longer than max_interval")
    return {
        "schedule": schedule,
        "budget": float(src.budget) if src.budget is not None else None,
        "min_interval": low,
        "max_interval": high,
    }


def _with_articles(source: Source, src: SourceModel, default: bool) -> Source:
    """The source's article keys (`articles` falls back to the top-level default)."""
    import dataclasses

    texts = src.article_paywall_text
    return dataclasses.replace(
        source,
        articles=default if src.articles is None else src.articles,
        article_paywall_selector=src.article_paywall_selector,
        article_paywall_text=(texts,) if isinstance(texts, str) else tuple(texts or ()),
    )


def _to_channel(
    name: str, chan: ChannelModel, urls: tuple[str, ...], file: str, fail: Any
) -> Channel:
    """A channel whose URLs Apprise takes, whose `re:` patterns RE2 compiles and whose
    template is safe; with the secrets its URLs hold, so that logs can hide them."""
    from monitor.alerts.render import FORMATS, TemplateError, check_template
    from monitor.alerts.route import REGEX_PREFIX, compile_regex
    from monitor.alerts.targets import instantiate, load_config_file, plugin_secrets

    loc: tuple[str | int, ...] = ("channels", name)
    if not urls and not chan.config:
        raise fail((*loc, "urls"), "a channel needs `urls` (Apprise URLs) or an Apprise `config`")
    for key in ("include", "exclude"):
        for i, entry in enumerate(getattr(chan, key)):
            if entry.startswith(REGEX_PREFIX):
                try:
                    compile_regex(entry[len(REGEX_PREFIX) :])
                except ValueError as exc:
                    raise fail((*loc, key, i), str(exc)) from None
    if chan.template is not None:
        for fmt in [chan.format] if chan.format else FORMATS:
            try:
                check_template(chan.template, fmt)
            except TemplateError as exc:
                raise fail((*loc, "template"), str(exc)) from None
    secrets: set[str] = set()
    for i, url in enumerate(urls):
        try:
            secrets |= plugin_secrets(instantiate(url), url)
        except ValueError as exc:
            raise fail((*loc, "urls", i), str(exc)) from None
    config = None
    if chan.config:
        config = Path(chan.config).expanduser()
        if not config.is_absolute():
            config = Path(file).resolve().parent / config
        try:
            for plugin in load_config_file(str(config)):
                secrets |= plugin_secrets(plugin)
        except ValueError as exc:
            raise fail((*loc, "config"), str(exc)) from None
    return Channel(
        name=name,
        urls=urls,
        sources=tuple(chan.sources),
        sections=tuple(chan.sections),
        events=tuple(chan.events),
        paywalled=chan.paywalled,
        include=tuple(chan.include),
        exclude=tuple(chan.exclude),
        config=str(config) if config else None,
        format=chan.format,
        template=chan.template,
        digest=chan.digest,
        quiet_hours=chan.quiet_hours,
        timezone=chan.timezone,
        rate_limit=chan.rate_limit,
        max_attempts=chan.max_attempts,
        give_up_after=parse_interval(chan.give_up_after),
        secrets=frozenset(secrets),
    )


# RFC 9110 token: what a header or cookie name may hold.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def unsendable(name: str, value: str, *, cookie: bool = False) -> str | None:
    """Why a header (or cookie) cannot go into a request, or None. The value itself is
    never quoted: it may be a secret."""
    what = "cookie" if cookie else "header"
    if not _TOKEN.fullmatch(name):
        return (
            f"{name!r} is not a valid {what} name (letters, digits and !#$%&'*+-.^_`|~ only,"
            " no spaces, '=' or ':')"
        )
    for position, char in enumerate(value, start=1):
        if char in "\r\n":
            return f"the value holds a line break (character {position}): a {what} is one line"
        if not char.isascii():
            return (
                f"the value holds a non-ASCII character (character {position}): HTTP sends"
                " ASCII only; percent-encode it (its UTF-8 bytes as %XX)"
            )
        if (ord(char) < 0x20 and char != "\t") or ord(char) == 0x7F:
            return (
                f"the value holds the control character U+{ord(char):04X}"
                f" (character {position}), which HTTP does not allow"
            )
        if cookie and char == ";":
            return (
                f"the value holds ';' (character {position}), which would end the cookie"
                " there; percent-encode it (%3B)"
            )
    return None


def _proxy(value: str, environ: dict[str, str], fail: Any) -> str:
    """The proxy URL, if the monitor can use it: a scheme httpx speaks, and for SOCKS the
    optional library it needs. The URL is never quoted: it may hold a password."""
    import importlib.util
    from urllib.parse import urlsplit

    url = expand_secrets(value, environ, lambda r: fail(("proxy",), r))
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:  # a malformed port or IPv6 address
        scheme, host = "", None
    if "://" not in url:  # "proxy.lan:3128" reads as scheme "proxy.lan"
        scheme, host = "", None
    if not host or scheme not in PROXY_SCHEMES:
        raise fail(
            ("proxy",),
            f"not a proxy URL the monitor can use (scheme {repr(scheme) if scheme else 'missing'}):"
            " use http://, https://, socks5:// or socks5h://HOST:PORT",
        )
    if scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        from monitor.pipeline.fetch import SOCKS_INSTALL

        raise fail(
            ("proxy",),
            f"a {scheme}:// proxy needs the optional socksio library, which is not installed:"
            f" {SOCKS_INSTALL} (in the monitor's Python environment)",
        )
    return url


def merge_rule(base: Rule, override: RuleModel) -> Rule:
    """Keys set in the config's [sources.rule] replace the profile's."""
    values = override.model_dump(exclude_none=True)
    if isinstance(values.get("paywall_text"), str):
        values["paywall_text"] = (values["paywall_text"],)
    elif "paywall_text" in values:
        values["paywall_text"] = tuple(values["paywall_text"])
    fields = {**base.__dict__, **values}
    return Rule(**fields)


def source_name_from_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path.strip("/").replace("/", "-")
    return f"{parts.hostname}{'-' + path if path else ''}"


def expand_secrets(value: str, environ: dict[str, str], fail: Any) -> str:
    """Expand ${VAR}, ${VAR:-default} and ${file:PATH} (e.g. a systemd credential)."""

    def replace(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref.startswith("file:"):
            # ${file:$CREDENTIALS_DIRECTORY/name} or ${file:${CREDENTIALS_DIRECTORY}/name}
            # reads a systemd credential (LoadCredential=).
            path = _PATH_VAR.sub(
                lambda m: _path_var(m.group(1) or m.group(2), environ, fail), ref[5:]
            )
            try:
                return Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise fail(f"cannot read secret file {path!r}: {exc.strerror}") from None
        name, _, default = ref.partition(":-")
        if name in environ:
            return environ[name]
        if ":-" in ref:
            return default
        raise fail(f"environment variable {name} is not set")

    return _ENV_REF.sub(replace, value)


def _path_var(name: str, environ: dict[str, str], fail: Any) -> str:
    if name not in environ:
        hint = " (systemd sets it for LoadCredential=)" if name == "CREDENTIALS_DIRECTORY" else ""
        raise fail(f"environment variable {name} is not set{hint}")
    return environ[name]


def key_path(loc: tuple[str | int, ...] | list[str | int]) -> str:
    """('sources', 3, 'rule', 'item') -> 'sources[3].rule.item'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "int", "float", "list[str]", "bool") or "[" in str(part):
            continue  # pydantic's union-branch labels
        else:
            out += f".{part}" if out else str(part)
    return out


def find_line(text: str, loc: tuple[str | int, ...] | list[str | int]) -> int | None:
    """Best-effort line number of a key path in the TOML text."""
    lines = text.splitlines()
    start = 0
    parts = [p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"str", "int"}))]
    line_no: int | None = None
    i = 0
    while i < len(parts):
        part = parts[i]
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        if isinstance(part, str) and isinstance(nxt, int) and part in ("sources",):
            header = re.compile(rf"^\s*\[\[\s*{re.escape(part)}\s*\]\]")
            count = -1
            for n in range(start, len(lines)):
                if header.match(lines[n]):
                    count += 1
                    if count == nxt:
                        start, line_no = n, n + 1
                        break
            i += 2
            continue
        if isinstance(part, str):
            pattern = re.compile(
                rf"^\s*(\[[^\]]*\b{re.escape(part)}\]|\"?{re.escape(part)}\"?\s*=)"
            )
            for n in range(start, len(lines)):
                if pattern.match(lines[n]):
                    start, line_no = n, n + 1
                    break
        i += 1
    return line_no


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def json_schema() -> dict[str, Any]:
    """JSON Schema of the config file, for editors that validate TOML (taplo)."""
    schema = ConfigModel.model_json_schema()
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "news-monitor config"
    return schema
