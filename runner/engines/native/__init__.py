"""The native load engine: uvloop, closed and open loop, HTTP/1.1 and WebSocket, µs exact.

Public entry::

    from bench.runner.engines.native import run
    result = run(spec, progress=callback, stop=threading_event)   # -> LoadResult

Modules, one concern each:

* ``timeline`` — one process's timeline (warm-up, window, per-second folding, stop).
* ``histogram`` — exact µs latency counts that merge losslessly.
* ``http_conn`` / ``closed`` / ``open`` / ``schedule`` — HTTP connections and the two
  loops; responses are parsed by the protocol core (``bench.servers.protocol.client_fast``).
* ``websocket`` — WebSocket echo round-trips over the protocol core's client role.
* ``engine`` — one process: an event loop, a session, a driver.
* ``multiproc`` — several pinned processes, started together.
* ``merge`` / ``cpu`` — shards into a LoadResult; engine-bound decision.
* ``target`` — URL parsing and the request bytes.
* ``testing`` — a test server with known latencies and faults.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from typing import Any

from bench.runner.engines.native.engine import run_shard
from bench.runner.engines.native.merge import merge_shards
from bench.runner.engines.native.multiproc import run_processes
from bench.runner.engines.native.target import parse_target
from bench.runner.errors import UsageError
from bench.runner.loadspec import LoadResult, LoadSpec

__all__ = ["run", "validate_spec"]


def validate_spec(spec: LoadSpec) -> None:
    """Raise UsageError for a spec the engine cannot run."""
    if spec.duration_s <= 0:
        raise UsageError("duration must be > 0")
    if spec.warmup_s < 0:
        raise UsageError("warm-up must be >= 0")
    if spec.connections < 1:
        raise UsageError("connections must be >= 1")
    if spec.processes < 1:
        raise UsageError("processes must be >= 1")
    if spec.timeout_s <= 0:
        raise UsageError("timeout must be > 0")
    if spec.mode == "open" and not spec.websocket and not (spec.rate and spec.rate > 0):
        raise UsageError("open loop needs a rate > 0")
    if spec.mode not in ("closed", "open"):
        raise UsageError(f"unknown mode {spec.mode!r}")
    if spec.cpus is not None:
        available = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
        bad = [c for c in spec.cpus if available and c not in available]
        if bad or not spec.cpus:
            raise UsageError(f"CPUs {bad or list(spec.cpus)} are not available to this process")


def run(
    spec: LoadSpec,
    *,
    progress: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
    record: bool = True,
) -> LoadResult:
    """Drive the load ``spec`` describes and return what was measured.

    Args:
        spec: what to drive (see ``bench.runner.loadspec.LoadSpec``).
        progress: called at least once a second with ``phase``, ``elapsed_s``,
            ``requests``, ``errors`` and ``rps`` (the last second's).
        stop: when set, the run ends early and returns what it measured so far.
        record: record latencies (False counts responses only; used to measure the
            cost of recording).

    One unpinned process runs in the calling thread (with its own event loop); more
    processes, or pinning, run in child processes, each pinned to one CPU of
    ``spec.cpus`` (default: the CPUs this process may use), round-robin. Raises UsageError for a bad spec,
    EngineError when engine processes fail.
    """
    validate_spec(spec)
    target = parse_target(spec.url)
    if target.websocket and not spec.websocket:
        spec = _with_websocket(spec)
    if spec.processes == 1 and spec.cpus is None:
        shards = [
            run_shard(
                spec,
                record=record,
                progress=progress,
                should_stop=stop.is_set if stop is not None else None,
            )
        ]
        cpus = 1
    else:
        if spec.cpus is None and hasattr(os, "sched_getaffinity"):
            # Several processes: pin each to one of our CPUs (round-robin).
            spec = dataclasses.replace(spec, cpus=tuple(sorted(os.sched_getaffinity(0))))
        shards = run_processes(spec, progress=progress, stop=stop, record=record)
        cpus = len(set(spec.cpus)) if spec.cpus is not None else (os.cpu_count() or 1)
    return merge_shards(spec, shards, cpus=cpus)


def _with_websocket(spec: LoadSpec) -> LoadSpec:
    return dataclasses.replace(spec, websocket=True)
