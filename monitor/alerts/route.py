"""Which channel wants which event: pure filters, no I/O.

A channel's filters must all match. Item filters (`sections`, `paywalled`, `include`,
`exclude`) look at the item's current values and, for a `changed` event, at its values
before the change too, so a channel for paywalled items hears when one turns free. A
`health` event has no item: only `sources` and `events` filter it.

Keywords match case- and diacritic-insensitively anywhere in the title or section
(`Lukasenka` finds `Łukašenka's`). A keyword starting with `re:` is a regular expression
run by RE2, in time linear in the text whatever the pattern (`re:(a+)+$` is harmless).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from monitor.extract.urls import alert_identity
from monitor.models import Channel, Event, Item
from monitor.patterns import PLAIN_LETTERS, compile_linear

REGEX_PREFIX = "re:"

_LETTERS = str.maketrans(PLAIN_LETTERS)


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower-case text without diacritics: 'Łukašenka' -> 'lukasenka'.

    Cached: every channel folds the same titles of a poll."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def compile_regex(pattern: str) -> Any:
    """A channel's `re:` pattern: RE2, case-insensitive. Raises ValueError when invalid."""
    return compile_linear(pattern, ignore_case=True)


@dataclass(frozen=True)
class Keywords:
    """Plain keywords (folded) and compiled `re:` patterns."""

    words: tuple[str, ...]
    patterns: tuple[Any, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Keywords:
        words: list[str] = []
        patterns: list[Any] = []
        for entry in entries:
            if entry.startswith(REGEX_PREFIX):
                patterns.append(compile_regex(entry[len(REGEX_PREFIX) :]))
            elif entry.strip():
                words.append(fold(entry.strip()))
        return cls(tuple(words), tuple(patterns))

    def __bool__(self) -> bool:
        return bool(self.words or self.patterns)

    def match(self, texts: Sequence[str]) -> bool:
        """True when any keyword occurs in, or any pattern matches, one of the texts."""
        folded = [fold(t) for t in texts]
        if any(word in text for word in self.words for text in folded):
            return True
        # Patterns see the text as written and folded, so `re:\bLukasenka\b` finds both.
        return any(p.search(t) for p in self.patterns for t in (*texts, *folded))


@dataclass(frozen=True)
class ChannelFilter:
    """A channel's filters, compiled once."""

    name: str
    sources: frozenset[str]
    sections: frozenset[str]
    events: frozenset[str]
    paywalled: bool | None
    include: Keywords
    exclude: Keywords

    @classmethod
    def of(cls, channel: Channel) -> ChannelFilter:
        return cls(
            name=channel.name,
            sources=frozenset(channel.sources),
            sections=frozenset(fold(s.strip()) for s in channel.sections),
            events=frozenset(channel.events),
            paywalled=channel.paywalled,
            include=Keywords.parse(channel.include),
            exclude=Keywords.parse(channel.exclude),
        )

    def accepts(self, event: Event) -> bool:
        if self.sources and event.source not in self.sources:
            return False
        if self.events and event.kind not in self.events:
            return False
        if event.kind == "dropped" and "dropped" not in self.events:
            return False  # told only where asked for
        if event.item is None:
            return True
        views = item_views(event)
        if self.paywalled is not None and all(v.paywalled != self.paywalled for v in views):
            return False
        if self.sections and not any(self._section_matches(v.section) for v in views):
            return False
        texts = [t for v in views for t in (v.title, v.section or "")]
        if self.include and not self.include.match(texts):
            return False
        return not (self.exclude and self.exclude.match(texts))

    def _section_matches(self, section: str | None) -> bool:
        if not section:
            return False
        whole = fold(section.strip())
        # A feed entry's categories arrive joined: "Politics, Security".
        parts = {whole, *(fold(p.strip()) for p in section.split(","))}
        return bool(parts & self.sections)


def item_views(event: Event) -> list[Item]:
    """The item as it is now and, for a change, as it was before."""
    assert event.item is not None
    now = event.item
    if not event.changes:
        return [now]
    before = {c.field: c.before for c in event.changes}
    title = before.get("title", now.title)
    section = before.get("section", now.section)
    paywalled = before.get("paywalled", now.paywalled)
    old = Item(
        key=now.key,
        url=now.url,
        title=title if isinstance(title, str) else now.title,
        section=section if isinstance(section, str) else now.section,
        paywalled=bool(paywalled),
    )
    return [now, old]


# What an alert tells a channel about one subject: (subject, state). The store keeps the
# last state each channel was told of each subject and by which source, so the same news
# from a second source (an article in a section page and in the feed) is told once, while
# every event of one source is news: a state that comes back (a paywall flipping back, a
# headline reverted and edited again) is told again.
Fact = tuple[str, str]


def dedupe_key(event: Event) -> tuple[Fact, ...]:
    """What an alert for this event tells a channel; () for an alert that is always sent.

    An alert is a duplicate when another source last told the channel every one of its
    facts. Subjects are keyed by the item's canonical URL, so two sources listing one
    article speak of one subject: `new` and `removed` tell whether it is listed; a change
    tells each changed field's new value (whatever the value before, which sources that
    poll at different times see differently). A health event is always news.
    """
    item = event.item
    if item is None or event.kind == "health":
        return ()
    # Without a link, the item is known only within its own source; a key that adds a
    # fragment to the url (a changelog's #v1.3) keeps items of one page apart.
    subject = alert_identity(item.url, item.key) or f"{event.source} {item.key}"
    if event.kind == "new":
        return ((f"item {subject}", "listed"),)
    if event.kind == "removed":
        return ((f"item {subject}", "removed"),)
    return tuple(
        (f"{change.field} {subject}", json.dumps(_plain(change.after), ensure_ascii=False))
        for change in event.changes
    )


def _plain(value: object) -> object:
    """A field value as compared between sources: whitespace runs count as one space."""
    return " ".join(value.split()) if isinstance(value, str) else value


def route(
    filters: Sequence[ChannelFilter], events: Sequence[Event]
) -> list[tuple[int, str, tuple[Fact, ...]]]:
    """(event index, channel name, what it tells) for every channel that wants an event."""
    return [
        (index, flt.name, dedupe_key(event))
        for index, event in enumerate(events)
        for flt in filters
        if flt.accepts(event)
    ]
