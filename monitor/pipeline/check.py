"""One poll of one source: the only place that joins fetch, extract, diff and store.

Every call into the database goes through `Store.run` (the database's own thread), so a
write lock held by another process delays this poll, never the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.extract import READING_VERSION, extract_items
from monitor.extract.blocked import Blocked, blocking_page
from monitor.models import (
    Event,
    ExtractError,
    FetchError,
    HostHeld,
    Item,
    Rule,
    Source,
    StoredItem,
    StoreError,
)
from monitor.pipeline.articles import hold_removals
from monitor.pipeline.diff import (
    SHRINK_MIN_ITEMS,
    SHRINK_RATIO,
    DiffResult,
    diff_items,
    rebaseline,
    reread,
    same_listing,
)
from monitor.pipeline.fetch import Fetcher
from monitor.pipeline.heal import with_proposal
from monitor.pipeline.store import OutboxRow, SourceState, Store

log = logging.getLogger(__name__)

# Routes events to the channels that want them (see notify.route_events); none by default.
Router = Callable[[Sequence[Event]], list[OutboxRow]]

HEALTH_FAILING = "failing"
HEALTH_EMPTY = "empty"
# The host asked to wait past the max_retry_after cap (said once per outage).
HEALTH_HELD = "held"
# The site answered with a bot check or a consent wall (said once per outage).
HEALTH_BLOCKED = "blocked"

NO_ITEMS = (
    "no items found on the page, so there is nothing to take as the baseline"
    " (see what the rule finds with `monitor preview`)"
)

# What the note of the poll after a move to a new URL adds (see `_reread`).
SAME_LISTING = "the new address lists the same items"
ANOTHER_LISTING = "the new address does not list the stored items: re-read silently"


@dataclass(frozen=True)
class CheckOutcome:
    """What one poll did. `status`: ok, baseline, rebaseline (the rule changed: the listing
    was re-read silently), unchanged, not-modified, held (the host asked to wait: nothing
    requested, nothing recorded) or error. `note`: one line worth telling the user."""

    source: str
    status: str
    events: tuple[Event, ...] = ()
    error: str | None = None
    items: int = 0
    note: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "error"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def no_routes(events: Sequence[Event]) -> list[OutboxRow]:
    return []


def rule_spec(source: Source) -> str:
    """What decides how the source's page is read, as JSON: the program's reading version,
    URL, kind, profile, rule and feed paywall categories. Settings left at their defaults
    are left out, so that a new option added to the program does not count as a change of
    every source's rule. Stored with the listing, so that the poll after a rule edit can
    read the page with the rule the listing was read with (see `old_rule_source`)."""
    rule = {
        name: value
        for name, value in dataclasses.asdict(source.rule).items()
        if value != _RULE_DEFAULTS[name]
    }
    spec = {
        "reading": READING_VERSION,
        "url": source.url,
        "kind": source.kind,
        "profile": source.profile,
        "rule": rule,
        "paywall_categories": sorted(c.casefold() for c in source.paywall_categories),
    }
    return json.dumps(spec, sort_keys=True, ensure_ascii=False, default=list)


def rule_fingerprint(source: Source) -> str:
    """A digest of `rule_spec`: what the stored listing was read with is compared by it."""
    return hashlib.sha256(rule_spec(source).encode("utf-8")).hexdigest()[:32]


def old_rule_source(source: Source, stored_spec: str | None) -> Source | None:
    """The source as it was configured when its listing was read (`stored_spec`, from
    `rule_spec`), URL included, when this version can read a page as that one did: the
    same reading version and kind, and a rule this version knows. None otherwise (a spec
    from an earlier version, or none stored)."""
    try:
        spec = json.loads(stored_spec or "")
    except ValueError:
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("rule"), dict):
        return None
    if (spec.get("reading"), spec.get("kind")) != (READING_VERSION, source.kind):
        return None
    url = spec.get("url")
    if not isinstance(url, str):
        return None
    fields: dict[str, object] = {}
    for name, value in spec["rule"].items():
        if name not in _RULE_DEFAULTS:
            return None
        default = _RULE_DEFAULTS[name]
        fields[name] = tuple(value) if isinstance(default, tuple) and value is not None else value
    profile = spec.get("profile")
    categories = spec.get("paywall_categories") or []
    if profile is not None and not isinstance(profile, str):
        return None
    try:
        rule = Rule(**fields)  # type: ignore[arg-type]
    except TypeError:
        return None
    return dataclasses.replace(
        source,
        url=url,
        rule=rule,
        profile=profile,
        paywall_categories=tuple(map(str, categories)),
    )


_RULE_DEFAULTS = dataclasses.asdict(Rule())


async def check_source(
    source: Source,
    *,
    fetcher: Fetcher,
    store: Store,
    route: Router = no_routes,
    failure_threshold: int = 3,
    executor: Executor | None = None,
    now: Callable[[], str] = utc_now,
    config_path: str | None = None,
) -> CheckOutcome:
    """Fetch, extract, diff and record one source. Never raises for the source's own faults
    (whatever fetching, decoding or extracting it raises is that source's error, recorded
    like a 500), nor for a database that refuses this one poll (disk full, locked too
    long): that poll is an error outcome, nothing of it is recorded, and the next poll sees
    it all again."""
    try:
        return await _check_source(
            source, fetcher, store, route, failure_threshold, executor, now, config_path
        )
    except StoreError as exc:
        return CheckOutcome(source.name, "error", error=f"database error: {exc}")
    except Exception as exc:  # one source's fault never ends the round
        log.debug("%s: poll raised", source.name, exc_info=True)
        return await _record_fault(source, store, route, failure_threshold, now, exc)


async def _check_source(
    source: Source,
    fetcher: Fetcher,
    store: Store,
    route: Router,
    failure_threshold: int,
    executor: Executor | None,
    now: Callable[[], str],
    config_path: str | None = None,
) -> CheckOutcome:
    state = await store.run(store.source_state, source.name)
    if state.held_until:  # a Retry-After recorded by an earlier run
        fetcher.hold_host(source.url, state.held_until)
    spec = rule_spec(source)
    fingerprint = rule_fingerprint(source)
    listing_known = state.has_baseline and state.item_count > 0
    rule_changed = listing_known and state.rule_fingerprint not in (None, fingerprint)
    # After a rule change, and while the listing looks broken (its last reading was suspect,
    # whatever failed since), every poll reads the page afresh: a 304 or the same bytes
    # would say nothing about what the rule now finds.
    reread = rule_changed or state.health == HEALTH_EMPTY or state.suspect_polls > 0
    try:
        result = await fetcher.fetch(
            source.url,
            etag=None if reread else state.etag,
            last_modified=None if reread else state.last_modified,
            headers=source.headers,
            cookies=source.cookies,
        )
    except HostHeld as exc:
        return CheckOutcome(source.name, "held", error=str(exc), items=state.item_count)
    except FetchError as exc:
        if exc.health_notice and exc.held_until and state.health != HEALTH_HELD:
            # A wait past the cap is told once per host: by the first source that got
            # the answer; the others on that host are held, as if not asked at all.
            tells = await store.run(
                store.claim_host_hold,
                source.name,
                source.url,
                source.kind,
                now(),
                exc.held_until,
                HEALTH_HELD,
            )
            if not tells:
                return CheckOutcome(source.name, "held", error=str(exc), items=state.item_count)
        return await _record_failure(
            source,
            store,
            state,
            now(),
            str(exc),
            exc.status,
            route,
            failure_threshold,
            held_until=exc.held_until,
            notice=exc.health_notice,
        )
    at = now()
    body = result.body or b""
    # SHA-256 (hardware-accelerated on most CPUs): twice as fast as BLAKE2b on a 80 KB page.
    body_hash = hashlib.sha256(body).hexdigest()[:32]
    same_body = body_hash == state.body_hash
    if state.has_baseline and (result.not_modified or (same_body and not reread)):
        # Nothing to parse: the server said 304, or sent the very bytes it sent last time.
        still_empty = state.health == HEALTH_EMPTY
        events = [] if still_empty else _recovery(source, state, at)
        await store.run(
            store.record_unchanged,
            source.name,
            source.url,
            source.kind,
            at,
            result.status,
            events,
            route(events),
            health=state.health if still_empty else None,
            etag=result.etag,
            last_modified=result.last_modified,
            rule_fingerprint=None if rule_changed else fingerprint,
            # Only with the fingerprint it goes with: an earlier version's listing gets the
            # spec of the rule it was read with here, never the spec of an edit.
            rule_spec=spec if state.rule_fingerprint in (None, fingerprint) else None,
        )
        status = "not-modified" if result.not_modified else "unchanged"
        return CheckOutcome(source.name, status, tuple(events), items=state.item_count)
    content_type = result.header("content-type")
    try:
        items = await _extract(source, body, result.url, content_type, executor)
    except ExtractError as exc:
        blocked = await _blocked(body, content_type, executor)
        if blocked is not None:
            return await _record_blocked(
                source, store, state, at, blocked, result.status, route, failure_threshold
            )
        return await _record_failure(
            source, store, state, at, str(exc), result.status, route, failure_threshold
        )
    if _too_few(items, state.item_count, source.kind):
        blocked = await _blocked(body, content_type, executor)
        if blocked is not None:
            return await _record_blocked(
                source, store, state, at, blocked, result.status, route, failure_threshold
            )
    if not items and not listing_known:
        # A baseline needs items: the next poll that finds some is the baseline.
        return await _record_failure(
            source, store, state, at, NO_ITEMS, result.status, route, failure_threshold
        )
    known = await store.run(store.load_items, source.name)
    note = None
    if rule_changed and items:
        diff, note = await _reread(
            source, state, known, items, body, result.url, content_type, executor, at
        )
        log.info("%s: %s", source.name, note)
    else:
        diff = diff_items(
            source.name,
            known,
            items,
            at,
            baseline=source.baseline and not listing_known,
            last_count=state.item_count,
            accept_shrink=state.suspect_polls + 1 >= failure_threshold,
        )
    events = list(diff.events)
    health = HEALTH_EMPTY if diff.suspect else None
    if diff.suspect and state.health == HEALTH_EMPTY:
        # Already reported; say it once per outage.
        events = [e for e in events if e.kind != "health"]
    elif diff.suspect:
        # The rule stopped matching: the alert carries discovery's proposal for this page.
        events = await with_proposal(
            source,
            events,
            body=body,
            url=result.url,
            content_type=content_type,
            executor=executor,
            found=len(items),
            last_count=state.item_count,
            config_path=config_path,
        )
    elif not any(e.kind == "health" for e in events) and not (
        note and state.health == HEALTH_EMPTY  # a changed rule is the fix, not news
    ):
        events = _recovery(source, state, at) + events
    if source.articles:
        # Pulled means gone: the article round asks each removed item's article page
        # (see monitor.pipeline.articles). Queued first, so a failed commit re-queues.
        events, removed = hold_removals(events)
        if removed:
            await store.run(store.queue_removals, source.name, removed, at)
    await store.run(
        store.commit_check,
        name=source.name,
        url=source.url,
        kind=source.kind,
        now=at,
        status=result.status,
        etag=result.etag,
        last_modified=result.last_modified,
        body_hash=body_hash,
        listed=diff.listed,
        gone=diff.gone,
        events=events,
        outbox=route(events),
        item_count=None if diff.suspect else len(items),
        health=health,
        rule_fingerprint=None if diff.suspect else fingerprint,
        rule_spec=None if diff.suspect else spec,
        suspect_polls=state.suspect_polls + 1 if diff.suspect else 0,
        keep_positions=diff.suspect,
    )
    status = "rebaseline" if note else "baseline" if not listing_known else "ok"
    return CheckOutcome(source.name, status, tuple(events), items=len(items), note=note)


async def _reread(
    source: Source,
    state: SourceState,
    known: dict[str, StoredItem],
    items: list[Item],
    body: bytes,
    url: str,
    content_type: str | None,
    executor: Executor | None,
    at: str,
) -> tuple[DiffResult, str]:
    """The listing read with a new rule: what the site did since the last poll is told
    where the page can also be read with the rule the stored listing was read with, and
    that reading looks sound; otherwise the listing is re-read silently (a rule edit that
    fixes a broken listing, a new kind, an earlier version's listing). After a move to a
    new URL the site's doing is told only when the new address lists the stored listing
    (see `same_listing`: another address of the same section); a new URL that lists
    something else (another section) is re-read silently."""
    old_source = None
    if state.health != HEALTH_EMPTY and not state.suspect_polls:
        old_source = old_rule_source(source, state.rule_spec)
    moved = old_source is not None and old_source.url != source.url
    if old_source is not None:
        try:
            old_items = await _extract(old_source, body, url, content_type, executor)
        except ExtractError:
            old_items = []
        if moved and not same_listing(known, old_items):
            diff, summary = rebaseline(known, items)
            return diff, f"{summary} ({ANOTHER_LISTING})"
        told = reread(source.name, known, old_items, items, at) if old_items else None
        if told is not None:
            if moved:
                diff, summary = told
                return diff, f"{summary} ({SAME_LISTING})"
            return told
    return rebaseline(known, items)


async def _extract(
    source: Source, body: bytes, url: str, content_type: str | None, executor: Executor | None
) -> list[Item]:
    if executor is None:
        return extract_items(source, body, url, content_type)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, extract_items, source, body, url, content_type)


def _too_few(items: list[Item], last_count: int, kind: str) -> bool:
    """Few enough items that the page may be a bot check or a consent wall instead. (A
    feed that parses is a feed: one with an entry about cookie consent is no wall.)"""
    if kind == "feed":
        return not items
    if len(items) <= 1:
        return True
    return last_count >= SHRINK_MIN_ITEMS and len(items) < last_count * SHRINK_RATIO


async def _blocked(
    body: bytes, content_type: str | None, executor: Executor | None
) -> Blocked | None:
    if executor is None:
        return blocking_page(body, content_type)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, blocking_page, body, content_type)


async def _record_blocked(
    source: Source,
    store: Store,
    state: SourceState,
    at: str,
    blocked: Blocked,
    status: int | None,
    route: Router,
    threshold: int,
) -> CheckOutcome:
    """A bot check or consent wall: a failed poll (backoff, `monitor status`), told once."""
    return await _record_failure(
        source,
        store,
        state,
        at,
        blocked.describe(),
        status,
        route,
        threshold,
        notice=blocked.describe(),
        notice_health=HEALTH_BLOCKED,
    )


async def _record_fault(
    source: Source,
    store: Store,
    route: Router,
    threshold: int,
    now: Callable[[], str],
    exc: Exception,
) -> CheckOutcome:
    """An exception nobody expected from this source: its error, like a 500."""
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    error = f"{name}: {exc}" if str(exc) else name
    try:
        state = await store.run(store.source_state, source.name)
        return await _record_failure(source, store, state, now(), error, None, route, threshold)
    except Exception as second:  # the database refused too: say both
        return CheckOutcome(source.name, "error", error=f"{error} (not recorded: {second})")


async def _record_failure(
    source: Source,
    store: Store,
    state: SourceState,
    at: str,
    error: str,
    status: int | None,
    route: Router,
    threshold: int,
    held_until: str | None = None,
    notice: str | None = None,
    notice_health: str = HEALTH_HELD,
) -> CheckOutcome:
    """A failed poll: nothing about items changes. A `health` event when the source has
    failed `threshold` polls in a row, and `notice` once per outage (its cause: a host that
    holds polls back, a bot check), in which case the count says nothing new."""
    events: list[Event] = []
    health = None
    if state.consecutive_errors + 1 == threshold and notice_health != HEALTH_BLOCKED:
        events.append(
            Event(
                kind="health",
                source=source.name,
                at=at,
                detail=f"failing: {threshold} polls in a row failed; last error: {error}",
            )
        )
        health = HEALTH_FAILING
    if notice:
        if state.health != notice_health:
            events.append(Event(kind="health", source=source.name, at=at, detail=notice))
        health = notice_health
    await store.run(
        store.record_failure,
        source.name,
        source.url,
        source.kind,
        at,
        error,
        status,
        events,
        route(events),
        health=health,
        held_until=held_until,
    )
    return CheckOutcome(source.name, "error", tuple(events), error=error)


def _recovery(source: Source, state: SourceState, at: str) -> list[Event]:
    if not state.health:
        return []
    return [
        Event(kind="health", source=source.name, at=at, detail="recovered: polling works again")
    ]
