"""Whether a listing's article pages agree with the paywall mark discovery proposes.

A split of the teasers is a guess until the articles confirm it: many publishers tell
search engines which articles are for subscribers (JSON-LD ``isAccessibleForFree``,
``article:content_tier``; see `monitor.extract.article`). After discovery on a URL, a few
of the proposed rule's items are fetched — half of them marked paywalled, half not, spread
over the listing, at most `MAX_ARTICLES` pages, one after another through the shared
`Fetcher` (the config's user agent and per-host limits) — and each teaser's mark is held
against what its article says. A saved file is never checked: its links may point at
pages the user did not mean to be asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from monitor.models import Item, MonitorError

if TYPE_CHECKING:
    from monitor.extract.article import ArticleReading
    from monitor.extract.discover import Proposal
    from monitor.pipeline.fetch import Fetcher, FetchSettings
    from monitor.pipeline.look import Found

# Article pages fetched per check: a few requests, never a crawl.
MAX_ARTICLES = 6

Verdict = Literal["agree", "disagree", "unknown", "unchecked"]

# What decided an article's paywall flag (the start of `ArticleReading.paywall_signal`),
# named for people.
_SIGNAL_NAMES = (
    ("json-ld", "JSON-LD isAccessibleForFree"),
    ("microdata", "microdata isAccessibleForFree"),
    ("meta article:content_tier", "content tier"),
)


@dataclass(frozen=True)
class Tally:
    """What the checked articles of one group of teasers (marked or not) say."""

    checked: int = 0
    not_free: int = 0
    free: int = 0

    @property
    def silent(self) -> int:
        return self.checked - self.not_free - self.free


@dataclass(frozen=True)
class ArticleCheck:
    """Teasers' paywall marks held against their articles' own word."""

    # Whether the rule marks any teaser paywalled at all.
    has_mark: bool
    marked: Tally
    unmarked: Tally
    # Article pages that could not be fetched, and the first error.
    failed: int = 0
    error: str | None = None
    # What the articles said it with, in order of first use ("JSON-LD isAccessibleForFree").
    signals: tuple[str, ...] = ()

    @property
    def checked(self) -> int:
        return self.marked.checked + self.unmarked.checked

    @property
    def agree(self) -> int:
        return self.marked.not_free + self.unmarked.free

    @property
    def disagree(self) -> int:
        return self.marked.free + self.unmarked.not_free

    @property
    def unknown(self) -> int:
        return self.checked - self.agree - self.disagree

    @property
    def signal(self) -> str | None:
        return ", ".join(self.signals) or None

    @property
    def verdict(self) -> Verdict:
        if self.checked == 0:
            return "unchecked"
        if self.disagree:
            return "disagree"
        return "agree" if self.agree else "unknown"

    def text(self) -> str:
        """One line for people, e.g. 'articles agree: 3 of 3 marked items say not free
        (JSON-LD isAccessibleForFree), 3 of 3 unmarked say free'."""
        tail = f"; {_could_not(self.failed)} ({self.error})" if self.failed else ""
        if self.verdict == "unchecked":
            return f"articles not checked: {_could_not(self.failed)} ({self.error})"
        if self.verdict == "unknown":
            return (
                "the articles say nothing about access (no JSON-LD or content tier on"
                f" {self.checked} of {self.checked} checked){tail}"
            )
        via = f" ({self.signal})"
        if not self.has_mark:
            told = self.unmarked
            if told.not_free:
                return (
                    f"articles disagree: {told.not_free} of {told.checked} articles say they"
                    f" are not free{via}, but no mark on the teasers tells them apart{tail}"
                )
            quiet = f", {_says(told.silent, 'nothing')}" if told.silent else ""
            return (
                f"articles agree: {told.free} of {told.checked} say free{via}{quiet},"
                f" and no teaser is marked{tail}"
            )
        parts: list[str] = []
        if self.marked.checked:
            parts.append(
                f"{self.marked.not_free} of {self.marked.checked} marked items say not free"
                + _others(free=self.marked.free, silent=self.marked.silent)
            )
        if self.unmarked.checked:
            parts.append(
                f"{self.unmarked.free} of {self.unmarked.checked} unmarked say free"
                + _others(not_free=self.unmarked.not_free, silent=self.unmarked.silent)
            )
        parts[0] += via
        return f"articles {self.verdict}: {', '.join(parts)}{tail}"

    def sentence(self) -> str:
        """`text` as a sentence, for `monitor sources add` and the comment it writes."""
        text = self.text()
        return f"{text[:1].upper()}{text[1:]}."

    def to_json(self) -> dict[str, object]:
        """The `articles` field of `monitor discover --json`."""
        return {
            "verdict": self.verdict,
            "checked": self.checked,
            "agree": self.agree,
            "disagree": self.disagree,
            "unknown": self.unknown,
            "failed": self.failed,
            "signal": self.signal,
            "text": self.text(),
        }


def _says(count: int, what: str) -> str:
    return f"{count} {'says' if count == 1 else 'say'} {what}"


def _could_not(count: int) -> str:
    pages = "article page" if count == 1 else "article pages"
    return f"{count} {pages} could not be fetched"


def _others(*, free: int = 0, not_free: int = 0, silent: int = 0) -> str:
    found = [
        _says(free, "free") if free else "",
        _says(not_free, "not free") if not_free else "",
        _says(silent, "nothing") if silent else "",
    ]
    return "".join(f", {part}" for part in found if part)


def pick_articles(items: Sequence[Item], cap: int = MAX_ARTICLES) -> list[Item]:
    """The items whose articles are checked: half marked paywalled, half not (one group
    short, the other fills up), spread evenly over the listing, at most `cap`."""
    seen: set[str] = set()
    marked: list[Item] = []
    unmarked: list[Item] = []
    for item in items:
        if not item.url.startswith(("http://", "https://")) or item.url in seen:
            continue
        seen.add(item.url)
        (marked if item.paywalled else unmarked).append(item)
    take_marked = min(len(marked), max(cap // 2, cap - len(unmarked)))
    take_unmarked = min(len(unmarked), cap - take_marked)
    return _spread(marked, take_marked) + _spread(unmarked, take_unmarked)


def _spread(items: Sequence[Item], count: int) -> list[Item]:
    """`count` items evenly spaced over `items`, the first among them (the lead is as much
    the listing as the rest)."""
    if count <= 0:
        return []
    step = len(items) / count
    return [items[int(n * step)] for n in range(count)]


def judge(
    readings: Sequence[tuple[Item, ArticleReading]],
    *,
    has_mark: bool,
    failed: int = 0,
    error: str | None = None,
) -> ArticleCheck:
    """Each teaser's mark against its article's reading (pure); `has_mark`: whether the
    rule marks any teaser of the listing."""
    counts = {True: [0, 0, 0], False: [0, 0, 0]}  # checked, not free, free
    signals: list[str] = []
    for item, reading in readings:
        group = counts[item.paywalled]
        group[0] += 1
        if reading.paywalled is None:
            continue
        group[1 if reading.paywalled else 2] += 1
        name = signal_name(reading.paywall_signal or "")
        if name not in signals:
            signals.append(name)
    return ArticleCheck(
        has_mark=has_mark,
        marked=Tally(*counts[True]),
        unmarked=Tally(*counts[False]),
        failed=failed,
        error=error,
        signals=tuple(signals),
    )


def signal_name(signal: str) -> str:
    """'JSON-LD isAccessibleForFree' for 'json-ld hasPart isAccessibleForFree="False" (…)'."""
    lowered = signal.lower()
    for prefix, name in _SIGNAL_NAMES:
        if lowered.startswith(prefix):
            return name
    return signal


async def check_articles(
    items: Sequence[Item], fetcher: Fetcher, cap: int = MAX_ARTICLES
) -> ArticleCheck | None:
    """Fetch and read the articles of `pick_articles(items, cap)`, one after another;
    None when no item has an http(s) link. A page that cannot be fetched is counted, never
    raised."""
    from monitor.extract.article import read_article

    chosen = pick_articles(items, cap)
    if not chosen:
        return None
    readings: list[tuple[Item, ArticleReading]] = []
    failed = 0
    error: str | None = None
    # One at a time: a handful of pages, mostly on the listing's own host.
    for item in chosen:
        try:
            result = await fetcher.fetch(item.url)
            reading = await asyncio.to_thread(
                read_article, result.body or b"", result.url, result.header("content-type")
            )
        except MonitorError as exc:  # FetchError, or a body that is no page
            failed += 1
            error = error or str(exc)
            continue
        readings.append((item, reading))
    has_mark = any(item.paywalled for item in items)
    return judge(readings, has_mark=has_mark, failed=failed, error=error)


async def check_listing(
    found: Found, proposal: Proposal, fetcher: Fetcher, cap: int = MAX_ARTICLES
) -> ArticleCheck | None:
    """`check_articles` on the items `proposal`'s rule reads from the fetched page."""
    from monitor.extract.html import extract_html

    items = await asyncio.to_thread(
        extract_html, found.body, found.url, proposal.rule, found.content_type
    )
    return await check_articles(items, fetcher, cap)


async def check_listing_at(
    found: Found, proposal: Proposal, settings: FetchSettings, cap: int = MAX_ARTICLES
) -> ArticleCheck | None:
    """`check_listing` with a fetcher of its own (`settings`: the config's HTTP side)."""
    from monitor.pipeline.fetch import Fetcher

    async with Fetcher(settings) as fetcher:
        return await check_listing(found, proposal, fetcher, cap)
