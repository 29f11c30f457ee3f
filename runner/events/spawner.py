"""Run a callable on one long-lived thread: where a ``restart`` starts the server again.

Why: the server is started with ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` (``bench.runner.launch.
process``) so it dies with the runner; Linux sends that signal when the *thread* that
forked the child exits, not the process. A server restarted from the scheduler's thread
would get SIGTERM as soon as that thread ended (right after the window). Started from
this daemon thread, which lives as long as the runner, it keeps the intended meaning.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[tuple[bool, Any]]]] | None = None


def _serve(jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[tuple[bool, Any]]]]) -> None:
    while True:
        job, reply = jobs.get()
        try:
            reply.put((True, job()))
        except BaseException as exc:  # handed back to the caller, raised there
            reply.put((False, exc))


def run_on_spawner(job: Callable[[], Any]) -> Any:
    """Run ``job`` on the spawner thread, wait, and return its result (or raise its error)."""
    global _jobs
    with _lock:
        if _jobs is None:
            _jobs = queue.Queue()
            threading.Thread(
                target=_serve, args=(_jobs,), name="bench-spawner", daemon=True
            ).start()
        jobs = _jobs
    reply: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    jobs.put((job, reply))
    ok, value = reply.get()
    if not ok:
        raise value
    return value
