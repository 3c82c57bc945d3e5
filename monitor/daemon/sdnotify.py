"""The systemd notify protocol (sd_notify), by hand: one datagram to $NOTIFY_SOCKET.

Outside systemd (no NOTIFY_SOCKET) every call is a no-op. Abstract sockets (a name starting
with '@') are supported. See sd_notify(3).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send `state` (e.g. "READY=1\\nSTATUS=polling 3 sources"). True when it was sent."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address[0] == "@":
        address = "\0" + address[1:]
    elif address[0] != "/":
        return False  # vsock and other families are not supported
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
    except OSError:
        return False
    return True


def ready(status: str = "") -> bool:
    return notify("READY=1" + (f"\nSTATUS={status}" if status else ""))


def reloading() -> bool:
    # MONOTONIC_USEC lets systemd (>= 253, Type=notify-reload) tell this reload from others.
    usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    return notify(f"RELOADING=1\nMONOTONIC_USEC={usec}")


def stopping() -> bool:
    return notify("STOPPING=1")


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec), or None when not asked for."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if pid.isdigit() and int(pid) != os.getpid():
        return None  # the watchdog is meant for another process
    return int(usec) / 1_000_000 / 2


class JournalFormatter(logging.Formatter):
    """Prefixes each line with its syslog priority (<3> error, <4> warning, <6> info), which
    journald reads from a service's stderr: `journalctl -p warning` then works."""

    def format(self, record: logging.LogRecord) -> str:
        priority = journal_priority(record.levelno)
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines())


def journal_priority(levelno: int) -> int:
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    return 6 if levelno >= logging.INFO else 7
