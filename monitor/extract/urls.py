"""Canonical URLs and item keys.

The same article reached from a section page, a feed or a share link must get one
identity: absolute, http(s) only, no fragment, lower-case scheme and host, no
default port, no tracking parameters, non-ASCII and unsafe characters
percent-encoded the way browsers send them.

A fragment is not part of the canonical URL, but it may name one of several things on
one page (a changelog's ``#v1.3``, a forum post's ``#p116390``): `url_fragment` gives
the part of a link's fragment that can tell items apart, for identities that need it.
"""

from __future__ import annotations

import contextlib
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from monitor.patterns import compile_linear

__all__ = [
    "TRACKING_PARAMS",
    "alert_identity",
    "canonical_url",
    "is_tracking_param",
    "item_key",
    "pattern_id",
    "url_fragment",
]

# Query parameters that only say where a click came from (compared lower-case).
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "yclid",
        "ysclid",
        "msclkid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "igshid",
        "igsh",
        "ref_src",
        "ref_url",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wt_mc",
        "wt_zmc",
        "at_medium",
        "at_campaign",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_STRIP = re.compile(r"[\t\n\r]")
# An absolute URL already in canonical form: lower-case host, no port, userinfo,
# query, fragment or escapes (most article links).
_SIMPLE = re.compile(r"https?://[a-z0-9.-]+(?:/[A-Za-z0-9/:@!$&'()*+,;=._~-]*)?")
# Paths and queries that need no percent-encoding at all (the common case).
_PLAIN = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=._~?-]*")
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
# Characters left as they are when percent-encoding a path or query (RFC 3986
# reserved and unreserved ones, plus "%" so existing escapes survive).
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"


def is_tracking_param(name: str) -> bool:
    """True for utm_*, fbclid, gclid and the other click-tracking parameters."""
    lname = name.lower()
    return lname in TRACKING_PARAMS or lname.startswith(_TRACKING_PREFIXES)


def _upper_escapes(text: str) -> str:
    return _ESCAPE.sub(lambda m: m.group(0).upper(), text)


def _clean_query(query: str) -> str:
    kept = [
        pair for pair in query.split("&") if pair and not is_tracking_param(pair.split("=", 1)[0])
    ]
    return _encode("&".join(kept), _SAFE_QUERY)


def _netloc(scheme: str, host: str, port: int | None, userinfo: str) -> str:
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    host = host.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{userinfo}@{host}" if userinfo else host


@lru_cache(maxsize=256)
def _origin(base: str) -> str | None:
    """scheme://host[:port] of an http(s) base URL."""
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _absolute(href: str, base: str) -> str:
    # urljoin is slow and most hrefs are absolute or host-relative: join those here.
    if "/." not in href:
        if href.startswith(("https://", "http://")):
            return href
        if href.startswith("/") and not href.startswith("//") and (origin := _origin(base)):
            return origin + href
        return urljoin(base, href)
    return _remove_dot_segments(urljoin(base, href))


def _remove_dot_segments(url: str) -> str:
    """RFC 3986 5.2.4 on the path (urljoin leaves "/a/../b" in an absolute href)."""
    parts = urlsplit(url)
    out: list[str] = []
    segments = parts.path.split("/")
    for segment in segments:
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    if segments[-1] in (".", ".."):
        out.append("")
    return urlunsplit(parts._replace(path="/".join(out)))


def _encode(text: str, safe: str) -> str:
    if _PLAIN.fullmatch(text):
        return text
    return _upper_escapes(quote(text, safe=safe))


def canonical_url(href: str, base: str) -> str | None:
    """`href` made absolute against `base` and normalized; None if not a web link.

    javascript:, mailto:, tel:, data: and every other non-http(s) scheme, empty
    hrefs and hosts that cannot be parsed give None.
    """
    href = _STRIP.sub("", href).strip() if href else ""
    if not href:
        return None
    absolute = _absolute(href, base)
    if _SIMPLE.fullmatch(absolute) and "/." not in absolute:
        return absolute if absolute.count("/") > 2 else absolute + "/"
    try:
        parts = urlsplit(absolute)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    netloc = _netloc(scheme, parts.hostname, port, userinfo)
    path = _encode(parts.path or "/", _SAFE_PATH)
    query = _clean_query(parts.query) if parts.query else ""
    return urlunsplit((scheme, netloc, path, query, ""))


# Where a fragment's text directive starts (``#:~:text=...`` highlights, never names).
_TEXT_DIRECTIVE = ":~:"


def url_fragment(href: str) -> str:
    """The fragment of `href` that names a place: percent-encoded, "" if there is none.

    Not places: an empty fragment, a text directive (``:~:text=...``) and a fragment of
    tracking parameters only (``#utm_source=rss&utm_medium=feed``), as in a query.
    """
    fragment = _STRIP.sub("", href).strip().partition("#")[2] if href else ""
    fragment = fragment.partition(_TEXT_DIRECTIVE)[0]
    if not fragment:
        return ""
    pairs = [pair for pair in fragment.split("&") if pair]
    if pairs and all("=" in p and is_tracking_param(p.split("=", 1)[0]) for p in pairs):
        return ""
    return _encode(fragment, _SAFE_QUERY)


def alert_identity(url: str, key: str) -> str:
    """The URL that stands for an item across sources ("" when it has no link).

    Its canonical URL, so that the same article on a section page and in a feed is one
    item; but when its key is that URL plus a fragment (a feed listing several places
    on one page, a changelog's ``#v1.3`` and ``#v1.2``), the key, which keeps them apart.
    """
    if url and key.startswith(url + "#"):
        return key
    return url


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> Any:
    return compile_id_pattern(pattern)


def compile_id_pattern(pattern: str) -> Any:
    """The rule's `id_pattern`, compiled with RE2 (see monitor.patterns)."""
    return compile_linear(pattern)


def item_key(url: str, id_pattern: str | None) -> str:
    """The item's identity: the id the pattern finds in `url`, else `url` itself.

    The id is group 1 of the first match if the pattern has a group that matched,
    else the whole match.
    """
    return (pattern_id(url, id_pattern) if id_pattern else None) or url


def pattern_id(text: str, id_pattern: str) -> str | None:
    """The id `id_pattern` finds in `text` (see `item_key`); None when it finds none."""
    match = _compiled(id_pattern).search(text)
    if not match:
        return None
    group = match.group(1) if match.re.groups and match.group(1) else match.group(0)
    return group or None
