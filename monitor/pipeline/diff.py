"""Compare what a source lists now with what the database knows: pure, no I/O.

Rules:
- the first poll that finds items is a silent baseline (unless the source says otherwise);
- a known item whose title, paywall state or section differs is `changed` (one event, every
  changed field with its before and after);
- an item that vanished is `removed` only while an item listed below it (older) *in the same
  listing* at the last poll is still listed; items that scroll off the end of their listing
  are not removals, whatever other boxes (a "most read" box, a sidebar) follow it;
- a page that used to list items and now yields none, or far fewer, is *suspect*: a `health`
  event (a broken selector or a new layout), never a mass removal, and the stored listing
  stays as it was. A shrink that lasts (`accept_shrink`) becomes the new normal, with one
  `health` event saying so;
- after a change of the source's rule, profile, kind or URL, the listing is re-read
  silently (`rebaseline`): what the new rule reads differently is summed up in one line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from monitor.models import Change, Event, Item, StoredItem

# A listing that shrinks below this share of its last size is suspect.
SHRINK_RATIO = 0.3
# ...but only when it used to list at least this many items.
SHRINK_MIN_ITEMS = 10


@dataclass(frozen=True)
class DiffResult:
    events: tuple[Event, ...]
    # Every item listed now, in page order (position = index).
    listed: tuple[Item, ...]
    # Keys that were listed before and are no longer (removed or scrolled off).
    gone: tuple[str, ...]
    # True when the listing looks broken: stored positions are kept as they were.
    suspect: bool = False


def diff_items(
    source: str,
    known: dict[str, StoredItem],
    fresh: list[Item],
    now: str,
    *,
    baseline: bool,
    last_count: int,
    accept_shrink: bool = False,
) -> DiffResult:
    """Events that turn `known` into `fresh`. `baseline` means: record silently.
    `accept_shrink`: a shrink that lasted long enough is the listing's new size."""
    health = _health_event(source, len(fresh), last_count, now)
    if health is not None and not fresh:
        return DiffResult(events=(health,), listed=(), gone=(), suspect=True)
    suspect = health is not None and not accept_shrink
    if health is not None and accept_shrink:
        health = Event(
            kind="health",
            source=source,
            at=now,
            detail=f"the listing now shows {len(fresh)} items (it showed {last_count}):"
            " taken as its new size",
        )

    events: list[Event] = []
    if health is not None:
        events.append(health)
    for item in fresh:
        stored = known.get(item.key)
        if stored is None:
            if not baseline:
                events.append(Event(kind="new", source=source, at=now, item=item))
            continue
        changes = item_changes(stored.item, item)
        if changes:
            events.append(Event(kind="changed", source=source, at=now, item=item, changes=changes))

    gone: list[str] = []
    if not suspect:
        removed_events, gone = _removals(source, known, fresh, now)
        if health is None:
            # An accepted shrink drops what the old layout listed without calling it removed.
            events.extend(removed_events)
    return DiffResult(events=tuple(events), listed=tuple(fresh), gone=tuple(gone), suspect=suspect)


def rebaseline(known: dict[str, StoredItem], fresh: list[Item]) -> tuple[DiffResult, str]:
    """The listing re-read after a rule change: no events, and one line that says what the
    new reading differs in, e.g. "rule changed: 3 items now paywalled"."""
    counts: dict[str, int] = {}

    def count(what: str) -> None:
        counts[what] = counts.get(what, 0) + 1

    fresh_keys = {item.key for item in fresh}
    for item in fresh:
        stored = known.get(item.key)
        if stored is None or stored.position is None:
            count("items found that were not listed")
            continue
        for change in item_changes(stored.item, item):
            if change.field == "paywalled":
                count("items now paywalled" if change.after else "items now free")
            else:
                count(f"{change.field}s read differently")
    gone = [
        s.item.key
        for s in known.values()
        if s.position is not None and s.item.key not in fresh_keys
    ]
    if gone:
        counts["items no longer found"] = len(gone)
    parts = [f"{n} {_singular(what, n)}" for what, n in counts.items()]
    summary = "rule changed: " + (", ".join(parts) if parts else "the page reads as before")
    return DiffResult(events=(), listed=tuple(fresh), gone=tuple(gone)), summary


def _singular(what: str, n: int) -> str:
    if n != 1:
        return what
    first, _, rest = what.partition(" ")
    return f"{first.removesuffix('s')} {rest}".replace(" were ", " was ")


def item_changes(before: Item, after: Item) -> tuple[Change, ...]:
    """The user-visible fields that differ; a section that merely disappeared is not a change."""
    changes: list[Change] = []
    if _norm(before.title) != _norm(after.title):
        changes.append(Change("title", before.title, after.title))
    if before.paywalled != after.paywalled:
        changes.append(Change("paywalled", before.paywalled, after.paywalled))
    if before.section and after.section and _norm(before.section) != _norm(after.section):
        changes.append(Change("section", before.section, after.section))
    return tuple(changes)


def _removals(
    source: str, known: dict[str, StoredItem], fresh: list[Item], now: str
) -> tuple[list[Event], list[str]]:
    listing_now = {item.key: item.listing for item in fresh}
    listed_before = sorted(
        (s for s in known.values() if s.position is not None), key=lambda s: s.position or 0
    )
    # Where each listing of the last poll is now: the listing most of its items are in
    # (an item that moved from the main list into a "most read" box is not the main list).
    votes: dict[int, Counter[int]] = {}
    for stored in listed_before:
        if stored.item.key in listing_now:
            votes.setdefault(stored.item.listing, Counter())[listing_now[stored.item.key]] += 1
    now_at = {before: min(c, key=lambda n: (-c[n], n)) for before, c in votes.items()}
    # Within each listing, the lowest position (oldest) still in it bounds what counts as
    # removed: below it, an item scrolled off the end of its own list.
    lowest_still_listed: dict[int, int] = {}
    for stored in listed_before:
        listing = stored.item.listing
        if listing_now.get(stored.item.key, -1) == now_at.get(listing):
            lowest_still_listed[listing] = stored.position or 0
    events: list[Event] = []
    gone: list[str] = []
    for stored in listed_before:
        if stored.item.key in listing_now:
            continue
        gone.append(stored.item.key)
        bound = lowest_still_listed.get(stored.item.listing, -1)
        if (stored.position or 0) < bound:
            events.append(Event(kind="removed", source=source, at=now, item=stored.item))
    return events, gone


def _health_event(source: str, count: int, last_count: int, now: str) -> Event | None:
    if last_count > 0 and count == 0:
        detail = f"no items found (the last poll listed {last_count}): selector or layout changed?"
    elif last_count >= SHRINK_MIN_ITEMS and count < last_count * SHRINK_RATIO:
        detail = f"only {count} items found (the last poll listed {last_count})"
    else:
        return None
    return Event(kind="health", source=source, at=now, detail=detail)


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())
