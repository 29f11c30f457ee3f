"""The thread that fires a cell's events at their times in the measured window.

How this works: the engine reports progress with the phase it is in; the first report
of the ``measure`` phase carries ``elapsed_s`` since the window started, which fixes the
window's start on this process's monotonic clock (``progress`` wraps the engine's
progress callback to see it; without a report the start is taken as the run's start
plus the warm-up). The thread then sleeps until each event's ``at`` (an Event wait, so
``finish`` ends it at once), performs the planned action (``bench.runner.events.actions``)
and records the time and the pids. A ``pause`` is resumed (SIGCONT) ``for`` seconds
later, and always before the thread ends. After a worker action or a reload it polls
the workers every ``POLL_S`` until as many run again without the pids it hit, which is
``workers_back_s``. Skipped actions are recorded with their reason, never dropped.
A ``recycle`` event takes no action: the thread polls the workers through the window and
records every worker that exited without an action hitting it (a ``--max-requests``
recycle) as an event of its own, at the time it was seen gone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.runner.errors import LaunchError
from bench.runner.events.actions import ActionError, perform, resume, worker_pids
from bench.runner.events.mapping import Plan, Skip
from bench.runner.events.spawner import run_on_spawner
from bench.runner.launch.process import ServerProcess

#: Seconds between polls of the workers (and of the pause's end).
POLL_S = 0.05
#: Seconds to wait for the engine's first measured-phase report beyond the warm-up.
START_GRACE_S = 5.0
#: Actions after which the workers are expected back with new pids.
REPLACING: frozenset[str] = frozenset({"kill-worker", "term-worker", "reload", "recycle"})

Progress = Callable[[dict[str, Any]], None]


@dataclass
class EventRecord:
    """What happened to one event in one cell repetition."""

    index: int
    action: str
    at_s: float | None
    for_s: float | None
    plan: Plan | Skip
    status: str = "pending"
    pids: list[int] = field(default_factory=list)
    fired_at_s: float | None = None
    ended_at_s: float | None = None
    workers_before: int | None = None
    workers_back_s: float | None = None

    def fields(self) -> dict[str, Any]:
        """The events table's columns describing the action itself."""
        plan = self.plan
        return {
            "event_index": self.index,
            "action": self.action,
            "at_s": self.at_s,
            "for_s": self.for_s,
            "status": self.status,
            "signal": plan.signal if isinstance(plan, Plan) else None,
            "target": plan.target if isinstance(plan, Plan) else None,
            "pids": ",".join(map(str, self.pids)) or None,
            "fired_at_s": self.fired_at_s,
            "ended_at_s": self.ended_at_s,
            "workers_before": self.workers_before,
            "workers_back_s": self.workers_back_s,
        }


def steady_workers(configured: int | None, observed: int) -> int:
    """How many workers a recycled worker's replacement brings the server back to.

    The configured count when it is known: a count taken at the window's start can land
    mid-recycle, when the exiting worker and its replacement both still run.
    """
    return configured if configured is not None and configured > 0 else observed


class EventScheduler:
    """Fire ``records`` on ``server`` during one engine run.

    Args:
        records: one per scenario event, each with its plan or skip reason.
        server: the running server.
        warmup_s: the engine's warm-up (the fallback for the window's start).
        restart: stops the server and starts it again, ready (for ``restart``).
        workers: the worker count the server was started with (None: not known), the
            count a recycled worker is back at; see ``steady_workers``.
    """

    def __init__(
        self,
        records: list[EventRecord],
        server: ServerProcess,
        *,
        warmup_s: float,
        restart: Callable[[], None],
        workers: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.records = records
        self.server = server
        self.restart = restart
        self.clock = clock
        self.window_start: float | None = None
        self.restart_error: str | None = None
        self._began = clock()
        self._warmup_s = warmup_s
        self._started = threading.Event()
        self._done = threading.Event()
        self._paused_until: float | None = None
        #: Workers known to the recycle watcher, and pids the scheduled actions hit.
        self._known: set[int] = set()
        self._acted: set[int] = set()
        self._workers = workers
        self._steady_workers = 0
        self._thread = threading.Thread(target=self._run, name="bench-events", daemon=True)
        for record in records:
            if isinstance(record.plan, Skip):
                record.status = f"skipped: {record.plan.reason}"

    def progress(self, inner: Progress | None) -> Progress:
        """The engine's progress callback, also fixing the window's start on ``measure``."""

        def callback(report: dict[str, Any]) -> None:
            if self.window_start is None and report.get("phase") == "measure":
                self.window_start = self.clock() - float(report.get("elapsed_s", 0.0))
                self._started.set()
            if inner is not None:
                inner(report)

        return callback

    def start(self) -> EventScheduler:
        """Start the thread (call just before the engine runs)."""
        self._began = self.clock()
        self._thread.start()
        return self

    def finish(self) -> list[EventRecord]:
        """Stop the thread, resume a paused server, and return the records."""
        self._done.set()
        self._started.set()
        self._thread.join()
        if self._paused_until is not None:
            resume(self.server)
            self._paused_until = None
        watched = [r for r in self.records if r.action == "recycle" and r.status == "pending"]
        for record in watched:  # the template: kept only when no worker exited
            seen = any(r.action == "recycle" and r.status == "done" for r in self.records)
            if seen:
                self.records.remove(record)
            else:
                record.status = "skipped: no worker exited during the window"
        for record in self.records:
            if record.status == "pending":
                record.status = "skipped: the window ended before it was due"
        return self.records

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        self._started.wait(self._warmup_s + START_GRACE_S)
        if self._done.is_set():
            return
        if self.window_start is None:
            self.window_start = self._began + self._warmup_s
        watch = [r for r in self.records if r.status == "pending" and r.action == "recycle"]
        due = sorted(
            (r for r in self.records if r.status == "pending" and r.at_s is not None),
            key=lambda r: r.at_s or 0.0,
        )
        tracking: list[tuple[EventRecord, set[int], float]] = []
        self._known = set(worker_pids(self.server))
        self._steady_workers = steady_workers(self._workers, len(self._known))
        while not self._done.is_set() and (
            due or tracking or watch or self._paused_until is not None
        ):
            now = self.clock()
            if watch:
                tracking += self._watch(watch[0], tracking)
            if self._paused_until is not None and now >= self._paused_until:
                resume(self.server)
                self._paused_until = None
                for record in self.records:
                    if (
                        record.action == "pause"
                        and record.ended_at_s is None
                        and record.fired_at_s is not None
                    ):
                        record.ended_at_s = self._rel(self.clock())
            if due and now >= self.window_start + (due[0].at_s or 0.0):
                record = due.pop(0)
                hit = self._fire(record)
                if hit is not None and record.action in REPLACING:
                    tracking.append((record, hit, self.clock()))
                continue
            tracking = [t for t in tracking if not self._back(*t)]
            wake = [self.window_start + (r.at_s or 0.0) for r in due[:1]]
            if self._paused_until is not None:
                wake.append(self._paused_until)
            if tracking or watch:
                wake.append(now + POLL_S)
            self._done.wait(max(0.0, min(wake) - now) if wake else POLL_S)

    def _watch(
        self, template: EventRecord, tracking: list[tuple[EventRecord, set[int], float]]
    ) -> list[tuple[EventRecord, set[int], float]]:
        """Record each worker that exited since the last poll and was not hit by an action."""
        now = set(worker_pids(self.server))
        hit = set().union(*(t[1] for t in tracking)) if tracking else set()
        gone = sorted(self._known - now - hit - self._acted)
        self._known = now | (self._known & hit)
        found: list[tuple[EventRecord, set[int], float]] = []
        for pid in gone:
            when = self.clock()
            record = EventRecord(
                index=template.index,
                action="recycle",
                at_s=self._rel(when),
                for_s=None,
                plan=template.plan,
                status="done",
                pids=[pid],
                fired_at_s=self._rel(when),
                workers_before=self._steady_workers,
            )
            self.records.append(record)
            found.append((record, {pid}, when))
        return found

    def _rel(self, when: float) -> float:
        assert self.window_start is not None
        return when - self.window_start

    def _fire(self, record: EventRecord) -> set[int] | None:
        plan = record.plan
        assert isinstance(plan, Plan)
        before = worker_pids(self.server)
        record.workers_before = len(before)
        record.fired_at_s = self._rel(self.clock())
        try:
            record.pids = perform(plan, self.server, self._restart)
        except ActionError as exc:
            record.status = f"failed: {exc}"
            return None
        except LaunchError as exc:
            record.status = f"failed: the server did not come back after restart: {exc}"
            self.restart_error = f"restart at {record.at_s:g}s: {exc}"
            return None
        record.status = "done"
        self._acted |= set(record.pids) | (set(before) if record.action == "reload" else set())
        if record.action == "pause":
            self._paused_until = self.clock() + (record.for_s or 0.0)
        if record.action == "restart":
            record.ended_at_s = self._rel(self.clock())
        return set(record.pids) if record.action != "reload" else set(before)

    def _restart(self) -> None:
        run_on_spawner(self.restart)  # not on this thread: see runner.events.spawner

    def _back(self, record: EventRecord, hit: set[int], since: float) -> bool:
        """True (and ``workers_back_s`` set) once the workers are back without ``hit``."""
        now = worker_pids(self.server)
        if len(now) >= (record.workers_before or 0) and not hit & set(now):
            record.workers_back_s = self.clock() - since
            return True
        return False
