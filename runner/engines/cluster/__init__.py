"""The native engine on a dask.distributed cluster: one shard per worker, merged losslessly.

Public entry::

    from bench.runner.engines.cluster import run_cluster
    run = run_cluster(spec, "tcp://10.0.0.1:8786", progress=cb, stop=event)  # -> ClusterRun
    run.result        # the merged LoadResult (totals are the sums of the shards)
    run.shards        # one ShardSummary per worker; run.failed: why it failed, or None

Users start a scheduler (``dask scheduler``) and one worker per load host (``dask worker
ADDRESS --nworkers 1``); each worker runs the native engine's processes on its host.

Modules, one concern each:

* ``plan`` — pure: cluster checks (the one line), the split, shard status, skew.
* ``worker`` — the task each worker runs (engine processes behind a barrier).
* ``client`` — connect, check, submit, barrier, watch, merge.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from bench.runner.engines.base import Progress
from bench.runner.engines.cluster.client import ClusterRun, check, connect, run_on_cluster
from bench.runner.engines.cluster.plan import ShardSummary
from bench.runner.errors import EngineError, UsageError
from bench.runner.loadspec import LoadResult, LoadSpec

__all__ = ["Cluster", "ClusterEngine", "ClusterRun", "cluster_problem", "run_cluster"]


class Cluster:
    """A connection to a checked cluster: ``Cluster.open(address)``, ``run``, ``close``."""

    def __init__(self, address: str, client: Any, workers: list[str]) -> None:
        self.address = address
        self.client = client
        self.workers = workers

    @classmethod
    def open(cls, address: str) -> Cluster:
        """Connect and check; UsageError (one line, before any load) when the scheduler
        cannot be reached, has no workers, or its workers run another bench version."""
        client = connect(address)
        try:
            return cls(address, client, check(client, address))
        except BaseException:
            client.close()
            raise

    def run(
        self,
        spec: LoadSpec,
        *,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        record: bool = True,
    ) -> ClusterRun:
        """Drive ``spec`` across the workers (checked again: one may have left).

        A shard that fails or whose worker dies does not raise: ``ClusterRun.failed``
        says why, and the merged result holds only the shards that finished.
        """
        return run_on_cluster(
            self.client, spec, self.address, progress=progress, stop=stop, record=record
        )

    def close(self) -> None:
        """Close the connection to the scheduler (the cluster keeps running)."""
        self.client.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_cluster(
    spec: LoadSpec,
    address: str,
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    record: bool = True,
) -> ClusterRun:
    """Connect to the scheduler at ``address`` and drive ``spec`` across its workers."""
    with Cluster.open(address) as cluster:
        return cluster.run(spec, progress=progress, stop=stop, record=record)


def cluster_problem(address: str) -> str | None:
    """The one line that says why the cluster at ``address`` cannot run load, or None."""
    try:
        Cluster.open(address).close()
    except UsageError as exc:
        return str(exc)
    return None


class ClusterEngine:
    """The native engine on a cluster, as an ``Engine`` for ``bench run`` (load.cluster)."""

    name = "native"

    def __init__(self, address: str) -> None:
        self.address = address

    def run(
        self,
        spec: LoadSpec,
        *,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> LoadResult:
        """Run one cell's load on the cluster; EngineError when a shard failed.

        The cell's engine CPUs are this host's: they are dropped (each worker pins its
        processes on its own host).
        """
        spec = dataclasses.replace(spec, cpus=None)
        run = run_cluster(spec, self.address, progress=progress, stop=stop)
        if run.failed:
            raise EngineError(f"cluster {self.address}: {run.failed}")
        run.result.notes.extend(shard_note(row) for row in run.shards)
        return run.result


def shard_note(row: ShardSummary) -> str:
    """One shard as a note of the cell's row (``bench run``: the per-shard table, in words)."""
    return (
        f"shard {row.host or '?'} ({row.worker}): {row.processes} processes, "
        f"{row.requests:,} requests, {row.errors:,} errors, {row.rps:,.1f} req/s, "
        f"engine CPU {row.engine_cpu:.0%}, start +{row.start_offset_s * 1000:.1f} ms, {row.status}"
    )
