"""Alerts end to end: the real CLI or sender, a real SMTP server, a stand-in of the Telegram
Bot API that Apprise's own Telegram plugin posts to, a webhook that dies and comes back, a
process killed with SIGKILL, and secrets that never reach the output."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from html import escape
from pathlib import Path
from urllib.parse import quote

import pytest

from monitor.alerts.notify import deliver_due
from monitor.app import run_checks
from monitor.config.settings import load_settings
from monitor.pipeline.store import Store
from tests.conftest import ROOT, Site, free_port, run_monitor
from tests.receivers import TelegramStandIn, Webhook

MARKER = "The material is available only to POZIRK+"
TOKEN = "123456789:AAF-news-monitor-secret_token"
MAIL_PASSWORD = "hunter2-mail-secret"
HOOK_PASSWORD = "webhook-basic-auth-secret"


def teaser(n: int, title: str, section: str, paid: bool) -> str:
    mark = f'<p class="note">{MARKER}</p>' if paid else ""
    return (
        f'<article class="teaser"><span class="rubric">{section}</span>'
        f'<h2><a href="/en/news/{n}-story/?utm_source=home">{escape(title)}</a></h2>'
        f"{mark}</article>"
    )


def page(*teasers: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Politics</title></head>"
        f"<body><main>{''.join(teasers)}</main></body></html>"
    )


OLD = [
    teaser(1, "Reprisals: at least 40 people targeted", "Politics", True),
    teaser(2, "Minsk weather: snow expected", "Society", False),
]
IRAN = teaser(3, "Iran’s president to visit Minsk <next> week", "Politics", True)
FREE = teaser(4, "Opposition politician: Trump could claim a win", "Politics", False)

SOURCE = """
[[sources]]
name = "pozirk-politics"
url = "{url}"
[sources.rule]
item = "article.teaser"
section = ".rubric"
paywall_text = "available only to POZIRK+"
"""


def write_config(tmp_path: Path, url: str, channels: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text('database = "state.db"\n' + SOURCE.format(url=url) + channels, encoding="utf-8")
    return path


# -- e-mail -----------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox()

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        if isinstance(auth_data, LoginPassword):
            box.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            return AuthResult(success=auth_data.password.decode() == MAIL_PASSWORD)
        return AuthResult(success=False)

    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield box, port
    controller.stop()


def mail_url(port: int) -> str:
    # mailto:// (not mailtos://) is plain SMTP without TLS.
    return (
        f"mailto://news:${{MAIL_PASSWORD}}@127.0.0.1:{port}"
        "?from=monitor@example.org&to=editor@example.org"
    )


def test_new_paywalled_item_arrives_as_one_email(site: Site, tmp_path: Path, smtp) -> None:
    box, port = smtp
    url = site.set("/en/politics/", page(*OLD))
    config = write_config(tmp_path, url, f'[channels.mail]\nurls = ["{mail_url(port)}"]\n')
    env = {"MAIL_PASSWORD": MAIL_PASSWORD}

    baseline = run_monitor("check", config=config, env=env)
    assert baseline.returncode == 0, baseline.stderr
    assert box.messages == []

    site.set("/en/politics/", page(IRAN, FREE, *OLD))
    result = run_monitor("check", config=config, env=env)
    assert result.returncode == 0, result.stderr

    assert box.logins == [("news", MAIL_PASSWORD)]
    [(recipients, raw)] = box.messages
    assert recipients == ["editor@example.org"]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["Subject"] == "[news-monitor] 2 new items: pozirk-politics"
    assert mail["From"].addresses[0].addr_spec == "monitor@example.org"
    assert mail.get_content_type() == "multipart/alternative"
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    iran = f"{url.rsplit('/en/', 1)[0]}/en/news/3-story/"
    free = f"{url.rsplit('/en/', 1)[0]}/en/news/4-story/"
    assert (
        f'<p>🔒 <b><a href="{iran}">Iran’s president to visit Minsk &lt;next&gt; week</a></b><br>'
        f'Politics · pozirk-politics<br><a href="{iran}">{iran}</a></p>'
    ) in html
    assert (
        f'<p><b><a href="{free}">Opposition politician: Trump could claim a win</a></b><br>'
        f'Politics · pozirk-politics<br><a href="{free}">{free}</a></p>'
    ) in html
    assert text.strip() == (
        "🔒 Iran’s president to visit Minsk <next> week\n"
        "Politics · pozirk-politics\n"
        f"{iran}\n\n"
        "Opposition politician: Trump could claim a win\n"
        "Politics · pozirk-politics\n"
        f"{free}"
    )
    assert run_monitor("outbox", config=config, env=env).stdout.startswith("Outbox empty")


# -- Telegram ---------------------------------------------------------------------------


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramStandIn]:
    from apprise.plugins.telegram import NotifyTelegram

    stand_in = TelegramStandIn()
    monkeypatch.setattr(NotifyTelegram, "notify_url", stand_in.api)
    yield stand_in
    stand_in.close()


def test_telegram_receives_the_exact_html_message(
    site: Site, tmp_path: Path, telegram: TelegramStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TG_TOKEN", TOKEN)
    url = site.set("/en/politics/", page(*OLD))
    config = write_config(
        tmp_path,
        url,
        '[channels.telegram]\nurls = ["tgram://${TG_TOKEN}/-1001234567890"]\npaywalled = true\n',
    )
    settings = load_settings(config)
    store = Store.open(settings.database)

    async def poll_and_send() -> object:
        await run_checks(settings, settings.sources, store)
        return await deliver_due(settings, store)

    asyncio.run(poll_and_send())  # baseline: nothing to say
    assert telegram.requests == []
    site.set("/en/politics/", page(IRAN, FREE, *OLD))
    report = asyncio.run(poll_and_send())
    assert report.messages == 1  # type: ignore[attr-defined]

    [request] = telegram.requests
    assert request.path == f"/bot{TOKEN}/sendMessage"
    iran = f"{url.rsplit('/en/', 1)[0]}/en/news/3-story/"
    # Only the paywalled item passes the channel's filter; Apprise sends lines with CRLF.
    assert request.body == {
        "chat_id": -1001234567890,
        "parse_mode": "HTML",
        "disable_notification": False,
        "disable_web_page_preview": True,
        "text": (
            "🔒 <b>Iran’s president to visit Minsk &lt;next&gt; week</b>\r\n"
            "<i>Politics</i> · pozirk-politics\r\n"
            f"{iran}"
        ),
    }
    store.close()


# -- crashes ----------------------------------------------------------------------------


def test_no_notify_then_outbox_then_check_delivers(site: Site, tmp_path: Path, hooks) -> None:
    hook = Webhook(free_port()).start()
    hooks.append(hook)
    url = site.set("/en/politics/", page(*OLD))
    config = write_config(tmp_path, url, f'[channels.hook]\nurls = ["{hook.url()}"]\n')
    assert run_monitor("check", config=config).returncode == 0
    site.set("/en/politics/", page(IRAN, *OLD))

    recorded = run_monitor("check", "--no-notify", config=config)
    assert recorded.returncode == 0, recorded.stderr
    assert hook.messages() == []
    listing = run_monitor("outbox", config=config)
    assert "pending" in listing.stdout and "Iran’s president" in listing.stdout

    sent = run_monitor("check", config=config)
    assert sent.returncode == 0, sent.stderr
    assert [m.split("\n")[0] for m in hook.messages()] == [
        "🔒 Iran’s president to visit Minsk <next> week"
    ]
    assert run_monitor("outbox", "--json", config=config).stdout.strip() == "[]"


def test_sigkill_while_sending_loses_nothing(site: Site, tmp_path: Path, hooks) -> None:
    hook = Webhook(free_port(), mode="hang").start()
    hook.hang_seconds = 30
    hooks.append(hook)

    url = site.set("/en/politics/", page(*OLD))
    config = write_config(tmp_path, url, f'[channels.hook]\nurls = ["{hook.url(timeout=25)}"]\n')
    assert run_monitor("check", config=config).returncode == 0
    site.set("/en/politics/", page(IRAN, *OLD))

    requests_before = len(site.requests_for("/en/politics/"))
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "check"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Wait until it polled, committed and is sending (the webhook holds the request).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not hook.hanging:
        time.sleep(0.02)
    assert hook.hanging, "the sender never reached the webhook"
    assert len(site.requests_for("/en/politics/")) == requests_before + 1
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    hook.mode = "ok"
    listing = run_monitor("outbox", config=config)
    assert "pending" in listing.stdout and "Iran’s president" in listing.stdout
    again = run_monitor("check", config=config)
    assert again.returncode == 0, again.stderr
    assert [m.split("\n")[0] for m in hook.messages()] == [
        "🔒 Iran’s president to visit Minsk <next> week"
    ]
    assert run_monitor("outbox", config=config).stdout.startswith("Outbox empty")


# -- secrets ----------------------------------------------------------------------------

SITECUSTOMIZE = """
import os
if os.environ.get("TELEGRAM_STAND_IN"):
    from apprise.plugins.telegram import NotifyTelegram
    NotifyTelegram.notify_url = os.environ["TELEGRAM_STAND_IN"]
"""


def test_no_secret_reaches_any_output(
    site: Site, tmp_path: Path, smtp, hooks, telegram: TelegramStandIn
) -> None:
    _box, smtp_port = smtp
    broken = Webhook(free_port(), mode="error").start()
    hooks.append(broken)
    url = site.set("/en/politics/", page(*OLD))
    config = write_config(
        tmp_path,
        url,
        '[channels.telegram]\nurls = ["tgram://${TG_TOKEN}/-1001234567890"]\n'
        f'[channels.mail]\nurls = ["{mail_url(smtp_port)}"]\n'
        f'[channels.hook]\nurls = ["json://news:${{HOOK_PASSWORD}}@127.0.0.1:{broken.port}/h"]\n',
    )
    # The subprocess reaches the stand-in through a sitecustomize module on its path.
    hook_dir = tmp_path / "site"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = {
        "TG_TOKEN": TOKEN,
        "MAIL_PASSWORD": MAIL_PASSWORD,
        "HOOK_PASSWORD": HOOK_PASSWORD,
        "TELEGRAM_STAND_IN": telegram.api,
        "PYTHONPATH": os.pathsep.join([str(hook_dir), str(ROOT)]),
    }
    outputs = []

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = run_monitor("-vv", *args, config=config, env=env)
        outputs.append(f"$ monitor {' '.join(args)}\n{result.stdout}{result.stderr}")
        return result

    assert run("check").returncode == 0
    site.set("/en/politics/", page(IRAN, *OLD))
    assert run("check").returncode == 0
    run("outbox")
    run("outbox", "--json")
    run("outbox", "retry")
    assert run("notify", "test").returncode == 1  # the webhook answers 500
    run("validate")
    text = "\n".join(outputs)

    # Delivery happened, through paths that carry the secrets...
    assert any(r.path == f"/bot{TOKEN}/sendMessage" for r in telegram.requests)
    assert "FAILED  hook json://news:****@127.0.0.1" in text
    assert "OK      telegram tgram://" in text
    # ...and the verbose logs had them to write: they show up redacted.
    assert "/bot***/sendMessage" in text
    for secret in (TOKEN, TOKEN.split(":")[1], MAIL_PASSWORD, HOOK_PASSWORD):
        assert secret not in text
        assert quote(secret, safe="") not in text
