"""Hostile origins: response handlers for the test `Site` server, one per attack.

Each `Attack` says how the server misbehaves and what the monitor must answer: a FetchError
or ExtractError message (the poll fails, clearly), or items (the page is odd but usable).
Used by tests/test_hostile_origins.py and bench/hostile.py.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.reliability import listing

Handler = Callable[[BaseHTTPRequestHandler], None]

HEALTHY_TITLES = ["Story number 3", "Story number 2", "Story number 1"]
# What the XXE feed tries to read; a test writes it and searches every output for it.
SECRET = "TOPSECRET-4f9a2c-never-shown"


def _headers(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> None:
    h.send_response(status)
    for key, value in headers.items():
        h.send_header(key, value)
    h.end_headers()


def _write(h: BaseHTTPRequestHandler, data: bytes) -> bool:
    """False once the client went away."""
    try:
        h.wfile.write(data)
        h.wfile.flush()
    except OSError:
        return False
    return True


def bomb_parts(encoding: str, chunk: int = 1 << 20) -> tuple[bytes, bytes]:
    """(start, block) of a compressed stream of zeros: `start` then any number of `block`s
    is a valid stream that inflates `chunk` bytes per part (a full flush resets the
    compressor, so every block is the same ~1 KB)."""
    wbits = 31 if encoding == "gzip" else 15
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    zeros = bytes(chunk)
    start = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    return start, block


def bomb(encoding: str, gigabytes: int = 4) -> Handler:
    """A compressed body that inflates to `gigabytes` GiB of zeros."""
    start, block = bomb_parts(encoding)
    count = gigabytes * 1024 - 1
    length = len(start) + count * len(block)

    def handler(h: BaseHTTPRequestHandler) -> None:
        _headers(
            h,
            200,
            {
                "Content-Type": "text/html; charset=utf-8",
                "Content-Encoding": encoding,
                "Content-Length": str(length),
            },
        )
        if not _write(h, start):
            return
        for _ in range(count):
            if not _write(h, block):
                return

    return handler


def unknown_encoding(h: BaseHTTPRequestHandler) -> None:
    """Brotli (we never advertise it): bytes we cannot decode."""
    body = b"\x1b\xff\xff\x0f" * 256
    _headers(
        h,
        200,
        {"Content-Type": "text/html", "Content-Encoding": "br", "Content-Length": str(len(body))},
    )
    _write(h, body)


def endless(chunked: bool) -> Handler:
    """A page that never ends: no Content-Length, close-delimited (or chunked)."""
    piece = listing(range(1, 4)).encode() * 100

    def handler(h: BaseHTTPRequestHandler) -> None:
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Connection"] = "close"
            h.close_connection = True
        _headers(h, 200, headers)
        frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
        while _write(h, frame):
            pass

    return handler


def trickle(every: float = 1.0, limit: int = 600) -> Handler:
    """Headers at once, then the body one byte per `every` seconds."""
    body = listing(range(1, 4)).encode()

    def handler(h: BaseHTTPRequestHandler) -> None:
        _headers(h, 200, {"Content-Type": "text/html", "Content-Length": str(len(body))})
        for n in range(min(limit, len(body))):
            if not _write(h, body[n : n + 1]):
                return
            time.sleep(every)

    return handler


def trickle_headers(every: float = 1.0, limit: int = 600) -> Handler:
    """The status line and headers themselves, one byte per `every` seconds."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X-Slow: " + b"a" * 10_000

    def handler(h: BaseHTTPRequestHandler) -> None:
        for n in range(min(limit, len(head))):
            if not _write(h, head[n : n + 1]):
                return
            time.sleep(every)

    return handler


def redirect(location: str) -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        _headers(h, 302, {"Location": location, "Content-Length": "0"})

    return handler


def page(body: bytes, content_type: str) -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        _headers(h, 200, {"Content-Type": content_type, "Content-Length": str(len(body))})
        _write(h, body)

    return handler


def invalid_utf8() -> bytes:
    """A page declaring UTF-8 whose titles carry bytes that are not UTF-8."""
    text = listing(range(1, 4)).encode()
    return text.replace(b"Story number 2", b"Story \xff\xfe\xc3( number 2")


def deeply_nested(depth: int = 100_000) -> bytes:
    rows = listing(range(1, 4)).split("<body>")[1].split("</body>")[0]
    return f"<html><body>{'<div>' * depth}{rows}{'</div>' * depth}</body></html>".encode()


def long_line(megabytes: int = 20) -> bytes:
    """A listing whose one line is `megabytes` MB long (no newline anywhere)."""
    filler = "<span>" + "x" * (megabytes * 1024 * 1024) + "</span>"
    return listing(range(1, 4)).replace("<ul", filler + "<ul").encode()


def _rss(doctype: str, title: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}<rss version="2.0"><channel>'
        f"<title>Feed</title><link>http://127.0.0.1/</link>"
        f"<item><title>{title}</title><link>http://127.0.0.1/a</link>"
        f"<description>{title}</description></item>"
        "<item><title>Plain entry</title><link>http://127.0.0.1/b</link></item>"
        "</channel></rss>"
    ).encode()


def billion_laughs() -> bytes:
    """Ten levels of ten-fold entity references: a billion "lol"s if expanded."""
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return _rss(f"<!DOCTYPE rss [{''.join(levels)}]>", "Laugh &lol9;")


def external_entity(secret_path: str, dtd_url: str) -> bytes:
    """An entity that reads a local file, and an external DTD the parser must not fetch."""
    doctype = (
        f'<!DOCTYPE rss SYSTEM "{dtd_url}" [<!ENTITY xxe SYSTEM "file://{secret_path}">'
        f'<!ENTITY % remote SYSTEM "{dtd_url}"> %remote;]>'
    )
    return _rss(doctype, "Leak &xxe; here")


@dataclass(frozen=True)
class Attack:
    """One hostile origin. `error`: the start of the message the poll must fail with;
    None: the poll must succeed with `titles`."""

    name: str
    what: str
    handler: Handler
    kind: str = "html"
    error: str | None = None
    titles: tuple[str, ...] = ()
    # Settings this attack needs (e.g. a raised size cap), as config keys.
    settings: tuple[tuple[str, object], ...] = ()


def attacks(secret_path: str, base: str) -> list[Attack]:
    """Every hostile origin; `base` is the server's http://127.0.0.1:PORT."""
    return [
        Attack(
            "gzip-bomb",
            "4 MB of gzip that inflates to 4 GiB",
            bomb("gzip"),
            error="response too large: over the 10485760 byte cap",
        ),
        Attack(
            "deflate-bomb",
            "the same as Content-Encoding: deflate",
            bomb("deflate"),
            error="response too large: over the 10485760 byte cap",
        ),
        Attack(
            "brotli",
            "Content-Encoding: br although we never advertise it",
            unknown_encoding,
            error="unsupported Content-Encoding: br",
        ),
        Attack(
            "endless",
            "a body without Content-Length that never ends",
            endless(chunked=False),
            error="response too large: over the 10485760 byte cap",
        ),
        Attack(
            "endless-chunked",
            "chunked transfer encoding that never ends",
            endless(chunked=True),
            error="response too large: over the 10485760 byte cap",
        ),
        Attack(
            "trickle-body",
            "the body at one byte per second",
            trickle(),
            error="timed out after",
        ),
        Attack(
            "trickle-headers",
            "the status line and headers at one byte per second",
            trickle_headers(),
            error="timed out after",
        ),
        Attack(
            "redirect-loop",
            "a 302 to itself",
            redirect("/redirect-loop"),
            error="too many redirects (more than 10)",
        ),
        Attack(
            "redirect-file",
            "a 302 to file:///etc/passwd",
            redirect("file:///etc/passwd"),
            error="redirect to an unsupported URL scheme: file:",
        ),
        Attack(
            "redirect-ftp",
            "a 302 to ftp://",
            redirect("ftp://127.0.0.1/x"),
            error="redirect to an unsupported URL scheme: ftp:",
        ),
        Attack(
            "wrong-type",
            "a 200 listing served as image/png",
            page(listing(range(1, 4)).encode(), "image/png"),
            error="not a page or feed: the server sent image/png",
        ),
        Attack(
            "invalid-utf8",
            "bytes that are not UTF-8 in a page declaring UTF-8",
            page(invalid_utf8(), "text/html; charset=utf-8"),
            titles=("Story number 3", "Story \ufffd\ufffd\ufffd( number 2", "Story number 1"),
        ),
        Attack(
            "deep-nesting",
            "100,000 nested <div> elements",
            page(deeply_nested(), "text/html; charset=utf-8"),
            error="page nests elements more than 1000 deep",
        ),
        Attack(
            "long-line",
            "a 20 MB single line (cap raised to 32 MB)",
            page(long_line(), "text/html; charset=utf-8"),
            titles=tuple(HEALTHY_TITLES),
            settings=(("max_bytes", 32 * 1024 * 1024),),
        ),
        Attack(
            "billion-laughs",
            "a feed declaring nested entities (10^9 lol)",
            page(billion_laughs(), "application/rss+xml"),
            kind="feed",
            titles=("Laugh &lol9;", "Plain entry"),
        ),
        Attack(
            "external-entity",
            "a feed with an entity reading a local file and an external DTD",
            page(external_entity(secret_path, f"{base}/evil.dtd"), "application/rss+xml"),
            kind="feed",
            titles=("Leak &xxe; here", "Plain entry"),
        ),
    ]
