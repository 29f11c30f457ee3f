"""Several engine processes, each pinned to a CPU, started together, results merged.

How this works
--------------
``split_spec`` (pure) divides the load: connections, rate and the connection cap are
shared out; a process never gets zero connections, so fewer processes than asked run
when there are fewer connections than processes. Each process is a fresh interpreter
(``python -m bench.runner.engines.native.multiproc FD``: safe whatever threads the caller
has, and it never re-imports the caller's main module) talking pickled messages over a
socketpair. It pins itself with
``os.sched_setaffinity``, imports the engine, reports "ready" on its pipe and waits for
a common start time (``perf_counter_ns``, CLOCK_MONOTONIC: the same clock in every
process), so all processes share one measured window and one time series. During the
run each process sends its progress once a second; at the end its ``ShardResult``
(histograms as exact counts). A stop request is relayed as a "stop" message.

Resource handling: every child is joined; a child that has not finished by the
deadline (warm-up + duration + timeout + a margin) is killed, and the run fails with
EngineError rather than returning part of the load as if it were all of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from bench.runner.engines.native.engine import run_shard
from bench.runner.engines.native.timeline import ShardResult
from bench.runner.errors import EngineError
from bench.runner.loadspec import LoadSpec

#: Seconds allowed for the processes to start (interpreter + imports) before the run.
STARTUP_TIMEOUT_S = 30.0
#: Extra seconds a process may take beyond warm-up + duration + timeout.
FINISH_MARGIN_S = 15.0
#: Delay between "all ready" and the common start time.
START_DELAY_S = 0.05


def split_spec(spec: LoadSpec) -> list[LoadSpec]:
    """Divide ``spec`` among ``spec.processes`` processes (each spec has processes=1)."""
    k = max(1, spec.processes)
    if spec.mode == "closed" or spec.websocket:
        k = min(k, max(1, spec.connections))
    conns = _share(spec.connections, k)
    caps = _share(spec.max_connections, k)
    out = []
    for i in range(k):
        out.append(
            dataclasses.replace(
                spec,
                processes=1,
                connections=max(1, conns[i]),
                max_connections=max(1, caps[i]),
                rate=spec.rate / k if spec.rate is not None else None,
                cpus=None if spec.cpus is None else (spec.cpus[i % len(spec.cpus)],),
            )
        )
    return out


def _share(total: int, k: int) -> list[int]:
    base, extra = divmod(total, k)
    return [base + (1 if i < extra else 0) for i in range(k)]


def run_processes(
    spec: LoadSpec,
    *,
    progress: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
    record: bool = True,
    before_start: Callable[[], None] | None = None,
) -> list[ShardResult]:
    """Run ``spec`` in ``spec.processes`` pinned processes; return their shards.

    ``before_start`` is called once every process is ready, just before the common start
    time is chosen (a cluster worker waits there for the other hosts: a barrier).
    """
    parts = split_spec(spec)
    procs: list[subprocess.Popen[bytes]] = []
    pipes: list[Connection] = []
    try:
        for part in parts:
            parent_sock, child_sock = socket.socketpair()
            with child_sock:
                proc = subprocess.Popen(
                    [sys.executable, "-m", __name__, str(child_sock.fileno())],
                    pass_fds=[child_sock.fileno()],
                    stdin=subprocess.DEVNULL,
                )
            pipe = Connection(parent_sock.detach())
            procs.append(proc)
            pipes.append(pipe)
            pipe.send((part, record))
        _await_ready(pipes, procs)
        if before_start is not None:
            before_start()
        start_ns = time.perf_counter_ns() + int(START_DELAY_S * 1e9)
        for pipe in pipes:
            pipe.send(start_ns)
        deadline = (
            time.monotonic()
            + START_DELAY_S
            + spec.warmup_s
            + spec.duration_s
            + spec.timeout_s
            + FINISH_MARGIN_S
        )
        return _collect(pipes, procs, deadline, progress, stop)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for pipe in pipes:
            pipe.close()


def _await_ready(pipes: list[Connection], procs: list[Any]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    waiting = set(range(len(pipes)))
    while waiting:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EngineError("engine processes did not start in time")
        for pipe in wait([pipes[i] for i in waiting], timeout=remaining):
            i = pipes.index(pipe)  # type: ignore[arg-type]
            kind, payload = _recv(pipe, procs[i])
            if kind == "error":
                raise EngineError(f"engine process {i} failed to start: {payload}")
            if kind == "ready":
                waiting.discard(i)


def _collect(
    pipes: list[Connection],
    procs: list[Any],
    deadline: float,
    progress: Callable[[dict[str, Any]], None] | None,
    stop: threading.Event | None,
) -> list[ShardResult]:
    results: dict[int, ShardResult] = {}
    latest: dict[int, dict[str, Any]] = {}
    last_report = time.monotonic()
    stop_sent = False
    while len(results) < len(pipes):
        if time.monotonic() > deadline:
            raise EngineError("engine processes did not finish in time (killed)")
        if stop is not None and stop.is_set() and not stop_sent:
            stop_sent = True
            for i, pipe in enumerate(pipes):
                if i not in results:
                    pipe.send("stop")
        open_pipes = [p for i, p in enumerate(pipes) if i not in results]
        for pipe in wait(open_pipes, timeout=0.1):
            i = pipes.index(pipe)  # type: ignore[arg-type]
            kind, payload = _recv(pipe, procs[i])
            if kind == "progress":
                latest[i] = payload
            elif kind == "result":
                results[i] = payload
            elif kind == "error":
                raise EngineError(f"engine process {i} failed: {payload}")
        now = time.monotonic()
        if progress is not None and latest and (len(latest) == len(pipes) or now - last_report > 1):
            progress(_sum_progress(list(latest.values())))
            latest.clear()
            last_report = now
    return [results[i] for i in range(len(pipes))]


def _sum_progress(reports: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "phase": reports[0].get("phase", "measure"),
        "elapsed_s": max(r.get("elapsed_s", 0.0) for r in reports),
        "requests": sum(r.get("requests", 0) for r in reports),
        "errors": sum(r.get("errors", 0) for r in reports),
        "rps": sum(r.get("rps", 0.0) for r in reports),
    }


def _recv(pipe: Connection, proc: subprocess.Popen[bytes]) -> tuple[str, Any]:
    try:
        return pipe.recv()
    except (EOFError, OSError):
        try:
            code = proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            code = None
        raise EngineError(f"engine process exited unexpectedly (exit code {code})") from None


class _StopPoll:
    """``should_stop`` for a child: has the parent sent "stop", or gone away (killed)?"""

    def __init__(self, pipe: Connection) -> None:
        self._pipe = pipe
        self._stopped = False

    def __call__(self) -> bool:
        try:
            while not self._stopped and self._pipe.poll(0):
                self._stopped = self._pipe.recv() == "stop"
        except (EOFError, OSError):  # the parent died: stop loading the server at once
            self._stopped = True
        return self._stopped

    def send_progress(self, report: dict[str, Any]) -> None:
        """Relay progress; a parent that is gone stops the run instead of a traceback."""
        try:
            self._pipe.send(("progress", report))
        except OSError:
            self._stopped = True


def _child_main(fd: int) -> int:
    """Entry point of one engine process: ``python -m bench.runner.engines.native.multiproc FD``."""
    pipe = Connection(fd)
    try:
        spec, record = pipe.recv()
        if spec.cpus is not None:
            os.sched_setaffinity(0, set(spec.cpus))
        pipe.send(("ready", None))
        start_ns = pipe.recv()
        poll = _StopPoll(pipe)
        shard = run_shard(
            spec,
            record=record,
            start_ns=start_ns,
            progress=poll.send_progress,
            should_stop=poll,
        )
        pipe.send(("result", shard))
        return 0
    except BaseException as exc:  # report anything, including KeyboardInterrupt
        with contextlib.suppress(OSError):
            pipe.send(("error", f"{type(exc).__name__}: {exc}"))
        return 1
    finally:
        pipe.close()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    sys.exit(_child_main(int(sys.argv[1])))
