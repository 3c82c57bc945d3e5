"""Running under systemd: the unit file verifies, sd_notify reaches the socket, credentials."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config.settings import load_settings
from monitor.daemon import sdnotify
from monitor.models import ConfigError

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "systemd" / "monitor.service"
INSTALLED = "/opt/news-monitor/.venv/bin/monitor"


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    # AF_UNIX paths are short (108 bytes): use a short directory, not tmp_path.
    folder = tempfile.mkdtemp(prefix="sdn")
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()
    shutil.rmtree(folder, ignore_errors=True)


def test_unit_file_passes_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED} --config /etc/news-monitor/monitor.toml run" in text
    # verify wants the ExecStart binary to exist: point it at this checkout's entry point.
    here = Path(sys.executable).parent / "monitor"
    assert here.exists(), "install the package (pip install -e .) first"
    unit = tmp_path / "news-monitor.service"
    unit.write_text(text.replace(INSTALLED, str(here)))
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "news-monitor.service" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    "line",
    [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "DynamicUser=yes",
        "StateDirectory=news-monitor",
        "ConfigurationDirectory=news-monitor",
        "EnvironmentFile=-/etc/news-monitor/secrets.env",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "MemoryMax=512M",
        "WatchdogSec=120s",
    ],
)
def test_unit_file_has(line):
    assert line in UNIT.read_text().splitlines()


def test_notify_sends_one_datagram(notify_socket):
    sock, path = notify_socket
    assert sdnotify.notify("READY=1\nSTATUS=x", {"NOTIFY_SOCKET": path})
    assert sock.recv(4096) == b"READY=1\nSTATUS=x"


def test_notify_to_an_abstract_socket():
    name = f"news-monitor-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert sdnotify.notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_notify_outside_systemd_does_nothing(tmp_path):
    assert not sdnotify.notify("READY=1", {})
    assert not sdnotify.notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "absent")})


def test_watchdog_interval_is_half_of_watchdog_sec():
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "120000000"}) == 60
    assert sdnotify.watchdog_interval({}) is None
    other = str(os.getpid() + 1)
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "1000", "WATCHDOG_PID": other}) is None


def test_daemon_tells_systemd_ready_reloading_and_stopping(site, tmp_path, notify_socket):
    from tests.daemon_helpers import PATIENCE, DaemonProcess, listing, write_config

    sock, path = notify_socket
    sock.settimeout(PATIENCE)  # start-up on a loaded machine
    site.set("/news", listing(["One"]))
    config = write_config(tmp_path, [("news", site.url("/news"), "1s")])
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000", "JOURNAL_STREAM": "8:1234"}
    with DaemonProcess(config, env=env) as daemon:
        messages = _receive_until(sock, lambda m: m.startswith(b"READY=1"), daemon)
        assert messages[-1] == b"READY=1\nSTATUS=polling 1 sources"
        _receive_until(sock, lambda m: m == b"WATCHDOG=1", daemon)
        daemon.reload()
        reload_messages = _receive_until(sock, lambda m: m.startswith(b"READY=1"), daemon)
        assert any(m.startswith(b"RELOADING=1\nMONOTONIC_USEC=") for m in reload_messages)
        assert daemon.stop() == 0
        assert b"STOPPING=1" in _receive_until(sock, lambda m: m == b"STOPPING=1", daemon)
    # Under journald: no timestamps of our own, a syslog priority on every line.
    lines = daemon.log().splitlines()
    assert "<6>INFO monitor.daemon: running: 1 sources, 0 channels, database " in "\n".join(lines)
    assert all(line.startswith(("<6>", "<7>", "<4>")) for line in lines), lines


def _receive_until(sock: socket.socket, done, daemon) -> list[bytes]:
    seen: list[bytes] = []
    while True:
        try:
            message = sock.recv(4096)
        except TimeoutError:
            raise AssertionError(f"no such message in {seen}; log:\n{daemon.log()}") from None
        seen.append(message)
        if done(message):
            return seen


def test_config_reads_a_systemd_credential(tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "telegram-token").write_text("123:abc\n")
    config = tmp_path / "monitor.toml"
    config.write_text(
        '[channels.tg]\nurls = ["tgram://${file:${CREDENTIALS_DIRECTORY}/telegram-token}/42"]\n'
        '[channels.tg2]\nurls = ["tgram://${file:$CREDENTIALS_DIRECTORY/telegram-token}/42"]\n'
    )
    settings = load_settings(config, environ={"CREDENTIALS_DIRECTORY": str(creds)})
    assert [c.urls for c in settings.channels] == [("tgram://123:abc/42",)] * 2
    with pytest.raises(ConfigError, match=r"channels\.tg\.urls\[0\].*CREDENTIALS_DIRECTORY"):
        load_settings(config, environ={})
