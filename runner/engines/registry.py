"""How the runner picks an engine by name: ``make_engine``.

The native engine is a module function (adapted here by ``NativeEngine``); locust and
wrk are classes that run external processes. Locust is imported only when asked for:
importing it patches the standard library (gevent).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bench.runner.engines.base import Engine, Progress
from bench.runner.errors import EngineError
from bench.runner.loadspec import LoadResult, LoadSpec

#: Engines the scenario may name.
ENGINE_NAMES: tuple[str, ...] = ("native", "locust", "wrk")


class NativeEngine:
    """Adapter for ``bench.runner.engines.native.run`` (imported on first use)."""

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
            from bench.runner.engines import native
        except ImportError as exc:
            raise EngineError(f"the native engine is not available: {exc}") from None
        return native.run(spec, progress=progress, stop=stop)


def make_engine(
    name: str, *, options: Any = None, workdir: Path | None = None, cluster: str | None = None
) -> Engine:
    """The engine called ``name``.

    Args:
        options: engine-specific options from the scenario (locust: ``LocustOptions``).
        workdir: a folder the engine may write files to (generated locustfile, CSVs).
        cluster: native only: a dask scheduler's address; the engine runs on its workers.

    Raises:
        EngineError: unknown engine, or one whose tool is not installed.
    """
    if name == "native" and cluster:
        from bench.runner.engines.cluster import ClusterEngine

        return ClusterEngine(cluster)
    if name == "native":
        return NativeEngine()
    if name == "locust":
        from bench.runner.engines.locust import LocustEngine

        return LocustEngine(options, workdir=workdir)
    if name == "wrk":
        from bench.runner.engines.wrk import WrkEngine

        return WrkEngine(workdir=workdir)
    raise EngineError(f"unknown engine {name!r}; allowed: {', '.join(ENGINE_NAMES)}")
