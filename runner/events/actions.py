"""Perform one planned action on a running server and say which processes it hit.

How this works: the server under test runs in its own process group whose leader is the
server's master (or its only process); workers are the leader's children, less the
helper processes ``multiprocessing`` starts (resource and semaphore trackers). An action
is a signal to the master, to one worker (the oldest: the lowest pid, so repeated runs
hit the same kind of worker), or to the whole group (``pause``: SIGSTOP, and SIGCONT
later through ``resume``). ``restart`` is done by the caller's ``restart`` callable
(stop the server, start it on the same port, wait until it answers).

Every function returns the pids acted on, so the events table records them.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable

import psutil

from bench.runner.events.mapping import Plan
from bench.runner.launch.process import ServerProcess

#: Children of a server that are helpers, not workers (substrings of their command line).
HELPER_MARKS: tuple[str, ...] = ("resource_tracker", "semaphore_tracker", "forkserver")


class ActionError(Exception):
    """The action could not be taken (no worker to signal, the server is gone…)."""


def worker_pids(server: ServerProcess) -> list[int]:
    """The worker processes of the server (children of its leader), oldest first."""
    try:
        root = psutil.Process(server.pid)
        children = root.children(recursive=False)
    except (psutil.Error, RuntimeError):
        return []
    pids: list[int] = []
    for child in children:
        try:
            cmdline = " ".join(child.cmdline())
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
        except psutil.Error:
            continue
        if any(mark in cmdline for mark in HELPER_MARKS):
            continue
        pids.append(child.pid)
    return sorted(pids)


def group_pids(server: ServerProcess) -> list[int]:
    """Every live process of the server's tree (the leader first)."""
    return [p.pid for p in server.tree()]


def perform(plan: Plan, server: ServerProcess, restart: Callable[[], None]) -> list[int]:
    """Take ``plan`` on ``server``; return the pids acted on.

    Raises:
        ActionError: nothing to act on (the server exited, no worker is running).
    """
    if server.returncode() is not None:
        raise ActionError(f"the server is not running (exit code {server.returncode()})")
    sig = signal.Signals[plan.signal]
    if plan.target == "server":
        pids = group_pids(server)
        restart()
        return pids
    if plan.target == "group":
        pids = group_pids(server)
        _killpg(server.pid, sig)
        return pids
    if plan.target == "worker":
        workers = worker_pids(server)
        if not workers:
            raise ActionError("no worker process is running")
        _kill(workers[0], sig)
        return [workers[0]]
    _kill(server.pid, sig)
    return [server.pid]


def resume(server: ServerProcess) -> None:
    """SIGCONT the whole group (the end of a ``pause``; harmless when nothing is stopped)."""
    with contextlib.suppress(RuntimeError):
        _killpg(server.pid, signal.SIGCONT)


def _kill(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        raise ActionError(f"process {pid} is gone") from None


def _killpg(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        raise ActionError(f"process group {pgid} is gone") from None
