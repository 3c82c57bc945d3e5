"""Config loading: defaults, secrets, profiles, and errors that name file, key and line."""

from pathlib import Path

import pytest

from monitor.config.settings import load_settings, parse_interval
from monitor.models import ConfigError

GOOD = """
database = "state/monitor.db"
interval = "15m"

[[sources]]
name = "pozirk-politics"
url = "https://pozirk.online/en/politics/"
profile = "pozirk"
interval = "10m"

[[sources]]
name = "feed"
url = "https://example.org/rss.xml"
kind = "feed"
paywall_categories = ["Premium"]
headers = { Authorization = "Bearer ${TOKEN}" }

[[sources]]
name = "custom"
url = "https://example.org/news/"
kind = "html"
cron = "*/5 * * * *"
[sources.rule]
item = "article.teaser"
paywall_text = "Subscribers only"
paywall_selector = "svg title"

[channels.ops]
urls = ["json://127.0.0.1:9/?token=${TOKEN}"]
events = ["health"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_resolves_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKEN", "s3cret")
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.database == str(tmp_path / "state" / "monitor.db")
    pozirk, feed, custom = settings.sources
    assert pozirk.kind == "html" and pozirk.interval == 600
    assert any("POZIRK+" in t for t in pozirk.rule.paywall_text)
    assert feed.kind == "feed" and feed.interval == 900
    assert feed.headers == (("Authorization", "Bearer s3cret"),)
    assert feed.paywall_categories == ("Premium",)
    assert custom.cron == "*/5 * * * *"
    assert custom.rule.item == "article.teaser"
    assert custom.rule.paywall_text == ("Subscribers only",)
    assert settings.channels[0].urls == ("json://127.0.0.1:9/?token=s3cret",)
    assert settings.channels[0].events == ("health",)


@pytest.mark.parametrize(
    ("text", "key", "line", "reason"),
    [
        (
            '[[sources]]\nurl = "https://a.test/"\n\n[[sources]]\nurl = "https://b.test/"\n'
            '[sources.rule]\nitem = "div[["\n',
            "sources[1].rule.item",
            7,
            "invalid CSS selector",
        ),
        ('[[sources]]\nurl = "ftp://a.test/"\nkind = "feed"\n', "sources[0].url", 2, "http(s)"),
        (
            '[[sources]]\nurl = "https://a.test/"\nkind = "feed"\ninterval = "soon"\n',
            "sources[0].interval",
            4,
            "not a duration",
        ),
        (
            '[[sources]]\nurl = "https://a.test/"\nkind = "feed"\nintervall = "1m"\n',
            "sources[0].intervall",
            4,
            "unknown key",
        ),
        (
            '[[sources]]\nurl = "https://a.test/"\nkind = "html"\n',
            "sources[0].rule.item",
            1,
            "needs",
        ),
        (
            '[[sources]]\nurl = "https://a.test/"\nprofile = "nosuch"\n',
            "sources[0].profile",
            3,
            "nosuch",
        ),
        (
            '[[sources]]\nurl = "https://a.test/"\nkind = "feed"\ncron = "every day"\n',
            "sources[0].cron",
            4,
            "crontab",
        ),
        (
            '[channels.tg]\nurls = ["tgram://${NOPE_TOKEN}/1"]\n',
            "channels.tg.urls[0]",
            2,
            "NOPE_TOKEN is not set",
        ),
    ],
)
def test_errors_name_file_key_line_and_reason(tmp_path, text, key, line, reason):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    error = info.value
    assert error.file == str(path)
    assert error.key == key
    assert reason in error.reason
    assert error.line == line
    assert str(error).startswith(f"{path}:{line}: {key}: ")


def test_toml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, 'database = "x"\n[[sources]\nurl = 1\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.line == 2
    assert "not valid TOML" in info.value.reason


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="monitor init"):
        load_settings(tmp_path / "absent.toml")


def test_secret_from_a_credentials_file(tmp_path):
    (tmp_path / "token").write_text("from-file\n")
    text = f'[channels.a]\nurls = ["json://h/?t=${{file:{tmp_path}/token}}"]\n'
    settings = load_settings(write(tmp_path, text), environ={})
    assert settings.channels[0].urls == ("json://h/?t=from-file",)


@pytest.mark.parametrize(
    ("value", "seconds"), [(45, 45), ("45s", 45), ("10m", 600), ("1h", 3600), ("1h30m", 5400)]
)
def test_interval_units(value, seconds):
    assert parse_interval(value) == seconds


def test_validate_command_exit_status_2_and_writes_nothing(tmp_path):
    from tests.conftest import run_monitor

    path = write(tmp_path, '[[sources]]\nurl = "https://a.test/"\nkind = "html"\n')
    result = run_monitor("validate", config=path)
    assert result.returncode == 2
    assert "sources[0].rule.item" in result.stderr
    assert str(path) in result.stderr
    result = run_monitor("check", config=path)
    assert result.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monitor.toml"]


SOURCE = '[[sources]]\nurl = "https://a.test/feed"\nkind = "feed"\n'


@pytest.mark.parametrize(
    ("line", "key", "reason"),
    [
        (
            'cookies = { session = "sécret" }',
            "sources[0].cookies.session",
            "the value holds a non-ASCII character (character 2): HTTP sends ASCII only;"
            " percent-encode it (its UTF-8 bytes as %XX)",
        ),
        (
            'headers = { Authorization = "Bearer t0ken\\nX-Injected: 1" }',
            "sources[0].headers.Authorization",
            "the value holds a line break (character 13): a header is one line",
        ),
        (
            'headers = { X-Token = "a\\u0001b" }',
            "sources[0].headers.X-Token",
            "the value holds the control character U+0001 (character 2), which HTTP does not allow",
        ),
        (
            'cookies = { session = "abc; admin=1" }',
            "sources[0].cookies.session",
            "the value holds ';' (character 4), which would end the cookie there;"
            " percent-encode it (%3B)",
        ),
        (
            'headers = { "X Token" = "1" }',
            "sources[0].headers.X Token",
            "'X Token' is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only,"
            " no spaces, '=' or ':')",
        ),
    ],
)
def test_header_and_cookie_values_that_cannot_be_sent_are_rejected(tmp_path, line, key, reason):
    path = write(tmp_path, f"{SOURCE}{line}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(info.value) == f"{path}:4: {key}: {reason}"
    assert "t0ken" not in str(info.value) and "sécret" not in str(info.value)


def test_a_secret_cookie_from_the_environment_is_checked_after_expansion(tmp_path):
    path = write(tmp_path, f'{SOURCE}cookies = {{ session = "${{SESSION}}" }}\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={"SESSION": "top-secret\r\n"})
    assert info.value.key == "sources[0].cookies.session"
    assert info.value.reason.startswith("the value holds a line break (character 11)")
    assert "top-secret" not in str(info.value)
    settings = load_settings(path, environ={"SESSION": "top-secret"})
    assert settings.sources[0].cookies == (("session", "top-secret"),)


def test_validate_rejects_a_socks_proxy_without_socksio_and_names_the_install_command(tmp_path):
    import importlib.util

    from tests.conftest import run_monitor

    if importlib.util.find_spec("socksio") is not None:
        pytest.skip("socksio is installed here")
    path = write(tmp_path, 'proxy = "socks5://user:pw@127.0.0.1:1080"\n')
    result = run_monitor("validate", config=path)
    assert result.returncode == 2
    assert (
        f"{path}:1: proxy: a socks5:// proxy needs the optional socksio library, which is not"
        " installed: pip install 'httpx[socks]' (in the monitor's Python environment)"
    ) in result.stderr
    assert "pw@" not in result.stderr


def test_a_socks_proxy_is_accepted_where_socksio_is_installed(tmp_path, monkeypatch):
    library = tmp_path / "lib" / "socksio"
    library.mkdir(parents=True)
    (library / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    settings = load_settings(write(tmp_path, 'proxy = "socks5h://127.0.0.1:1080"\n'))
    assert settings.proxy == "socks5h://127.0.0.1:1080"


@pytest.mark.parametrize(
    ("proxy", "scheme"), [("ftp://user:pw@proxy:21", "'ftp'"), ("proxy.lan:3128", "missing")]
)
def test_a_proxy_the_monitor_cannot_use_is_rejected_without_showing_it(tmp_path, proxy, scheme):
    path = write(tmp_path, f'proxy = "{proxy}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(info.value) == (
        f"{path}:1: proxy: not a proxy URL the monitor can use (scheme {scheme}):"
        " use http://, https://, socks5:// or socks5h://HOST:PORT"
    )


def test_max_retry_after_is_a_duration_with_a_one_hour_default(tmp_path):
    assert load_settings(write(tmp_path, "")).max_retry_after == 3600
    assert load_settings(write(tmp_path, 'max_retry_after = "6h"\n')).max_retry_after == 21600
