"""Is the engine the bottleneck? Pure decisions on the CPU time the engine processes used.

Each engine process is single-threaded and measures the CPU time of its own thread
over the measured window (``time.thread_time``). A process near 100 % of one CPU cannot
send faster, whatever the server could do: its numbers are a lower bound on the
server's capacity, and the result says ``engine_bound``.

On Linux the thread also reads how long it waited in the run queue
(``/proc/thread-self/schedstat``): an engine that shares its CPU with other processes
may use only half of it and still be the bottleneck. Running + waiting near 100 % of
the window counts as engine-bound too.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.runner.engines.base import ENGINE_BOUND_CPU

#: A process using at least this share of its CPU is taken as saturated.
ENGINE_BOUND_THRESHOLD = ENGINE_BOUND_CPU


def engine_cpu_share(cpu_seconds: Sequence[float], window_s: float, cpus: int) -> float:
    """CPU used by all engine processes as a share (0..1) of the CPUs they could use.

    ``cpus`` is how many CPUs the processes ran on; a single-threaded process uses at
    most one, so the capacity is ``window_s × min(processes, cpus)``.
    """
    if window_s <= 0 or not cpu_seconds:
        return 0.0
    capacity = window_s * max(1, min(len(cpu_seconds), cpus))
    return min(1.0, sum(cpu_seconds) / capacity)


def is_engine_bound(
    cpu_seconds: Sequence[float],
    window_s: float,
    cpus: int,
    threshold: float = ENGINE_BOUND_THRESHOLD,
    wait_seconds: Sequence[float] | None = None,
) -> bool:
    """True when the engine (any one process, or all of them together) was CPU-saturated.

    ``wait_seconds`` (per process, same order): time spent runnable but waiting for a
    CPU; a process running or waiting for nearly the whole window is saturated.
    """
    if window_s <= 0 or not cpu_seconds:
        return False
    waits = list(wait_seconds) if wait_seconds is not None else [0.0] * len(cpu_seconds)
    busiest = max(c + w for c, w in zip(cpu_seconds, waits, strict=True)) / window_s
    return busiest >= threshold or engine_cpu_share(cpu_seconds, window_s, cpus) >= threshold


def run_queue_wait_share(wait_seconds: Sequence[float], window_s: float) -> float:
    """The largest share of the window any engine process spent waiting for a CPU."""
    if window_s <= 0 or not wait_seconds:
        return 0.0
    return max(wait_seconds) / window_s


def thread_sched_ns() -> tuple[int, int] | None:
    """(CPU ns, run-queue wait ns) of the calling thread, or None where not available."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            fields = f.read().split()
        return int(fields[0]), int(fields[1])
    except (OSError, ValueError, IndexError):
        return None
