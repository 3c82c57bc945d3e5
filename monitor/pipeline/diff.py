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
  Where the page can also be read with the old rule (`reread`), what the site did since
  the last poll is still told: the old rule's reading against the stored listing is the
  site's doing, and the new rule's reading says which of it the new rule sees alike. After
  a move to a new URL, only when the new address lists the stored listing (`same_listing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

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
    listed_before = [s.item for s in _listed(known)]
    return _reread_result(known, fresh, ()), rule_summary(listed_before, fresh)


def reread(
    source: str,
    known: dict[str, StoredItem],
    old_reading: list[Item],
    new_reading: list[Item],
    now: str,
) -> tuple[DiffResult, str] | None:
    """The listing re-read after a rule change, with what the site did since the last poll.

    `old_reading` is the page read with the rule the stored listing was read with, so
    `known` against it differs only by what the site did; `new_reading` is the same page
    read with the new rule. Told: an item new on the site that the new rule lists too (as
    the new rule reads it); a removal as the old rule's reading shows it, of an item the
    new rule does not list either; a changed field only where both rules read that field
    of the item alike (what the new rule reads differently is the rule's doing, not the
    site's). The new reading is stored; the summary line compares the two readings of this
    page. None when the old rule's reading looks broken (shrank or empty): it then tells
    nothing about the site, and the caller re-reads silently."""
    site = diff_items(
        source, known, old_reading, now, baseline=False, last_count=len(_listed(known))
    )
    if site.suspect or any(e.kind == "health" for e in site.events):
        return None
    old_by_key = {item.key: item for item in old_reading}
    new_by_key = {item.key: item for item in new_reading}
    events: list[Event] = []
    for event in site.events:
        if event.item is None:
            continue
        key = event.item.key
        now_read = new_by_key.get(key)
        if event.kind == "removed":
            if now_read is None:
                events.append(event)
        elif now_read is None:
            continue  # the new rule does not list it: nothing to tell of it
        elif event.kind == "new":
            events.append(replace(event, item=now_read))
        else:
            changes = tuple(
                Change(change.field, change.before, getattr(now_read, change.field))
                for change in event.changes
                if _read_alike(old_by_key[key], now_read, change.field)
            )
            if changes:
                events.append(replace(event, item=now_read, changes=changes))
    return _reread_result(known, new_reading, events), rule_summary(old_reading, new_reading)


def same_listing(known: dict[str, StoredItem], reading: Sequence[Item]) -> bool:
    """Does `reading` (a page at a new address, read with the rule the stored listing was
    read with) list the stored listing, e.g. the same section over https, with a trailing
    slash or at a mirror? Yes when most of what each lists the other knows too:

    - at least half of the stored listing's newest items are listed: its first as many
      as the reading lists, since a listing loses its oldest items off the end (and
      another view of it may show fewer), while its newest stay longest;
    - at least half of the reading's items are known: so a page that merely contains the
      listing among much else (a home page that shows a section's stories too) is not
      taken for it, and what the move could tell as `new` is never more than what was
      known already.

    A listing whose keys all changed with the address (relative links over another scheme
    or host) shares nothing: it is another listing to this test."""
    listed = [stored.item.key for stored in _listed(known)]
    keys = {item.key for item in reading}
    if not listed or not keys:
        return False
    newest = listed[: len(keys)]
    still_listed = sum(1 for key in newest if key in keys)
    known_now = sum(1 for key in keys if key in known)
    return still_listed * 2 >= len(newest) and known_now * 2 >= len(keys)


def _reread_result(
    known: dict[str, StoredItem], fresh: list[Item], events: Sequence[Event]
) -> DiffResult:
    fresh_keys = {item.key for item in fresh}
    gone = [s.item.key for s in _listed(known) if s.item.key not in fresh_keys]
    return DiffResult(events=tuple(events), listed=tuple(fresh), gone=tuple(gone))


def rule_summary(before: Sequence[Item], after: Sequence[Item]) -> str:
    """What a reading of a page differs in from another (the old rule's, or the stored
    listing): "rule changed: 3 items now paywalled, 1 item found that was not listed"."""
    counts: dict[str, int] = {}

    def count(what: str) -> None:
        counts[what] = counts.get(what, 0) + 1

    before_by_key = {item.key: item for item in before}
    after_keys = {item.key for item in after}
    for item in after:
        earlier = before_by_key.get(item.key)
        if earlier is None:
            count("items found that were not listed")
            continue
        for change in item_changes(earlier, item):
            if change.field == "paywalled":
                count("items now paywalled" if change.after else "items now free")
            else:
                count(f"{change.field}s read differently")
    gone = sum(1 for key in before_by_key if key not in after_keys)
    if gone:
        counts["items no longer found"] = gone
    parts = [f"{n} {_singular(what, n)}" for what, n in counts.items()]
    return "rule changed: " + (", ".join(parts) if parts else "the page reads as before")


def _listed(known: dict[str, StoredItem]) -> list[StoredItem]:
    """The items of the last listing, in page order."""
    return sorted(
        (s for s in known.values() if s.position is not None), key=lambda s: s.position or 0
    )


def _read_alike(first: Item, second: Item, name: str) -> bool:
    """Do two readings of one item agree on a field? (A section one reading lacks is not
    agreement: which of them is right cannot be told.)"""
    if name == "paywalled":
        return first.paywalled == second.paywalled
    a, b = getattr(first, name), getattr(second, name)
    if a is None or b is None:
        return a is None and b is None
    return _norm(str(a)) == _norm(str(b))


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
    """An item that vanished is removed only while an item listed below it in its listing
    at the last poll is still listed in that same listing now. A listing is known by its
    place among the page's listings (the main list first, a "most read" box after it): an
    item that moved into another listing bounds nothing in its old one, and a listing that
    turned over completely removed nothing (its items scrolled off)."""
    listing_now = {item.key: item.listing for item in fresh}
    listed_before = _listed(known)
    # Within each listing, the lowest position (oldest) still in it bounds what counts as
    # removed: below it, an item scrolled off the end of its own list.
    lowest_still_listed: dict[int, int] = {}
    for stored in listed_before:
        if listing_now.get(stored.item.key) == stored.item.listing:
            lowest_still_listed[stored.item.listing] = stored.position or 0
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
