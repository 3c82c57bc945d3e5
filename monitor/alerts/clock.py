"""Times of day for channels: digests and quiet hours, in the channel's time zone. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_clock(text: str) -> time:
    """'08:00' -> time(8, 0). Raises ValueError."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time of day: use HH:MM, e.g. '08:00'")
    return time(int(match.group(1)), int(match.group(2)))


def parse_window(text: str) -> tuple[time, time]:
    """'23:00-07:00' -> (23:00, 07:00); the window may run past midnight. Raises ValueError."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a time window: use HH:MM-HH:MM, e.g. '23:00-07:00'")
    first, last = parse_clock(start), parse_clock(end)
    if first == last:
        raise ValueError(f"{text!r}: the window must not start and end at the same time")
    return first, last


def zone(name: str | None) -> tzinfo:
    """The named IANA zone, or the machine's local zone for None. Raises ValueError."""
    if name is None:
        local = datetime.now().astimezone().tzinfo
        return local or UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use a name like 'Europe/Minsk')") from None


def quiet_until(window: str | None, tz: tzinfo, now: datetime) -> datetime | None:
    """When the quiet hours that hold `now` end (UTC), or None when `now` is not in them."""
    if not window:
        return None
    start, end = parse_window(window)
    local = now.astimezone(tz)
    clock = local.time().replace(second=0, microsecond=0)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:  # past midnight: 23:00-07:00
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return _at(end_day, end, tz)


def next_digest(at: str, tz: tzinfo, after: datetime) -> datetime:
    """The first digest time strictly after `after` (UTC)."""
    when = parse_clock(at)
    local = after.astimezone(tz)
    candidate = _at(local.date(), when, tz)
    if candidate <= after:
        candidate = _at(local.date() + timedelta(days=1), when, tz)
    return candidate


def _at(day: object, when: time, tz: tzinfo) -> datetime:
    local = datetime.combine(day, when, tzinfo=tz)  # type: ignore[arg-type]
    return local.astimezone(UTC)
