"""/metrics in the Prometheus text format (version 0.0.4).

Figures come from two places: the database (items, events, the outbox, each source's last
poll), read on every scrape, and `PollStats`, which the daemon fills as it polls (polls,
failures, poll duration, detection latency): a `monitor serve` beside a daemon or a cron
job shows the database figures only. No web library here.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.pipeline.check import CheckOutcome
    from monitor.pipeline.status import Status
    from monitor.web.queries import Figures

POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# From an article's own publication time to the poll that found it.
LATENCY_BUCKETS = (60.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0, 86400.0)


@dataclass
class Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        self.total += value
        self.count += 1
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[index] += 1


@dataclass
class PollStats:
    """What the polls of this process did, since it started."""

    polls: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    duration: Histogram = field(default_factory=lambda: Histogram(POLL_BUCKETS))
    latency: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS))

    def record(self, outcome: CheckOutcome, seconds: float) -> None:
        """One poll: its outcome and how long it took."""
        if outcome.status == "held":  # nothing was asked of the host
            return
        self.polls[outcome.source] = self.polls.get(outcome.source, 0) + 1
        if outcome.failed:
            self.failures[outcome.source] = self.failures.get(outcome.source, 0) + 1
        self.duration.observe(seconds)
        for event in outcome.events:
            if event.kind == "new" and event.item is not None and event.item.published:
                late = detection_latency(event.item.published, event.at)
                if late is not None:
                    self.latency.observe(late)


def detection_latency(published: str, found: str) -> float | None:
    """Seconds from an article's publication to the event that reported it; None when the
    publication time is a bare date or unreadable."""
    if "T" not in published and " " not in published.strip():
        return None
    try:
        start = _aware(datetime.fromisoformat(published))
        end = _aware(datetime.fromisoformat(found))
    except ValueError:
        return None
    return max(0.0, (end - start).total_seconds())


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{name}="{_label(value)}"' for name, value in pairs)
    return "{" + inner + "}" if inner else ""


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, labels: Sequence[tuple[str, str]], value: float) -> None:
        self.lines.append(f"{name}{_labels(labels)} {_number(value)}")

    def histogram(self, name: str, help_text: str, histogram: Histogram) -> None:
        self.family(name, "histogram", help_text)
        for bound, count in zip(histogram.buckets, histogram.counts, strict=True):
            # Bounds as Prometheus' own clients write them: 0.5, 60.0.
            self.sample(f"{name}_bucket", [("le", repr(float(bound)))], count)
        self.sample(f"{name}_bucket", [("le", "+Inf")], histogram.count)
        self.sample(f"{name}_sum", [], histogram.total)
        self.sample(f"{name}_count", [], histogram.count)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _timestamp(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return _aware(datetime.fromisoformat(value)).timestamp()
    except ValueError:
        return None


def render(
    status: Status, figures: Figures, stats: PollStats | None, version: str, channels: list[str]
) -> str:
    """The whole /metrics page."""
    out = _Writer()
    out.family("monitor_build_info", "gauge", "Version of news-monitor and of Python.")
    out.sample(
        "monitor_build_info",
        [("version", version), ("python", platform.python_version())],
        1,
    )
    out.family("monitor_source_up", "gauge", "1 when the source's last poll succeeded.")
    for s in status.sources:
        ok = s.last_poll is not None and s.consecutive_errors == 0
        out.sample("monitor_source_up", [("source", s.name)], 1 if ok else 0)
    out.family("monitor_source_consecutive_errors", "gauge", "Failed polls in a row, per source.")
    for s in status.sources:
        out.sample("monitor_source_consecutive_errors", [("source", s.name)], s.consecutive_errors)
    out.family(
        "monitor_source_last_success_timestamp_seconds",
        "gauge",
        "When the source was last polled successfully (Unix time).",
    )
    for s in status.sources:
        when = _timestamp(s.last_success)
        if when is not None:
            out.sample("monitor_source_last_success_timestamp_seconds", [("source", s.name)], when)
    out.family("monitor_items", "gauge", "Items the database knows, per source.")
    for s in status.sources:
        out.sample("monitor_items", [("source", s.name)], s.items_known)
    out.family("monitor_items_listed", "gauge", "Items the source's last poll listed.")
    for s in status.sources:
        out.sample("monitor_items_listed", [("source", s.name)], s.items_listed)
    out.family(
        "monitor_events",
        "gauge",
        "Events recorded and kept (keep_events), per source and kind.",
    )
    for source, kind, count in figures.events:
        out.sample("monitor_events", [("source", source), ("kind", kind)], count)
    out.family("monitor_outbox", "gauge", "Alerts not delivered, per channel: pending or failed.")
    waiting = {(c, s): n for c, s, n in figures.outbox}
    for channel in sorted(set(channels) | {c for c, _s in waiting}):
        for state in ("pending", "failed"):
            out.sample(
                "monitor_outbox",
                [("channel", channel), ("status", state)],
                waiting.get((channel, state), 0),
            )
    if stats is not None:
        out.family("monitor_polls_total", "counter", "Polls by this process, per source.")
        for source in sorted(stats.polls):
            out.sample("monitor_polls_total", [("source", source)], stats.polls[source])
        out.family(
            "monitor_poll_failures_total", "counter", "Failed polls by this process, per source."
        )
        for source in sorted(stats.polls):
            out.sample(
                "monitor_poll_failures_total", [("source", source)], stats.failures.get(source, 0)
            )
        out.histogram("monitor_poll_duration_seconds", "How long one poll took.", stats.duration)
        out.histogram(
            "monitor_detection_latency_seconds",
            "From an article's publication time to the poll that reported it as new.",
            stats.latency,
        )
    return out.text()
