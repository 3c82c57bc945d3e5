"""Channel keys in the config: defaults, and errors that name the key without leaking secrets."""

from __future__ import annotations

import pytest

from monitor.config.settings import parse_settings
from monitor.models import ConfigError

SOURCE = """
[[sources]]
name = "s"
url = "https://example.org/feed.xml"
kind = "feed"

[channels.ch]
"""
SECRET = "pw-that-must-not-leak"


def load(body: str, **environ: str):  # type: ignore[no-untyped-def]
    return parse_settings(SOURCE + body, "monitor.toml", environ={"PW": SECRET, **environ})


def test_defaults_and_values() -> None:
    [channel] = load(
        'urls = ["tgram://123456789:AAsecret/-100123", "json://127.0.0.1:9/"]\n'
        'quiet_hours = "23:00-07:00"\ntimezone = "Europe/Minsk"\ndigest = "08:00"\n'
        'rate_limit = 10\nmax_attempts = 5\ngive_up_after = "2h"\nformat = "text"\n'
    ).channels
    assert channel.quiet_hours == "23:00-07:00" and channel.digest == "08:00"
    assert channel.rate_limit == 10 and channel.max_attempts == 5
    assert channel.give_up_after == 7200 and channel.format == "text"
    assert "AAsecret" in channel.secrets
    assert "AAsecret" not in repr(channel)
    [default] = load('urls = ["json://127.0.0.1:9/"]\n').channels
    assert default.give_up_after == 86400 and default.format is None
    assert default.timezone is None and default.rate_limit is None


@pytest.mark.parametrize(
    ("body", "key", "reason"),
    [
        ("", "channels.ch.urls", "needs `urls`"),
        ('urls = ["tgramm://123/456"]', "channels.ch.urls[0]", "scheme 'tgramm'"),
        ('urls = ["not a url"]', "channels.ch.urls[0]", "not an Apprise URL"),
        (
            'urls = ["json://127.0.0.1:9/"]\ntemplate = "{{ \'\'.__class__.__mro__ }}"',
            "channels.ch.template",
            "internal attributes are not allowed",
        ),
        (
            'urls = ["json://127.0.0.1:9/"]\ntemplate = "{{ titel }}"',
            "channels.ch.template",
            "undefined",
        ),
        (
            'urls = ["json://127.0.0.1:9/"]\nquiet_hours = "23-7"',
            "channels.ch.quiet_hours",
            "HH:MM",
        ),
        ('urls = ["json://127.0.0.1:9/"]\ndigest = "8am"', "channels.ch.digest", "HH:MM"),
        (
            'urls = ["json://127.0.0.1:9/"]\ntimezone = "Mars/Olympus"',
            "channels.ch.timezone",
            "unknown time zone",
        ),
        ('urls = ["json://127.0.0.1:9/"]\nformat = "pdf"', "channels.ch.format", "telegram-html"),
        (
            'urls = ["json://127.0.0.1:9/"]\nrate_limit = 0',
            "channels.ch.rate_limit",
            "greater than 0",
        ),
        ('config = "missing.yml"', "channels.ch.config", "no such Apprise config file"),
    ],
)
def test_errors_name_the_key(body: str, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(body)
    assert info.value.key == key
    assert reason in info.value.reason


def test_a_refused_url_does_not_echo_its_secret() -> None:
    # Apprise refuses the sender address; its message would quote the URL's parts.
    with pytest.raises(ConfigError) as info:
        load('urls = ["mailto://user:${PW}@127.0.0.1:25?from=bad@b.c"]')
    assert info.value.key == "channels.ch.urls[0]"
    assert "Apprise cannot use this mailto:// URL" in info.value.reason
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("url", "fmt", "limit", "rate", "label"),
    [
        (
            "tgram://123456789:AAsecret/-1001234567890",
            "telegram-html",
            4096,
            20.0,
            "tgram://1...t/",
        ),
        ("tgram://123456789:AAsecret/12345", "telegram-html", 4096, 60.0, "tgram://1...t/"),
        (
            "mailto://u:${PW}@127.0.0.1:25?from=a@example.org&to=b@example.org",
            "html",
            32768,
            None,
            "mailto://u:****@127.0.0.1/b%40example.org",
        ),
        ("json://127.0.0.1:9/hook", "text", 4000, None, "json://127.0.0.1:9/hook"),
    ],
)
def test_targets_pick_format_limit_and_rate_from_the_url(
    url: str, fmt: str, limit: int, rate: float | None, label: str
) -> None:
    from monitor.alerts.targets import load_plugins, targets

    [channel] = load(f'urls = ["{url}"]').channels
    [target] = targets(channel, load_plugins(channel))
    assert (target.format, target.limit, target.rate) == (fmt, limit, rate)
    assert target.label.startswith(label)
    assert SECRET not in target.label and "AAsecret" not in target.label
