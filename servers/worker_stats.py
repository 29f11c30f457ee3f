"""The worker stats side channel: requests, GC pauses and event-loop lag per worker process.

How this works: when ``BENCH_WORKER_STATS`` names a folder, both bundled servers wrap the
app (``bench.servers.deploy.wrap_asgi`` / ``wrap_wsgi``) in a counter, and every worker
process keeps, from its first request or ASGI lifespan event on:

- ``requests``: HTTP requests and WebSocket sessions the app was called for;
- ``gc_pause_s`` and ``gc_hist``: the time of each garbage collection (``gc.callbacks``,
  start to stop) — a histogram of pauses;
- ``lag_hist`` (ASGI): event-loop lag — a callback asked for every ``LAG_INTERVAL_S`` is
  late by how long the loop was busy with something else; each lateness is counted.

A daemon thread writes them every ``WRITE_INTERVAL_S`` (and at exit) to
``<folder>/<pid>.json``, replaced atomically. Histograms are cumulative counts per bucket
(``bucket`` / ``bucket_upper_us``: 4 per power of two, ±10 %), so a reader takes two
snapshots and subtracts them to get one window (``bench.runner.results.workers``).

Without the variable ``wrap_*`` return the app itself and nothing is installed: the
channel costs nothing when off. ``bench run`` turns it on for every cell.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import json
import math
import os
import threading
import time
from collections.abc import Callable
from typing import Any

#: The environment variable that turns the channel on: a folder for the files.
ENV = "BENCH_WORKER_STATS"
#: Seconds between a worker's writes of its file.
WRITE_INTERVAL_S = 0.2
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


class _Counters:
    """This process's counters (reset in a forked child: the pid changes)."""

    def __init__(self) -> None:
        self.pid = -1
        self.lock = threading.Lock()
        self.requests = 0
        self.gc_pause_s = 0.0
        self.gc_hist: dict[int, int] = {}
        self.lag_hist: dict[int, int] = {}
        self.lag_loop: object = None
        self._gc_start = 0.0
        self.folder = ""

    def ensure(self) -> None:
        """Start counting in this process (once per process, after a fork too)."""
        pid = os.getpid()
        if pid == self.pid:
            return
        with self.lock:
            if pid == self.pid:
                return
            self.pid = pid
            self.requests = 0
            self.gc_pause_s = 0.0
            self.gc_hist = {}
            self.lag_hist = {}
            self.lag_loop = None
            threading.Thread(target=self._writer, name="bench-worker-stats", daemon=True).start()
            atexit.register(self.write)

    def on_gc(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif self._gc_start:
            pause = time.perf_counter() - self._gc_start
            self._gc_start = 0.0
            self.gc_pause_s += pause
            b = bucket(pause * 1e6)
            self.gc_hist[b] = self.gc_hist.get(b, 0) + 1

    def start_lag_probe(self) -> None:
        """Probe the running event loop's lag (once per loop)."""
        loop = asyncio.get_running_loop()
        if self.lag_loop is loop:
            return
        self.lag_loop = loop

        def probe(expected: float) -> None:
            now = loop.time()
            b = bucket(max(0.0, now - expected) * 1e6)
            self.lag_hist[b] = self.lag_hist.get(b, 0) + 1
            loop.call_at(now + LAG_INTERVAL_S, probe, now + LAG_INTERVAL_S)

        first = loop.time() + LAG_INTERVAL_S
        loop.call_at(first, probe, first)

    def snapshot(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "requests": self.requests,
            "gc_pause_s": self.gc_pause_s,
            "gc_hist": dict(self.gc_hist),
            "lag_hist": dict(self.lag_hist),
        }

    def write(self) -> None:
        if self.pid != os.getpid() or not self.folder:
            return
        path = os.path.join(self.folder, f"{self.pid}.json")
        tmp = f"{path}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.snapshot(), f)
            os.replace(tmp, path)
        except OSError:
            pass  # the folder is gone (the run ended): nothing to report to

    def _writer(self) -> None:
        pid = self.pid
        while pid == os.getpid():
            self.write()
            time.sleep(WRITE_INTERVAL_S)


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
            _COUNTERS.requests += 1  # one event loop thread: no lock needed
        await self.app(scope, receive, send)


class WsgiWorkerStats:
    """Counts WSGI calls (channel on only)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        _COUNTERS.ensure()
        with _COUNTERS.lock:  # thread workers call the app from several threads
            _COUNTERS.requests += 1
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
    """Every worker's latest file in ``folder``: pid -> snapshot (unreadable ones skipped)."""
    out: dict[int, dict[str, Any]] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return out
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                data = json.load(f)
            out[int(data["pid"])] = data
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out
