"""HTTP fetching, politely: a connection pool per origin, conditional GET, per-host limits,
Retry-After (up to a cap), a cookie jar per source.

Requests go straight to an httpx transport (a connection pool); redirects and cookies are
handled here. httpx's client layer on top cost a fifth of the CPU time of each request,
and a round of polls is mostly requests. Each origin gets a pool of its own: a pool checks
every connection it holds on every request, so one shared pool with 16 idle connections to
other sites doubled the CPU cost of each request.

Every failure becomes a `FetchError` with a short message a user can act on, whatever
raised it: one source's fault never ends a round of polls.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from monitor.models import FetchError, FetchResult, HostHeld

if TYPE_CHECKING:
    import httpx

DEFAULT_USER_AGENT = "news-monitor/0.1 (+https://github.com/news-monitor/news-monitor)"
# A Retry-After longer than this fails the poll at once instead of holding a worker.
MAX_INLINE_WAIT = 30.0
# A redirect's own body is read up to this much (so its connection can be reused), no more.
REDIRECT_BODY_LIMIT = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The longest Retry-After honoured by default: a host that asks for more is polled after this.
DEFAULT_MAX_RETRY_AFTER = 3600.0
SOCKS_INSTALL = "pip install 'httpx[socks]'"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 10
    per_host_concurrency: int = 4
    per_host_delay: float = 0.0
    proxy: str | None = None
    verify_tls: bool = True
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER


@dataclass(frozen=True)
class HostHold:
    """A host's Retry-After: asked for `asked` seconds, held for `held` (at most the cap)."""

    host: str
    asked: float
    held: float
    until: str  # ISO time, UTC

    @property
    def past_cap(self) -> bool:
        return self.asked > self.held

    def notice(self) -> str | None:
        """What a `health` event says when the host asked for more than the cap."""
        if not self.past_cap:
            return None
        return (
            f"{self.host} asked to wait {human_duration(self.asked)} (Retry-After);"
            f" polling again after the {human_duration(self.held)} cap"
        )


class Fetcher:
    """Owns the connection pools, the cookie jars and the per-host politeness state.

    `transport`, when given, carries every request (tests pass httpx.MockTransport).
    """

    def __init__(
        self, settings: FetchSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        import httpx

        self.settings = settings
        self._shared = transport
        self._transports: dict[tuple[bytes, str, int | None], httpx.AsyncBaseTransport] = {}
        self._ssl_context: Any = None
        self._headers = {
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive",
            "User-Agent": settings.user_agent,
        }
        self._timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.total_timeout,
        ).as_dict()
        # Cookies the servers set persist for the life of the fetcher, one jar per source (a
        # source is its URL with its headers and cookies): a subscriber's session never
        # reaches a public source on the same host.
        self._jars: dict[tuple[object, ...], httpx.Cookies] = {}
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._host_next_start: dict[str, float] = {}
        self._host_not_before: dict[str, float] = {}

    async def aclose(self) -> None:
        for transport in [*self._transports.values(), self._shared]:
            if transport is not None:
                await transport.aclose()
        self._transports.clear()

    def _transport(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        """The connection pool of the URL's origin (made on first use)."""
        if self._shared is not None:
            return self._shared
        key = (url.raw_scheme, url.host, url.port)
        transport = self._transports.get(key)
        if transport is None:
            import httpx

            if self._ssl_context is None:  # loading the CA bundle costs 30 ms: once
                self._ssl_context = httpx.create_ssl_context(
                    verify=self.settings.verify_tls, trust_env=False
                )
            # Our per-host slots bound the requests; the pool keeps that many alive.
            limits = httpx.Limits(
                max_connections=None,
                max_keepalive_connections=self.settings.per_host_concurrency,
            )
            transport = httpx.AsyncHTTPTransport(
                verify=self._ssl_context,
                limits=limits,
                proxy=self.settings.proxy,
                trust_env=False,
            )
            self._transports[key] = transport
        return transport

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def host_not_before(self, url: str) -> float:
        """Monotonic time before which the host asked not to be polled (Retry-After)."""
        return self._host_not_before.get(_host(url), 0.0)

    def hold_host(self, url: str, until: str) -> None:
        """Hold the URL's host until `until` (ISO time), as a Retry-After it sent earlier
        asked (recorded by another process, or before a restart); at most the cap."""
        try:
            when = datetime.fromisoformat(until)
        except ValueError:
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = min((when - datetime.now(UTC)).total_seconds(), self.settings.max_retry_after)
        if wait > 0:
            host = _host(url)
            not_before = time.monotonic() + wait
            self._host_not_before[host] = max(self._host_not_before.get(host, 0.0), not_before)

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        cookies: Sequence[tuple[str, str]] = (),
    ) -> FetchResult:
        """GET `url`; raises FetchError and nothing else (but cancellation)."""
        try:
            return await self._fetch(url, etag, last_modified, headers, cookies)
        except FetchError:
            raise
        except Exception as exc:
            log.debug("fetching %s failed unexpectedly", url, exc_info=True)
            raise unexpected_error(exc) from exc

    async def _fetch(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        headers: Sequence[tuple[str, str]],
        cookies: Sequence[tuple[str, str]],
    ) -> FetchResult:
        host = _host(url)
        await self._wait_for_host(host)
        slot = self._host_slots.setdefault(
            host, asyncio.Semaphore(self.settings.per_host_concurrency)
        )
        jar = self._jar((url, tuple(headers), tuple(cookies)))
        async with slot:
            await self._space_requests(host)
            try:
                async with asyncio.timeout(self.settings.total_timeout):
                    return await self._get(url, etag, last_modified, headers, cookies, jar)
            except TimeoutError:
                raise FetchError(
                    f"timed out after {self.settings.total_timeout:g} s in total"
                ) from None

    def _jar(self, source: tuple[object, ...]) -> httpx.Cookies:
        jar = self._jars.get(source)
        if jar is None:
            import httpx

            jar = self._jars[source] = httpx.Cookies()
        return jar

    async def _wait_for_host(self, host: str) -> None:
        wait = self._host_not_before.get(host, 0.0) - time.monotonic()
        if wait <= 0:
            return
        if wait > MAX_INLINE_WAIT:
            until = datetime.now(UTC) + timedelta(seconds=wait)
            raise HostHeld(
                f"not polled: the host asked to wait (Retry-After), {human_duration(wait)} left",
                held_until=until.isoformat(timespec="seconds"),
            )
        await asyncio.sleep(wait)

    async def _space_requests(self, host: str) -> None:
        delay = self.settings.per_host_delay
        if delay <= 0:
            return
        now = time.monotonic()
        start = max(now, self._host_next_start.get(host, 0.0))
        self._host_next_start[host] = start + delay
        if start > now:
            await asyncio.sleep(start - now)

    async def _get(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        headers: Sequence[tuple[str, str]],
        cookies: Sequence[tuple[str, str]],
        jar: httpx.Cookies,
    ) -> FetchResult:
        import httpx

        request_headers = dict(headers)
        # Validators go back exactly as the server sent them, never a local clock time.
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        if cookies:
            request_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies)
        started = time.monotonic()
        try:
            response = await self._send(httpx.URL(url), request_headers, jar)
            try:
                hold = self._note_retry_after(response)
                if response.status_code == 304:
                    # Read the (empty) rest of the response: a response left unread closes
                    # its connection, and the next poll would pay for a new one.
                    await response.aread()
                    body = None
                elif response.status_code >= 400:
                    raise FetchError(
                        f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                        status=response.status_code,
                        held_until=hold.until if hold else None,
                        health_notice=hold.notice() if hold else None,
                    )
                else:
                    body = await self._read_capped(response)
            finally:
                await response.aclose()
            return FetchResult(
                url=str(response.url),
                status=response.status_code,
                body=body,
                headers=tuple(response.headers.items()),
                etag=response.headers.get("etag") or (etag if body is None else None),
                last_modified=response.headers.get("last-modified")
                or (last_modified if body is None else None),
                elapsed=time.monotonic() - started,
            )
        except httpx.TooManyRedirects:
            raise FetchError(
                f"too many redirects (more than {self.settings.max_redirects})"
            ) from None
        except httpx.UnsupportedProtocol as exc:
            raise FetchError(f"unsupported URL or redirect target: {exc}") from None
        except httpx.ConnectTimeout:
            raise FetchError(
                f"connect timed out after {self.settings.connect_timeout:g} s"
            ) from None
        except httpx.ReadTimeout:
            raise FetchError(f"read timed out after {self.settings.read_timeout:g} s") from None
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out: {type(exc).__name__}") from None
        except httpx.ConnectError as exc:
            raise FetchError(_connect_failure(exc)) from None
        except httpx.DecodingError as exc:
            raise FetchError(f"corrupt compressed body: {_short(exc)}") from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise FetchError(f"connection broken: {_short(exc)}") from None
        except httpx.InvalidURL as exc:
            raise FetchError(f"invalid URL: {exc}") from None
        except httpx.LocalProtocolError as exc:
            # h11's text quotes the offending value, which may be a secret: not shown.
            what = "a header or cookie" if "header" in str(exc).lower() else "the request"
            raise FetchError(
                f"cannot send {what}: a name or value holds a character HTTP does not allow"
                " (a line break or control character)"
            ) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {_short(exc)}") from None

    async def _send(
        self, url: httpx.URL, extra: dict[str, str], jar: httpx.Cookies
    ) -> httpx.Response:
        """GET `url`, following redirects; the caller reads and closes the response.

        On a redirect to another origin the headers of the source (its Cookie, any
        Authorization) stay behind; cookies the servers set (kept in the source's `jar`)
        go wherever they apply, after the source's own (which win on a name both have).
        """
        import httpx

        headers = {**self._headers, **extra}
        for _ in range(self.settings.max_redirects + 1):
            own = {k: v for k, v in headers.items() if k.lower() == "cookie"}
            request = httpx.Request(
                "GET", url, headers={k: v for k, v in headers.items() if k not in own}
            )
            request.extensions = {"timeout": self._timeout}
            if jar.jar:
                jar.set_cookie_header(request)
            if own:
                request.headers["Cookie"] = _merge_cookies(
                    "; ".join(own.values()), request.headers.get("cookie")
                )
            try:
                response = await self._transport(url).handle_async_request(request)
            except httpx.ConnectError as exc:
                exc.request = request  # the host it failed on may be a redirect's
                raise
            response.request = request
            if "set-cookie" in response.headers:
                jar.extract_cookies(response)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("GET %s: %d", url, response.status_code)
            if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
                return response
            try:
                target = _redirect_target(url, response.headers["location"])
                await _drain(response)
            finally:
                await response.aclose()
            if not _same_origin(url, target):
                headers = {
                    k: v
                    for k, v in headers.items()
                    if k.lower() not in ("cookie", "authorization", "host")
                }
            url = target
        raise httpx.TooManyRedirects("too many redirects", request=request)

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """Read and decode the body ourselves, so the cap counts decompressed bytes (a bomb
        stops at the cap) and a truncated gzip stream is an error, not a silent short page."""
        cap = self.settings.max_bytes
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        declared = response.headers.get("content-length", "")
        if encoding == "identity" and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"response too large: {int(declared)} bytes (cap {cap})")
        decoder = _decoder(encoding)
        chunks: list[bytes] = []
        size = 0
        async for raw in response.aiter_raw():
            data = raw
            while data:
                try:
                    out = decoder.decompress(data, cap + 1 - size) if decoder else data
                except zlib.error as exc:
                    reason = str(exc).rpartition(": ")[2] or str(exc)
                    raise FetchError(f"corrupt compressed body ({encoding}): {reason}") from None
                data = decoder.unconsumed_tail if decoder else b""
                size += len(out)
                if size > cap:
                    raise FetchError(f"response too large: over the {cap} byte cap")
                chunks.append(out)
                if decoder and decoder.eof:
                    break
        if decoder is not None and not decoder.eof and size:
            raise FetchError(f"corrupt compressed body: {encoding} stream is truncated")
        return b"".join(chunks)

    def _note_retry_after(self, response: httpx.Response) -> HostHold | None:
        """Hold the host for the Retry-After of a 429/503, at most `max_retry_after`."""
        if response.status_code not in (429, 503):
            return None
        asked = parse_retry_after(response.headers.get("retry-after"), time.time())
        if not asked:
            return None
        held = min(asked, self.settings.max_retry_after)
        host = _host(str(response.url))
        self._host_not_before[host] = time.monotonic() + held
        until = datetime.now(UTC) + timedelta(seconds=held)
        return HostHold(host, asked, held, until.isoformat(timespec="seconds"))


class _Deflate:
    """`Content-Encoding: deflate` is a zlib stream (RFC 9110), but some servers send raw
    deflate without the zlib header; browsers read both, and so does this. The first two
    bytes tell which: a zlib header names method 8 and is a multiple of 31."""

    def __init__(self) -> None:
        self._inner: zlib._Decompress | None = None
        self._head = b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._inner is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            cmf, flg = data[0], data[1]
            wrapped = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
            self._inner = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return self._inner.decompress(data, max_length)

    @property
    def unconsumed_tail(self) -> bytes:
        return self._inner.unconsumed_tail if self._inner else b""

    @property
    def eof(self) -> bool:
        return self._inner.eof if self._inner else False


def _decoder(encoding: str) -> zlib._Decompress | _Deflate | None:
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _Deflate()
    if encoding in ("identity", ""):
        return None
    raise FetchError(f"unsupported Content-Encoding: {encoding}")


def unexpected_error(exc: Exception) -> FetchError:
    """A FetchError for an exception no branch above expected, with the cause a user can
    act on where it is known (never the value of a header, which may be a secret)."""
    if isinstance(exc, ImportError) and "socksio" in str(exc):
        return FetchError(
            f"the proxy is a SOCKS proxy, which needs the socksio library: {SOCKS_INSTALL}"
        )
    if isinstance(exc, UnicodeEncodeError):
        return FetchError(
            "cannot send a header or cookie: its value holds a non-ASCII character"
            " (percent-encode it)"
        )
    return FetchError(f"unexpected error while fetching: {type(exc).__name__}: {_short(exc)}")


def _redirect_target(url: httpx.URL, location: str) -> httpx.URL:
    """Where a Location header points, as httpx resolves it; only http(s) is followed
    (httpx would hand file:// or ftp:// to the transport)."""
    import httpx

    try:
        target = httpx.URL(location)
    except httpx.InvalidURL as exc:
        raise FetchError(f"invalid redirect target: {exc}") from None
    if target.scheme and not target.host:
        target = target.copy_with(host=url.host)
    if target.is_relative_url:
        target = url.join(target)
    if target.scheme not in ("http", "https"):
        raise FetchError(f"redirect to an unsupported URL scheme: {target.scheme}:")
    return target


def _merge_cookies(own: str, from_jar: str | None) -> str:
    """The source's Cookie header, then the jar's cookies it does not name itself."""
    if not from_jar:
        return own
    names = {pair.partition("=")[0].strip() for pair in own.split(";")}
    extra = [pair for pair in from_jar.split("; ") if pair.partition("=")[0] not in names]
    return "; ".join([own, *extra])


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


async def _drain(response: httpx.Response) -> None:
    """Read a little of a body nobody wants, so a short one leaves its connection usable."""
    import httpx

    seen = 0
    try:
        async for chunk in response.aiter_raw():
            seen += len(chunk)
            if seen > REDIRECT_BODY_LIMIT:
                break
    except httpx.StreamConsumed:  # a response built in memory (a test transport)
        pass


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def human_duration(seconds: float) -> str:
    """'365 days', '36 h', '1.5 h', '20 min', '45 s'."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 3600:
        return f"{round(seconds / 3600, 1):g} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _connect_failure(exc: httpx.ConnectError) -> str:
    """Why a connection failed; a name that does not resolve is named, with its host (the
    request's own, which may be a redirect's target)."""
    import socket

    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, socket.gaierror):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return f"cannot connect: {_short(exc)}"
    try:
        host = exc.request.url.host
    except RuntimeError:  # no request attached
        host = "the host"
    reason = cause.strerror or _short(cause)
    return f"cannot resolve host {host}: {reason}"


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
