"""The worker stats side channel: requests, GC pauses and event-loop lag per worker process.

How this works: when ``BENCH_WORKER_STATS`` names a folder, both bundled servers wrap the
app (``bench.servers.deploy.wrap_asgi`` / ``wrap_wsgi``) in a counter, and every worker
process keeps, from its first request or ASGI lifespan event on:

- ``requests``: HTTP requests and WebSocket sessions the app was called for;
- ``gc_pause_s`` and ``gc_hist``: the time of each garbage collection (``gc.callbacks``,
  start to stop) — a histogram of pauses;
- ``lag_hist`` (ASGI): event-loop lag — a callback asked for every ``LAG_INTERVAL_S`` is
  late by how long the loop was busy with something else; each lateness is counted.

Each worker maps a small file, ``<folder>/<pid>.stats`` (``FILE_SIZE`` bytes:
``BWS1``, pid, requests, GC seconds as little-endian u32/u64/f64, then two histograms of
``BUCKETS`` u64 counts — GC pauses, loop lag), and updates it in place as things happen:
a request is one 8-byte store into shared memory, no system call, no thread. Histograms
are cumulative counts per bucket (``bucket`` / ``bucket_upper_us``: 4 per power of two,
±10 %), so a reader (``read_stats``, at any time) takes two snapshots and subtracts them
to get one window (``bench.runner.results.workers``).

Without the variable ``wrap_*`` return the app itself and nothing is installed: the
channel costs nothing when off. ``bench run`` turns it on for every cell.
"""

from __future__ import annotations

import asyncio
import gc
import math
import mmap
import os
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

#: The environment variable that turns the channel on: a folder for the files.
ENV = "BENCH_WORKER_STATS"
#: Seconds between event-loop lag probes.
LAG_INTERVAL_S = 0.05
_BUCKETS_PER_OCTAVE = 4

App = Callable[..., Any]


def bucket(us: float) -> int:
    """The histogram bucket of a duration in µs (0 holds everything up to 1 µs)."""
    if us <= 1.0:
        return 0
    return max(0, math.ceil(_BUCKETS_PER_OCTAVE * math.log2(us)))


def bucket_upper_us(index: int) -> float:
    """The largest duration (µs) bucket ``index`` holds."""
    return 2.0 ** (index / _BUCKETS_PER_OCTAVE)


#: Buckets per histogram (bucket 127 holds everything from ~3.6 h up).
BUCKETS = 128
_MAGIC = b"BWS1"
_HEAD = struct.Struct("<4sIQd")  # magic, pid, requests, gc_pause_s
_HIST = struct.Struct(f"<{BUCKETS}Q")
_GC_AT = _HEAD.size
_LAG_AT = _GC_AT + _HIST.size
FILE_SIZE = _LAG_AT + _HIST.size
_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")


class _Counters:
    """This process's counters in its mapped file (a new file in a forked child)."""

    def __init__(self) -> None:
        self.pid = -1
        self.lock = threading.Lock()
        self.folder = ""
        self.requests = 0
        self.gc_pause_s = 0.0
        self.lag_loop: object = None
        self._map: mmap.mmap | None = None
        self._gc_start = 0.0

    def ensure(self) -> None:
        """Start counting in this process (once per process, after a fork too)."""
        pid = os.getpid()
        if pid == self.pid:
            return
        with self.lock:
            if pid == self.pid or not self.folder:
                return
            self.requests = 0
            self.gc_pause_s = 0.0
            self.lag_loop = None
            self._map = None
            try:
                fd = os.open(os.path.join(self.folder, f"{pid}.stats"), os.O_RDWR | os.O_CREAT)
                try:
                    os.ftruncate(fd, FILE_SIZE)
                    self._map = mmap.mmap(fd, FILE_SIZE)
                finally:
                    os.close(fd)
                _HEAD.pack_into(self._map, 0, _MAGIC, pid, 0, 0.0)
            except OSError:
                self._map = None  # no folder to report to: count nothing
            self.pid = pid

    def count_request(self) -> None:
        self.requests += 1
        if self._map is not None:
            _U64.pack_into(self._map, 8, self.requests)

    def _add(self, at: int, micros: float) -> None:
        if self._map is None:
            return
        offset = at + 8 * min(bucket(micros), BUCKETS - 1)
        (n,) = _U64.unpack_from(self._map, offset)
        _U64.pack_into(self._map, offset, n + 1)

    def on_gc(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif self._gc_start and self.pid == os.getpid():
            pause = time.perf_counter() - self._gc_start
            self._gc_start = 0.0
            self.gc_pause_s += pause
            if self._map is not None:
                _F64.pack_into(self._map, 16, self.gc_pause_s)
            self._add(_GC_AT, pause * 1e6)

    def start_lag_probe(self) -> None:
        """Probe the running event loop's lag (once per loop)."""
        loop = asyncio.get_running_loop()
        if self.lag_loop is loop:
            return
        self.lag_loop = loop

        def probe(expected: float) -> None:
            now = loop.time()
            self._add(_LAG_AT, max(0.0, now - expected) * 1e6)
            loop.call_at(now + LAG_INTERVAL_S, probe, now + LAG_INTERVAL_S)

        first = loop.time() + LAG_INTERVAL_S
        loop.call_at(first, probe, first)


def parse_stats(data: bytes) -> dict[str, Any] | None:
    """One worker's file as a snapshot (None: not a stats file, or not written yet)."""
    if len(data) < FILE_SIZE:
        return None
    magic, pid, requests, gc_pause_s = _HEAD.unpack_from(data, 0)
    if magic != _MAGIC:
        return None
    gc_hist = _HIST.unpack_from(data, _GC_AT)
    lag_hist = _HIST.unpack_from(data, _LAG_AT)
    return {
        "pid": pid,
        "requests": requests,
        "gc_pause_s": gc_pause_s,
        "gc_hist": {str(b): n for b, n in enumerate(gc_hist) if n},
        "lag_hist": {str(b): n for b, n in enumerate(lag_hist) if n},
    }


_COUNTERS = _Counters()


def stats_folder() -> str | None:
    """The channel's folder from ``BENCH_WORKER_STATS`` (None: the channel is off)."""
    return os.environ.get(ENV) or None


def _install(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    _COUNTERS.folder = folder
    if _COUNTERS.on_gc not in gc.callbacks:
        gc.callbacks.append(_COUNTERS.on_gc)


class AsgiWorkerStats:
    """Counts HTTP/WebSocket calls and probes the loop's lag (channel on only)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        _COUNTERS.ensure()
        _COUNTERS.start_lag_probe()
        if scope.get("type") in ("http", "websocket"):
            _COUNTERS.count_request()  # one event loop thread: no lock needed
        await self.app(scope, receive, send)


class WsgiWorkerStats:
    """Counts WSGI calls (channel on only)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        _COUNTERS.ensure()
        with _COUNTERS.lock:  # thread workers call the app from several threads
            _COUNTERS.count_request()
        return self.app(environ, start_response)


def wrap_asgi(app: App) -> App:
    """``app`` counted when the channel is on, else ``app`` itself."""
    folder = stats_folder()
    if folder is None:
        return app
    _install(folder)
    return AsgiWorkerStats(app)


def wrap_wsgi(app: App) -> App:
    """``app`` counted when the channel is on, else ``app`` itself."""
    folder = stats_folder()
    if folder is None:
        return app
    _install(folder)
    return WsgiWorkerStats(app)


def read_stats(folder: str | os.PathLike[str]) -> dict[int, dict[str, Any]]:
    """Every worker's file in ``folder``: pid -> snapshot (unreadable ones skipped)."""
    out: dict[int, dict[str, Any]] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return out
    for name in names:
        if not name.endswith(".stats"):
            continue
        try:
            with open(os.path.join(folder, name), "rb") as f:
                snapshot = parse_stats(f.read())
        except OSError:
            continue
        if snapshot is not None:
            out[int(snapshot["pid"])] = snapshot
    return out
