"""Notice that the config file changed, so a running daemon reloads it as SIGHUP does.

`watch_config(path, on_change)` polls the file every `interval` seconds (stdlib only: no
inotify dependency, works on every filesystem, including bind mounts and NFS). A cheap
`stat` comes first; only when the mtime, size or inode moved is the file read and hashed,
so touching it or rewriting the same bytes does nothing. A change must hold still for
`settle` seconds before `on_change` is called, so an editor that writes in several steps
triggers one reload of the finished file, not one of a half-written one. A file that is
briefly missing (an editor's save by rename) is waited for, not reported.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("monitor.watch")

# How often the file is looked at, and how long a change must hold still.
WATCH_INTERVAL = 2.0
WATCH_SETTLE = 0.5


@dataclass(frozen=True)
class FileState:
    """What is compared between two looks at the file."""

    stat: tuple[int, int, int] | None  # (mtime_ns, size, inode); None: no such file
    digest: str | None


def file_state(path: str | Path, previous: FileState | None = None) -> FileState:
    """The file's stat and content hash; the hash is reused when the stat did not move."""
    try:
        st = os.stat(path)
    except OSError:
        return FileState(None, None)
    stat = (st.st_mtime_ns, st.st_size, st.st_ino)
    if previous is not None and previous.stat == stat:
        return previous
    try:
        digest = hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return FileState(None, None)
    return FileState(stat, digest)


def changed(before: FileState, after: FileState) -> bool:
    """True when the content differs (a missing file is not a change: wait for it)."""
    return after.digest is not None and after.digest != before.digest


async def watch_config(
    path: str | Path,
    on_change: Callable[[], object],
    *,
    interval: float = WATCH_INTERVAL,
    settle: float = WATCH_SETTLE,
) -> None:
    """Call `on_change()` (or await it) each time the file's content changes; run until
    cancelled. The state when the watch starts is the baseline."""
    state = file_state(path)
    while True:
        await asyncio.sleep(interval)
        now = file_state(path, state)
        if not changed(state, now):
            continue
        await asyncio.sleep(settle)
        steady = file_state(path, now)
        if steady != now:
            continue  # still being written: look again next round
        state = steady
        log.info("%s changed on disk: reloading it", path)
        result = on_change()
        if inspect.isawaitable(result):
            await result
