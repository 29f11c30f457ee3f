"""The task a dask worker runs: its shard of the load, with the native engine, on its host.

How this works
--------------
``run_part`` is submitted once per worker (pinned to it: it never moves to another
worker). It starts the native engine's processes on the worker's host
(``bench.runner.engines.native.multiproc.run_processes``: fresh interpreters, pinned when
there are several), and when they are all ready it joins the barrier: it puts its
address on the run's "ready" queue and waits for the client's "go" event. Only then
does it choose its start time, on its own clock: latencies (open loop: against its own
schedule) never mix clocks of two hosts. The wall-clock start it reports is only used
to state the start skew across shards.

While the load runs, a small thread watches the run's "stop" event (Ctrl-C on the
client, another shard failing) and relays it to the engine processes; progress goes to
the client as a dask event on the run's topic. The shards come back as the engine's
own ``ShardResult`` objects (exact histograms), so the client merges them losslessly.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from bench.runner import __version__
from bench.runner.engines.native import validate_spec
from bench.runner.engines.native.multiproc import START_DELAY_S, STARTUP_TIMEOUT_S, run_processes
from bench.runner.engines.native.timeline import ShardResult
from bench.runner.errors import EngineError
from bench.runner.loadspec import LoadSpec

#: How often the stop watcher looks at the run's stop event, seconds.
STOP_POLL_S = 0.25


def bench_version() -> str:
    """The bench version of this host (the client compares it with its own)."""
    return __version__


def names(run_id: str) -> dict[str, str]:
    """The dask names of one run's barrier queue, events and progress topic."""
    return {
        "ready": f"{run_id}-ready",
        "go": f"{run_id}-go",
        "stop": f"{run_id}-stop",
        "progress": f"{run_id}-progress",
    }


@dataclass(slots=True)
class WorkerReport:
    """What one worker brings back.

    Attributes:
        worker: its dask address.
        host: its host name.
        processes: engine processes it ran.
        cpus: CPUs those processes ran on (for the engine CPU share).
        started_at: wall-clock time (``time.time()``) its window's start was set to.
        shards: one ``ShardResult`` per engine process.
    """

    worker: str
    host: str
    processes: int
    cpus: int
    started_at: float
    shards: list[ShardResult]


def run_part(part: LoadSpec, run_id: str, record: bool = True) -> WorkerReport:
    """Drive ``part`` from this worker's host behind the run's barrier (a dask task)."""
    from distributed import Event, Queue, get_client, get_worker

    worker = get_worker()
    client = get_client()
    spec = _pinned(part)
    validate_spec(spec)
    keys = names(run_id)
    ready, go, halt = (
        Queue(keys["ready"], client=client),
        Event(keys["go"], client=client),
        Event(keys["stop"], client=client),
    )
    stop = threading.Event()
    done = threading.Event()
    started: dict[str, float] = {}

    def barrier() -> None:
        ready.put(worker.address)
        if not go.wait(timeout=STARTUP_TIMEOUT_S):
            raise EngineError("no start signal from the client (barrier timed out)")
        if halt.is_set():
            raise EngineError("the run was called off before it started")
        started["at"] = time.time() + START_DELAY_S

    def watch_stop() -> None:
        while not done.is_set():
            if halt.wait(timeout=STOP_POLL_S):
                stop.set()
                return

    def progress(report: dict[str, Any]) -> None:
        worker.log_event(keys["progress"], {"worker": worker.address, **report})

    watcher = threading.Thread(target=watch_stop, name="bench-stop-watch", daemon=True)
    watcher.start()
    try:
        shards = run_processes(
            spec, progress=progress, stop=stop, record=record, before_start=barrier
        )
    finally:
        done.set()
        watcher.join()
    cpus = len(set(spec.cpus)) if spec.cpus is not None else 1
    return WorkerReport(
        worker=worker.address,
        host=socket.gethostname(),
        processes=len(shards),
        cpus=min(cpus, len(shards)) or 1,
        started_at=started.get("at", time.time()),
        shards=shards,
    )


def _pinned(part: LoadSpec) -> LoadSpec:
    """Several processes are pinned round-robin to this host's CPUs (the native rule)."""
    if part.processes > 1 and part.cpus is None and hasattr(os, "sched_getaffinity"):
        return dataclasses.replace(part, cpus=tuple(sorted(os.sched_getaffinity(0))))
    return part
