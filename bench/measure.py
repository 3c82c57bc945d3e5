"""Run a command and measure it: wall time, CPU time (user+sys, waited-for children
included), peak RSS of the main process and the peak summed PSS of its process tree.
"""

from __future__ import annotations

import os
import resource
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
    # Peak resident set (VmHWM) of the main process, sampled every few milliseconds.
    rss_main_mb: float
    # Peak of the summed proportional set size (PSS) of the process and its descendants,
    # sampled every 0.25 s: forked workers share pages with their parent, so a sum of RSS
    # would count them twice.
    pss_all_mb: float
    # CPU seconds the rest of the machine spent meanwhile (not this tree, not the server):
    # a busy neighbour shows here, and its runs are suspect.
    foreign_cpu: float
    returncode: int
    stdout: str
    stderr: str


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _field_kb(path: str, name: str) -> int:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(name):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler(threading.Thread):
    """Polls the main process's VmHWM (cheap: /proc/PID/status) every few milliseconds and
    the summed PSS of its process tree every `pss_interval` (reading smaps_rollup walks the
    page tables: 1.2 ms of CPU for a 70 MB process, too dear to do often on 2 CPUs)."""

    def __init__(self, pid: int, interval: float = 0.005, pss_interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.pss_interval = pss_interval
        self.hwm_kb = 0
        self.pss_kb = 0
        self.stop = threading.Event()

    def _pss(self) -> int:
        total = 0
        stack = [self.pid]
        while stack:
            pid = stack.pop()
            total += _field_kb(f"/proc/{pid}/smaps_rollup", "Pss:")
            stack.extend(_children(pid))
        return total

    def run(self) -> None:
        next_pss = time.monotonic() + 0.1
        while not self.stop.is_set():
            self.hwm_kb = max(self.hwm_kb, _field_kb(f"/proc/{self.pid}/status", "VmHWM:"))
            if time.monotonic() >= next_pss:
                self.pss_kb = max(self.pss_kb, self._pss())
                next_pss = time.monotonic() + self.pss_interval
            self.stop.wait(self.interval)


TICK = os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds all CPUs have spent busy since boot (from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / TICK


def process_cpu(pid: int) -> float:
    try:
        parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[11]) + int(parts[12])) / TICK


def wait_quiet(max_wait: float, share: float = 0.1, window: float = 1.0) -> float:
    """Wait (up to `max_wait` s) until the machine is at most `share` busy over `window`
    seconds; returns the last busy share seen."""
    if max_wait <= 0:
        return float("nan")
    deadline = time.monotonic() + max_wait
    cpus = os.cpu_count() or 1
    while True:
        before = machine_busy()
        time.sleep(window)
        seen = (machine_busy() - before) / (window * cpus)
        if seen <= share or time.monotonic() >= deadline:
            return seen


def run_measured(
    cmd: Sequence[str],
    *,
    server_pid: int | None = None,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    stdout_path: Path | None = None,
    timeout: float = 600.0,
) -> Measure:
    """Run `cmd` to completion; stdout goes to `stdout_path` (or is kept) and stderr is kept."""
    out_file = stdout_path.open("wb") if stdout_path else None
    busy0 = machine_busy()
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    server0 = process_cpu(server_pid) if server_pid else 0.0
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
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    mine = (self1.ru_utime - self0.ru_utime) + (self1.ru_stime - self0.ru_stime)
    busy = machine_busy() - busy0 - mine
    server = process_cpu(server_pid) - server0 if server_pid else 0.0
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.stop.set()
    sampler.join()
    for reader in readers:
        reader.join()
    if out_file:
        out_file.close()
    return Measure(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        # Not ru_maxrss: it keeps the high-water mark of the image before exec (this
        # harness, forked), so every child would look as large as the harness.
        rss_main_mb=sampler.hwm_kb / 1024,
        pss_all_mb=sampler.pss_kb / 1024,
        foreign_cpu=max(0.0, busy - (usage.ru_utime + usage.ru_stime) - server),
        returncode=proc.returncode,
        stdout=b"".join(out_chunks).decode("utf-8", "replace"),
        stderr=b"".join(err_chunks).decode("utf-8", "replace"),
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
