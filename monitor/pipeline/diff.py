"""Compare what a source lists now with what the database knows: pure, no I/O.

Rules:
- the first successful poll of a source is a silent baseline (unless the source says otherwise);
- a known item whose title, paywall state or section differs is `changed` (one event, every
  changed field with its before and after);
- an item that vanished is `removed` only while an item listed below it (older) at the last
  poll is still listed; items that scroll off the end of a listing are not removals;
- a page that used to list items and now yields none, or far fewer, is a `health` event
  (a broken selector or a new layout), never a mass removal.
"""

from __future__ import annotations

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
) -> DiffResult:
    """Events that turn `known` into `fresh`. `baseline` means: record silently."""
    health = _health_event(source, len(fresh), last_count, now)
    if health is not None and not fresh:
        return DiffResult(events=(health,), listed=(), gone=(), suspect=True)

    events: list[Event] = []
    if health is not None:
        events.append(health)
    fresh_keys = {item.key for item in fresh}
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
    if health is None:
        removed_events, gone = _removals(source, known, fresh_keys, now)
        events.extend(removed_events)
    return DiffResult(
        events=tuple(events), listed=tuple(fresh), gone=tuple(gone), suspect=health is not None
    )


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
    source: str, known: dict[str, StoredItem], fresh_keys: set[str], now: str
) -> tuple[list[Event], list[str]]:
    listed_before = [s for s in known.values() if s.position is not None]
    # The lowest position (oldest in the listing) still listed bounds what counts as removed.
    still_listed = [s.position for s in listed_before if s.item.key in fresh_keys]
    lowest_still_listed = max((p for p in still_listed if p is not None), default=-1)
    events: list[Event] = []
    gone: list[str] = []
    for stored in sorted(listed_before, key=lambda s: s.position or 0):
        if stored.item.key in fresh_keys:
            continue
        gone.append(stored.item.key)
        if stored.position is not None and stored.position < lowest_still_listed:
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
