"""One engine process: an event loop, a session and the driver the spec asks for.

``run_shard`` is what a single-process run calls directly and what each process of a
multi-process run calls in its own interpreter. It owns its event loop (uvloop when
available): it never touches the caller's loop, so it can run in any thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from bench.runner.engines.native.closed import ClosedLoop
from bench.runner.engines.native.http_conn import HttpShared
from bench.runner.engines.native.open import OpenLoop
from bench.runner.engines.native.target import Target, build_request, parse_target
from bench.runner.engines.native.timeline import Progress, Session, ShardResult
from bench.runner.engines.native.websocket import WebSocketLoop
from bench.runner.errors import UsageError
from bench.runner.loadspec import LoadSpec

_NS = 1_000_000_000


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop if uvloop is installed, else the default asyncio loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class LoadDriver(Protocol):
    """What the closed, open and WebSocket loops have in common."""

    def start(self) -> None:
        """Open connections and start sending (the session has started)."""

    def on_window_end(self) -> None:
        """The window is over: stop, drain if needed, then call ``session.finish()``."""

    def close(self) -> None:
        """Drop every connection and pending connect (idempotent)."""


def make_driver(spec: LoadSpec, session: Session, target: Target) -> LoadDriver:
    """The closed, open or WebSocket driver for ``spec``."""
    if spec.websocket or target.websocket:
        return WebSocketLoop(session, target, spec)
    shared = HttpShared.from_spec(spec, build_request(target, spec))
    if spec.mode == "open":
        if not spec.rate or spec.rate <= 0:
            raise UsageError("open loop needs a rate > 0")
        return OpenLoop(session, target, shared, spec)
    return ClosedLoop(session, target, shared, spec.connections, spec.timeout_s)


def run_shard(
    spec: LoadSpec,
    *,
    record: bool = True,
    start_ns: int | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ShardResult:
    """Drive ``spec`` from this thread with a fresh event loop and return what it measured.

    ``start_ns`` (a ``time.perf_counter_ns()`` time, shared by all processes of a run)
    delays the start; ``should_stop`` is polled every 100 ms to end the run early.
    """
    target = parse_target(spec.url, verify=spec.tls_verify)
    loop = new_event_loop()
    try:
        return loop.run_until_complete(
            _run(loop, spec, target, record, start_ns, progress, should_stop)
        )
    finally:
        _shutdown(loop)


async def _run(
    loop: asyncio.AbstractEventLoop,
    spec: LoadSpec,
    target: Target,
    record: bool,
    start_ns: int | None,
    progress: Progress | None,
    should_stop: Callable[[], bool] | None,
) -> ShardResult:
    if start_ns is not None:
        delay = (start_ns - time.perf_counter_ns()) / _NS
        if delay > 0:
            await asyncio.sleep(delay)
    session = Session(
        loop,
        warmup_s=spec.warmup_s,
        duration_s=spec.duration_s,
        progress=progress,
        should_stop=should_stop,
        record=record,
    )
    driver = make_driver(spec, session, target)
    session.on_window_end = driver.on_window_end
    session.start()
    driver.start()
    try:
        await session.wait()
    finally:
        driver.close()
    await asyncio.sleep(0)  # let transports process their close
    return session.result()


def _shutdown(loop: asyncio.AbstractEventLoop) -> None:
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
