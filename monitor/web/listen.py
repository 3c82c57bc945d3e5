"""Where the web view listens and who may read it: pure checks, no web library."""

from __future__ import annotations

import hmac
import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


def parse_listen(value: str) -> tuple[str, int]:
    """'127.0.0.1:8080', '[::1]:8080', 'localhost:8080' -> (host, port). Raises ValueError."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"{value!r} is not HOST:PORT (for example 127.0.0.1:8080)")
    if host.startswith("["):
        if not host.endswith("]"):
            raise ValueError(f"{value!r}: an IPv6 address goes in brackets, [::1]:8080")
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{value!r}: put an IPv6 address in brackets, [::1]:8080")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"{value!r}: the port must be between 1 and 65535")
    return host, port


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: only this machine can connect."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def access_problem(listen: str, token: str | None) -> str | None:
    """Why the web view must not start on `listen` with `token`, or None."""
    host, _port = parse_listen(listen)
    if token or is_loopback(host):
        return None
    return (
        f"listening on {listen} lets other machines read the monitor: set [web] token"
        ' (for example token = "${MONITOR_WEB_TOKEN}" or "${file:PATH}"), or listen on'
        " 127.0.0.1"
    )


def authorized(header: str | None, token: str | None) -> bool:
    """Whether an Authorization header carries the token (always, when there is none)."""
    if not token:
        return True
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
