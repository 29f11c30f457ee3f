"""Sample a running server's process tree: CPU seconds and resident memory over a window.

How this works: ``TreeSampler`` is a thread that samples the process tree (psutil) a few
times a second: CPU seconds (live processes + reaped children) and resident memory. The
runner asks it for the CPU used and the peak RSS inside the measured window;
``window_stats`` is the pure part (interpolated CPU at the window's edges, per-second
use), tested with plain samples.

Each sample also keeps every process's own CPU seconds and, when the cell turned on the
worker stats side channel (``bench.servers.worker_stats``, a folder), the workers' latest
snapshots: ``WindowStats.workers`` is their window (``bench.runner.results.workers``).
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from bench.runner.results.workers import WorkerWindow, is_helper, worker_window
from bench.servers.worker_stats import read_stats

if TYPE_CHECKING:
    from bench.runner.launch.process import ServerProcess

#: Seconds between tree samples.
SAMPLE_INTERVAL_S = 0.25


@dataclass(frozen=True, slots=True)
class TreeSample:
    """One look at the server's process tree."""

    t: float
    cpu_s: float
    rss_bytes: int
    processes: int
    per_pid: dict[int, float] = field(default_factory=dict)  # pid -> its CPU seconds
    channel: dict[int, dict[str, Any]] = field(default_factory=dict)  # pid -> stats snapshot


class TreeSampler:
    """Samples a ServerProcess's tree in a background thread (start/stop, or a with-block)."""

    def __init__(
        self,
        server: ServerProcess,
        interval: float = SAMPLE_INTERVAL_S,
        stats_dir: Path | None = None,
    ) -> None:
        self.server = server
        self.interval = interval
        self.stats_dir = stats_dir  # the worker stats side channel's folder, if on
        self._helpers: dict[int, bool] = {}  # pid -> not a worker (multiprocessing helper)
        self.samples: list[TreeSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> TreeSample | None:
        """Take one sample now (None when the server is gone)."""
        procs = self.server.tree()
        if not procs:
            return None
        cpu = 0.0
        rss = 0
        count = 0
        per_pid: dict[int, float] = {}
        for proc in procs:
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    cpu += times.user + times.system + times.children_user + times.children_system
                    if not self._is_helper(proc):
                        per_pid[proc.pid] = times.user + times.system
                    rss += proc.memory_info().rss
                    count += 1
            except psutil.Error:
                continue
        channel = read_stats(self.stats_dir) if self.stats_dir is not None else {}
        item = TreeSample(time.monotonic(), cpu, rss, count, per_pid, channel)
        with self._lock:
            self.samples.append(item)
        return item

    def _is_helper(self, proc: psutil.Process) -> bool:
        if proc.pid not in self._helpers:
            self._helpers[proc.pid] = is_helper(proc.cmdline())
        return self._helpers[proc.pid]

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def window(self, start: float, end: float) -> WindowStats:
        """CPU seconds, peak RSS and process count between two ``time.monotonic`` instants."""
        with self._lock:
            samples = list(self.samples)
        stats = window_stats(samples, start, end)
        stats.workers = worker_window(samples, self.server.pid, start, end)
        return stats


@dataclass(slots=True)
class WindowStats:
    """The server's resource use over a window."""

    cpu_s: float | None
    rss_peak_bytes: int | None
    processes: int | None
    per_second: list[tuple[float, float, int]]  # (t from start, cpu fraction of one core, rss)
    workers: WorkerWindow | None = None  # per worker (TreeSampler.window fills it)


def _cpu_at(samples: list[TreeSample], t: float) -> float:
    """Cumulative CPU seconds at ``t``, linearly interpolated between samples."""
    times = [s.t for s in samples]
    i = bisect.bisect_left(times, t)
    if i <= 0:
        return samples[0].cpu_s
    if i >= len(samples):
        return samples[-1].cpu_s
    a, b = samples[i - 1], samples[i]
    frac = (t - a.t) / (b.t - a.t) if b.t > a.t else 0.0
    return a.cpu_s + frac * (b.cpu_s - a.cpu_s)


def window_stats(samples: list[TreeSample], start: float, end: float) -> WindowStats:
    """Pure: resource use over [start, end] from a list of samples (see TreeSampler)."""
    inside = [s for s in samples if start <= s.t <= end]
    if len(samples) < 2 or not inside:
        return WindowStats(None, None, None, [])
    cpu = max(0.0, _cpu_at(samples, end) - _cpu_at(samples, start))
    per_second: list[tuple[float, float, int]] = []
    t = start
    while t + 1.0 <= end + 1e-6:
        used = max(0.0, _cpu_at(samples, t + 1.0) - _cpu_at(samples, t))
        rss = max((s.rss_bytes for s in inside if t <= s.t <= t + 1.0), default=0)
        per_second.append((t - start, used, rss))
        t += 1.0
    return WindowStats(
        cpu_s=cpu,
        rss_peak_bytes=max(s.rss_bytes for s in inside),
        processes=max(s.processes for s in inside),
        per_second=per_second,
    )
