"""The one small interface every load engine implements, and how the runner picks one.

An engine turns a ``LoadSpec`` into a ``LoadResult`` (``runner.loadspec``), reporting
progress about once a second and returning early (with what it measured) when ``stop``
is set. The native engine is a module function; locust and wrk are classes that run
external processes. ``make_engine`` hides the difference.

Progress dicts carry at least ``phase`` (``"warmup"``, ``"measure"``, ``"drain"``),
``elapsed_s`` (seconds since the measured window began, negative or 0 in warm-up),
``requests``, ``errors`` and ``rps`` (the last second's rate).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import psutil

from runner.errors import EngineError
from runner.launch.pinning import available_cpus
from runner.loadspec import LoadResult, LoadSpec

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


#: Engines the scenario may name.
ENGINE_NAMES: tuple[str, ...] = ("native", "locust", "wrk")


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


class NativeEngine:
    """Adapter for ``runner.engines.native.run`` (imported on first use)."""

    name = "native"

    def run(
        self,
        spec: LoadSpec,
        *,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> LoadResult:
        """Run the native engine in this process (it forks its own workers if asked)."""
        try:
            from runner.engines import native
        except ImportError as exc:
            raise EngineError(f"the native engine is not available: {exc}") from None
        return native.run(spec, progress=progress, stop=stop)


def make_engine(name: str, *, options: Any = None, workdir: Path | None = None) -> Engine:
    """The engine called ``name``.

    Args:
        options: engine-specific options from the scenario (locust: ``LocustOptions``).
        workdir: a folder the engine may write files to (generated locustfile, CSVs).

    Raises:
        EngineError: unknown engine, or one whose tool is not installed.
    """
    if name == "native":
        return NativeEngine()
    if name == "locust":
        from runner.engines.locust import LocustEngine

        return LocustEngine(options, workdir=workdir)
    if name == "wrk":
        from runner.engines.wrk import WrkEngine

        return WrkEngine(workdir=workdir)
    raise EngineError(f"unknown engine {name!r}; allowed: {', '.join(ENGINE_NAMES)}")
