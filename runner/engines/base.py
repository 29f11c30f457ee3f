"""The one small interface every load engine implements, and what engines share.

An engine turns a ``LoadSpec`` into a ``LoadResult`` (``bench.runner.loadspec``), reporting
progress about once a second and returning early (with what it measured) when ``stop``
is set. ``bench.runner.engines.registry.make_engine`` picks one by name.

Progress dicts carry at least ``phase`` (``"warmup"``, ``"measure"``, ``"drain"``),
``elapsed_s`` (seconds since the measured window began, negative or 0 in warm-up),
``requests``, ``errors`` and ``rps`` (the last second's rate).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, Protocol

import psutil

from bench.runner.launch.pinning import available_cpus
from bench.runner.loadspec import LoadResult, LoadSpec

#: Progress callback: one dict per second (see the module docstring).
Progress = Callable[[dict[str, Any]], None]

#: CPU share (of the CPUs an engine runs on) from which a result is marked engine-bound:
#: the load generator, not the server, was the limit. Every engine uses this one value.
ENGINE_BOUND_CPU = 0.9


def usable_cpu_count() -> int:
    """CPUs this process (and so an engine it starts) may run on."""
    cpus = available_cpus()
    return len(cpus) if cpus else (os.cpu_count() or 1)


def process_or_none(pid: int) -> psutil.Process | None:
    """A psutil handle on ``pid``, or None if it is already gone."""
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


class Engine(Protocol):
    """A load engine: drive ``spec``, return what was measured."""

    name: str

    def run(
        self,
        spec: LoadSpec,
        *,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> LoadResult:
        """Generate the load of ``spec``; raise EngineError if the engine itself failed."""
        ...
