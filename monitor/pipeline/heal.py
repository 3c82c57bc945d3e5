"""A source whose rule stopped matching: discovery's proposal in the health alert, and with
`heal = true` the proposal written into the config file.

The poll that finds the listing empty (or far shorter) already has the page's bytes:
discovery runs on them where extraction runs (the parse pool), never on another fetch. The
health event then says what the rule finds, what discovery proposes and how to apply it
(`monitor sources fix NAME`); a source with `heal = true` gets the proposal written into
its `[sources.rule]` (validated, atomically, every other line kept), and the one alert
says what changed. Either way the next poll reads the page with a changed rule, which
re-baselines silently (see `check.rule_fingerprint`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from concurrent.futures import Executor
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.extract.discover import Fix, propose_fix
from monitor.models import Event, FetchError, MonitorError, Rule, Source

if TYPE_CHECKING:
    from monitor.pipeline.fetch import FetchSettings

log = logging.getLogger(__name__)

# A proposal is applied by itself only when it finds at least this share of what the
# listing used to show: fewer is more likely another box of the page than the listing.
HEAL_MIN_SHARE = 0.5


def profile_rule(source: Source) -> Rule:
    """The rule under the source's [sources.rule]: its profile's, or no rule."""
    if not source.profile:
        return Rule()
    from monitor.config.profiles import load_profile

    try:
        return load_profile(source.profile)[1]
    except MonitorError:
        return Rule()


def find_fix(source: Source, body: bytes, url: str, content_type: str | None) -> Fix | None:
    """Discovery's best rule for the page, as the source's config would read it."""
    return propose_fix(body, url, content_type, source.rule, profile_rule(source))


async def propose(
    source: Source,
    body: bytes,
    url: str,
    content_type: str | None,
    executor: Executor | None,
) -> Fix | None:
    """`find_fix` off the event loop (in the parse pool when there is one). A page
    discovery cannot read is no proposal, never a failed poll."""
    try:
        if executor is None:
            return await asyncio.to_thread(find_fix, source, body, url, content_type)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, find_fix, source, body, url, content_type)
    except Exception:  # the poll's own outcome stands whatever discovery raises
        log.debug("%s: discovery failed", source.name, exc_info=True)
        return None


async def fetch_fix(source: Source, settings: FetchSettings) -> Fix | None:
    """Fetch the source's page as a poll does (its headers and cookies) and propose a fix
    for it (`monitor sources fix`). Raises FetchError."""
    from monitor.pipeline.fetch import Fetcher

    async with Fetcher(settings) as fetcher:
        result = await fetcher.fetch(source.url, headers=source.headers, cookies=source.cookies)
    if not result.body:
        raise FetchError(f"HTTP {result.status} with an empty body", result.status)
    content_type = result.header("content-type")
    return await asyncio.to_thread(find_fix, source, result.body, result.url, content_type)


def rule_text(rule: Rule) -> str:
    """How the health alert names a rule: its item selector."""
    return f"`{rule.item}`" if rule.item else "the rule"


def since_text(at: str) -> str:
    """'10:40' (local time) of an ISO time."""
    try:
        return datetime.fromisoformat(at).astimezone().strftime("%H:%M")
    except ValueError:
        return at


def problem_text(source: Source, found: int, last_count: int, at: str) -> str:
    """'`article.x` matches nothing since 10:40 (the last poll listed 40)'."""
    what = "matches nothing" if not found else f"finds only {found} items"
    rule = rule_text(source.rule)
    return f"{rule} {what} since {since_text(at)} (the last poll listed {last_count})"


def change_text(fix: Fix) -> str:
    """'item `article.x` → `article.y`, paywall_text unset'."""

    def shown(value: object) -> str:
        if value in (None, ()):
            return "unset"
        if isinstance(value, tuple):
            return ", ".join(f'"{v}"' for v in value)
        return f"`{value}`"

    return ", ".join(f"{key} {shown(old)} → {shown(new)}" for key, old, new in fix.changes())


def proposal_detail(source: Source, problem: str, fix: Fix | None, why_not: str = "") -> str:
    """The health alert's text when the rule is not changed by itself."""
    if fix is None:
        return f"{problem}; discovery found no other list of articles on the page"
    hint = f" ({why_not})" if why_not else ""
    stable = "" if fix.stable else " (no stable hook: a generated class name)"
    return (
        f"{problem}; proposed{hint}: {fix.summary()}{stable};"
        f" run `monitor sources fix {source.name}`"
    )


def healed_detail(problem: str, fix: Fix, config_path: str) -> str:
    """The one alert of a rule changed by itself."""
    return (
        f"{problem}; rule healed: {change_text(fix)} ({fix.items} items, {fix.paywalled}"
        f" paywalled), written to {config_path}; the next poll re-reads the listing with it"
    )


def apply_fix(config_path: str, source: Source, fix: Fix) -> None:
    """Write the fix into the source's [sources.rule]. Raises ConfigError, OSError."""
    from monitor.config.file import write_source_rule

    write_source_rule(config_path, source.name, fix.table, fix.drop, expect=fix.rule)


async def with_proposal(
    source: Source,
    events: list[Event],
    *,
    body: bytes,
    url: str,
    content_type: str | None,
    executor: Executor | None,
    found: int,
    last_count: int,
    config_path: str | None,
) -> list[Event]:
    """`events` with the health event's text replaced by the rule problem and discovery's
    proposal; for a source with `heal`, the proposal is written to the config first and
    the text says what changed."""
    index = next((n for n, e in enumerate(events) if e.kind == "health"), None)
    if index is None or source.kind != "html":
        return events
    event = events[index]
    problem = problem_text(source, found, last_count, event.at)
    fix = await propose(source, body, url, content_type, executor)
    detail = proposal_detail(source, problem, fix)
    if fix is not None and source.heal:
        if fix.items < HEAL_MIN_SHARE * last_count:
            why = (
                f"not applied by itself: it finds {fix.items} items where the listing"
                f" showed {last_count}"
            )
            detail = proposal_detail(source, problem, fix, why)
        elif not config_path:
            detail = proposal_detail(source, problem, fix, "not applied: no config file")
        else:
            try:
                await asyncio.to_thread(apply_fix, config_path, source, fix)
            except (MonitorError, OSError) as exc:
                detail = proposal_detail(source, problem, fix, f"could not write it: {exc}")
            else:
                log.info("%s: rule healed: %s", source.name, change_text(fix))
                detail = healed_detail(problem, fix, config_path)
    return [*events[:index], dataclasses.replace(event, detail=detail), *events[index + 1 :]]
