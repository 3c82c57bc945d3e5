"""Worker processes that parse fetched bodies, so a poll of many sources uses a second core.

The event loop fetches, diffs and records; extraction (selectolax, feedparser) is pure CPU
work on bytes and runs in a `ProcessPoolExecutor` handed to `check_source(executor=...)`.
A pool only pays off when there are enough sources to keep it busy: `parse_workers` picks
the number of workers from the `parse_workers` setting or, when that is unset, from the
number of sources and CPUs.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

from monitor.models import Source

# Fewer sources than this are parsed in the main process: a worker would cost more to start
# than it saves.
AUTO_MIN_SOURCES = 24
AUTO_MAX_WORKERS = 2


def parse_workers(setting: int | None, sources: Sequence[Source], cpus: int | None) -> int:
    """Worker processes for one round of polls: the setting when given, else automatic:
    none for a few sources or a single CPU, otherwise as many as CPUs, at most two."""
    if setting is not None:
        return max(0, setting)
    if len(sources) < AUTO_MIN_SOURCES or not cpus or cpus < 2:
        return 0
    return min(AUTO_MAX_WORKERS, cpus)


def _warm(kinds: tuple[str, ...]) -> None:
    """Import the extractors a worker will need before its first page arrives."""
    names = ["monitor.extract.html"]
    if "feed" in kinds:
        names += ["monitor.extract.feed", "feedparser"]
    for name in names:
        importlib.import_module(name)


def start_pool(workers: int, sources: Sequence[Source]) -> Executor | None:
    """A started pool of `workers` processes (None for zero).

    On Linux the workers are forked, so they start at once with the modules the parent
    already imported; call this before the event loop has started any thread (name
    resolution does), so no lock is copied in a held state.
    """
    if workers <= 0:
        return None
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    kinds = tuple(sorted({s.kind for s in sources}))
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_warm, initargs=(kinds,))
    pool.submit(os.getpid)  # the processes start now, before any thread exists
    return pool
