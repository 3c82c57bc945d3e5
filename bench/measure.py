"""Run a command and measure it: wall time, CPU time (user+sys, waited-for children
included), peak RSS of the main process and the sum of every process's peak RSS in its tree.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measure:
    wall: float
    cpu: float
    rss_main_mb: float
    rss_all_mb: float
    returncode: int
    stdout: str
    stderr: str


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler(threading.Thread):
    """Polls the high-water mark (VmHWM) of a process and its descendants."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            stack = [self.pid]
            while stack:
                pid = stack.pop()
                kb = _hwm_kb(pid)
                if kb:
                    self.peaks[pid] = max(self.peaks.get(pid, 0), kb)
                stack.extend(_children(pid))
            self.stop.wait(self.interval)


def run_measured(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    stdout_path: Path | None = None,
    timeout: float = 600.0,
) -> Measure:
    """Run `cmd` to completion; stdout goes to `stdout_path` (or is kept) and stderr is kept."""
    out_file = stdout_path.open("wb") if stdout_path else None
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd),
        env=env,
        cwd=cwd,
        stdout=out_file or subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []

    def drain(stream: object, sink: list[bytes]) -> None:
        sink.append(stream.read())  # type: ignore[attr-defined]

    readers = [threading.Thread(target=drain, args=(proc.stderr, err_chunks), daemon=True)]
    if out_file is None:
        readers.append(threading.Thread(target=drain, args=(proc.stdout, out_chunks), daemon=True))
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.002)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.stop.set()
    sampler.join()
    for reader in readers:
        reader.join()
    if out_file:
        out_file.close()
    main_kb = max(usage.ru_maxrss, sampler.peaks.get(proc.pid, 0))
    others = sum(kb for p, kb in sampler.peaks.items() if p != proc.pid)
    return Measure(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_main_mb=main_kb / 1024,
        rss_all_mb=(main_kb + others) / 1024,
        returncode=proc.returncode,
        stdout=b"".join(out_chunks).decode("utf-8", "replace"),
        stderr=b"".join(err_chunks).decode("utf-8", "replace"),
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
