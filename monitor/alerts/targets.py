"""A channel's Apprise URLs as delivery targets, and keeping their secrets out of the logs.

Every URL is shown only in Apprise's privacy form (`tgram://1...r/-100123/`). Whatever that
form hides (bot tokens, passwords, API keys) is a secret: `SecretFilter` replaces it with
`***` in every log record, including those of Apprise, requests and urllib3, which write
request paths that carry tokens.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from monitor.alerts.render import LIMITS
from monitor.models import Channel, ChannelFormat

# Apprise URL schemes whose messages are rendered in something richer than plain text.
_SCHEME_FORMATS: dict[str, ChannelFormat] = {
    "tgram": "telegram-html",
    "mailto": "html",
    "mailtos": "html",
}
# Messages per minute Telegram accepts: one a second in a private chat, 20 a minute in a
# group or channel (chat ids below zero).
TELEGRAM_CHAT_RATE = 60.0
TELEGRAM_GROUP_RATE = 20.0
# Shorter tokens are not treated as secrets (they would mangle ordinary words).
_MIN_SECRET = 4
_TOKEN = re.compile(r"[^/:@?&=#,;\s\"'<>()\[\]{}]+")
# Plugin attributes that hold credentials, whatever the service.
_SECRET_ATTRS = (
    "password",
    "bot_token",
    "token",
    "apikey",
    "api_key",
    "secret",
    "access_token",
    "webhook_id",
    "webhook_token",
    "user_key",
    "app_token",
    "key",
)


@dataclass(frozen=True)
class Target:
    """One Apprise URL of a channel."""

    channel: str
    # Stable across restarts and reorderings: a hash of the full URL.
    id: str
    # Apprise's privacy form of the URL: safe to print.
    label: str
    format: ChannelFormat
    # Longest message body the service takes.
    limit: int
    # Messages per minute; None: unlimited.
    rate: float | None
    plugin: Any = field(compare=False, repr=False)


def load_plugins(channel: Channel) -> list[Any]:
    """Apprise plugin objects for the channel's URLs and config file, in order.

    Raises ValueError with a message free of secrets when a URL or the file is unusable.
    """
    plugins = [instantiate(url) for url in channel.urls]
    if channel.config:
        plugins.extend(load_config_file(channel.config))
    return plugins


def load_config_file(path: str) -> list[Any]:
    """The plugins an Apprise config file (YAML or text) lists; ValueError when unusable."""
    import apprise

    if not Path(path).is_file():
        raise ValueError(f"no such Apprise config file: {path}")
    config = apprise.AppriseConfig()
    if not config.add(path):
        raise ValueError(f"Apprise cannot read {path}")
    servers = list(config.services())
    if not servers:
        raise ValueError(f"{path} holds no URL Apprise can use")
    return servers


def instantiate(url: str) -> Any:
    """One Apprise plugin for a URL; ValueError (naming no secret) when Apprise refuses it."""
    import apprise

    scheme = url.split("://", 1)[0] if "://" in url else ""
    try:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=False)
    except Exception as exc:  # Apprise raises its own and plain TypeErrors
        reason = redact(str(exc), url_tokens(url) - {scheme})
        raise ValueError(f"Apprise cannot use this {scheme}:// URL: {reason}") from None
    if plugin is None:
        raise ValueError(
            f"Apprise does not know the URL scheme {scheme!r}"
            if scheme
            else "not an Apprise URL (expected scheme://...)"
        )
    return plugin


def targets(channel: Channel, plugins: Iterable[Any]) -> list[Target]:
    out = []
    for plugin in plugins:
        full = plugin.url(privacy=False)
        maxlen = int(getattr(plugin, "body_maxlen", 0) or 0)
        fmt = channel.format or default_format(plugin)
        out.append(
            Target(
                channel=channel.name,
                id=hashlib.blake2b(full.encode(), digest_size=6).hexdigest(),
                # Without the query: Apprise lists every default there.
                label=plugin.url(privacy=True).split("?", 1)[0],
                format=fmt,
                limit=min(LIMITS[fmt], maxlen) if maxlen > 0 else LIMITS[fmt],
                rate=channel.rate_limit if channel.rate_limit else default_rate(plugin),
                plugin=plugin,
            )
        )
    return out


def default_format(plugin: Any) -> ChannelFormat:
    scheme = urlsplit(plugin.url(privacy=True)).scheme.lower()
    return _SCHEME_FORMATS.get(scheme, "text")


def default_rate(plugin: Any) -> float | None:
    scheme = urlsplit(plugin.url(privacy=True)).scheme.lower()
    if scheme != "tgram":
        return None
    chats = [str(t[0] if isinstance(t, tuple) else t) for t in getattr(plugin, "targets", [])]
    if any(chat.startswith("-") or chat.startswith("@") for chat in chats):
        return TELEGRAM_GROUP_RATE
    return TELEGRAM_CHAT_RATE


# -- secrets -----------------------------------------------------------------------------


def url_tokens(url: str) -> set[str]:
    """The words of a URL (both as written and percent-decoded)."""
    return {t for text in (url, unquote(url)) for t in _TOKEN.findall(text)}


def plugin_secrets(plugin: Any, given: str | None = None) -> frozenset[str]:
    """What the privacy form of the plugin's URL hides: tokens, passwords, keys."""
    shown = url_tokens(plugin.url(privacy=True))
    hidden = url_tokens(plugin.url(privacy=False))
    if given:
        hidden |= url_tokens(given)
    for name in _SECRET_ATTRS:
        value = getattr(plugin, name, None)
        if isinstance(value, str):
            hidden.add(value)
    secrets = {s for s in hidden - shown if len(s) >= _MIN_SECRET}
    # A secret may also be logged percent-encoded (in a request path or a URL).
    secrets |= {quote(s, safe="") for s in secrets}
    return frozenset(secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret replaced by ***, longest first."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= _MIN_SECRET and secret in text:
            text = text.replace(secret, "***")
    return text


class SecretFilter(logging.Filter):
    """Replaces secrets in log records (message, arguments and traceback) with ***."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = frozenset(s for s in secrets if len(s) >= _MIN_SECRET)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text, self.secrets), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


def settings_secrets(channels: Iterable[Channel]) -> frozenset[str]:
    return frozenset(s for channel in channels for s in channel.secrets)
