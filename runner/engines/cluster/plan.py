"""Pure decisions of a cluster run: is the cluster usable, how the load is split, shard status.

Every function here takes plain values (worker addresses, versions, counts, times) and
returns plain values, so the rules are tested without a cluster.

Splitting: the connections, the connection cap and the rate are shared out across the
workers (one shard per worker); each worker then divides its part among its own engine
processes (``bench.runner.engines.native.multiproc.split_spec``). A closed-loop shard never
gets zero connections: with fewer connections than workers, fewer workers run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.runner.loadspec import LoadSpec

#: A shard that started this share of the window after the first one is reported "late".
LATE_START_SHARE = 0.05
#: ... and never for less than this many seconds (barrier and process start-up jitter).
LATE_START_MIN_S = 0.25


def cluster_problem(
    address: str, client_version: str, worker_versions: Mapping[str, str | None]
) -> str | None:
    """The one line that says what to start or upgrade, or None when the cluster is usable.

    ``worker_versions`` maps each worker's address to the bench version it runs (None:
    bench cannot be imported there).
    """
    if not worker_versions:
        return (
            f"the dask scheduler at {address} has no workers: start one on each load host "
            f"with 'dask worker {address} --nworkers 1' (docs/cluster.md)"
        )
    missing = sorted(w for w, v in worker_versions.items() if v is None)
    if missing:
        return (
            f"bench is not installed on worker {', '.join(missing)}: "
            f"pip install 'bench[cluster]=={client_version}' on that host and restart the worker"
        )
    other = sorted(w for w, v in worker_versions.items() if v != client_version)
    if other:
        found = ", ".join(f"{w} has {worker_versions[w]}" for w in other)
        return (
            f"worker bench versions differ from this client's {client_version} ({found}): "
            f"install bench {client_version} on those hosts and restart their workers"
        )
    return None


def split_across(spec: LoadSpec, workers: int) -> list[LoadSpec]:
    """Divide ``spec`` into one part per worker (fewer when connections are too few).

    Each part keeps ``spec.processes`` (engine processes per worker host) and
    ``spec.cpus`` (CPUs on each host); connections, the connection cap and the rate are
    shared out.
    """
    k = max(1, workers)
    if spec.mode == "closed" or spec.websocket:
        k = min(k, max(1, spec.connections))
    conns = share(spec.connections, k)
    caps = share(spec.max_connections, k)
    return [
        dataclasses.replace(
            spec,
            connections=max(1, conns[i]),
            max_connections=max(1, caps[i]),
            rate=spec.rate / k if spec.rate is not None else None,
        )
        for i in range(k)
    ]


def share(total: int, k: int) -> list[int]:
    """``total`` split into ``k`` integers differing by at most one (larger first)."""
    base, extra = divmod(total, k)
    return [base + (1 if i < extra else 0) for i in range(k)]


def start_skew_s(starts: Sequence[float]) -> float:
    """Spread of the shards' start times (wall clock of each host), seconds."""
    return max(starts) - min(starts) if starts else 0.0


def is_late(offset_s: float, duration_s: float) -> bool:
    """Did a shard start late enough (``offset_s`` after the first) to shift its window?"""
    return offset_s > max(LATE_START_MIN_S, LATE_START_SHARE * duration_s)


def shard_status(*, failed: str | None, engine_bound: bool, late: bool) -> str:
    """``ok``, ``engine-bound``, ``late`` or ``failed: reason`` (failure wins)."""
    if failed:
        return f"failed: {failed}"
    if engine_bound:
        return "engine-bound"
    return "late" if late else "ok"


@dataclass(frozen=True, slots=True)
class ShardSummary:
    """One worker's part of a cluster run, as shown in the per-shard table and ``--json``.

    Attributes:
        worker: the dask worker's address.
        host: the worker's host name.
        processes: engine processes it ran.
        connections: connections it was given (open loop: opened up front).
        rate: open loop: arrivals/s it was given, else None.
        requests: valid responses inside its window.
        errors: errors, every kind.
        rps: its requests per second of window.
        engine_cpu: its engine CPU share (0..1) of the CPUs its processes ran on.
        engine_bound: its engine was the bottleneck.
        start_offset_s: its start after the first shard's (host wall clocks).
        status: ``ok``, ``engine-bound``, ``late`` or ``failed: reason``.
    """

    worker: str
    host: str
    processes: int
    connections: int
    rate: float | None
    requests: int
    errors: int
    rps: float
    engine_cpu: float
    engine_bound: bool
    start_offset_s: float
    status: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (one entry of ``shards`` in ``bench load --json``)."""
        return dataclasses.asdict(self)
