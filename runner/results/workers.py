"""Per-worker attribution over a measured window (pure): CPU and request shares, GC, loop lag.

How this works: the tree sampler (``bench.runner.launch.sampler``) records, a few times a
second, each process's CPU seconds and the latest snapshot each worker wrote to the
side channel (``bench.servers.worker_stats``: cumulative requests, GC pause histogram, event
loop lag histogram). ``worker_window`` cuts that to the engine's window:

- the workers are the tree's processes other than the root (the master) and helpers
  (``is_helper``: the sampler leaves them out of ``per_pid``), or the root alone when
  it has no children (a single-process server);
- a worker's CPU is interpolated at the window's edges, like the tree's total;
- channel counters are taken from the last snapshot at or before each edge and
  subtracted, histograms bucket by bucket; a worker with no file served nothing.

``worker_fields`` turns the result into the row's ``worker_*``, ``loop_lag_*`` and
``gc_pause_*`` columns. A share is a fraction of all workers' total; an even spread over
N workers is 1/N each, so ``worker_*_max_share`` near 1/N means balanced.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bench.servers.worker_stats import bucket_upper_us

#: Command lines of helper processes that are not workers (multiprocessing's trackers).
HELPER_MARKERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def is_helper(cmdline: Sequence[str]) -> bool:
    """Pure: a helper process of the server (uvicorn's resource tracker), not a worker."""
    text = " ".join(cmdline)
    return any(marker in text for marker in HELPER_MARKERS)


class WorkerSample(Protocol):
    """What a tree sample offers here (``bench.runner.launch.sampler.TreeSample``)."""

    t: float
    per_pid: Mapping[int, float]
    channel: Mapping[int, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class WorkerWindow:
    """Each worker's use of one window (lists in ``pids`` order)."""

    pids: list[int]
    cpu_s: list[float]
    requests: list[int] | None  # None: no side channel (a peer server)
    gc_pause_s: float | None = None
    gc_pause_max_us: float | None = None
    lag_p99_us: float | None = None
    lag_max_us: float | None = None


def shares(values: Sequence[float]) -> list[float]:
    """Each value's fraction of their sum (all 0 when the sum is 0)."""
    total = float(sum(values))
    return [v / total if total > 0 else 0.0 for v in values]


def hist_quantile(hist: Mapping[int, int], q: float) -> float | None:
    """The upper bound (µs) of the bucket holding quantile ``q`` (None when empty)."""
    total = sum(hist.values())
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if seen >= rank:
            return bucket_upper_us(b)
    return bucket_upper_us(max(hist))


def _value_at(points: list[tuple[float, float]], t: float) -> float:
    times = [p[0] for p in points]
    i = bisect.bisect_left(times, t)
    if i <= 0:
        return points[0][1]
    if i >= len(points):
        return points[-1][1]
    (ta, va), (tb, vb) = points[i - 1], points[i]
    return va + ((t - ta) / (tb - ta) if tb > ta else 0.0) * (vb - va)


def _snapshot_at(samples: Sequence[WorkerSample], t: float) -> Mapping[int, Mapping[str, Any]]:
    before = [s for s in samples if s.t <= t]
    return (before[-1] if before else samples[0]).channel


def _hist_diff(end: Mapping[str, int], start: Mapping[str, int]) -> dict[int, int]:
    out = {int(b): int(n) - int(start.get(b, 0)) for b, n in end.items()}
    return {b: n for b, n in out.items() if n > 0}


def _merge(into: dict[int, int], more: Mapping[int, int]) -> None:
    for b, n in more.items():
        into[b] = into.get(b, 0) + n


def worker_window(
    samples: Sequence[WorkerSample], root: int, start: float, end: float
) -> WorkerWindow | None:
    """Pure: each worker's CPU and channel counters over [start, end] (None: no samples)."""
    inside = [s for s in samples if start <= s.t <= end]
    if len(samples) < 2 or not inside:
        return None
    seen = {pid for s in inside for pid in s.per_pid}
    pids = sorted(seen - {root}) or sorted(seen)
    cpu: list[float] = []
    for pid in pids:
        series = [(s.t, s.per_pid[pid]) for s in samples if pid in s.per_pid]
        cpu.append(max(0.0, _value_at(series, end) - _value_at(series, start)))
    first, last = _snapshot_at(samples, start), _snapshot_at(samples, end)
    if not last:
        return WorkerWindow(pids, cpu, None)
    requests: list[int] = []
    gc_s = 0.0
    gc_hist: dict[int, int] = {}
    lag_hist: dict[int, int] = {}
    for pid in pids:
        a, b = first.get(pid, {}), last.get(pid, {})
        requests.append(max(0, int(b.get("requests", 0)) - int(a.get("requests", 0))))
        gc_s += max(0.0, float(b.get("gc_pause_s", 0.0)) - float(a.get("gc_pause_s", 0.0)))
        _merge(gc_hist, _hist_diff(b.get("gc_hist", {}), a.get("gc_hist", {})))
        _merge(lag_hist, _hist_diff(b.get("lag_hist", {}), a.get("lag_hist", {})))
    return WorkerWindow(
        pids,
        cpu,
        requests,
        gc_pause_s=gc_s,
        gc_pause_max_us=bucket_upper_us(max(gc_hist)) if gc_hist else None,
        lag_p99_us=hist_quantile(lag_hist, 0.99),
        lag_max_us=bucket_upper_us(max(lag_hist)) if lag_hist else None,
    )


def worker_fields(window: WorkerWindow | None) -> dict[str, Any]:
    """The row's per-worker columns (empty without a window)."""
    if window is None or not window.pids:
        return {}
    cpu = shares(window.cpu_s)
    fields: dict[str, Any] = {
        "worker_pids": json.dumps(window.pids),
        "worker_cpu_shares": json.dumps([round(s, 4) for s in cpu]),
        "worker_cpu_max_share": max(cpu) if sum(window.cpu_s) > 0 else None,
    }
    if window.requests is not None:
        req = shares(window.requests)
        fields["worker_request_shares"] = json.dumps([round(s, 4) for s in req])
        fields["worker_request_max_share"] = max(req) if sum(window.requests) > 0 else None
        fields["gc_pause_s"] = window.gc_pause_s
        fields["gc_pause_max_us"] = window.gc_pause_max_us
        fields["loop_lag_p99_us"] = window.lag_p99_us
        fields["loop_lag_max_us"] = window.lag_max_us
    return fields


def shares_from_json(text: object) -> list[float]:
    """A ``worker_*_shares`` cell back into floats (empty for NA or bad text)."""
    if not isinstance(text, str) or not text:
        return []
    try:
        return [float(x) for x in json.loads(text)]
    except (ValueError, TypeError):
        return []
