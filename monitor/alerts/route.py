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

from monitor.models import Channel, Event, Item
from monitor.patterns import compile_linear

REGEX_PREFIX = "re:"

# Letters that carry no combining mark under NFKD but have a plain Latin reading.
_LETTERS = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "ħ": "h",
        "Ħ": "H",
        "ı": "i",
        "ŀ": "l",
        "Ŀ": "L",
        "ŧ": "t",
        "Ŧ": "T",
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "þ": "th",
        "Þ": "TH",
        "ĸ": "k",
        "ŉ": "n",
    }
)


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


def dedupe_key(event: Event) -> str | None:
    """What makes two events one alert for a channel (None: every event is its own).

    A `new` item is known by its canonical URL, so the same article found on a section page
    and in the site's feed alerts once. A change is known by the URL and what changed.
    """
    item = event.item
    if item is None or event.kind in ("removed", "health"):
        return None
    if event.kind == "new":
        return "new:" + item.url
    changes = [[c.field, c.before, c.after] for c in event.changes]
    return "changed:" + item.url + ":" + json.dumps(changes, ensure_ascii=False, default=str)


def route(
    filters: Sequence[ChannelFilter], events: Sequence[Event]
) -> list[tuple[int, str, str | None]]:
    """(event index, channel name, dedupe key) for every channel that wants an event."""
    return [
        (index, flt.name, dedupe_key(event))
        for index, event in enumerate(events)
        for flt in filters
        if flt.accepts(event)
    ]
