"""Worker processes that parse fetched bodies, so a poll of many sources uses a second core.

The event loop fetches, diffs and records; extraction (selectolax, feedparser) is pure CPU
work on bytes and runs in a `ParsePool` handed to `check_source(executor=...)`. A pool only
pays off when there are enough sources to keep it busy: `parse_workers` picks the number of
workers from the `parse_workers` setting or, when that is unset, from the number of sources
and CPUs.

Why not `concurrent.futures.ProcessPoolExecutor`: its feeder and manager threads cost the
event loop about 0.4 ms of CPU per page (threads taking turns on the GIL, wake-ups through
pipes), as much as fetching the page. Here each worker is fed over a socket pair that the
event loop itself reads and writes: a job is one length-prefixed pickle each way.

A worker that dies (a parser crash on a hostile page) fails only the jobs it held, each with
an `ExtractError`; a fresh worker takes its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import pickle
import socket
import struct
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from monitor.models import ExtractError, Source

log = logging.getLogger(__name__)

# Fewer sources than this are parsed in the main process: a worker would cost more to start
# than it saves.
AUTO_MIN_SOURCES = 24
# Parsing a page costs about what fetching and recording it costs the main process, so one
# worker keeps up with it; a feed costs feedparser about five times as much.
FEED_PARSE_WEIGHT = 4
_HEADER = struct.Struct("!I")
# A worker killed more often than this in one round is not replaced again.
MAX_RESTARTS = 8


def parse_workers(setting: int | None, sources: Sequence[Source], cpus: int | None) -> int:
    """Worker processes for one round of polls: the setting when given, else automatic.

    Automatic: none for a few sources or a single CPU. Otherwise one worker for HTML pages
    (measured on 2 CPUs: one worker 510 pages/s, two 380, as three busy processes then share
    two CPUs and the main process falls behind), plus more when feeds, slower to parse, are
    a good part of the sources, up to one per CPU.
    """
    if setting is not None:
        return max(0, setting)
    if len(sources) < AUTO_MIN_SOURCES or not cpus or cpus < 2:
        return 0
    feeds = sum(1 for s in sources if s.kind == "feed") / len(sources)
    wanted = 1 + round(FEED_PARSE_WEIGHT * feeds)
    return min(wanted, cpus if feeds >= 0.25 else cpus - 1)


def _warm(kinds: tuple[str, ...]) -> None:
    """Import the extractors a worker will need before its first page arrives."""
    names = ["monitor.extract.html"]
    if "feed" in kinds:
        names += ["monitor.extract.feed", "feedparser"]
    for name in names:
        importlib.import_module(name)


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _serve(sock: socket.socket, kinds: tuple[str, ...], inherited: tuple[int, ...]) -> None:
    """A worker: run each job that arrives, send back its result or its exception."""
    for fd in inherited:  # the parent's ends: holding them would hide the parent's EOF
        os.close(fd)
    _warm(kinds)
    while True:
        header = _recv_exactly(sock, _HEADER.size)
        if header is None:
            return
        frame = _recv_exactly(sock, _HEADER.unpack(header)[0])
        if frame is None:
            return
        job, fn, args = pickle.loads(frame)
        try:
            reply = pickle.dumps((job, True, fn(*args)), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            try:
                reply = pickle.dumps((job, False, exc), pickle.HIGHEST_PROTOCOL)
            except Exception:
                reply = pickle.dumps((job, False, RuntimeError(repr(exc))))
        sock.sendall(_HEADER.pack(len(reply)) + reply)


@dataclass
class _Worker:
    process: BaseProcess
    writer: asyncio.StreamWriter
    reader_task: asyncio.Task[None] | None = None
    jobs: dict[int, Future[Any]] = field(default_factory=dict)


class ParsePool(Executor):
    """Worker processes fed from the event loop that started them (use it from that loop
    only, as `run_in_executor` does). Create with `await ParsePool.start(n, kinds)`."""

    def __init__(self, kinds: tuple[str, ...]) -> None:
        self.kinds = kinds
        self.workers: list[_Worker] = []
        self.restarts = 0
        self._next_job = 0
        self._closed = False
        # Jobs that arrived while the only worker was being replaced.
        self._waiting: list[tuple[int, bytes, Future[Any]]] = []
        self._replacing = 0

    @classmethod
    async def start(cls, workers: int, kinds: tuple[str, ...]) -> ParsePool:
        pool = cls(kinds)
        for _ in range(workers):
            pool.workers.append(await pool._spawn())
        return pool

    async def _spawn(self) -> _Worker:
        # Forked: the worker starts at once with what this process already imported.
        context = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        )
        parent, child = socket.socketpair()
        inherited = tuple(w.writer.get_extra_info("socket").fileno() for w in self.workers)
        process = context.Process(
            target=_serve, args=(child, self.kinds, (*inherited, parent.fileno())), daemon=True
        )
        process.start()
        child.close()
        reader, writer = await asyncio.open_unix_connection(sock=parent)
        worker = _Worker(process, writer)
        worker.reader_task = asyncio.create_task(self._read(worker, reader))
        return worker

    async def _read(self, worker: _Worker, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                header = await reader.readexactly(_HEADER.size)
                job, ok, value = pickle.loads(await reader.readexactly(_HEADER.unpack(header)[0]))
                future = worker.jobs.pop(job)
                if future.done():  # cancelled meanwhile
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        if self._closed:
            return
        worker.process.join(1)
        code = worker.process.exitcode
        log.warning("a parser process died (exit status %s); starting another", code)
        for future in worker.jobs.values():
            if not future.done():
                future.set_exception(
                    ExtractError(f"the parser process died while parsing this page ({code})")
                )
        worker.jobs.clear()
        worker.writer.close()
        if worker in self.workers:
            self.workers.remove(worker)
        if self.restarts < MAX_RESTARTS:
            self.restarts += 1
            self._replacing += 1
            try:
                self.workers.append(await self._spawn())
            finally:
                self._replacing -= 1
        waiting, self._waiting = self._waiting, []
        for job, frame, future in waiting:
            self._send(job, frame, future)

    def _send(self, job: int, frame: bytes, future: Future[Any]) -> None:
        if not self.workers:
            future.set_exception(ExtractError("no parser process is running"))
            return
        worker = min(self.workers, key=lambda w: len(w.jobs))
        worker.jobs[job] = future
        worker.writer.write(_HEADER.pack(len(frame)) + frame)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if kwargs:
            raise TypeError("ParsePool.submit takes positional arguments only")
        future: Future[Any] = Future()
        if self._closed:
            future.set_exception(ExtractError("the parser processes were stopped"))
            return future
        self._next_job += 1
        frame = pickle.dumps((self._next_job, fn, args), pickle.HIGHEST_PROTOCOL)
        if not self.workers and self._replacing:
            self._waiting.append((self._next_job, frame, future))  # a worker is on its way
        else:
            self._send(self._next_job, frame, future)
        return future

    async def aclose(self) -> None:
        """Let the workers finish and exit; cancel what is still queued."""
        self._closed = True
        for worker in self.workers:
            worker.writer.close()
            for future in worker.jobs.values():
                future.cancel()
            if worker.reader_task is not None:
                worker.reader_task.cancel()
        for worker in self.workers:
            with contextlib.suppress(ConnectionError):
                await worker.writer.wait_closed()
        for worker in self.workers:
            worker.process.join(5)  # at once: a worker exits when its socket closes
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        self.workers.clear()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Synchronous fallback of `aclose` (outside a running loop)."""
        self._closed = True
        for worker in self.workers:
            worker.writer.close()
            if wait:
                worker.process.join(5)
            if worker.process.is_alive():
                worker.process.kill()
        self.workers.clear()


async def start_pool(workers: int, sources: Sequence[Source]) -> ParsePool | None:
    """A started pool of `workers` processes (None for zero).

    Call this before the event loop has started any thread (name resolution does), so no
    lock is copied into the forked workers in a held state.
    """
    if workers <= 0:
        return None
    return await ParsePool.start(workers, tuple(sorted({s.kind for s in sources})))
