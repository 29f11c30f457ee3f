"""The client side of a cluster run: connect, check, split, start together, gather, merge.

How this works
--------------
1. ``connect`` reaches the dask scheduler; ``check`` asks every worker for its bench
   version (``worker.bench_version``) and refuses, in one line, a scheduler that cannot
   be reached, a cluster with no workers or workers on another bench version, before
   any load is sent.
2. ``run_on_cluster`` splits the spec (``plan.split_across``) and submits one
   ``worker.run_part`` per worker, restricted to that worker (never moved to another
   one, never retried: a retried shard would run outside the common window).
3. The barrier: each part reports "ready" on the run's queue once its engine processes
   are up; when all are, the client sets the "go" event and every shard starts on its
   own clock. A part that fails to start calls the run off (the "stop" event).
4. While it runs, the client watches every shard: a worker that leaves the scheduler
   (killed, lost) or a shard that errs or does not finish by the deadline fails its
   part with the reason and stops the others early; the load is never silently
   smaller than asked.
5. The engine's shards of every worker are merged by ``native.merge.merge_shards``
   (exact histograms, per-second series by window second); each worker's own merge
   gives its row of the per-shard table.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.runner import __version__
from bench.runner.engines.cluster import plan
from bench.runner.engines.cluster.worker import WorkerReport, bench_version, names, run_part
from bench.runner.engines.native import validate_spec
from bench.runner.engines.native.merge import merge_shards
from bench.runner.engines.native.multiproc import FINISH_MARGIN_S, START_DELAY_S, STARTUP_TIMEOUT_S
from bench.runner.errors import EngineError, UsageError
from bench.runner.loadspec import LoadResult, LoadSpec

#: Seconds to reach the scheduler before giving up.
CONNECT_TIMEOUT_S = 5.0
#: How often the client looks at the shards while they run, seconds.
WATCH_S = 0.25

Progress = Callable[[dict[str, Any]], None]


@dataclass(slots=True)
class ClusterRun:
    """A cluster run's merged result and its shards.

    Attributes:
        address: the scheduler's address.
        result: the merged result of every shard that finished (totals are their sums).
        shards: one row per worker (``plan.ShardSummary``).
        start_skew_s: spread of the shards' start times (host wall clocks).
        failed: why the run failed (a shard failed, died or was late), else None.
        by_worker: each finished worker's own merged result (its histogram, series).
    """

    address: str
    result: LoadResult
    shards: list[plan.ShardSummary] = field(default_factory=list)
    start_skew_s: float = 0.0
    failed: str | None = None
    by_worker: dict[str, LoadResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``bench load --json``: the merged result plus ``cluster`` and ``shards``."""
        out = self.result.to_dict()
        out["cluster"] = {
            "address": self.address,
            "workers": len(self.shards),
            "start_skew_s": self.start_skew_s,
            "failed": self.failed,
        }
        out["shards"] = [s.to_dict() for s in self.shards]
        return out


def connect(address: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """A dask ``Client`` on ``address``; UsageError (one line) when it cannot be reached."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--cluster needs dask.distributed: pip install 'bench[cluster]'") from None
    try:
        return Client(address, timeout=f"{timeout_s}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(
            f"cannot reach a dask scheduler at {address} ({exc}): start one there with "
            f"'dask scheduler' and workers with 'dask worker {address}' (docs/cluster.md)"
        ) from None


def check(client: Any, address: str) -> list[str]:
    """The workers' addresses, sorted; UsageError when the cluster cannot run the load."""
    answers = client.run(bench_version, on_error="return")
    versions = {w: (v if isinstance(v, str) else None) for w, v in answers.items()}
    problem = plan.cluster_problem(address, __version__, versions)
    if problem:
        raise UsageError(problem)
    return sorted(versions)


def run_on_cluster(
    client: Any,
    spec: LoadSpec,
    address: str,
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    record: bool = True,
) -> ClusterRun:
    """Drive ``spec`` split across the cluster's workers; merge what they measured."""
    validate_spec(dataclasses.replace(spec, cpus=None))  # CPUs are checked on each host
    workers = check(client, address)
    parts = plan.split_across(spec, len(workers))
    workers = workers[: len(parts)]
    run_id = f"bench-{uuid.uuid4().hex[:12]}"
    keys = names(run_id)
    from distributed import Event, Queue

    go, halt = Event(keys["go"], client=client), Event(keys["stop"], client=client)
    ready = Queue(keys["ready"], client=client)
    feed = _ProgressFeed(len(parts), progress)
    client.subscribe_topic(keys["progress"], feed)
    futures = [
        client.submit(
            run_part,
            part,
            run_id,
            record,
            key=f"{run_id}-shard-{i}",
            workers=[w],
            allow_other_workers=False,
            retries=0,
            pure=False,
        )
        for i, (w, part) in enumerate(zip(workers, parts, strict=True))
    ]
    watch = _Watch(client, workers, futures)
    try:
        watch.barrier(ready, len(parts), stop)
        go.set()
        if watch.failed is None:
            deadline = (
                time.monotonic()
                + START_DELAY_S
                + spec.warmup_s
                + spec.duration_s
                + spec.timeout_s
                + FINISH_MARGIN_S
            )
            watch.until_done(deadline, stop, halt)
    finally:
        halt.set()
        go.set()  # a part still waiting at the barrier leaves it and sees "stop"
        client.unsubscribe_topic(keys["progress"])
        reports = watch.collect()
        client.cancel([f for f in futures if not f.done()], force=True)
    return _merge(address, spec, parts, workers, reports, watch.reasons, watch.failed)


class _Watch:
    """Follows the shards: ready, done, errored, worker gone, late."""

    def __init__(self, client: Any, workers: list[str], futures: list[Any]) -> None:
        self.client = client
        self.workers = workers
        self.futures = futures
        self.reasons: dict[int, str] = {}

    @property
    def failed(self) -> str | None:
        if not self.reasons:
            return None
        i = min(self.reasons)
        return f"shard {i} on {self.workers[i]}: {self.reasons[i]}"

    def barrier(self, ready: Any, count: int, stop: threading.Event | None) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S + 10
        while self.failed is None:
            if stop is not None and stop.is_set():
                self.reasons.setdefault(0, "stopped before the start")
                return
            if ready.qsize() >= count:
                return
            self.look()
            if time.monotonic() > deadline:
                self.reasons.setdefault(0, "engine processes did not start in time")
            time.sleep(WATCH_S)

    def until_done(self, deadline: float, stop: threading.Event | None, halt: Any) -> None:
        while not all(f.done() for f in self.futures):
            if stop is not None and stop.is_set():
                halt.set()
            self.look()
            if self.reasons:
                return
            if time.monotonic() > deadline:
                for i, f in enumerate(self.futures):
                    if not f.done():
                        self.reasons[i] = "did not finish in time (late)"
                return
            time.sleep(WATCH_S)
        self.look()

    def look(self) -> None:
        """Record a reason for every shard that errs or whose worker left."""
        present = set(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        for i, future in enumerate(self.futures):
            if i in self.reasons:
                continue
            if future.status == "error":
                self.reasons[i] = _error_text(future.exception())
            elif future.status == "cancelled":
                self.reasons[i] = "the task was cancelled"
            elif not future.done() and self.workers[i] not in present:
                self.reasons[i] = "its worker left the cluster mid-run (killed or lost)"

    def collect(self) -> dict[int, WorkerReport]:
        """The reports of the shards that finished (others are already failed)."""
        out: dict[int, WorkerReport] = {}
        end = time.monotonic() + FINISH_MARGIN_S
        for i, future in enumerate(self.futures):
            if i in self.reasons and not future.done():
                continue
            while not future.done() and time.monotonic() < end:
                if self.workers[i] not in set(
                    self.client.scheduler_info(n_workers=-1).get("workers", {})
                ):
                    self.reasons.setdefault(i, "its worker left the cluster mid-run")
                    break
                time.sleep(WATCH_S)
            if future.status == "finished":
                out[i] = future.result()
            elif future.status == "error":
                self.reasons.setdefault(i, _error_text(future.exception()))
            else:
                self.reasons.setdefault(i, "did not finish in time (late)")
        return out


def _error_text(exc: BaseException | None) -> str:
    if exc is None:
        return "failed"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, EngineError) else f"{type(exc).__name__}: {text}"


class _ProgressFeed:
    """Sums the workers' progress events (one per worker per second) for the client."""

    def __init__(self, workers: int, progress: Progress | None) -> None:
        self._workers = workers
        self._progress = progress
        self._latest: dict[str, dict[str, Any]] = {}

    def __call__(self, event: tuple[float, dict[str, Any]]) -> None:
        if self._progress is None:
            return
        _, msg = event
        self._latest[msg["worker"]] = msg
        if len(self._latest) < self._workers:
            return
        reports = list(self._latest.values())
        self._latest.clear()
        self._progress(
            {
                "phase": reports[0].get("phase", "measure"),
                "elapsed_s": max(r.get("elapsed_s", 0.0) for r in reports),
                "requests": sum(r.get("requests", 0) for r in reports),
                "errors": sum(r.get("errors", 0) for r in reports),
                "rps": sum(r.get("rps", 0.0) for r in reports),
            }
        )


def _merge(
    address: str,
    spec: LoadSpec,
    parts: list[LoadSpec],
    workers: list[str],
    reports: dict[int, WorkerReport],
    reasons: dict[int, str],
    failed: str | None,
) -> ClusterRun:
    """The per-shard rows and the merged result of the shards that came back."""
    starts = [r.started_at for r in reports.values()]
    first = min(starts, default=0.0)
    rows: list[plan.ShardSummary] = []
    by_worker: dict[str, LoadResult] = {}
    for i, (worker, part) in enumerate(zip(workers, parts, strict=True)):
        report = reports.get(i)
        own = merge_shards(part, report.shards, cpus=report.cpus) if report else None
        if own is not None:
            by_worker[worker] = own
        offset = report.started_at - first if report else 0.0
        rows.append(
            plan.ShardSummary(
                worker=worker,
                host=report.host if report else "",
                processes=report.processes if report else part.processes,
                connections=part.connections,
                rate=part.rate,
                requests=own.requests if own else 0,
                errors=own.error_count if own else 0,
                rps=own.rps if own else 0.0,
                engine_cpu=own.engine_cpu if own else 0.0,
                engine_bound=own.engine_bound if own else False,
                start_offset_s=offset,
                status=plan.shard_status(
                    failed=reasons.get(i),
                    engine_bound=bool(own and own.engine_bound),
                    late=plan.is_late(offset, spec.duration_s),
                ),
            )
        )
    done = [reports[i] for i in sorted(reports)]
    result = merge_shards(
        spec,
        [s for r in done for s in r.shards],
        cpus=sum(r.cpus for r in done) or 1,
        connections=sum(parts[i].connections for i in sorted(reports)) or None,
    )
    skew = plan.start_skew_s(starts)
    result.notes.append(
        f"cluster: {len(rows)} shards at {address}; start skew {skew * 1000:.1f} ms (host "
        "wall clocks); each shard timed its latencies on its own clock"
    )
    for row in rows:
        if row.status != "ok":
            result.notes.append(f"shard on {row.worker} ({row.host or '?'}): {row.status}")
    return ClusterRun(address, result, rows, skew, failed, by_worker)
